import type { JobEvents } from '../core/events.ts';
import { restartProgress, type Job } from '../core/job.ts';
import type { JobQueue, Logger, Store } from '../core/ports.ts';
import { silentLogger } from '../core/ports.ts';
import { HandBack, writeJob, type RunHooks } from '../core/runner.ts';
import { FairScheduler, type SchedulerEntry, type SchedulerLimits } from '../core/scheduler.ts';

export interface InProcessQueueOptions {
  store: Store;
  events: JobEvents;
  limits: SchedulerLimits;
  /** Runs one job to a final state; the queue only decides when. */
  run(jobId: string, signal: AbortSignal, hooks: RunHooks): Promise<unknown>;
  logger?: Logger;
}

const entryOf = (job: Job): SchedulerEntry => ({
  jobId: job.id,
  userKey: `${job.owner.platform}:${job.owner.userId}`,
  channelKey: `${job.where.platform}:${job.where.channelId}`,
  providerKey: job.provider,
});

/**
 * The embedded queue: the fair scheduler in memory, jobs in the durable store. On start it resumes
 * every job left queued or running by a previous process, so nothing is forgotten; a job interrupted
 * while running goes back to queued and runs again with its provider intent, so nothing is created twice.
 */
/** Waiting jobs up to this place in line get every move announced. */
const ANNOUNCED_POSITIONS = 25;

export function createInProcessQueue(opts: InProcessQueueOptions): JobQueue & { idle(): Promise<void> } {
  const log = opts.logger ?? silentLogger;
  const scheduler = new FairScheduler(opts.limits);
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  const lastPosition = new Map<string, number>();
  /** Waiting jobs as last written: positions are announced on these snapshots, never written to the store. */
  const waiting = new Map<string, Job>();
  /** Waiting jobs whose place in line was never announced (new, or resumed). */
  const unannounced = new Set<string>();
  // Until start() has read the store, nothing runs: a job enqueued earlier is in the store and start() finds it.
  let stopped = true;
  let positionsScheduled = false;
  let idleWaiters: (() => void)[] = [];

  function pump(): void {
    if (stopped) return;
    for (let entry = scheduler.next(); entry; entry = scheduler.next()) launch(entry);
    schedulePositions();
    if (running.size === 0 && scheduler.waitingCount() === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  function launch(entry: SchedulerEntry): void {
    const controller = new AbortController();
    forgetWaiting(entry.jobId);
    // Past its provider, a job's user and channel slots go to the next job while it composes its result.
    const leftProvider = () => {
      scheduler.leaveProvider(entry.jobId);
      pump();
    };
    const done = opts
      .run(entry.jobId, controller.signal, { leftProvider })
      .then(
        () => undefined,
        (err: unknown) => log.error({ err, jobId: entry.jobId }, 'job runner crashed'),
      )
      .finally(() => {
        running.delete(entry.jobId);
        scheduler.finish(entry.jobId);
        pump();
      });
    running.set(entry.jobId, { controller, done });
  }

  function forgetWaiting(jobId: string): void {
    lastPosition.delete(jobId);
    waiting.delete(jobId);
    unannounced.delete(jobId);
  }

  function addWaiting(job: Job): void {
    scheduler.add(entryOf(job));
    waiting.set(job.id, job);
    unannounced.add(job.id);
  }

  // Position announcements are coalesced: a burst of submissions costs one pass, not one per job.
  function schedulePositions(): void {
    if (positionsScheduled) return;
    positionsScheduled = true;
    setImmediate(() => {
      positionsScheduled = false;
      publishPositions();
    });
  }

  /**
   * A position is not stored: rewriting every waiting job whenever one starts cost O(waiting) row writes
   * per job. Each waiting job whose position moved is announced as an event on its snapshot instead;
   * renderers draw it, and reads (`getJob`, /queue) compute it.
   *
   * Far back in a long queue, every arrival would re-announce hundreds of places (each an edit on the chat
   * platform, on the loop that must answer the next interaction). There the place shown is the one at
   * submission; announcements resume as the job nears the front. So a pass computes the first places and
   * the places of new jobs only, never the whole line.
   */
  function publishPositions(): void {
    for (const [jobId, position] of scheduler.positions(ANNOUNCED_POSITIONS)) {
      unannounced.delete(jobId);
      announce(jobId, position);
    }
    for (const jobId of unannounced) {
      const position = scheduler.positionOf(jobId);
      if (position !== undefined) announce(jobId, position);
    }
    unannounced.clear();
  }

  function announce(jobId: string, position: number): void {
    const job = waiting.get(jobId);
    if (!job || lastPosition.get(jobId) === position) return;
    lastPosition.set(jobId, position);
    opts.events.emit({ type: 'job.updated', job: { ...job, progress: { ...job.progress, queuePosition: position } } });
  }

  return {
    async start() {
      stopped = false;
      const left = await opts.store.listJobs({ states: ['queued', 'running'] });
      for (const job of left) {
        let resumed = job;
        if (job.state === 'running') {
          resumed =
            (await writeJob(opts, job.id, (j) =>
              j.state === 'running' ? { ...j, state: 'queued', attempts: j.attempts + 1, progress: restartProgress(j.progress, 'Resuming after a restart') } : undefined,
            )) ?? job;
          log.info({ jobId: job.id }, 'resuming a job interrupted by a restart');
        }
        if (resumed.state === 'queued') addWaiting(resumed);
      }
      pump();
    },
    async enqueue(job) {
      // Stopped (or not started): the job waits in the store for the next start.
      if (stopped) return;
      addWaiting(job);
      pump();
    },
    async cancel(jobId) {
      if (scheduler.remove(jobId)) {
        forgetWaiting(jobId);
        pump();
        return;
      }
      running.get(jobId)?.controller.abort(new Error('canceled'));
    },
    async positions() {
      return scheduler.positions();
    },
    position(jobId) {
      return scheduler.positionOf(jobId);
    },
    /** Resolves when nothing is running or waiting (the CLI and tests wait on it). */
    idle() {
      if (running.size === 0 && scheduler.waitingCount() === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    async stop() {
      // Running jobs are handed back (queued again, intent kept) and resume on the next start. A runner
      // that does not settle in time is left behind: the process exits anyway and the store still says running.
      stopped = true;
      for (const r of running.values()) r.controller.abort(new HandBack());
      const all = [...running.values()].map((r) => r.done);
      await Promise.race([Promise.all(all), new Promise((r) => setTimeout(r, 3_000).unref())]);
    },
  };
}
