import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import type { Logger } from '../../../src/core/ports.ts';
import type { ImageProvider } from '../../../src/core/provider.ts';
import { createLocalProvider } from '../../../src/providers/local/index.ts';
import type { RunningDiscord } from '../../../src/platforms/discord/index.ts';
import { FakeDiscord, type FakeDiscordOptions, type FakeMessage } from '../../fakes/discord/fake-discord.ts';
import type { APIInteraction } from 'discord-api-types/v10';
import { slashCommand, type FakeMember } from '../../fakes/discord/interactions.ts';
import { contractProviders } from '../../contract/providers.ts';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg?: string;
  obj: object;
}

export interface Harness {
  fake: FakeDiscord;
  app: App;
  discord: RunningDiscord;
  logs: LogLine[];
  imagine(user: FakeMember, options: Record<string, string | number | boolean>): Promise<{ status: number; body?: Record<string, unknown>; interactionId: string }>;
  /** Delivers an interaction the way this harness's app takes them (signed POST, or the gateway); returns the first answer. */
  deliver(i: APIInteraction): Promise<Record<string, unknown> | undefined>;
  /** Resolves with the first live message matching, waiting for changes. */
  waitFor(predicate: (m: FakeMessage) => boolean, what: string, timeoutMs?: number): Promise<FakeMessage>;
  close(): Promise<void>;
}

export const alice: FakeMember = { id: '100000000000000001', name: 'alice' };
export const bob: FakeMember = { id: '100000000000000002', name: 'bob' };

/** The real app in this process (HTTP interactions) against the fake Discord; logs are captured. */
export async function startHarness(opts: { fake?: FakeDiscordOptions; providers?: ImageProvider[]; env?: Record<string, string>; gateway?: boolean } = {}): Promise<Harness> {
  const fake = new FakeDiscord(opts.fake);
  await fake.start();
  const dataDir = await mkdtemp(join(tmpdir(), 'atelier-discord-unit-'));
  const logs: LogLine[] = [];
  const logger: Logger = {
    debug: (obj, msg) => logs.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => logs.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => logs.push({ level: 'error', obj, msg }),
    child: () => logger,
  };
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    PLAYGROUND: 'off',
    DISCORD_API_URL: fake.apiUrl,
    DISCORD_TOKEN: fake.botToken,
    DISCORD_APPLICATION_ID: fake.applicationId,
    // Without the public key the app takes interactions from the gateway (a real discord.js Client on the fake's).
    ...(opts.gateway ? {} : { DISCORD_PUBLIC_KEY: fake.keys.publicKeyHex }),
    // Users' attachments are fetched from the fake's CDN, as from cdn.discordapp.com.
    DISCORD_CDN_URL: fake.cdnUrl,
    ...opts.env,
  });
  const app = await createApp(config, { logger, providers: [createLocalProvider({ longSide: 256, previewSide: 96 }), ...contractProviders, ...(opts.providers ?? [])] });
  await app.start({ listen: true, platforms: true });
  fake.interactionsUrl = `${app.server.url}/discord/interactions`;
  if (opts.gateway) await fake.gateway.ready();
  const discord = app.platforms.find((p) => p.name.startsWith('discord')) as RunningDiscord;
  const waiters = new Set<() => void>();
  fake.onChange = () => {
    for (const w of [...waiters]) w();
  };
  return {
    fake,
    app,
    discord,
    logs,
    async imagine(user, options) {
      const i = slashCommand(fake.applicationId, user, 'imagine', options, fake.attachmentLimit);
      return { ...(await fake.post(i)), interactionId: i.id };
    },
    async deliver(i) {
      if (opts.gateway) return fake.dispatch(i);
      return (await fake.post(i)).body;
    },
    waitFor(predicate, what, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = [...fake.messages.values()].find((m) => !m.deleted && predicate(m));
          if (!hit) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; messages: ${[...fake.messages.values()].map((m) => JSON.stringify(m.content)).join(', ')}; violations: ${fake.violations.join('; ')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      await app.stop();
      await fake.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
