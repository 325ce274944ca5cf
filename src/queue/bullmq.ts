import { Queue, Worker, type Job as BullJob } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobEvents } from '../core/events.ts';
import { isFinal, restartProgress, type Job } from '../core/job.ts';
import type { JobQueue, Logger, Store } from '../core/ports.ts';
import { silentLogger } from '../core/ports.ts';
import { HandBack, writeJob, type RunHooks } from '../core/runner.ts';
import { FairScheduler, type SchedulerEntry, type SchedulerLimits } from '../core/scheduler.ts';
import { createEventBridge, type EventBridge } from './event-bridge.ts';
import { createRedis, RedisLease } from './redis.ts';

export interface BullQueueOptions {
  redisUrl: string;
  /** BullMQ key prefix; one Redis can hold several deployments (or test runs) side by side. */
  prefix?: string;
  store: Store;
  events: JobEvents;
  /** Cluster-wide: `global` bounds the jobs handed to BullMQ and not yet finished, across every worker. */
  limits: SchedulerLimits;
  /** Runs one job to a final state (the core's runner); `hooks.leftProvider` when its provider has answered. */
  run(jobId: string, signal: AbortSignal, hooks?: RunHooks): Promise<unknown>;
  logger?: Logger;
  /** Run jobs in this process, this many at once; 0 (the default) for a web process that only takes commands. */
  concurrency?: number;
  /** A worker that stops renewing its lock (kill -9) has its jobs handed to another worker after this long. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Attempts when the runner itself throws (store or Redis trouble); provider failures are final job states, not retries. */
  attempts?: number;
  backoffMs?: number;
  /** A dispatch pass also runs this often, so a lost trigger costs at most this much delay. */
  tickMs?: number;
}

/**
 * What a BullMQ job carries: enough for the dispatcher to count it against its user's, channel's and provider's
 * limits. `leftProvider`: its provider has answered and it is composing its result (see FairScheduler.leaveProvider).
 */
type Entry = SchedulerEntry & { leftProvider?: boolean };

/** The JobQueue on BullMQ, plus what observability and tests read from it. */
export interface BullQueue extends JobQueue {
  readonly prefix: string;
  /** Resolves when Redis answers. */
  ping(): Promise<void>;
  /** Jobs waiting in the store for their fair turn, handed to BullMQ and waiting there, and running. */
  depth(): Promise<{ queued: number; dispatched: number; active: number }>;
  /** One fair dispatch pass now (tests; the queue runs them on its own). */
  dispatch(): Promise<void>;
  /** Ids of the jobs this process is running. */
  runningHere(): string[];
}

const QUEUE_NAME = 'jobs';
const IN_FLIGHT = ['active', 'waiting', 'delayed', 'prioritized', 'paused', 'waiting-children'] as const;
/** BullMQ refuses custom ids that look like integers or hold ':'; ours are hex, so they get a letter. */
const bullId = (jobId: string) => `job-${jobId}`;

/** Waits for `p` at most `ms`; false when it did not settle in time (it keeps going in the background). */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

const entryOf = (job: Job): Entry => ({
  jobId: job.id,
  userKey: `${job.owner.platform}:${job.owner.userId}`,
  channelKey: `${job.where.platform}:${job.where.channelId}`,
  providerKey: job.provider,
});

/**
 * Jobs through BullMQ on Redis, for any number of web processes and workers.
 *
 * Fairness: the store stays the list of waiting jobs, and a dispatcher (whichever process holds a short
 * Redis lease) rebuilds the core's FairScheduler from the store and from what BullMQ holds, then hands
 * BullMQ the next jobs in round-robin order, never more than `limits.global` in flight. BullMQ's own
 * list therefore stays short and fair, and a pass needs no memory of earlier passes, so any process can
 * run the next one after another is killed. A BullMQ job id is the Atelier job id: handing a job over
 * twice is a no-op.
 *
 * Resuming: BullMQ owns it here. A killed worker stops renewing its job locks; another worker's stalled
 * check moves those jobs back to waiting, and the runner resumes them from their intent record, so no
 * provider create is repeated.
 */
export function createBullQueue(opts: BullQueueOptions): BullQueue {
  const log = opts.logger ?? silentLogger;
  const prefix = opts.prefix ?? 'atelier';
  const concurrency = opts.concurrency ?? 0;
  const redis = createRedis(opts.redisUrl, `${prefix}:queue`);
  const sub = createRedis(opts.redisUrl, `${prefix}:subscriber`);
  for (const c of [redis, sub]) c.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection error'));
  const queue = new Queue<Entry>(QUEUE_NAME, {
    connection: redis,
    prefix,
    defaultJobOptions: {
      attempts: opts.attempts ?? 5,
      backoff: { type: 'exponential', delay: opts.backoffMs ?? 1_000 },
      // The store keeps the history; BullMQ keeps only what is in flight, so a finished id can be handed over again harmlessly.
      removeOnComplete: true,
      removeOnFail: true,
    },
  });
  queue.on('error', (err: Error) => log.warn({ err: err.message }, 'bullmq queue error'));
  const cancelChannel = `${prefix}:${QUEUE_NAME}:cancel`;
  const bridge: EventBridge = createEventBridge({ pub: redis, sub, channel: `${prefix}:${QUEUE_NAME}:events`, events: opts.events, logger: log });
  const servedKey = `${prefix}:${QUEUE_NAME}:served`;
  const servedSeqKey = `${prefix}:${QUEUE_NAME}:served-seq`;
  const dirtyKey = `${prefix}:${QUEUE_NAME}:dispatch-dirty`;
  const lease = new RedisLease(redis, `${prefix}:${QUEUE_NAME}:dispatch-lease`, 15_000);
  const runningJobs = new Map<string, BullJob<Entry>>();
  /** Per running job: aborting with HandBack at shutdown queues it again for another worker. */
  const handBack = new Map<string, AbortController>();
  let worker: Worker<Entry> | undefined;
  let tick: NodeJS.Timeout | undefined;
  let stopped = true;

  // ---- dispatch: at least one full pass starts after every request ----
  let passing: Promise<void> | undefined;
  let again = false;
  let retry: NodeJS.Timeout | undefined;

  /**
   * Jobs waiting in the store and not yet handed over, the users served longest ago first (each user's
   * oldest job first): the scheduler's round-robin ring, carried between passes and processes in Redis.
   */
  async function waitingInTurn(handed: ReadonlySet<string>): Promise<Entry[]> {
    const entries = (await opts.store.listJobs({ states: ['queued'] })).filter((j) => !handed.has(j.id)).map(entryOf);
    if (entries.length === 0) return entries;
    const users = [...new Set(entries.map((e) => e.userKey))];
    const seqs = await redis.hmget(servedKey, ...users);
    const last = new Map(users.map((u, i) => [u, Number(seqs[i] ?? 0)]));
    return entries
      .map((e, i) => ({ e, i }))
      .sort((a, b) => last.get(a.e.userKey)! - last.get(b.e.userKey)! || a.i - b.i)
      .map((x) => x.e);
  }

  async function rememberServed(picks: readonly Entry[]): Promise<void> {
    const top = await redis.incrby(servedSeqKey, picks.length);
    const seqOf = new Map<string, number>();
    picks.forEach((e, i) => seqOf.set(e.userKey, top - picks.length + i + 1));
    await redis.hset(servedKey, Object.fromEntries(seqOf));
  }

  /**
   * One pass under the lease. A process that finds the lease taken marks the queue dirty, and the
   * holder runs again before letting go, so a change made during someone else's pass is not left
   * waiting for a timer.
   */
  async function pass(): Promise<boolean> {
    if (!(await lease.acquire())) {
      await redis.set(dirtyKey, '1', 'PX', 5_000);
      return false;
    }
    try {
      for (let round = 0; round < 5; round++) {
        await redis.del(dirtyKey);
        await passOnce();
        if (!(await redis.get(dirtyKey))) break;
      }
      return true;
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  async function passOnce(): Promise<void> {
    const inflight = (await queue.getJobs([...IN_FLIGHT], 0, -1, true)).filter((b): b is BullJob<Entry> => Boolean(b?.data));
    const scheduler = new FairScheduler(opts.limits);
    const handed = new Set<string>();
    for (const b of inflight) {
      handed.add(b.data.jobId);
      scheduler.markRunning(b.data);
      // Composing its result: its user's, channel's and provider's slots are the next job's (the global limit still counts it).
      if (b.data.leftProvider) scheduler.leaveProvider(b.data.jobId);
    }
    for (const e of await waitingInTurn(handed)) scheduler.add(e);
    // Running in the store yet unknown to BullMQ: BullMQ gave up on it while the store was unreachable, so
    // it could not be marked failed. Handing it over again is safe: the runner resumes from its intent.
    const orphans: Entry[] = [];
    for (const job of await opts.store.listJobs({ states: ['running'] })) {
      if (handed.has(job.id) || (await queue.getJob(bullId(job.id)))) continue;
      orphans.push(entryOf(job));
      scheduler.markRunning(entryOf(job));
    }
    const picks: Entry[] = [...orphans];
    for (let e = scheduler.next(); e; e = scheduler.next()) picks.push(e);
    if (picks.length) {
      await queue.addBulk(picks.map((e) => ({ name: 'run', data: e, opts: { jobId: bullId(e.jobId) } })));
      await rememberServed(picks);
      log.debug({ jobIds: picks.map((p) => p.jobId) }, 'dispatched');
    }
  }

  function requestDispatch(): void {
    if (stopped) return;
    if (passing) {
      again = true;
      return;
    }
    passing = pass()
      .then((done) => {
        if (!done && !stopped && !retry) {
          // The holder normally sees our dirty mark; this covers a mark that landed just after its last look.
          retry = setTimeout(() => {
            retry = undefined;
            requestDispatch();
          }, 200 + Math.random() * 200);
        }
      })
      .catch((err: unknown) => log.warn({ err }, 'dispatch pass failed'))
      .finally(() => {
        passing = undefined;
        if (again) {
          again = false;
          requestDispatch();
        }
      });
  }

  // ---- work ----
  async function processJob(bullJob: BullJob<Entry>, _token: string | undefined, signal: AbortSignal | undefined): Promise<void> {
    const { jobId } = bullJob.data;
    const jlog = log.child({ jobId });
    const current = await opts.store.getJob(jobId);
    if (!current || isFinal(current.state)) return;
    if (current.state === 'running') {
      // It was running in a process that died: BullMQ handed it to us; the runner resumes from its intent.
      await writeJob(opts, jobId, (j) => (j.state === 'running' ? { ...j, attempts: j.attempts + 1, progress: restartProgress(j.progress, 'Resuming on another worker') } : undefined));
      jlog.info({ attempt: bullJob.attemptsMade + 1 }, 'resuming an interrupted job');
    }
    runningJobs.set(jobId, bullJob);
    // One signal for both: a cancel from BullMQ, and our own hand-back at shutdown.
    const own = new AbortController();
    handBack.set(jobId, own);
    if (signal?.aborted) own.abort(signal.reason);
    signal?.addEventListener('abort', () => own.abort(signal.reason), { once: true });
    const t0 = Date.now();
    jlog.debug({ attempt: bullJob.attemptsMade + 1, waitedMs: t0 - current.createdAt }, 'job started on this worker');
    try {
      // Past its provider, the job tells every dispatcher through its BullMQ data, so the next job may start there.
      const leftProvider = () =>
        void bullJob
          .updateData({ ...bullJob.data, leftProvider: true })
          .then(() => requestDispatch())
          .catch((err: unknown) => jlog.warn({ err }, 'could not mark the job past its provider; its slots free when it ends'));
      await opts.run(jobId, own.signal, { leftProvider });
      jlog.info({ ms: Date.now() - t0 }, 'job ran');
    } catch (err) {
      jlog.warn({ err, attempt: bullJob.attemptsMade + 1 }, 'job run threw; BullMQ retries it with backoff');
      throw err;
    } finally {
      runningJobs.delete(jobId);
      handBack.delete(jobId);
    }
  }

  /** When BullMQ gives up on a job (attempts spent), the job fails visibly instead of hanging as running. */
  async function onGivenUp(bullJob: BullJob<Entry> | undefined, err: Error): Promise<void> {
    if (!bullJob) return;
    const attempts = bullJob.opts.attempts ?? 1;
    if (bullJob.attemptsMade < attempts) return;
    log.error({ jobId: bullJob.data.jobId, err: err.message }, 'job given up after its attempts');
    await writeJob(opts, bullJob.data.jobId, (j) =>
      isFinal(j.state) ? undefined : { ...j, state: 'failed', finishedAt: Date.now(), error: { code: 'INTERNAL', message: 'Something went wrong running this job; it was retried and gave up.', retryable: true } },
    );
  }

  // Progress also goes to BullMQ's own job progress, so BullMQ tooling (dashboards, QueueEvents) sees it.
  const unsubscribeProgress = opts.events.subscribe(({ job }) => {
    const bullJob = runningJobs.get(job.id);
    if (!bullJob || job.state !== 'running') return;
    bullJob.updateProgress({ percent: job.progress.percent ?? 0, stage: job.progress.stage ?? '', version: job.version }).catch(() => undefined);
  });

  // BullMQ tracks a job's AbortController from the moment this worker takes it, before our processor has
  // read the store: a cancel in that window still lands. Workers that do not hold the job ignore it.
  const onCancel = (channel: string, jobId: string) => {
    if (channel === cancelChannel && worker) worker.cancelJob(bullId(jobId), 'canceled');
  };

  const self: BullQueue = {
    prefix,
    async start() {
      stopped = false;
      sub.on('message', onCancel);
      const subscribed = Promise.all([bridge.start(), sub.subscribe(cancelChannel)]);
      subscribed.catch((err: unknown) => log.error({ err }, 'redis subscriptions failed'));
      // A process started while Redis is down still comes up (its /readyz says why it is not ready); the subscriptions complete when Redis does.
      if (!(await within(subscribed, 5_000))) log.warn({}, 'redis is not answering yet; jobs and events resume when it does');
      if (concurrency > 0) {
        worker = new Worker<Entry>(QUEUE_NAME, processJob, {
          connection: redis,
          prefix,
          concurrency,
          lockDuration: opts.lockDurationMs ?? 30_000,
          stalledInterval: opts.stalledIntervalMs ?? 30_000,
          // A job survives many worker deaths; only our own errors use up its attempts.
          maxStalledCount: 50,
          autorun: false,
        });
        worker.on('error', (err: Error) => log.warn({ err: err.message }, 'bullmq worker error'));
        worker.on('completed', () => requestDispatch());
        worker.on('failed', (bullJob, err) => {
          void onGivenUp(bullJob, err).catch((e: unknown) => log.warn({ err: e }, 'could not mark a given-up job failed'));
          requestDispatch();
        });
        void worker.run().catch((err: unknown) => log.error({ err }, 'bullmq worker stopped'));
        await within(worker.waitUntilReady(), 5_000);
      }
      tick = setInterval(requestDispatch, opts.tickMs ?? 1_000);
      tick.unref();
      requestDispatch();
    },
    async enqueue() {
      requestDispatch();
    },
    async cancel(jobId) {
      const bullJob = await queue.getJob(bullId(jobId));
      if (bullJob && !(await bullJob.isActive())) {
        await bullJob.remove().catch(() => undefined);
        requestDispatch();
      }
      // Running somewhere (or about to be): the worker that owns it aborts it and the runner writes the final state.
      await redis.publish(cancelChannel, jobId);
    },
    async positions() {
      const waiting = (await queue.getJobs(['waiting', 'prioritized', 'delayed'], 0, -1, true)).filter((b): b is BullJob<Entry> => Boolean(b?.data));
      const out = new Map<string, number>();
      for (const b of waiting) out.set(b.data.jobId, out.size + 1);
      const scheduler = new FairScheduler(opts.limits);
      for (const e of await waitingInTurn(new Set(out.keys()))) scheduler.add(e);
      const offset = out.size;
      for (const [jobId, p] of scheduler.positions()) out.set(jobId, offset + p);
      return out;
    },
    async ping() {
      await redis.ping();
    },
    async depth() {
      const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
      const dispatched = (counts['waiting'] ?? 0) + (counts['delayed'] ?? 0) + (counts['prioritized'] ?? 0);
      const queued = (await opts.store.listJobs({ states: ['queued'] })).length;
      return { queued: Math.max(0, queued - dispatched), dispatched, active: counts['active'] ?? 0 };
    },
    async dispatch() {
      while (!(await pass())) await new Promise((r) => setTimeout(r, 50));
    },
    runningHere: () => [...runningJobs.keys()],
    async stop() {
      stopped = true;
      if (tick) clearInterval(tick);
      if (retry) clearTimeout(retry);
      unsubscribeProgress();
      const up = redis.status === 'ready';
      await within(passing ?? Promise.resolve(), 2_000);
      // Running jobs are handed back: the runner queues them again (intent kept) and the next dispatch pass,
      // in any process, gives them to another worker. One that does not settle in time is resumed by
      // another worker's stalled check once its lock lapses.
      for (const c of handBack.values()) c.abort(new HandBack());
      if (worker && !(await within(worker.close(), up ? 3_000 : 0))) void worker.close(true).catch(() => undefined);
      sub.off('message', onCancel);
      if (up) {
        await within(bridge.stop(), 1_000);
        await within(queue.close(), 2_000);
      }
      await Promise.all([redis, sub].map((c: Redis) => (c.status === 'ready' ? c.quit().catch(() => c.disconnect()) : c.disconnect())));
    },
  };
  return self;
}
