import { defineCommand } from '../src/core/command.ts';
import { imagineOptionsSchema } from '../src/core/imagine-options.ts';

export const imagine = defineCommand({
  name: 'imagine',
  description: 'Generate images from a text prompt (Midjourney flags like --ar 16:9 work)',
  positional: 'prompt',
  options: imagineOptionsSchema,
  autocomplete: ['provider', 'model', 'style'],
  run: async (input, ctx) => ({ type: 'job', job: await ctx.atelier.imagine(input, ctx.actor, ctx.where) }),
});
