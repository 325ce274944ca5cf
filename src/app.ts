import { commands as allCommands } from '../commands/index.ts';
import type { CommandDefinition } from './core/command.ts';
import { JobEvents } from './core/events.ts';
import type { ImageProvider } from './core/provider.ts';
import type { BlobStore, ImageTools, JobQueue, Logger, Store } from './core/ports.ts';
import { silentLogger } from './core/ports.ts';
import { ProviderRegistry } from './core/registry.ts';
import { runJob, type RunHooks, type RunnerDeps } from './core/runner.ts';
import type { SchedulerLimits } from './core/scheduler.ts';
import { createAtelier, type AtelierService } from './core/service.ts';
import type { Config } from './config.ts';
import { platformsConfigured } from './config.ts';
import { createImageTools } from './images/index.ts';
import { imageFetcherFromConfig } from './platforms/image-fetcher.ts';
import { createPublicFiles } from './public-files.ts';
import { createLocalProvider } from './providers/local/index.ts';
import { createProvidersFromConfig } from './providers/index.ts';
import { createInProcessQueue } from './queue/in-process.ts';
import type { BullQueue, BullQueueOptions } from './queue/bullmq.ts';
import { localOnly } from './queue/event-bridge.ts';
import { createMetrics, mountObservability } from './observability/index.ts';
import { createServer, type HttpServer } from './server.ts';
import { createStoreFromConfig, isPostgresUrl } from './store/from-config.ts';
import { applyRetention } from './store/retention.ts';
import type { PlatformContext, RunningPlatform } from './platforms/context.ts';
import { requiredToken } from './platforms/web/access.ts';

export interface AppOverrides {
  store?: Store;
  blobs?: BlobStore;
  images?: ImageTools;
  /** Extra providers (tests register fakes); they replace configured ones with the same id. */
  providers?: ImageProvider[];
  logger?: Logger;
  faults?: RunnerDeps['faults'];
  /** Replace the job queue (scale-out passes BullMQ here). */
  queue?: (run: (jobId: string, signal: AbortSignal) => Promise<unknown>, atelier: AtelierService) => JobQueue;
  commands?: readonly CommandDefinition[];
  /** What this process does at scale (docs/scale.md); the default is everything the configuration asks for. */
  roles?: AppRoles;
  /** BullMQ timing (tests shorten the stalled-job lock so a killed worker's jobs move on quickly). */
  bull?: Partial<Pick<BullQueueOptions, 'lockDurationMs' | 'stalledIntervalMs' | 'backoffMs' | 'tickMs'>>;
}

/**
 * A process's share of the work. `work`: run jobs (with REDIS_URL, as a BullMQ worker; default: RUN_JOBS).
 * `platforms`: which platforms start. `chatEvents`: whether chat platforms draw events that happened in
 * other processes ('all') or only this process's own ('local'): the process that runs a job is the one
 * writer of its message, so with REST-only delivery the web processes draw only what they changed.
 */
export interface AppRoles {
  /** 'redis' (BullMQ) by default when REDIS_URL is set and the store is PostgreSQL, which every worker reaches. */
  queue?: 'redis' | 'in-process';
  work?: boolean;
  platforms?: readonly PlatformName[];
  chatEvents?: (platform: PlatformName) => 'all' | 'local';
}

/**
 * With REDIS_URL, a chat platform whose messages are written over REST (Discord HTTP interactions, Slack
 * HTTP events) is drawn by the worker that runs the job; a gateway or Socket Mode connection lives in one
 * web process, which then draws every job.
 */
export function restDelivered(config: Config): PlatformName[] {
  const p = platformsConfigured(config);
  const out: PlatformName[] = [];
  if (p.discordHttp) out.push('discord');
  if (p.slack && !config.SLACK_APP_TOKEN) out.push('slack');
  return out;
}

export interface App {
  config: Config;
  atelier: AtelierService;
  server: HttpServer;
  queue: JobQueue & { idle?(): Promise<void> };
  images: ImageTools;
  logger: Logger;
  platforms: RunningPlatform[];
  providersDoctor(): Promise<{ provider: string; ok: boolean; detail: string }[]>;
  /** Starts the queue (resuming interrupted jobs); with `listen`, the HTTP server and platforms too. */
  start(opts?: { listen?: boolean; platforms?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export type PlatformName = 'discord' | 'slack' | 'web';

/** Platforms load lazily so a Slack-only deployment never loads discord.js, and the reverse. */
async function loadPlatform(name: PlatformName): Promise<(ctx: PlatformContext) => Promise<RunningPlatform>> {
  const mod = (await import(`./platforms/${name}/index.ts`)) as Record<string, unknown>;
  const fn = mod[`start${name[0]!.toUpperCase()}${name.slice(1)}`];
  if (typeof fn !== 'function') throw new Error(`platform ${name} has no start function`);
  return fn as (ctx: PlatformContext) => Promise<RunningPlatform>;
}

/** Which platforms this configuration serves; the playground whenever no chat platform is configured. */
export function platformsToStart(config: Config): PlatformName[] {
  const p = platformsConfigured(config);
  const out: PlatformName[] = [];
  if (p.discordHttp || p.discordGateway) out.push('discord');
  if (p.slack) out.push('slack');
  if (config.PLAYGROUND === 'on' || (config.PLAYGROUND === 'auto' && out.length === 0)) out.push('web');
  return out;
}

/** The composition root: every dependency is built here and nowhere else. */
export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const logger = overrides.logger ?? silentLogger;
  const { store, blobs } = overrides.store && overrides.blobs ? { store: overrides.store, blobs: overrides.blobs } : await createStoreFromConfig(config);
  const images = overrides.images ?? createImageTools();
  const registry = new ProviderRegistry().register(createLocalProvider());
  const configured = createProvidersFromConfig(config, { kv: store, logger });
  for (const p of configured.providers) registry.register(p);
  for (const p of overrides.providers ?? []) registry.register(p);
  const events = new JobEvents();
  const fetcher = imageFetcherFromConfig(config);
  // Without PUBLIC_URL no link is made, and the core refuses providers that need one before anything is queued.
  const files = config.PUBLIC_URL ? createPublicFiles({ store, blobs, publicUrl: config.PUBLIC_URL, ...(config.FILES_SECRET ? { secret: config.FILES_SECRET } : {}) }) : undefined;
  const atelier = createAtelier({
    store,
    blobs,
    images,
    providers: registry,
    events,
    defaultProvider: registry.has(config.DEFAULT_PROVIDER) ? config.DEFAULT_PROVIDER : 'local',
    limits: { maxQueuedPerUser: config.MAX_QUEUED_PER_USER, maxQueuedTotal: config.MAX_QUEUED_TOTAL, dailyQuotaPerUser: config.DAILY_QUOTA_PER_USER },
    imageInput: { fetcher, limits: { maxBytes: config.IMAGE_INPUT_MAX_MB * 1024 * 1024 }, publicUrl: Boolean(config.PUBLIC_URL) },
    logger,
  });
  const runnerDeps: RunnerDeps = {
    store,
    blobs,
    images,
    providers: registry,
    events,
    logger,
    settingsFor: (job) => atelier.settingsFor(job.where),
    jobTimeoutMs: config.JOB_TIMEOUT_SECONDS * 1000,
    faults: overrides.faults,
    ...(files ? { publicImageUrl: files.urlFor } : {}),
  };
  const run = (jobId: string, signal: AbortSignal, hooks?: RunHooks) => runJob(runnerDeps, jobId, signal, hooks);
  // Both queues cap each provider at its declared concurrency (BullMQ across every worker).
  const limits: SchedulerLimits = {
    global: config.MAX_CONCURRENT_JOBS,
    perUser: config.MAX_CONCURRENT_PER_USER,
    perChannel: config.MAX_CONCURRENT_PER_CHANNEL,
    perProvider: (id) => (registry.has(id) ? registry.get(id).concurrency : undefined),
  };
  const queueKind = overrides.roles?.queue ?? (config.REDIS_URL && isPostgresUrl(config.DATABASE_URL) ? 'redis' : 'in-process');
  // BullMQ (and ioredis) load only when Redis is used: about 19 MiB of RSS a single process never needs.
  const bull: BullQueue | undefined =
    !overrides.queue && queueKind === 'redis' && config.REDIS_URL
      ? (await import('./queue/bullmq.ts')).createBullQueue({
          redisUrl: config.REDIS_URL,
          prefix: config.REDIS_PREFIX,
          store,
          events,
          logger,
          run,
          limits,
          concurrency: (overrides.roles?.work ?? (config.WORKER || config.RUN_JOBS)) ? config.MAX_CONCURRENT_JOBS : 0,
          ...overrides.bull,
        })
      : undefined;
  const queue =
    overrides.queue?.(run, atelier) ??
    bull ??
    createInProcessQueue({
      store,
      events,
      logger,
      run,
      limits,
    });
  atelier.attachQueue(queue);
  const server = createServer({ host: config.HOST, port: config.PORT, logger, requestTimeoutMs: config.HTTP_TIMEOUT_SECONDS * 1000, maxConnections: config.HTTP_MAX_CONNECTIONS });
  for (const r of configured.routes) server.route(r.method, r.path, r.handler);
  files?.mount(server);
  const metrics = createMetrics({
    store,
    events,
    queueDepth: async () => {
      if (bull) return bull.depth();
      if ('depth' in queue && typeof queue.depth === 'function') return (queue as BullQueue).depth();
      return { queued: (await queue.positions()).size };
    },
  });
  const redisPing = 'ping' in queue && typeof queue.ping === 'function' ? () => (queue as BullQueue).ping() : undefined;
  mountObservability(server, metrics, { store, redisPing });
  const platforms: RunningPlatform[] = [];
  const detach: (() => void)[] = [metrics.stop];
  /** A bus with only the events that happened in this process (none bridged in from others). */
  const localEvents = (): JobEvents => {
    const { bus, detach: off } = localOnly(events);
    detach.push(off);
    return bus;
  };
  let retention: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;

  const app: App = {
    config,
    atelier,
    server,
    queue,
    images,
    logger,
    platforms,
    providersDoctor: () => configured.doctor(),
    async start(opts = {}) {
      // Before any job resumes: a provider whose configuration cannot work on its server stops start-up here.
      await configured.prepare();
      const names = opts.platforms ? (overrides.roles?.platforms ?? platformsToStart(config)) : [];
      // Configuration is refused before anything listens or runs.
      if (names.includes('web')) requiredToken(config.HOST, config.PLAYGROUND_TOKEN);
      // Routes first, then the port, then the jobs: nothing answers 404 for a route still being mounted,
      // and no job runs in a process that cannot deliver it or cannot listen.
      if (opts.platforms) {
        const ctx: PlatformContext = { atelier, server, config, logger, images, commands: overrides.commands ?? allCommands, ...(files ? { publicImageUrl: files.urlFor } : {}) };
        const chatEvents = overrides.roles?.chatEvents ?? ((name: PlatformName) => (bull && restDelivered(config).includes(name) ? 'local' : 'all'));
        for (const name of names) {
          const own = chatEvents(name) === 'local' ? { ...ctx, atelier: { ...atelier, events: localEvents() } } : ctx;
          platforms.push(await (await loadPlatform(name))(own));
        }
      }
      if (opts.listen) await server.listen();
      await queue.start();
      if (config.IMAGE_RETENTION_DAYS > 0) {
        const prune = () =>
          applyRetention({ store, blobs, olderThanDays: config.IMAGE_RETENTION_DAYS })
            .then((gone) => (gone.jobs || gone.images ? logger.info(gone, 'retention: expired jobs and images removed') : undefined))
            .catch((err: unknown) => logger.warn({ err }, 'retention failed'));
        void prune();
        retention = setInterval(prune, 60 * 60 * 1000).unref();
      }
    },
    async stop() {
      // Stopping twice (a second signal, a test's cleanup) is a no-op.
      if (stopping) return stopping;
      stopping = (async () => {
        if (retention) clearInterval(retention);
        // New connections are refused at once; requests already in flight still get their answer.
        server.stopAccepting();
        // Jobs first: running ones are handed back, so their "waiting to resume" state is drawn before the platforms drain.
        await queue.stop();
        for (const p of platforms.splice(0).reverse()) await p.stop().catch((err: unknown) => logger.warn({ err, platform: p.name }, 'platform stop failed'));
        for (const d of detach.splice(0)) d();
        await configured.close();
        await fetcher.close();
        await server.close();
        await store.close();
      })();
      return stopping;
    },
  };
  return app;
}

/**
 * Stops the app, but never for longer than `ms`: an orchestrator kills a process that ignores SIGTERM
 * (systemd and Kubernetes after 10 s by default, Docker after 10 s). Whatever did not finish resumes on restart.
 */
export async function stopWithin(app: App, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const done = app.stop().then(
    () => true,
    (err: unknown) => {
      app.logger.warn({ err }, 'stop failed');
      return true;
    },
  );
  try {
    const ok = await Promise.race([done, late]);
    if (!ok) app.logger.warn({ ms }, 'stop did not finish in time; exiting anyway (unfinished jobs resume on restart)');
    return ok;
  } finally {
    clearTimeout(timer);
  }
}
