import { z } from 'zod';
import { defineCommand, type CommandDefinition } from '../../core/command.ts';
import { UserError } from '../../core/errors.ts';
import { imagineOptionsSchema } from '../../core/imagine-options.ts';
import { MAX_INPUT_IMAGES } from '../../core/request.ts';
import type { ImageSource } from '../../core/ports.ts';

/**
 * /blend in the composer: the pictures attached to the message (and any picture URLs typed), 2 to 5 of them,
 * combined into new ones (Midjourney's /blend). The playground's own definition, because its pictures arrive as
 * uploads beside the text; `images` is filled from them, never typed.
 */
export const blendCommand = defineCommand({
  name: 'blend',
  description: `Blend 2-${MAX_INPUT_IMAGES} pictures into new ones: attach them (drop, paste or 📎), or type their URLs`,
  positional: 'urls',
  options: z.object({
    urls: z.string().trim().max(4000).optional().describe('Picture URLs, separated by spaces (besides attached pictures)'),
    dimensions: z.enum(['portrait', 'square', 'landscape']).optional().describe('Shape of the result: portrait 2:3, square 1:1, landscape 3:2'),
    provider: z.string().trim().min(1).max(32).optional().describe('Which provider to use'),
    private: z.boolean().optional().describe('Only you see the result'),
    images: imagineOptionsSchema.shape.images,
  }),
  autocomplete: ['provider'],
  run: async (input, ctx) => {
    const typed: ImageSource[] = (input.urls ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((word) => {
        const url = word.replace(/^<|>$/g, '');
        if (!/^https?:\/\/\S+$/i.test(url)) throw new UserError('INVALID_OPTIONS', `/blend takes pictures, not words: "${word.slice(0, 40)}" is not a picture URL. Attach the pictures, or type their https:// addresses.`);
        return { url };
      });
    const job = await ctx.atelier.blend([...(input.images ?? []), ...typed], { dimensions: input.dimensions, provider: input.provider, private: input.private }, ctx.actor, ctx.where);
    return { type: 'job', job };
  },
}) as unknown as CommandDefinition;

/** Options the composer fills from attachments, never from typed text. */
export const ATTACHED_OPTIONS: ReadonlySet<string> = new Set(['images']);
