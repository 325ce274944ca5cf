import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { isFinal } from '../../src/core/job.ts';
import { createLocalProvider } from '../../src/providers/local/index.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { createFolderBlobStore, createSqliteStore } from '../../src/store/index.ts';
import { FakeDiscord } from '../fakes/discord/fake-discord.ts';
import { slashCommand } from '../fakes/discord/interactions.ts';
import { dropPrefix, REDIS_URL, uniquePrefix, warnSkipped } from '../queue/redis-env.ts';

warnSkipped('Discord delivery from workers', ['REDIS_URL']);

/** A pass-through in front of the fake Discord that notes which requests came this way (from the worker). */
async function countingProxy(target: string): Promise<{ url: string; seen: { method: string; path: string; files: boolean }[]; close(): Promise<void> }> {
  const seen: { method: string; path: string; files: boolean }[] = [];
  const to = new URL(target);
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', path: decodeURIComponent(req.url ?? ''), files: String(req.headers['content-type']).startsWith('multipart/') });
    const out = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe.skipIf(!REDIS_URL)('Discord (HTTP interactions) with a web process and a worker', () => {
  it('the web process answers the interaction; the worker that runs the job writes its progress and its one result', async () => {
    const fake = new FakeDiscord();
    await fake.start();
    const proxy = await countingProxy(fake.url);
    const prefix = uniquePrefix('delivery');
    const dir = mkdtempSync(join(tmpdir(), 'atelier-delivery-'));
    const open = async () => {
      const store = createSqliteStore(join(dir, 'atelier.db'));
      await store.migrate();
      return { store, blobs: createFolderBlobStore(join(dir, 'images')) };
    };
    const env = {
      REDIS_URL: REDIS_URL!,
      REDIS_PREFIX: prefix,
      DATA_DIR: dir,
      PORT: '0',
      PLAYGROUND: 'off',
      LOG_LEVEL: 'silent',
      DISCORD_TOKEN: fake.botToken,
      DISCORD_APPLICATION_ID: fake.applicationId,
      DISCORD_PUBLIC_KEY: fake.keys.publicKeyHex,
    };
    const providers = [createLocalProvider({ longSide: 128, previewSide: 64 })];
    const web: App = await createApp(loadConfig({ ...env, DISCORD_API_URL: fake.apiUrl }), { ...(await open()), providers, roles: { queue: 'redis', work: false } });
    await web.start({ listen: true, platforms: true });
    let stopWorker!: () => void;
    const workerReady = new Promise<App>((resolve) => {
      void (async () =>
        runWorker(loadConfig({ ...env, DISCORD_API_URL: `${proxy.url}/api` }), {
          ...(await open()),
          providers,
          until: new Promise<void>((r) => (stopWorker = r)),
          onReady: resolve,
        }))();
    });
    const worker = await workerReady;
    cleanup.push(async () => {
      stopWorker();
      await new Promise((r) => setTimeout(r, 100));
      await web.stop();
      await proxy.close();
      await fake.stop();
      await dropPrefix(REDIS_URL!, prefix);
      rmSync(dir, { recursive: true, force: true });
    });
    expect(worker.platforms.map((p) => p.name)).toEqual(['discord-http']);

    fake.interactionsUrl = `${web.server.url}/discord/interactions`;
    const answer = await fake.post(slashCommand(fake.applicationId, { id: '100000000000000001', name: 'alice' }, 'imagine', { prompt: 'a lighthouse in fog' }));
    expect(answer.status).toBe(200);

    const jobs = async () => web.atelier.store.listJobs({});
    for (let i = 0; i < 400 && !(await jobs()).every((j) => isFinal(j.state)); i++) await new Promise((r) => setTimeout(r, 50));
    const [job] = await jobs();
    expect(job?.state).toBe('succeeded');
    // Let the worker's throttled final edit land.
    for (let i = 0; i < 200 && !fake.requests.some((r) => r.files > 0); i++) await new Promise((r) => setTimeout(r, 50));

    const result = [...fake.messages.values()].filter((m) => !m.deleted && m.attachments.length > 0);
    expect(result).toHaveLength(1);
    expect(fake.violations).toEqual([]);
    // Every write that carried the images (the result) came from the worker; none from the web process.
    const withFiles = fake.requests.filter((r) => r.files > 0).length;
    expect(withFiles).toBeGreaterThan(0);
    expect(proxy.seen.filter((s) => s.files)).toHaveLength(withFiles);
    // The web process wrote at most what it changed itself: the "queued" message, never a running or final state.
    const fromWeb = fake.requests.length - proxy.seen.length;
    expect(fromWeb).toBeLessThanOrEqual(2);
  });
});
