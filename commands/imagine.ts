import { defineCommand } from '../src/core/command.ts';
import { imagineOptionsSchema } from '../src/core/imagine-options.ts';
import { confirmationText } from '../src/core/permutations.ts';

export const imagine = defineCommand({
  name: 'imagine',
  description: 'Generate images from a text prompt (Midjourney flags like --ar 16:9 work)',
  positional: 'prompt',
  // Typed options are scalars; pictures arrive separately, each platform's own way.
  options: imagineOptionsSchema.omit({ images: true }),
  autocomplete: ['provider', 'model', 'style'],
  pictures: { names: ['image', 'image2', 'image3'], required: 0, description: 'A picture to start from (an image prompt); --iw 0-3 in the prompt weighs it' },
  // Discord has room for 25 options: with three pictures, these two are typed in the prompt there.
  flagOnly: { iw: '--iw', stylize: '--stylize' },
  run: async (input, ctx, pictures = []) => {
    const out = await ctx.atelier.imagineAll({ ...input, ...(pictures.length ? { images: [...pictures] } : {}) }, ctx.actor, ctx.where);
    if ('confirm' in out) return { type: 'message', ephemeral: true, text: confirmationText(out.confirm) };
    if (out.jobs.length === 1) return { type: 'job', job: out.jobs[0]! };
    return { type: 'jobs', jobs: out.jobs, live: true, ephemeral: input.private === true, text: `Queued ${out.jobs.length} jobs from one prompt.` };
  },
});
