import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { isFinal } from '../../src/core/job.ts';
import { createPostgresStore } from '../../src/store/index.ts';
import { startSlowProviderServer, type SlowProviderServer } from '../fixtures/scale/slow-provider.ts';
import { DATABASE_URL, dropPrefix, REDIS_URL, uniquePrefix, warnSkipped } from '../queue/redis-env.ts';

warnSkipped('scale crash test', ['REDIS_URL', 'DATABASE_URL']);

const root = resolve(import.meta.dirname, '../..');
const JOBS = 200;

interface Child {
  name: string;
  proc: ChildProcess;
  lines: string[];
  exited: Promise<NodeJS.Signals | number | null>;
  until(test: (lines: string[]) => boolean, ms?: number): Promise<void>;
}

const children: Child[] = [];

function spawnChild(name: string, env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/fixtures/scale/child.ts')], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: { test: (l: string[]) => boolean; resolve: () => void }[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of [...waiters]) {
      if (!w.test(lines)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  const exited = new Promise<NodeJS.Signals | number | null>((r) => proc.once('exit', (code, signal) => r(signal ?? code)));
  const child: Child = {
    name,
    proc,
    lines,
    exited,
    until: (test, ms = 60_000) =>
      new Promise<void>((res, rej) => {
        if (test(lines)) return res();
        const t = setTimeout(() => rej(new Error(`${name}: timed out; it said:\n${lines.slice(-20).join('\n')}`)), ms);
        waiters.push({ test, resolve: () => (clearTimeout(t), res()) });
        void exited.then((how) => rej(new Error(`${name} exited (${String(how)}) while we waited; it said:\n${lines.slice(-20).join('\n')}`)));
      }),
  };
  children.push(child);
  return child;
}

async function kill9(child: Child): Promise<void> {
  child.proc.kill('SIGKILL');
  expect(await child.exited).toBe('SIGKILL');
}

describe.skipIf(!REDIS_URL || !DATABASE_URL)('crash test: web + two workers on Redis and PostgreSQL, killed with SIGKILL mid-run', () => {
  const prefix = uniquePrefix('crash');
  const schema = `crash_${randomUUID().slice(0, 8)}`;
  let fake: SlowProviderServer | undefined;
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });

  afterAll(async () => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await fake?.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
    await dropPrefix(REDIS_URL!, prefix);
  });

  it(`every one of ${JOBS} jobs ends in exactly one result and no provider create is repeated`, { timeout: 150_000 }, async () => {
    fake = await startSlowProviderServer(1_500);
    const store = createPostgresStore({ pool, schema });
    await store.migrate();
    const env = { REDIS_URL: REDIS_URL!, REDIS_PREFIX: prefix, DATABASE_URL: DATABASE_URL!, PG_SCHEMA: schema, FAKE_URL: fake.url };
    const succeeded = async () => (await store.listJobs({ states: ['succeeded'] })).length;
    const waitFor = async (what: string, test: () => Promise<boolean>, ms = 90_000) => {
      const end = Date.now() + ms;
      while (!(await test())) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    // Worker A kills itself between its 30th provider create and our persist of the provider's id.
    const workerA = spawnChild('worker A', { ...env, ROLE: 'worker', CRASH_AFTER_CREATE: '30' });
    const workerB = spawnChild('worker B', { ...env, ROLE: 'worker' });
    await Promise.all([workerA.until((l) => l.includes('ready')), workerB.until((l) => l.includes('ready'))]);
    const web = spawnChild('web', { ...env, ROLE: 'web', SUBMIT: String(JOBS) });
    await web.until((l) => l.includes('ready'));
    const submitted = web.lines.filter((l) => l.startsWith('submitted ')).map((l) => l.split(' ')[1]!);
    expect(submitted).toHaveLength(JOBS);

    // The web process dies mid-run and comes back; the workers keep going without it.
    await waitFor('20 results', async () => (await succeeded()) >= 20);
    await kill9(web);
    const web2 = spawnChild('web (restarted)', { ...env, ROLE: 'web', SUBMIT: '0' });

    expect(await workerA.exited).toBe('SIGKILL');
    const faulted = workerA.lines.find((l) => l.startsWith('fault '))!.split(' ')[1]!;
    const workerA2 = spawnChild('worker A (restarted)', { ...env, ROLE: 'worker' });

    await waitFor('half the results', async () => (await succeeded()) >= JOBS / 2);
    expect(await succeeded()).toBeLessThan(JOBS);
    await kill9(workerB);
    const workerB2 = spawnChild('worker B (restarted)', { ...env, ROLE: 'worker' });
    await Promise.all([web2, workerA2, workerB2].map((c) => c.until((l) => l.includes('ready'))));

    await waitFor('every job final', async () => (await store.listJobs({ states: ['queued', 'running'] })).length === 0);

    const jobs = await store.listJobs({});
    expect(jobs).toHaveLength(JOBS);
    expect(new Set(jobs.map((j) => j.id))).toEqual(new Set(submitted));
    for (const job of jobs) {
      expect(job.state, job.id).toBe('succeeded');
      expect(isFinal(job.state)).toBe(true);
      // Exactly one result: one image, never a second set from a second run.
      const images = await store.listImages(job.id);
      expect(images.map((i) => i.id), job.id).toEqual([`${job.id}-1`]);
      expect(job.result?.imageIds).toEqual([`${job.id}-1`]);
      // Exactly one provider create per job, even for the job whose create was never persisted by the killed worker.
      expect(fake.creates.get(job.id), job.id).toBe(1);
    }
    expect(fake.creates.size).toBe(JOBS);
    // The fault really hit between create and persist, and the resumed run found the job by its key.
    expect(fake.reconciled.has(faulted)).toBe(true);
    expect((await store.getJob(faulted))?.attempts).toBeGreaterThan(0);
    // No final state was written twice: each job's result line comes from at most one process.
    const results = children.flatMap((c) => c.lines.filter((l) => l.startsWith('result ')).map((l) => l.split(' ')[1]!));
    expect(results.length).toBe(new Set(results).size);
    // Interrupted jobs really were resumed (by BullMQ's stalled check, not by a restart scan).
    expect(jobs.filter((j) => j.attempts > 0).length).toBeGreaterThan(0);
  });
});
