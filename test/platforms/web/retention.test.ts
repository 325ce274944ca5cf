import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { isFinal, type Job } from '../../../src/core/job.ts';
import { createSqliteStore } from '../../../src/store/index.ts';
import { previewingProvider } from './previewing-provider.ts';

const DAY = 86_400_000;

/**
 * IMAGE_RETENTION_DAYS through the real app: jobs made with the playground API, then made older in the
 * database file between two runs (the only thing a test cannot wait days for), then a start with
 * retention on, which prunes as `npm start` does.
 */
describe('retention forgets expired jobs: prompt text, images, previews and folders', () => {
  let dir: string;
  let app: App | undefined;
  let cookie = '';
  const ids: Record<'old' | 'preview' | 'fresh', string> = { old: '', preview: '', fresh: '' };

  const start = async (env: Record<string, string> = {}) => {
    app = await createApp(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, LOG_LEVEL: 'silent', ...env }), { providers: [previewingProvider] });
    await app.start({ listen: true, platforms: true });
  };
  const command = async (text: string): Promise<string> => {
    const res = await fetch(`${app!.server.url}/api/command`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ user: { name: 'Ann' }, text }) });
    return ((await res.json()) as { message: { id: string } }).message.id;
  };
  const until = (jobId: string, done: (j: Job) => boolean) =>
    new Promise<Job>((resolve) => {
      const check = (job: Job | undefined) => {
        if (job?.id === jobId && done(job)) {
          off();
          resolve(job);
        }
      };
      const off = app!.atelier.events.subscribe((e) => check(e.job));
      void app!.atelier.getJob(jobId).then(check);
    });
  const folder = (jobId: string) => join(dir, 'images', 'jobs', jobId);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'atelier-retention-'));
    await start();
    const res = await fetch(`${app!.server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    ids.old = await command('/imagine an expired orchard --count 2');
    ids.preview = await command('/imagine an expired sketch --provider previewing');
    ids.fresh = await command('/imagine a fresh orchard --count 1');
    await until(ids.old, (j) => isFinal(j.state));
    await until(ids.fresh, (j) => isFinal(j.state));
    await until(ids.preview, (j) => Boolean(j.progress.previewKey));
    await app!.atelier.cancel(ids.preview, (await app!.atelier.getJob(ids.preview))!.owner, { platform: 'web', channelId: 'playground' });
    await until(ids.preview, (j) => j.state === 'canceled');
    await app!.stop();
    app = undefined;
    // Three days pass for two of them.
    const store = createSqliteStore(join(dir, 'atelier.db'));
    store.db.prepare('UPDATE jobs SET created_at = created_at - ? WHERE id IN (?, ?)').run(3 * DAY, ids.old, ids.preview);
    store.db.prepare('UPDATE images SET created_at = created_at - ? WHERE job_id IN (?, ?)').run(3 * DAY, ids.old, ids.preview);
    await store.close();
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('removes the expired jobs\' rows, images, grid, preview and folder, and keeps the fresh job whole', async () => {
    for (const id of [ids.old, ids.preview]) expect(existsSync(folder(id)), id).toBe(true);
    const oldImage = `${ids.old}-1`;
    await start({ IMAGE_RETENTION_DAYS: '1' });
    await expect.poll(async () => (await app!.atelier.store.listJobs({})).map((j) => j.id), { timeout: 15_000 }).toEqual([ids.fresh]);
    for (const id of [ids.old, ids.preview]) {
      expect(existsSync(folder(id)), id).toBe(false);
      expect(await app!.atelier.store.listImages(id)).toEqual([]);
    }
    // The prompt text is nowhere in the database's rows.
    const store = createSqliteStore(join(dir, 'atelier.db'));
    try {
      expect(store.db.prepare("SELECT COUNT(*) FROM jobs WHERE data LIKE '%expired%'").pluck().get()).toBe(0);
      expect(store.db.prepare("SELECT COUNT(*) FROM images WHERE data LIKE '%expired%' OR job_id IN (?, ?)").pluck().get(ids.old, ids.preview)).toBe(0);
    } finally {
      await store.close();
    }
    expect((await fetch(`${app!.server.url}/api/images/${oldImage}`, { headers: { cookie } })).status).toBe(404);
    const fresh = (await app!.atelier.getJob(ids.fresh))!;
    expect(fresh.request.prompt).toBe('a fresh orchard');
    expect(existsSync(folder(ids.fresh))).toBe(true);
    expect((await fetch(`${app!.server.url}/api/images/${fresh.result!.imageIds[0]}`, { headers: { cookie } })).status).toBe(200);
  });
});
