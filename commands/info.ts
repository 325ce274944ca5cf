import { z } from 'zod';
import { defineCommand } from '../src/core/command.ts';
import { detailsText, statusText } from '../src/core/present.ts';

export const info = defineCommand({
  name: 'info',
  description: 'Details of a job, or your recent jobs',
  options: z.object({
    job: z.string().trim().min(1).max(80).optional().describe('Job id (from a result\'s ℹ️ details)'),
  }),
  run: async (input, ctx) => {
    if (input.job) {
      const job = await ctx.atelier.viewJob(input.job, ctx.actor, ctx.where);
      return { type: 'message', ephemeral: true, text: detailsText(job) };
    }
    const jobs = await ctx.atelier.recent(ctx.actor, 5);
    if (!jobs.length) return { type: 'message', ephemeral: true, text: 'You have no jobs yet. Try /imagine.' };
    const lines = jobs.map((j) => `• ${j.id} — ${j.request.prompt.slice(0, 60)} — ${statusText(j)}`);
    return { type: 'jobs', jobs, ephemeral: true, text: `Your recent jobs:\n${lines.join('\n')}` };
  },
});
