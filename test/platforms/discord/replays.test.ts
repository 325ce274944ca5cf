import { sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIInteraction } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { createLocalProvider } from '../../../src/providers/local/index.ts';
import type { FakeDiscord } from '../../fakes/discord/fake-discord.ts';
import { slashCommand } from '../../fakes/discord/interactions.ts';
import { alice, startHarness, type Harness } from './harness.ts';

/** One signature over the exact bytes, posted as often as asked: a captured request replayed verbatim. */
function signed(fake: FakeDiscord, i: APIInteraction) {
  const body = JSON.stringify(i);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = sign(null, Buffer.from(timestamp + body), fake.keys.privateKey).toString('hex');
  return async (url: string) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature-ed25519': signature, 'x-signature-timestamp': timestamp }, body });
    return { status: res.status, body: (await res.json()) as { type: number; data?: { content?: string } } };
  };
}

describe('Discord: a replayed interaction is answered once and creates nothing new', () => {
  let h: Harness;
  let dataDir: string;
  let second: App;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'atelier-replay-'));
    h = await startHarness({ env: { DATA_DIR: dataDir } });
    // A second web process behind the same load balancer: same application, same store.
    const config = loadConfig({
      DATA_DIR: dataDir,
      PORT: '0',
      PLAYGROUND: 'off',
      DISCORD_API_URL: h.fake.apiUrl,
      DISCORD_TOKEN: h.fake.botToken,
      DISCORD_APPLICATION_ID: h.fake.applicationId,
      DISCORD_PUBLIC_KEY: h.fake.keys.publicKeyHex,
    });
    second = await createApp(config, { providers: [createLocalProvider({ longSide: 256, previewSide: 96 })] });
    await second.start({ listen: true, platforms: true });
  });
  afterAll(async () => {
    await second?.stop();
    await h?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const jobsWith = async (prompt: string) => (await h.app.atelier.store.listJobs({})).filter((j) => j.request.prompt === prompt);

  it('the same signed /imagine body posted three times creates one job', async () => {
    const i = slashCommand(h.fake.applicationId, alice, 'imagine', { prompt: 'a thrice-sent tide', provider: 'local' });
    h.fake.register(i);
    const post = signed(h.fake, i);
    const url = `${h.app.server.url}/discord/interactions`;
    const answers = [await post(url), await post(url), await post(url)];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers[0]!.body.type).toBe(5);
    for (const a of answers.slice(1)) expect(a.body.data?.content).toMatch(/already received/);
    await h.waitFor((m) => m.content.includes('a thrice-sent tide') && m.content.includes('Done in'), 'the one result');
    expect(await jobsWith('a thrice-sent tide')).toHaveLength(1);
  });

  it('a replay to another app instance sharing the store creates nothing either', async () => {
    const i = slashCommand(h.fake.applicationId, alice, 'imagine', { prompt: 'a tide sent to two doors', provider: 'local' });
    h.fake.register(i);
    const post = signed(h.fake, i);
    const first = await post(`${h.app.server.url}/discord/interactions`);
    const replay = await post(`${second.server.url}/discord/interactions`);
    expect(first.body.type).toBe(5);
    expect(replay.body.data?.content).toMatch(/already received/);
    await h.waitFor((m) => m.content.includes('a tide sent to two doors') && m.content.includes('Done in'), 'the one result');
    expect(await jobsWith('a tide sent to two doors')).toHaveLength(1);
  });
});
