/**
 * Jobs/s through the Redis queue with 1, 2 and 4 worker processes against an instant fake provider:
 * what the scale-out machinery itself costs (fair dispatch, BullMQ, store writes, the event bridge),
 * with no provider time to hide it. Workers are real child processes (`runWorker`), like in production;
 * the bench process is the web role. PostgreSQL when DATABASE_URL says so, else one SQLite file shared
 * by every process on this machine.
 *
 * This file is also the worker child: run with BENCH_QUEUE_ROLE=worker it starts one worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { createApp } from '../src/app.ts';
import { loadConfig, type Config } from '../src/config.ts';
import type { Job } from '../src/core/job.ts';
import type { BlobStore, Store } from '../src/core/ports.ts';
import type { ImageProvider } from '../src/core/provider.ts';
import type { BullQueue } from '../src/queue/bullmq.ts';
import { runWorker } from '../src/queue/worker.ts';
import { createFolderBlobStore, createPostgresBlobStore, createPostgresStore, createSqliteStore, isPostgresUrl } from '../src/store/index.ts';
import { fmt } from './stats.ts';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

const instant: ImageProvider = {
  id: 'instant',
  displayName: 'Instant fake',
  capabilities: { modes: ['simple'], fields: ['count'], aspectRatios: 'any', maxCount: 1, upscale: false, variations: false, progressPercent: false, previews: false, webhooks: false },
  async generate() {
    return { images: [{ bytes: new Uint8Array(PNG), mime: 'image/png', width: 1, height: 1 }] };
  },
};

interface Target {
  store: Store;
  blobs: BlobStore;
  close(): Promise<void>;
}

/** `pg:<schema>` or `sqlite:<dir>`, so the bench and its workers open the same store. */
async function openTarget(config: Config, where: string): Promise<Target> {
  if (where.startsWith('pg:')) {
    const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 8 });
    pool.on('error', () => {});
    const schema = where.slice(3);
    const store = createPostgresStore({ pool, schema });
    await store.migrate();
    return { store, blobs: createPostgresBlobStore({ pool, schema }), close: () => pool.end() };
  }
  const dir = where.slice('sqlite:'.length);
  const store = createSqliteStore(join(dir, 'atelier.db'));
  await store.migrate();
  return { store, blobs: createFolderBlobStore(join(dir, 'images')), close: () => store.close() };
}

const settings = (prefix: string) => ({ LOG_LEVEL: 'silent', PORT: '0', PLAYGROUND: 'off', REDIS_PREFIX: prefix, MAX_CONCURRENT_JOBS: '32', MAX_CONCURRENT_PER_USER: '32', MAX_CONCURRENT_PER_CHANNEL: '32', MAX_QUEUED_PER_USER: '1000' });

function startWorker(where: string, prefix: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'queue.ts')], {
    env: { ...process.env, BENCH_QUEUE_ROLE: 'worker', BENCH_QUEUE_STORE: where, BENCH_QUEUE_PREFIX: prefix },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((res, rej) => {
    createInterface({ input: child.stdout! }).on('line', (l) => l === 'ready' && res(child));
    child.once('exit', (code) => rej(new Error(`bench worker exited (${code})`)));
  });
}

export async function benchQueue(jobs = 600, workerCounts: readonly number[] = [1, 2, 4], repeats = 3): Promise<Record<string, number>> {
  const base = loadConfig();
  if (!base.REDIS_URL) throw new Error('REDIS_URL is needed');
  const prefix = `atelier-bench-${randomUUID().slice(0, 8)}`;
  const schema = `bench_${randomUUID().slice(0, 8)}`;
  const dir = isPostgresUrl(base.DATABASE_URL) ? undefined : mkdtempSync(join(tmpdir(), 'atelier-bench-queue-'));
  const where = dir ? `sqlite:${dir}` : `pg:${schema}`;
  const config = loadConfig({ ...process.env, ...settings(prefix) });
  const target = await openTarget(config, where);
  const web = await createApp(config, { store: target.store, blobs: target.blobs, providers: [instant], roles: { queue: 'redis', work: false } });
  await web.start();
  const out: Record<string, number> = {};
  /**
   * A burst of `count` jobs written straight to the store (the dispatchers' timers pick them up as they
   * land, so the clock starts before the first write), timed until the last one is final.
   */
  const round = async (n: number, count: number, tag: string): Promise<number> => {
    const now = Date.now();
    const t0 = performance.now();
    const batch: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const user = `u${i % 10}`;
      const job: Job = { id: `${tag}${n}-${i}-${randomUUID().slice(0, 8)}`, action: { kind: 'imagine' }, state: 'queued', provider: 'instant', request: { mode: 'simple', prompt: `bench ${i}`, count: 1 }, owner: { platform: 'cli', userId: user, displayName: user }, where: { platform: 'cli', channelId: `c${i % 10}` }, private: false, createdAt: now + i, progress: {}, attempts: 0, notes: [], version: 0 };
      batch.push(target.store.createJob(job));
      if (batch.length === 50) await Promise.all(batch.splice(0));
    }
    await Promise.all(batch);
    await (web.queue as BullQueue).dispatch();
    while ((await target.store.listJobs({ states: ['queued', 'running'], limit: 1 })).length > 0) await new Promise((r) => setTimeout(r, 20));
    return (performance.now() - t0) / 1000;
  };
  try {
    for (const n of workerCounts) {
      const workers = await Promise.all(Array.from({ length: n }, () => startWorker(where, prefix)));
      try {
        // An untimed warm-up round (connections, JIT), then timed rounds; the median is the figure.
        await round(n, 40, 'warm');
        const rates: number[] = [];
        for (let r = 0; r < repeats; r++) rates.push(jobs / (await round(n, jobs, `t${r}-`)));
        rates.sort((a, b) => a - b);
        const median = rates[Math.floor(rates.length / 2)]!;
        out[`workers${n}JobsPerSecond`] = median;
        console.log(`queue (BullMQ, ${dir ? 'SQLite' : 'PostgreSQL'}, instant provider): ${n} worker${n > 1 ? 's' : ' '} median ${fmt(median, 1)} jobs/s over ${repeats} rounds of ${jobs} jobs (range ${fmt(rates[0]!, 1)}–${fmt(rates.at(-1)!, 1)})`);
      } finally {
        for (const w of workers) w.kill('SIGTERM');
        await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once('exit', r)))));
      }
    }
  } finally {
    await web.stop();
    await target.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    else {
      const pool = new pg.Pool({ connectionString: base.DATABASE_URL, max: 1 });
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await pool.end();
    }
    const { Redis } = await import('ioredis');
    const redis = new Redis(base.REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
  return out;
}

if (process.env.BENCH_QUEUE_ROLE === 'worker') {
  const config = loadConfig({ ...process.env, ...settings(process.env.BENCH_QUEUE_PREFIX!) });
  const target = await openTarget(config, process.env.BENCH_QUEUE_STORE!);
  await runWorker(config, { store: target.store, blobs: target.blobs, providers: [instant], onReady: () => process.stdout.write('ready\n') });
  process.exit(0);
}

// `tsx bench/queue.ts` runs it alone.
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.dirname, 'queue.ts') && !process.env.BENCH_QUEUE_ROLE) {
  await benchQueue();
  process.exit(0);
}
