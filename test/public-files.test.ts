import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { Job } from '../src/core/job.ts';
import type { ImageProvider } from '../src/core/provider.ts';
import type { Store, BlobStore, StoredImage } from '../src/core/ports.ts';
import { createPublicFiles } from '../src/public-files.ts';
import { createServer, type HttpServer } from '../src/server.ts';
import { createFolderBlobStore, createSqliteStore } from '../src/store/index.ts';
import { createLocalProvider } from '../src/providers/local/index.ts';
import { solidPng } from './images/helpers.ts';
import { alice, here } from './helpers/harness.ts';
import { makeJob } from './store/fixtures.ts';

let dir: string;
let store: Store;
let blobs: BlobStore;
let server: HttpServer;
let png: Uint8Array;

const image = (id: string, kind: StoredImage['kind']): StoredImage => ({ id, jobId: 'job1', index: 1, kind, mime: 'image/png', width: 8, height: 6, size: png.byteLength, blobKey: `job1/${id}.png`, createdAt: 0 });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'atelier-files-'));
  store = createSqliteStore(join(dir, 'atelier.db'));
  await store.migrate();
  blobs = createFolderBlobStore(join(dir, 'images'));
  png = await solidPng(8, 6, { r: 1, g: 2, b: 3 });
  await store.createJob(makeJob({ id: 'job1' }));
  for (const [id, kind] of [
    ['job1-in1', 'input'],
    ['job1-1', 'image'],
    ['job1-grid', 'grid'],
  ] as const) {
    await blobs.put(`job1/${id}.png`, png);
    await store.addImage(image(id, kind));
  }
  server = createServer({ host: '127.0.0.1', port: 0 });
  await server.listen();
});
afterAll(async () => {
  await server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A second server on the same store: another process of the same deployment. */
async function otherProcess(opts: { secret?: string; now?: () => number; store?: Store } = {}) {
  const s = createServer({ host: '127.0.0.1', port: 0 });
  const files = createPublicFiles({ store, blobs, publicUrl: 'https://unused.example', ...opts });
  files.mount(s);
  await s.listen();
  return { files, url: s.url, close: () => s.close() };
}

let clock = Date.UTC(2026, 0, 1);

describe('public picture links', () => {
  let mounted: ReturnType<typeof createPublicFiles>;
  beforeAll(() => {
    mounted = createPublicFiles({ store, blobs, publicUrl: 'https://atelier.example/', now: () => clock });
    mounted.mount(server);
  });
  /** The link as a provider would fetch it, sent to our loopback server instead of PUBLIC_URL. */
  const local = (link: string) => `${server.url}${new URL(link).pathname}`;

  it('serves a stored input picture and a result at PUBLIC_URL/files/<token>, with its type and a private cache lifetime', async () => {
    for (const id of ['job1-in1', 'job1-1']) {
      const link = await mounted.urlFor(id);
      expect(link).toMatch(/^https:\/\/atelier\.example\/files\/[A-Za-z0-9_-]+\.[0-9a-z]+\.[A-Za-z0-9_-]{43}\.png$/);
      expect(link).not.toContain(id);
      const res = await fetch(local(link));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(res.headers.get('cache-control')).toMatch(/^private, max-age=(\d+)$/);
      expect(Number(/max-age=(\d+)/.exec(res.headers.get('cache-control')!)![1])).toBeLessThanOrEqual(3600);
      expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.from(png));
    }
  });

  it('stops working once expired', async () => {
    const link = await mounted.urlFor('job1-in1');
    expect((await fetch(local(link))).status).toBe(200);
    clock += 60 * 60 * 1000 + 1000;
    expect((await fetch(local(link))).status).toBe(404);
  });

  it('refuses a tampered token, another id under the same signature, and garbage', async () => {
    const link = await mounted.urlFor('job1-in1');
    const [id, exp, sig] = new URL(link).pathname.slice('/files/'.length).split('.') as [string, string, string];
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const other = Buffer.from('job1-1').toString('base64url');
    const later = (parseInt(exp, 36) + 86_400).toString(36);
    for (const token of [`${id}.${exp}.${flip(sig, 5)}`, `${other}.${exp}.${sig}`, `${id}.${later}.${sig}`, `${id}.${exp}`, 'nothing', `${id}.${exp}.${sig}x`]) {
      expect((await fetch(`${server.url}/files/${token}`)).status, token).toBe(404);
    }
    expect((await fetch(`${server.url}/files/${id}.${exp}.${sig}`)).status).toBe(200);
  });

  it('never serves a grid, nor a picture that is gone', async () => {
    expect((await fetch(local(await mounted.urlFor('job1-grid')))).status).toBe(404);
    expect((await fetch(local(await mounted.urlFor('job9-in1')))).status).toBe(404);
  });

  it('processes sharing a store agree on the generated secret, even when both find none at once; a configured secret is its own', async () => {
    // A store no link was made from yet, whose first two reads of a value both answer before either writes one.
    const fresh = createSqliteStore(join(dir, 'fresh.db'));
    await fresh.migrate();
    await fresh.createJob(makeJob({ id: 'job1' }));
    for (const id of ['job1-in1', 'job1-1']) await fresh.addImage(image(id, id.endsWith('in1') ? 'input' : 'image'));
    const waiting: (() => void)[] = [];
    const racing = new Proxy(fresh, {
      get(target, key, receiver) {
        if (key !== 'getValue') return Reflect.get(target, key, receiver) as unknown;
        return async (k: string) => {
          const v = await target.getValue(k);
          if (waiting.length < 1 && v === undefined && !racing.raced) await new Promise<void>((r) => waiting.push(r));
          else if (waiting.length) {
            racing.raced = true;
            for (const w of waiting.splice(0)) w();
          }
          return v;
        };
      },
    }) as Store & { raced?: boolean };
    const a = await otherProcess({ now: () => clock, store: racing });
    const b = await otherProcess({ now: () => clock, store: racing });
    try {
      const [la, lb] = await Promise.all([a.files.urlFor('job1-in1'), b.files.urlFor('job1-1')]);
      expect((await fetch(`${b.url}${new URL(la).pathname}`)).status).toBe(200);
      expect((await fetch(`${a.url}${new URL(lb).pathname}`)).status).toBe(200);
      const configured = await otherProcess({ secret: 'a-configured-secret-of-some-length', now: () => clock });
      try {
        expect((await fetch(`${configured.url}${new URL(la).pathname}`)).status).toBe(404);
        const own = await configured.files.urlFor('job1-in1');
        expect((await fetch(`${configured.url}${new URL(own).pathname}`)).status).toBe(200);
        expect((await fetch(`${a.url}${new URL(own).pathname}`)).status).toBe(404);
      } finally {
        await configured.close();
      }
    } finally {
      await a.close();
      await b.close();
      await fresh.close();
    }
    expect(racing.raced).toBe(true);
  });
});

describe('public picture links in the app', () => {
  let appDir: string | undefined;
  afterEach(() => {
    if (appDir) rmSync(appDir, { recursive: true, force: true });
    appDir = undefined;
  });

  const freePort = () =>
    new Promise<number>((resolve) => {
      const s = createNetServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });

  /** A provider that, like all-images.ai, reads the user's picture from a public URL rather than from us. */
  function urlReader(): ImageProvider & { fetched: { url: string; status: number; bytes: number }[] } {
    const local = createLocalProvider({ longSide: 64, previewSide: 32 });
    const fetched: { url: string; status: number; bytes: number }[] = [];
    return {
      ...local,
      id: 'urlreader',
      displayName: 'URL reader',
      capabilities: { ...local.capabilities, imageInput: { maxImages: 1, roles: ['prompt'], needsPublicUrl: true } },
      fetched,
      async generate(request, ctx) {
        for (const img of request.images ?? []) {
          const url = await ctx.publicImageUrl!(img.imageId);
          const res = await fetch(url);
          fetched.push({ url, status: res.status, bytes: (await res.arrayBuffer()).byteLength });
        }
        const { images: _i, ...plain } = request;
        return local.generate(plain, ctx);
      },
    };
  }

  it('hands a provider that needs one a working link to the stored picture; without PUBLIC_URL it is refused before queueing', async () => {
    appDir = mkdtempSync(join(tmpdir(), 'atelier-files-app-'));
    const port = await freePort();
    const reader = urlReader();
    const origin = `http://127.0.0.1:${port}`;
    // The app's own origin is allowed as a picture host too, so a typed link to it proves the fetcher's wiring.
    const app = await createApp(loadConfig({ DATA_DIR: appDir, PORT: String(port), PUBLIC_URL: origin, IMAGE_FETCH_ALLOW_ORIGINS: origin, PLAYGROUND: 'off', LOG_LEVEL: 'silent' }), { providers: [reader] });
    try {
      await app.start({ listen: true });
      const job = await app.atelier.imagine({ prompt: 'a fox', provider: 'urlreader', images: [{ bytes: png, name: 'fox.png' }] }, alice, here);
      const done = await new Promise<Job>((resolve) => {
        const stop = app.atelier.events.subscribe((e) => {
          if (e.job.id === job.id && ['succeeded', 'failed'].includes(e.job.state)) {
            stop();
            resolve(e.job);
          }
        });
      });
      expect(done.state).toBe('succeeded');
      expect(reader.fetched).toEqual([{ url: expect.stringMatching(new RegExp(`^http://127\\.0\\.0\\.1:${port}/files/`)) as unknown as string, status: 200, bytes: png.byteLength }]);
      const relinked = await app.atelier.imagine({ prompt: `${reader.fetched[0]!.url} a fox again`, provider: 'urlreader' }, alice, here);
      expect((await app.atelier.inputs(relinked.id)).map((i) => i.meta.size)).toEqual([png.byteLength]);
      await expect(app.atelier.imagine({ prompt: `http://127.0.0.1:${port + 1}/pic.png a fox`, provider: 'urlreader' }, alice, here)).rejects.toThrow(/points at a private network address/);
    } finally {
      await app.stop();
    }

    const dir2 = mkdtempSync(join(tmpdir(), 'atelier-files-app-'));
    const bare = await createApp(loadConfig({ DATA_DIR: dir2, PORT: '0', PLAYGROUND: 'off', LOG_LEVEL: 'silent' }), { providers: [urlReader()] });
    try {
      await expect(bare.atelier.imagine({ prompt: 'a fox', provider: 'urlreader', images: [{ bytes: png }] }, alice, here)).rejects.toThrow(/the operator must set PUBLIC_URL/);
      expect(await bare.atelier.store.listJobs({})).toEqual([]);
    } finally {
      await bare.stop();
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});
