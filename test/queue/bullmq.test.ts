import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { JobEvents } from '../../src/core/events.ts';
import type { ImageTools, Logger } from '../../src/core/ports.ts';
import { isFinal, type Actor, type Job, type Where } from '../../src/core/job.ts';
import type { ImageProvider } from '../../src/core/provider.ts';
import { createLocalProvider } from '../../src/providers/local/index.ts';
import { createBullQueue, type BullQueue } from '../../src/queue/bullmq.ts';
import { isRemoteEvent } from '../../src/queue/event-bridge.ts';
import { createSqliteStore } from '../../src/store/index.ts';
import { heldGrid } from '../helpers/held-grid.ts';
import { dropPrefix, REDIS_URL, uniquePrefix, warnSkipped } from './redis-env.ts';

warnSkipped('BullMQ queue tests', ['REDIS_URL']);

const here: Where = { platform: 'web', channelId: 'studio' };
const actor = (id: string): Actor => ({ platform: 'web', userId: id, displayName: id });
const local = createLocalProvider({ longSide: 64, previewSide: 32 });

/** A provider that records the order jobs start in; `gated` holds every job until `open()`, `hold` until it is aborted. */
function recording(id: string, opts: { hold?: boolean; gated?: boolean } = {}) {
  const started: string[] = [];
  let openGate!: () => void;
  const gate = new Promise<void>((r) => (openGate = r));
  if (!opts.gated) openGate();
  const provider: ImageProvider = {
    ...local,
    id,
    displayName: id,
    async generate(request, ctx) {
      started.push(ctx.jobId);
      await gate;
      if (opts.hold) await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true }));
      return local.generate(request, ctx);
    },
  };
  return { provider, started, open: () => openGate() };
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function apps(n: { web: boolean; workers: number }, env: Record<string, string>, providers: ImageProvider[], images?: ImageTools) {
  const prefix = uniquePrefix('q');
  const dir = mkdtempSync(join(tmpdir(), 'atelier-bull-'));
  const config = loadConfig({ REDIS_URL: REDIS_URL!, REDIS_PREFIX: prefix, DATA_DIR: dir, PORT: '0', PLAYGROUND: 'off', MAX_QUEUED_PER_USER: '50', ...env });
  const started: App[] = [];
  cleanup.push(async () => {
    for (const a of started.reverse()) await a.stop();
    await dropPrefix(REDIS_URL!, prefix);
    rmSync(dir, { recursive: true, force: true });
  });
  const make = async (work: boolean) => {
    const app = await createApp(config, { providers, roles: { queue: 'redis', work }, ...(images ? { images } : {}) });
    started.push(app);
    await app.start();
    return app;
  };
  const web = n.web ? await make(false) : undefined;
  const workers: App[] = [];
  for (let i = 0; i < n.workers; i++) workers.push(await make(true));
  return { web, workers, prefix };
}

function settle(app: App, jobId: string): Promise<Job> {
  return new Promise((resolve) => {
    const check = (job: Job | undefined) => {
      if (job?.id === jobId && isFinal(job.state)) {
        stop();
        resolve(job);
      }
    };
    const stop = app.atelier.events.subscribe((e) => check(e.job));
    void app.atelier.getJob(jobId).then(check);
  });
}

describe.skipIf(!REDIS_URL)('BullMQ queue (Redis)', () => {
  it("is fair: one user's 20 queued jobs do not starve another's one", async () => {
    const rec = recording('rec', { gated: true });
    const { workers } = await apps({ web: false, workers: 1 }, { MAX_CONCURRENT_JOBS: '1', MAX_CONCURRENT_PER_USER: '1' }, [rec.provider]);
    const app = workers[0]!;
    const many: Job[] = [];
    for (let i = 0; i < 20; i++) many.push(await app.atelier.imagine({ prompt: `a lighthouse ${i}`, provider: 'rec', count: 1 }, actor('greedy'), here));
    const one = await app.atelier.imagine({ prompt: 'a single fox', provider: 'rec', count: 1 }, actor('patient'), here);
    // Everything is queued behind the greedy user's first job before anything finishes.
    rec.open();
    const finals = await Promise.all([...many, one].map((j) => settle(app, j.id)));
    expect(finals.every((j) => j.state === 'succeeded')).toBe(true);
    // Round-robin: at most one of the greedy user's jobs (already handed over) starts before the other user's.
    expect(rec.started.indexOf(one.id)).toBeLessThanOrEqual(1);
    expect(rec.started).toHaveLength(21);
    expect(new Set(rec.started).size).toBe(21);
  });

  it("caps a provider's jobs across all workers at its declared concurrency", async () => {
    // A provider that runs one job at a time (a single GPU), behind two workers with room for four each.
    let atProvider = 0;
    let most = 0;
    const single: ImageProvider = {
      ...local,
      id: 'gpu',
      displayName: 'gpu',
      concurrency: 1,
      async generate(request, ctx) {
        most = Math.max(most, ++atProvider);
        try {
          await new Promise((r) => setTimeout(r, 100));
          return await local.generate(request, ctx);
        } finally {
          atProvider--;
        }
      },
    };
    const { workers } = await apps({ web: false, workers: 2 }, { MAX_CONCURRENT_JOBS: '4', MAX_CONCURRENT_PER_USER: '1', MAX_CONCURRENT_PER_CHANNEL: '8' }, [single]);
    const app = workers[0]!;
    const jobs: Job[] = [];
    for (let i = 0; i < 4; i++) jobs.push(await app.atelier.imagine({ prompt: `a lamp ${i}`, provider: 'gpu', count: 1 }, actor(`u${i}`), here));
    const finals = await Promise.all(jobs.map((j) => settle(app, j.id)));
    expect(finals.every((j) => j.state === 'succeeded')).toBe(true);
    expect(most).toBe(1);
  });

  it("starts a user's next job at the provider while the previous one is still composing its result", async () => {
    const rec = recording('rec');
    const { images, open: openGrid } = heldGrid();
    const { workers } = await apps({ web: false, workers: 1 }, { MAX_CONCURRENT_JOBS: '2', MAX_CONCURRENT_PER_USER: '1' }, [rec.provider], images);
    const app = workers[0]!;
    const first = await app.atelier.imagine({ prompt: 'first lamp', provider: 'rec', count: 2 }, actor('ana'), here);
    const second = await app.atelier.imagine({ prompt: 'second lamp', provider: 'rec', count: 2 }, actor('ana'), here);
    // The first job holds its grid: one slot per user, yet the second is at the provider already.
    await vi.waitFor(() => expect(rec.started).toEqual([first.id, second.id]), { timeout: 10_000 });
    expect((await app.atelier.getJob(first.id))?.state).toBe('running');
    openGrid();
    expect((await settle(app, first.id)).state).toBe('succeeded');
    expect((await settle(app, second.id)).state).toBe('succeeded');
  });

  it('runs a job submitted in a web process on a worker, and the web process sees its progress as events', async () => {
    const rec = recording('rec');
    const { web, workers } = await apps({ web: true, workers: 1 }, {}, [rec.provider]);
    const seen: { state: string; remote: boolean }[] = [];
    web!.atelier.events.subscribe((e) => seen.push({ state: e.job.state, remote: isRemoteEvent(e) }));
    const job = await web!.atelier.imagine({ prompt: 'a quiet harbour', provider: 'rec', count: 2 }, actor('ana'), here);
    const final = await settle(web!, job.id);
    expect(final.state).toBe('succeeded');
    expect(final.result?.imageIds).toHaveLength(2);
    expect(rec.started).toEqual([job.id]);
    // The submit is this process's own event; running and succeeded came over the bridge from the worker.
    expect(seen[0]).toEqual({ state: 'queued', remote: false });
    expect(seen.filter((s) => s.state === 'running').every((s) => s.remote)).toBe(true);
    expect(seen.at(-1)).toEqual({ state: 'succeeded', remote: true });
    expect(workers[0]!.queue).toBeDefined();
  });

  it('cancels a running job on whichever worker owns it, and a queued one before it runs', async () => {
    const rec = recording('hold', { hold: true });
    const { web } = await apps({ web: true, workers: 2 }, { MAX_CONCURRENT_JOBS: '1', MAX_CONCURRENT_PER_USER: '1' }, [rec.provider]);
    const first = await web!.atelier.imagine({ prompt: 'first', provider: 'hold', count: 1 }, actor('ana'), here);
    const second = await web!.atelier.imagine({ prompt: 'second', provider: 'hold', count: 1 }, actor('ana'), here);
    // The job may already be running by the time we listen, so the store is asked too.
    await new Promise<void>((resolve) => {
      const check = (job: Job | undefined) => {
        if (job?.id === first.id && job.state === 'running') {
          stop();
          resolve();
        }
      };
      const stop = web!.atelier.events.subscribe((e) => check(e.job));
      void web!.atelier.getJob(first.id).then(check);
    });
    const canceledQueued = await web!.atelier.cancel(second.id, actor('ana'), second.where);
    expect(canceledQueued.state).toBe('canceled');
    await web!.atelier.cancel(first.id, actor('ana'), first.where);
    const final = await settle(web!, first.id);
    expect(final.state).toBe('canceled');
    // Give the dispatcher a pass: the canceled queued job must never start.
    await (web!.queue as unknown as { dispatch(): Promise<void> }).dispatch();
    expect(rec.started).toEqual([first.id]);
    expect((await web!.atelier.getJob(second.id))?.state).toBe('canceled');
  });

  it('retries with backoff when running a job throws, fails it visibly once the attempts are spent, and repairs a job BullMQ forgot', async () => {
    const prefix = uniquePrefix('retry');
    const dir = mkdtempSync(join(tmpdir(), 'atelier-bull-'));
    const store = createSqliteStore(join(dir, 'a.db'));
    await store.migrate();
    const events = new JobEvents();
    const calls = new Map<string, number>();
    const logged: Record<string, unknown>[] = [];
    const logger: Logger = {
      debug: (o) => logged.push(o as Record<string, unknown>),
      info: (o) => logged.push(o as Record<string, unknown>),
      warn: (o) => logged.push(o as Record<string, unknown>),
      error: (o) => logged.push(o as Record<string, unknown>),
      child: (b) => ({ ...logger, debug: (o) => logged.push({ ...b, ...o }), info: (o) => logged.push({ ...b, ...o }), warn: (o) => logged.push({ ...b, ...o }), error: (o) => logged.push({ ...b, ...o }) }),
    };
    const queue = createBullQueue({
      logger,
      redisUrl: REDIS_URL!,
      prefix,
      store,
      events,
      limits: { global: 4, perUser: 4, perChannel: 4 },
      concurrency: 2,
      attempts: 3,
      backoffMs: 20,
      async run(jobId) {
        const n = (calls.get(jobId) ?? 0) + 1;
        calls.set(jobId, n);
        if (jobId === 'flaky' && n < 3) throw new Error('database hiccup');
        if (jobId === 'broken') throw new Error('always broken');
        const job = (await store.getJob(jobId))!;
        await store.updateJob({ ...job, state: 'succeeded', finishedAt: Date.now() });
      },
    });
    cleanup.push(async () => {
      await queue.stop();
      await store.close();
      await dropPrefix(REDIS_URL!, prefix);
      rmSync(dir, { recursive: true, force: true });
    });
    const base = { action: { kind: 'imagine' as const }, state: 'queued' as const, provider: 'x', request: { mode: 'simple' as const, prompt: 'p' }, owner: actor('ana'), where: here, private: false, createdAt: Date.now(), progress: {}, attempts: 0, notes: [], version: 0 };
    await store.createJob({ ...base, id: 'flaky' } as Job);
    await store.createJob({ ...base, id: 'broken' } as Job);
    // Running in the store, unknown to BullMQ: what a give-up leaves when the store was down at that moment.
    await store.createJob({ ...base, id: 'orphan', state: 'running', startedAt: Date.now() } as Job);
    await queue.start();
    const finalOf = async (id: string) => {
      for (;;) {
        const j = await store.getJob(id);
        if (j && isFinal(j.state)) return j;
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    expect((await finalOf('flaky')).state).toBe('succeeded');
    expect(calls.get('flaky')).toBe(3);
    const broken = await finalOf('broken');
    expect(broken.state).toBe('failed');
    expect(broken.error?.code).toBe('INTERNAL');
    expect(calls.get('broken')).toBe(3);
    const orphan = await finalOf('orphan');
    expect(orphan.state).toBe('succeeded');
    expect(orphan.attempts).toBe(1);
    expect(calls.get('orphan')).toBe(1);
    // Every line about a job carries its id: two retried throws of 'broken', then the give-up.
    expect(logged.filter((l) => l['jobId'] === 'broken' && l['err'])).toHaveLength(4);
  });
});

describe.skipIf(!REDIS_URL)('BullMQ queue at shutdown', () => {
  it('a worker stopped mid-job hands it back (not canceled); another worker resumes it and finishes it', async () => {
    let holding = true;
    const starts: string[] = [];
    const provider: ImageProvider = {
      ...local,
      id: 'hand',
      displayName: 'hand',
      async generate(request, ctx) {
        starts.push(ctx.jobId);
        if (holding) await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true }));
        return local.generate(request, ctx);
      },
    };
    const { web, workers } = await apps({ web: true, workers: 2 }, { MAX_CONCURRENT_JOBS: '2' }, [provider]);
    const states: string[] = [];
    web!.atelier.events.subscribe((e) => states.push(e.job.state));
    const job = await web!.atelier.imagine({ prompt: 'a harbour at dusk', provider: 'hand', count: 1 }, actor('ana'), here);
    while (!workers.some((w) => (w.queue as BullQueue).runningHere().includes(job.id))) await new Promise((r) => setTimeout(r, 50));
    const owner = workers.find((w) => (w.queue as BullQueue).runningHere().includes(job.id))!;
    holding = false;
    await owner.stop();
    const final = await settle(web!, job.id);
    expect(final.state).toBe('succeeded');
    expect(states).not.toContain('canceled');
    // Started on the stopped worker, then resumed (from its intent) on the other one.
    expect(starts).toEqual([job.id, job.id]);
  }, 60_000);
});
