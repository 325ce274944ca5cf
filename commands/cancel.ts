import { z } from 'zod';
import { defineCommand } from '../src/core/command.ts';

export const cancel = defineCommand({
  name: 'cancel',
  description: 'Cancel a job, or all your queued and running jobs in this channel',
  options: z.object({
    job: z.string().trim().min(1).max(80).optional().describe('Job id; leave empty for all of yours here'),
  }),
  run: async (input, ctx) => {
    if (input.job) {
      const job = await ctx.atelier.cancel(input.job, ctx.actor, ctx.where);
      return { type: 'message', ephemeral: true, text: job.state === 'canceled' || job.state === 'running' ? `Canceling ${job.id}.` : `Job ${job.id} had already ${job.state}.` };
    }
    const jobs = await ctx.atelier.cancelMine(ctx.actor, ctx.where);
    return { type: 'message', ephemeral: true, text: jobs.length ? `Canceled ${jobs.length} job${jobs.length === 1 ? '' : 's'}.` : 'You have nothing queued or running here.' };
  },
});
