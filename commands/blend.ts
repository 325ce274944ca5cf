import { z } from 'zod';
import { defineCommand } from '../src/core/command.ts';
import { MAX_INPUT_IMAGES } from '../src/core/request.ts';

export const blend = defineCommand({
  name: 'blend',
  description: `Blend 2 to ${MAX_INPUT_IMAGES} of your pictures into new images`,
  options: z.object({
    dimensions: z.enum(['portrait', 'square', 'landscape']).optional().describe('Shape: portrait 2:3, square 1:1 or landscape 3:2'),
    provider: z.string().trim().min(1).max(32).optional().describe('Which provider to use (one that can blend)'),
    private: z.boolean().optional().describe('Only you see the result'),
  }),
  autocomplete: ['provider'],
  pictures: { names: ['image1', 'image2', 'image3', 'image4', 'image5'], required: 2, description: 'A picture to blend' },
  run: async (input, ctx, pictures = []) => ({ type: 'job', job: await ctx.atelier.blend(pictures, input, ctx.actor, ctx.where) }),
});
