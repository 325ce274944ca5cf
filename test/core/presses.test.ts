import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.ts';
import type { ButtonAction } from '../../src/core/atelier.ts';
import type { Job } from '../../src/core/job.ts';
import type { Store } from '../../src/core/ports.ts';
import { createPostgresStore, createSqliteStore } from '../../src/store/index.ts';
import { alice, createHarness, here, mod, type Harness } from '../helpers/harness.ts';

/**
 * Two web processes sharing one store: here two cores over the same SQLite file, each with its own
 * in-memory state (press lock, queue), as two processes behind a load balancer would have.
 */
let opened: Harness[] = [];
let dir: string | undefined;
let dropSchema: (() => Promise<void>) | undefined;
afterEach(async () => {
  for (const h of opened) await h.close();
  opened = [];
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  await dropSchema?.();
  dropSchema = undefined;
});

const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) console.warn('[test/core/presses] DATABASE_URL is not set: the PostgreSQL press race is skipped.');

/** A fresh PostgreSQL schema; each call of the returned factory is a separate pool, as a separate process has. */
async function postgresStores(): Promise<() => Store> {
  const schema = `atelier_test_presses_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  dropSchema = async () => {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  };
  return () => createPostgresStore({ pool: new pg.Pool({ connectionString: DATABASE_URL, options: `-c search_path=${schema}`, max: 4 }), endPoolOnClose: true });
}

async function twoProcesses(second: Parameters<typeof createHarness>[0] = {}, first: Parameters<typeof createHarness>[0] = {}): Promise<[Harness, Harness]> {
  dir = mkdtempSync(join(tmpdir(), 'atelier-presses-'));
  const a = await createHarness({ ...first, dir });
  opened.push(a);
  const b = await createHarness({ ...second, dir });
  opened.push(b);
  return [a, b];
}

const upscale2: ButtonAction = { kind: 'upscale', index: 2 };

async function finishedGrid(h: Harness): Promise<Job> {
  const parent = await h.settle((await h.atelier.imagine({ prompt: 'a lighthouse in a storm' }, alice, here)).id);
  expect(parent.state).toBe('succeeded');
  return parent;
}

const childrenOf = async (h: Harness, parentId: string) => (await h.atelier.store.listJobs({ ownerId: alice.userId, platform: alice.platform })).filter((j) => j.parentId === parentId);

describe('a button pressed on two processes sharing the store', () => {
  /** Both press the same button at the same moment: one child job, one refusal, nothing else queued. */
  async function race(opts: Parameters<typeof createHarness>[0] = {}) {
    const [a, b] = await twoProcesses(opts, opts);
    const parent = await finishedGrid(a);
    const presses = await Promise.allSettled([a.atelier.act(parent.id, upscale2, alice, here), b.atelier.act(parent.id, upscale2, alice, here)]);
    const made = presses.flatMap((p, i) => (p.status === 'fulfilled' ? [{ job: p.value, on: [a, b][i]! }] : []));
    const refused = presses.flatMap((p) => (p.status === 'rejected' ? [p.reason as unknown] : []));
    expect(made).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(UserError);
    expect((refused[0] as UserError).code).toBe('ALREADY_RUNNING');
    expect((refused[0] as Error).message).toMatch(/^Already on it: that upscale of image 2 /);
    expect((await childrenOf(a, parent.id)).map((j) => j.id)).toEqual([made[0]!.job.id]);
    expect((await made[0]!.on.settle(made[0]!.job.id)).state).toBe('succeeded');
  }

  it('makes one child job over one SQLite file; the other press is told it is already on it and queues nothing', () => race());

  it.skipIf(!DATABASE_URL)('makes one child job over one PostgreSQL database; the other press is told it is already on it and queues nothing', async () => race({ store: await postgresStores() }));

  it('works again on the other process once the first child has finished', async () => {
    const [a, b] = await twoProcesses();
    const parent = await finishedGrid(a);
    const first = await a.settle((await a.atelier.act(parent.id, upscale2, alice, here)).id);
    expect(first.state).toBe('succeeded');
    const again = await b.settle((await b.atelier.act(parent.id, upscale2, alice, here)).id);
    expect(again.state).toBe('succeeded');
    expect(await childrenOf(a, parent.id)).toHaveLength(2);
  });

  it('works again on the other process right after a press that was refused on its way to a job', async () => {
    const [a, b] = await twoProcesses();
    const parent = await finishedGrid(a);
    const channel = { kind: 'channel', platform: here.platform, id: here.channelId } as const;
    await a.atelier.setSettings(channel, { allowedRoles: ['artists'] }, mod);
    await expect(a.atelier.act(parent.id, upscale2, alice, here)).rejects.toMatchObject({ code: 'NOT_ALLOWED' });
    await a.atelier.setSettings(channel, { allowedRoles: null }, mod);
    const child = await b.settle((await b.atelier.act(parent.id, upscale2, alice, here)).id);
    expect(child.state).toBe('succeeded');
  });

  it('is held for a minute at most by a process that died mid-press', async () => {
    let later = 0;
    // The second process dies while storing the child: its claim is never released.
    const dying = (path: string) => {
      const base = createSqliteStore(path);
      return { ...base, createJob: () => Promise.reject(new Error('process killed')), releaseClaim: () => Promise.resolve() };
    };
    const [a, b] = await twoProcesses({ store: dying }, { now: () => Date.now() + later });
    const parent = await finishedGrid(a);
    await expect(b.atelier.act(parent.id, upscale2, alice, here)).rejects.toThrow('process killed');
    await expect(a.atelier.act(parent.id, upscale2, alice, here)).rejects.toMatchObject({ code: 'ALREADY_RUNNING', message: expect.stringMatching(/was just pressed/) });
    expect(await childrenOf(a, parent.id)).toHaveLength(0);
    later = 60_000;
    const child = await a.settle((await a.atelier.act(parent.id, upscale2, alice, here)).id);
    expect(child.state).toBe('succeeded');
  });
});
