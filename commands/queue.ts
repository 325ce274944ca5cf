import { z } from 'zod';
import { defineCommand } from '../src/core/command.ts';
import { statusText } from '../src/core/present.ts';

export const queue = defineCommand({
  name: 'queue',
  description: 'Show this channel\'s queue: what is running and what waits',
  options: z.object({}),
  run: async (_input, ctx) => {
    const jobs = await ctx.atelier.queue(ctx.where);
    if (!jobs.length) return { type: 'message', ephemeral: true, text: 'The queue is empty.' };
    const lines = jobs.map((j) => `• ${j.owner.displayName}: ${j.request.prompt.slice(0, 60)} — ${statusText(j)}`);
    return { type: 'jobs', jobs, ephemeral: true, text: `Queue (${jobs.length}):\n${lines.join('\n')}` };
  },
});
