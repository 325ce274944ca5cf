import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commands } from '../../../commands/index.ts';
import { loadConfig, type Config } from '../../../src/config.ts';
import { JobEvents } from '../../../src/core/events.ts';
import type { ImageProvider } from '../../../src/core/provider.ts';
import { ProviderRegistry } from '../../../src/core/registry.ts';
import { runJob, type RunnerDeps } from '../../../src/core/runner.ts';
import { createAtelier, type AtelierService } from '../../../src/core/service.ts';
import { createImageTools } from '../../../src/images/index.ts';
import { createLocalProvider } from '../../../src/providers/local/index.ts';
import { createInProcessQueue } from '../../../src/queue/in-process.ts';
import { createServer, type HttpServer } from '../../../src/server.ts';
import { createFolderBlobStore, createSqliteStore } from '../../../src/store/index.ts';
import { silentLogger } from '../../../src/core/ports.ts';
import { startWeb } from '../../../src/platforms/web/index.ts';
import type { RunningPlatform } from '../../../src/platforms/context.ts';

export interface Playground {
  url: string;
  config: Config;
  atelier: AtelierService;
  server: HttpServer;
  stop(): Promise<void>;
}

/** The real core, store, queue and local renderer on a fresh temp dir, with the playground mounted on a free port. */
export async function startPlayground(env: Record<string, string> = {}, extraProviders: readonly ImageProvider[] = []): Promise<Playground> {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-web-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, LOG_LEVEL: 'silent', ...env });
  const store = createSqliteStore(join(dir, 'atelier.db'));
  await store.migrate();
  const blobs = createFolderBlobStore(join(dir, 'blobs'));
  const images = createImageTools();
  const providers = new ProviderRegistry().register(createLocalProvider());
  for (const p of extraProviders) providers.register(p);
  const events = new JobEvents();
  const atelier = createAtelier({ store, blobs, images, providers, events, defaultProvider: 'local', limits: { maxQueuedPerUser: 50, dailyQuotaPerUser: 0 } });
  const runner: RunnerDeps = { store, blobs, images, providers, events, logger: silentLogger, settingsFor: (job) => atelier.settingsFor(job.where), jobTimeoutMs: 60_000 };
  const queue = createInProcessQueue({ store, events, run: (id, signal) => runJob(runner, id, signal), limits: { global: 4, perUser: 2, perChannel: 3 } });
  atelier.attachQueue(queue);
  await queue.start();
  const server = createServer({ host: config.HOST, port: config.PORT });
  const url = await server.listen();
  const web: RunningPlatform = await startWeb({ atelier, server, config, logger: silentLogger, images, commands });
  return {
    url,
    config,
    atelier,
    server,
    async stop() {
      await web.stop();
      await queue.stop();
      await server.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
