import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { UserError } from '../../../src/core/errors.ts';
import type { Job } from '../../../src/core/job.ts';
import type { ImageProvider } from '../../../src/core/provider.ts';
import { previewingProvider } from './previewing-provider.ts';

const png = async (colour: string): Promise<Uint8Array> => new Uint8Array(await sharp({ create: { width: 64, height: 48, channels: 3, background: colour } }).png().toBuffer());

/**
 * Shows a preview, waits to be canceled, and then, as a provider whose poll was already on its way does,
 * reports one more preview after the cancel.
 */
const lateProvider: ImageProvider = {
  id: 'late',
  displayName: 'Late',
  capabilities: previewingProvider.capabilities,
  async generate(_req, ctx) {
    ctx.progress({ percent: 20, stage: 'Sketching', preview: { bytes: await png('#335577'), mime: 'image/png' } });
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
    ctx.progress({ percent: 60, stage: 'Sketching', preview: { bytes: await png('#775533'), mime: 'image/png' } });
    throw new UserError('CANCELED', 'Canceled.');
  },
};

/**
 * The playground's real app over one data folder that outlives each process: a stop leaves a running
 * job "running" in the database, and the next start resumes it, as after a crash.
 */
describe('deleting a job removes every file it left (playground API -> core -> blob folder)', () => {
  let dir: string;
  let app: App | undefined;
  let url = '';
  let cookie = '';

  const start = async () => {
    app = await createApp(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, LOG_LEVEL: 'silent' }), { providers: [previewingProvider, lateProvider] });
    await app.start({ listen: true, platforms: true });
    url = app.server.url;
  };
  const folderOf = (jobId: string) => join(dir, 'images', 'jobs', jobId);
  const files = (jobId: string) => (existsSync(folderOf(jobId)) ? readdirSync(folderOf(jobId)) : []);
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify(body) });
    return { status: res.status, data: (await res.json()) as { type?: string; message?: { id: string } } };
  };
  /** Resolves once the job has a preview other than `not`. */
  const newPreview = (jobId: string, not?: string) =>
    new Promise<Job>((resolve) => {
      const check = (job: Job | undefined) => {
        if (job?.id === jobId && job.state === 'running' && job.progress.previewKey && job.progress.previewKey !== not) {
          off();
          resolve(job);
        }
      };
      const off = app!.atelier.events.subscribe((e) => check(e.job));
      void app!.atelier.getJob(jobId).then(check);
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'atelier-files-'));
    await start();
    const res = await fetch(`${url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  });
  afterAll(async () => {
    await app?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('previews written before a crash and resume, and the job\'s folder', async () => {
    const { data } = await post('/api/command', { user: { name: 'Ann' }, text: '/imagine a comet that crashes --provider previewing' });
    const id = data.message!.id;
    let preview = (await newPreview(id)).progress.previewKey;
    for (let restart = 0; restart < 2; restart++) {
      await app!.stop();
      await start();
      preview = (await newPreview(id, preview)).progress.previewKey;
    }
    // Three runs drew a preview each; each new one superseded the one before, across the restarts too.
    // (The superseded file goes right after the write that announced the new one.)
    await expect.poll(() => files(id)).toEqual([preview!.split('/').at(-1)]);
    expect((await post('/api/press', { user: { name: 'Ann' }, id: `a:delete:0:${id}` })).status).toBe(200);
    expect(await app!.atelier.getJob(id)).toBeUndefined();
    expect(files(id)).toEqual([]);
    expect(existsSync(folderOf(id))).toBe(false);
  }, 60_000);

  it('a preview that arrives after the job was deleted mid-render', async () => {
    const { data } = await post('/api/command', { user: { name: 'Ann' }, text: '/imagine a comet deleted mid-flight --provider late' });
    const id = data.message!.id;
    await newPreview(id);
    const settled = new Promise<void>((resolve) => {
      const off = app!.atelier.events.subscribe((e) => {
        if (e.job.id === id && e.type === 'job.deleted') {
          off();
          resolve();
        }
      });
    });
    const del = await post('/api/press', { user: { name: 'Ann' }, id: `a:delete:0:${id}` });
    expect(del.status, JSON.stringify(del.data)).toBe(200);
    await settled;
    // The late preview's write is the runner's own, after the delete: wait for the run to end.
    await expect.poll(() => existsSync(folderOf(id)), { timeout: 10_000 }).toBe(false);
    await app!.queue.idle?.();
    expect(existsSync(folderOf(id))).toBe(false);
  });
});
