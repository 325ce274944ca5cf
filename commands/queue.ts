import { z } from 'zod';
import { defineCommand } from '../src/core/command.ts';
import { statusText } from '../src/core/present.ts';
import { hiddenJobLabel, maySee } from '../src/core/visibility.ts';

export const queue = defineCommand({
  name: 'queue',
  description: 'Show this channel\'s queue: what is running and what waits',
  options: z.object({}),
  run: async (_input, ctx) => {
    const jobs = await ctx.atelier.queue(ctx.where);
    if (!jobs.length) return { type: 'message', ephemeral: true, text: 'The queue is empty.' };
    // Others' private jobs still hold a place in the line, so they are counted, but say nothing of themselves.
    const lines = jobs.map((j) => (maySee(j, ctx.actor, ctx.where) ? `• ${j.owner.displayName}: ${j.request.prompt.slice(0, 60)} — ${statusText(j)}` : `• ${hiddenJobLabel(j)} — ${statusText(j)}`));
    const visible = jobs.filter((j) => maySee(j, ctx.actor, ctx.where));
    return { type: 'jobs', jobs: visible, ephemeral: true, text: `Queue (${jobs.length}):\n${lines.join('\n')}` };
  },
});
