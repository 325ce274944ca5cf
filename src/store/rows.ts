import type { Job } from '../core/job.ts';
import type { JobFilter } from '../core/ports.ts';

/** The indexed columns of a job row, in the order the INSERT and UPDATE statements list them. */
export function jobColumns(job: Job): [string, string, string, string, string | null, number, number, string] {
  return [job.state, job.owner.platform, job.owner.userId, job.where.channelId, job.parentId ?? null, job.createdAt, job.version, JSON.stringify(job)];
}

export const JOB_COLUMNS = 'state, platform, owner_id, channel_id, parent_id, created_at, version, data';

/** What never changes once a job exists; `updateJob` checks it instead of rewriting its indexes. */
export function jobIdentity(job: Job): [string, string, string, number, string | null] {
  return [job.owner.platform, job.owner.userId, job.where.channelId, job.createdAt, job.parentId ?? null];
}

export class ImmutableJobFieldError extends Error {
  override readonly name = 'ImmutableJobFieldError';
  constructor(id: string) {
    super(`job ${id}: owner, channel, createdAt and parentId cannot change after creation`);
  }
}

/**
 * The WHERE / ORDER / LIMIT of `listJobs`, for either engine: `param` records a value and returns its
 * placeholder. Jobs come back oldest first (created_at, then id, so the order is total and the same on
 * both engines): the order a queue resumes them in.
 */
export function jobFilterSql(filter: JobFilter, param: (value: unknown) => string): string {
  const where: string[] = [];
  if (filter.states) {
    if (filter.states.length === 0) where.push('1 = 0');
    else where.push(`state IN (${filter.states.map(param).join(', ')})`);
  }
  if (filter.channelId !== undefined) where.push(`channel_id = ${param(filter.channelId)}`);
  if (filter.ownerId !== undefined) where.push(`owner_id = ${param(filter.ownerId)}`);
  if (filter.platform !== undefined) where.push(`platform = ${param(filter.platform)}`);
  if (filter.createdBefore !== undefined) where.push(`created_at < ${param(filter.createdBefore)}`);
  let sql = where.length ? ` WHERE ${where.join(' AND ')}` : '';
  sql += filter.order === 'newest' ? ' ORDER BY created_at DESC, id DESC' : ' ORDER BY created_at, id';
  if (filter.limit !== undefined) {
    if (!Number.isInteger(filter.limit) || filter.limit < 0) throw new RangeError(`listJobs: limit must be a non-negative integer, got ${filter.limit}`);
    sql += ` LIMIT ${param(filter.limit)}`;
  }
  return sql;
}
