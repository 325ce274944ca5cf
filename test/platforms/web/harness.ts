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
