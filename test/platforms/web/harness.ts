import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import type { ImageProvider } from '../../../src/core/provider.ts';

export interface Playground {
  url: string;
  app: App;
  atelier: App['atelier'];
  stop(): Promise<void>;
}

/**
 * The real app (createApp) on a fresh temp dir and a free loopback port, with no platform tokens, so
 * the composition root starts the playground on its own, as `npm start` does.
 */
export async function startPlayground(env: Record<string, string> = {}, providers: readonly ImageProvider[] = []): Promise<Playground> {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-web-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, LOG_LEVEL: 'silent', ...env });
  const app = await createApp(config, { providers: [...providers] });
  await app.start({ listen: true, platforms: true });
  if (!app.platforms.some((p) => p.name === 'web')) throw new Error('createApp did not start the playground');
  return {
    url: app.server.url,
    app,
    atelier: app.atelier,
    async stop() {
      await app.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs the job to its end through the core's own events (no polling, no sleeps). */
export function finished(pg: Playground, jobId: string): Promise<void> {
  return new Promise((resolve) => {
    const check = async () => {
      const job = await pg.atelier.getJob(jobId);
      if (job && ['succeeded', 'failed', 'canceled'].includes(job.state)) {
        off();
        resolve();
      }
    };
    const off = pg.atelier.events.subscribe((e) => {
      if (e.job.id === jobId) void check();
    });
    void check();
  });
}
