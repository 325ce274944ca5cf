import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import type { ImageProvider } from '../../../src/core/provider.ts';
import type { Logger } from '../../../src/core/ports.ts';
import { createLocalProvider } from '../../../src/providers/local/index.ts';
import type { RunningSlack } from '../../../src/platforms/slack/index.ts';
import { contractProviders } from '../../contract/providers.ts';
import { BOT_TOKEN, SIGNING_SECRET, SlackFake } from '../../fakes/slack/slack-fake.ts';

export interface Harness {
  fake: SlackFake;
  app: App;
  slack: RunningSlack;
  eventsUrl: string;
  /** Warnings and errors the app logged, as `msg` plus bindings. */
  logs: { level: 'warn' | 'error'; msg?: string; obj: object }[];
  stop(): Promise<void>;
}

/** The real app (createApp) in this process, Slack over HTTP against the fake, on a fresh data dir. */
export async function startHarness(env: Record<string, string> = {}, prepare?: (fake: SlackFake) => void, providers: readonly ImageProvider[] = []): Promise<Harness> {
  const fake = new SlackFake();
  await fake.start();
  prepare?.(fake);
  const dir = mkdtempSync(join(tmpdir(), 'atelier-slack-'));
  const config = loadConfig({
    PORT: '0',
    DATA_DIR: dir,
    PLAYGROUND: 'off',
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: fake.apiUrl,
    SLACK_FILES_URL: fake.files.url,
    ...env,
  });
  const logs: Harness['logs'] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => logs.push({ level: 'error', obj, msg }),
    child: () => logger,
  };
  const app = await createApp(config, { logger, providers: [createLocalProvider({ longSide: 256, previewSide: 96 }), ...contractProviders, ...providers] });
  await app.start({ listen: true, platforms: true });
  const slack = app.platforms.find((p) => p.name === 'slack') as RunningSlack;
  return {
    fake,
    app,
    slack,
    eventsUrl: `${app.server.url}/slack/events`,
    logs,
    async stop() {
      await app.stop();
      await fake.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `read` until `check` passes; the failure names what was last seen. */
export async function eventually<T>(read: () => Promise<T>, check: (v: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (check(last)) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last saw ${JSON.stringify(last).slice(0, 1500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
