import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { isFinal } from '../../src/core/job.ts';
import type { Store } from '../../src/core/ports.ts';
import type { ImageProvider } from '../../src/core/provider.ts';
import { createFolderBlobStore, createSqliteStore } from '../../src/store/index.ts';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/** An instant provider held shut until `open()`: jobs pile up behind the first one. */
function gatedProvider() {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const provider: ImageProvider = {
    id: 'gated',
    displayName: 'Gated fake',
    capabilities: { modes: ['simple'], fields: ['count'], aspectRatios: 'any', maxCount: 1, upscale: false, variations: false, progressPercent: false, previews: false, webhooks: false },
    async generate() {
      await gate;
      return { images: [{ bytes: new Uint8Array(PNG), mime: 'image/png', width: 1, height: 1 }] };
    },
  };
  return { provider, open };
}

/** The SQLite store with every job-row write counted (a create is one row, an update one row). */
function countingStore(path: string): { store: Store; rowWrites: () => number } {
  const base = createSqliteStore(path);
  let writes = 0;
  const store: Store = {
    ...base,
    createJob: (job) => (writes++, base.createJob(job)),
    updateJob: (job) => (writes++, base.updateJob(job)),
  };
  return { store, rowWrites: () => writes };
}

let app: App | undefined;
let dir: string | undefined;
afterEach(async () => {
  await app?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  app = undefined;
});

async function start(env: Record<string, string>, provider: ImageProvider) {
  dir = mkdtempSync(join(tmpdir(), 'atelier-writes-'));
  const counted = countingStore(join(dir, 'atelier.db'));
  await counted.store.migrate();
  const config = loadConfig({ DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', PLAYGROUND: 'on', LOG_LEVEL: 'silent', MAX_CONCURRENT_JOBS: '1', MAX_CONCURRENT_PER_USER: '1', MAX_QUEUED_PER_USER: '100', ...env });
  app = await createApp(config, { store: counted.store, blobs: createFolderBlobStore(join(dir, 'images')), providers: [provider] });
  await app.start({ listen: true, platforms: true });
  const url = app.server.url;
  const cookies = new Map<string, string>();
  /** Each person is a browser with the session cookie the server gave it. */
  const cookieOf = async (user: string): Promise<string> => {
    const known = cookies.get(user);
    if (known) return known;
    const res = await fetch(`${url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    cookies.set(user, cookie);
    return cookie;
  };
  /** /imagine through the playground's HTTP API, as a person would type it. */
  const imagine = async (user: string, prompt: string) => {
    const headers = { 'content-type': 'application/json', cookie: await cookieOf(user) };
    const res = await fetch(`${url}/api/command`, { method: 'POST', headers, body: JSON.stringify({ user: { name: user }, text: `/imagine ${prompt} --provider gated` }) });
    return { status: res.status, body: (await res.json()) as { message?: { id: string }; error?: { message: string } } };
  };
  return { ...counted, imagine, atelier: app.atelier };
}

describe('load: queue positions and cancels cost O(1) row writes per job', () => {
  it('N queued jobs run with a constant number of job-row writes each; a cancel is one write', async () => {
    const { provider, open } = gatedProvider();
    const s = await start({}, provider);
    const N = 40;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const res = await s.imagine(`user-${i % 4}`, `a queued lamp ${i}`);
      expect(res.status, res.body.error?.message).toBe(200);
      ids.push(res.body.message!.id);
    }
    // Positions are still there to read, computed rather than stored.
    await new Promise((r) => setTimeout(r, 50));
    expect((await s.atelier.getJob(ids[N - 1]!))?.progress.queuePosition).toBe(N - 1);

    const beforeCancels = s.rowWrites();
    for (const i of [5, 9, 13, 17, 21]) {
      const job = (await s.atelier.getJob(ids[i]!))!;
      await s.atelier.cancel(job.id, job.owner, job.where);
    }
    await new Promise((r) => setTimeout(r, 50));
    const cancelWrites = s.rowWrites() - beforeCancels;

    open();
    for (;;) {
      const jobs = await s.atelier.store.listJobs({});
      if (jobs.length === N && jobs.every((j) => isFinal(j.state))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const perJob = s.rowWrites() / N;
    expect(cancelWrites, `row writes for 5 cancels: ${cancelWrites}`).toBe(5);
    // create, running, succeeded: a job's own writes, whatever the length of the queue.
    expect(perJob, `job-row writes per job with ${N} queued: ${perJob}`).toBeLessThanOrEqual(3);
  });

  it('past MAX_QUEUED_TOTAL the studio is busy for everyone, with a clear message', async () => {
    const { provider, open } = gatedProvider();
    const s = await start({ MAX_QUEUED_TOTAL: '3' }, provider);
    // One runs (held by the gate), three wait: the cap.
    for (let i = 0; i < 4; i++) expect((await s.imagine(`user-${i}`, `a busy studio ${i}`)).status).toBe(200);
    const refused = await s.imagine('user-9', 'one too many');
    expect(refused.status).toBe(400);
    expect(refused.body.error?.message).toMatch(/studio is busy.*try again in a few minutes/i);
    open();
  });
});
