import { createApp, restDelivered, stopWithin, type App, type AppOverrides } from '../app.ts';
import type { Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { isPostgresUrl } from '../store/from-config.ts';

export interface WorkerOptions extends Omit<AppOverrides, 'roles' | 'queue'> {
  /** Resolve to stop the worker (default: SIGINT or SIGTERM). */
  until?: Promise<void>;
  /** Called once the worker takes jobs (tests, the crash harness). */
  onReady?: (app: App) => void;
}

/**
 * A worker: takes jobs from Redis, runs them, and is the one writer of their messages. It opens no
 * chat connection: Discord (HTTP-interactions mode) and Slack (HTTP mode) messages go out over REST,
 * so it starts only those platforms, drawing only the jobs it runs. It never listens on the chat PORT
 * (a worker often shares the web process's env file): with METRICS_PORT it serves /healthz, /readyz
 * and /metrics there, otherwise it listens on nothing. Run any number, anywhere.
 */
export async function runWorker(config: Config, options: WorkerOptions = {}): Promise<App> {
  if (!config.REDIS_URL) throw new Error('REDIS_URL: the worker takes its jobs from Redis');
  const { until, onReady, ...overrides } = options;
  // Workers and web processes must see the same jobs: a SQLite file is one machine's, PostgreSQL everyone's.
  if (!isPostgresUrl(config.DATABASE_URL) && !overrides.store) throw new Error('DATABASE_URL: a worker shares the store with the web processes; set a postgres:// URL');
  const logger = overrides.logger ?? createLogger(config.LOG_LEVEL).child({ role: 'worker' });
  const metricsPort = config.METRICS_PORT;
  const app = await createApp(
    { ...config, WORKER: true, PORT: metricsPort ?? 0 },
    {
      ...overrides,
      logger,
      roles: { queue: 'redis', work: true, platforms: restDelivered(config), chatEvents: () => 'local' },
    },
  );
  try {
    await app.start({ listen: metricsPort !== undefined, platforms: true });
  } catch (err) {
    // A worker that cannot do its whole job runs none of it.
    await app.stop().catch(() => undefined);
    throw err;
  }
  logger.info({ url: app.server.url || undefined, platforms: app.platforms.map((p) => p.name), concurrency: config.MAX_CONCURRENT_JOBS }, 'worker ready');
  onReady?.(app);
  await (until ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }));
  await stopWithin(app, 8_000);
  return app;
}
