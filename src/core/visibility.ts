import type { Actor, Job, Where } from './job.ts';

/**
 * Who may see a job, and so act on it: button ids are not secrets, so anything that reads a job or
 * derives from it (details, remix, U/V, reroll, /info, /queue, image URLs) asks here first.
 * The place the actor acts from is what the platform reports, never what a button id says.
 */

export const isOwner = (job: Job, actor: Actor): boolean => job.owner.platform === actor.platform && job.owner.userId === actor.userId;

/** The actor acts from the channel the job lives in. */
export const inJobChannel = (job: Job, where: Where | undefined): boolean =>
  where !== undefined && where.platform === job.where.platform && where.channelId === job.where.channelId;

/** Its owner sees a job anywhere; anyone else only a public job, and only from the job's own channel. */
export function maySee(job: Job, actor: Actor, where: Where | undefined): boolean {
  if (isOwner(job, actor)) return true;
  return !job.private && inJobChannel(job, where);
}

/**
 * Cancel and delete read nothing of the job: a moderator of the job's channel may remove a job there,
 * a private one included, without being shown it. Moderators elsewhere are ordinary members.
 */
export const mayRemove = (job: Job, actor: Actor, where: Where | undefined): boolean =>
  maySee(job, actor, where) || (actor.canManage === true && inJobChannel(job, where));

/** What a job is called to someone who may not see it: no prompt, only whose it is. */
export const hiddenJobLabel = (job: Job): string => `(private job of @${job.owner.displayName})`;
