import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Actor, Job, Where } from '../../src/core/job.ts';
import { isFinal } from '../../src/core/job.ts';
import type { ImageProvider } from '../../src/core/provider.ts';
import { ProviderRegistry } from '../../src/core/registry.ts';
import { runJob, type RunnerDeps } from '../../src/core/runner.ts';
import { createAtelier, type AtelierDeps, type AtelierLimits, type AtelierService } from '../../src/core/service.ts';
import { JobEvents } from '../../src/core/events.ts';
import { silentLogger, type ImageTools, type Store } from '../../src/core/ports.ts';
import type { SchedulerLimits } from '../../src/core/scheduler.ts';
import { createImageTools } from '../../src/images/index.ts';
import { createLocalProvider } from '../../src/providers/local/index.ts';
import { createInProcessQueue } from '../../src/queue/in-process.ts';
import { createFolderBlobStore, createSqliteStore } from '../../src/store/index.ts';

export interface Harness {
  atelier: AtelierService;
  queue: ReturnType<typeof createInProcessQueue>;
  dir: string;
  /** Resolves with the job once it reaches a final state. */
  settle(jobId: string): Promise<Job>;
  close(): Promise<void>;
}

export const alice: Actor = { platform: 'web', userId: 'alice', displayName: 'Alice' };
export const bob: Actor = { platform: 'web', userId: 'bob', displayName: 'Bob' };
export const mod: Actor = { platform: 'web', userId: 'mo', displayName: 'Mo', canManage: true, canManageChannel: true, canManageServer: true };
export const here: Where = { platform: 'web', channelId: 'general', serverId: 'srv' };

/** The real core over a real SQLite file, the local renderer at 128 px and the in-process queue. */
export async function createHarness(
  opts: { providers?: ImageProvider[]; scheduler?: Partial<SchedulerLimits>; limits?: Partial<AtelierLimits>; dir?: string; now?: () => number; store?: (path: string) => Store; imageInput?: AtelierDeps['imageInput']; publicImageUrl?: RunnerDeps['publicImageUrl']; images?: ImageTools } = {},
): Promise<Harness> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'atelier-core-'));
  const store = (opts.store ?? createSqliteStore)(join(dir, 'atelier.db'));
  await store.migrate();
  const blobs = createFolderBlobStore(join(dir, 'images'));
  const images = opts.images ?? createImageTools();
  const providers = new ProviderRegistry().register(createLocalProvider({ longSide: 128, previewSide: 64 }));
  for (const p of opts.providers ?? []) providers.register(p);
  const events = new JobEvents();
  const atelier = createAtelier({ store, blobs, images, providers, events, defaultProvider: 'local', ...(opts.now ? { now: opts.now } : {}), limits: { maxQueuedPerUser: 10, maxQueuedTotal: 1000, dailyQuotaPerUser: 0, ...opts.limits }, ...(opts.imageInput ? { imageInput: opts.imageInput } : {}) });
  const deps: RunnerDeps = {
    store,
    blobs,
    images,
    providers,
    events,
    logger: silentLogger,
    settingsFor: (j) => atelier.settingsFor(j.where),
    jobTimeoutMs: 30_000,
    ...(opts.publicImageUrl ? { publicImageUrl: opts.publicImageUrl } : {}),
  };
  const queue = createInProcessQueue({ store, events, run: (id, signal, hooks) => runJob(deps, id, signal, hooks), limits: { global: 2, perUser: 1, perChannel: 2, ...opts.scheduler } });
  atelier.attachQueue(queue);
  await queue.start();
  const settle = (jobId: string) =>
    new Promise<Job>((resolve) => {
      const check = (job: Job | undefined) => {
        if (job && isFinal(job.state)) {
          stop();
          resolve(job);
        }
      };
      const stop = events.subscribe((e) => e.job.id === jobId && check(e.job));
      void store.getJob(jobId).then(check);
    });
  return {
    atelier,
    queue,
    dir,
    settle,
    async close() {
      await queue.stop();
      await store.close();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
