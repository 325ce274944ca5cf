import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { shardOptions } from '../../../src/platforms/discord/gateway.ts';
import { FakeDiscord } from '../../fakes/discord/fake-discord.ts';

describe('DISCORD_SHARDS', () => {
  it.each([
    ['auto', { shards: 'auto' }],
    ['0/1', { shards: [0], shardCount: 1 }],
    ['2-4/8', { shards: [2, 3, 4], shardCount: 8 }],
  ])('%s', (spec, expected) => {
    expect(shardOptions(spec)).toEqual(expected);
  });

  it('refuses a range outside the total, and config refuses a malformed value', () => {
    expect(() => shardOptions('3-8/8')).toThrow(/do not fit in a total of 8/);
    expect(() => loadConfig({ DISCORD_SHARDS: 'some' })).toThrow(/DISCORD_SHARDS: expects auto/);
  });
});

describe('gateway sharding against the fake gateway', () => {
  let fake: FakeDiscord | undefined;
  let app: App | undefined;
  let dir = '';
  afterEach(async () => {
    await app?.stop();
    await fake?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['auto', [0, 1]],
    ['1/2', [1, 2]],
  ])('DISCORD_SHARDS=%s identifies as shard %j', async (spec, shard) => {
    fake = new FakeDiscord();
    await fake.start();
    dir = await mkdtemp(join(tmpdir(), 'atelier-shards-'));
    const config = loadConfig({ DATA_DIR: dir, PORT: '0', PLAYGROUND: 'off', LOG_LEVEL: 'silent', DISCORD_API_URL: fake.apiUrl, DISCORD_TOKEN: fake.botToken, DISCORD_SHARDS: spec });
    app = await createApp(config);
    await app.start({ listen: true, platforms: true });
    await fake.gateway.ready();
    expect(fake.gateway.identified.map((i) => i.shard)).toEqual([shard]);
  });
});
