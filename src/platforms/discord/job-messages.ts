import type { JobEvent } from '../../core/events.ts';
import type { Job } from '../../core/job.ts';
import { JobMessage, type SinkDeps } from './message-sink.ts';
import { loadRef, saveRef, type DiscordMessageRef } from './message-ref.ts';

/**
 * Every Discord job message this process is drawing. A message is found by job id; after a restart (or
 * in another process behind the load balancer) it is rebuilt from the ref persisted in the store, so
 * the job's next event still lands in the right message.
 */
export class JobMessages {
  private readonly live = new Map<string, JobMessage>();
  private readonly loading = new Set<string>();

  constructor(private readonly deps: SinkDeps) {}

  /** Starts drawing `job` into the message `ref` names, persisting the ref first. */
  async track(job: Job, ref: DiscordMessageRef): Promise<JobMessage> {
    const msg = new JobMessage(this.deps, job.id, ref);
    this.live.set(job.id, msg);
    await saveRef(this.deps.atelier.store, job.id, ref);
    msg.push(job);
    // Events may have fired between the job's creation and now: catch up with the stored state.
    const latest = await this.deps.atelier.getJob(job.id);
    if (latest) msg.push(latest);
    this.retire(msg);
    return msg;
  }

  /** Feed from `atelier.events`. */
  onEvent(e: JobEvent): void {
    if (e.job.where.platform !== 'discord') return;
    if (e.type === 'job.deleted') {
      this.forget(e.job.id);
      return;
    }
    const msg = this.live.get(e.job.id);
    if (msg) {
      msg.push(e.job);
      this.retire(msg);
      return;
    }
    if (this.loading.has(e.job.id)) return;
    this.loading.add(e.job.id);
    loadRef(this.deps.atelier.store, e.job.id)
      .then(async (ref) => {
        if (!ref || this.live.has(e.job.id)) return;
        const revived = new JobMessage(this.deps, e.job.id, ref);
        this.live.set(e.job.id, revived);
        const latest = (await this.deps.atelier.getJob(e.job.id)) ?? e.job;
        revived.push(latest);
        this.retire(revived);
      })
      .catch((err: unknown) => this.deps.logger.warn({ jobId: e.job.id, err: String(err) }, 'discord: could not load message ref'))
      .finally(() => this.loading.delete(e.job.id));
  }

  /** Stops drawing a job (it was deleted; the caller removes the message). */
  forget(jobId: string): void {
    const msg = this.live.get(jobId);
    this.live.delete(jobId);
    if (msg) void msg.remove().catch(() => undefined);
  }

  /** Resolves when every message has written what it was given (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.live.values()].map((m) => m.idle()));
  }

  get size(): number {
    return this.live.size;
  }

  /** Finished messages leave memory once their final write is out; the store keeps their ref. */
  private retire(msg: JobMessage): void {
    void msg.idle().then(() => {
      if (msg.finished && this.live.get(msg.jobId) === msg) this.live.delete(msg.jobId);
    });
  }
}
