import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inviteUrl } from '../../src/platforms/discord/permissions.ts';
import { FakeDiscord } from '../fakes/discord/fake-discord.ts';
import { BOT_TOKEN, BOT_TOKEN_SCOPES, SIGNING_SECRET, SlackFake } from '../fakes/slack/slack-fake.ts';
import { exitWithin, spawnCli } from './cli-process.ts';

/** `atelier doctor` as an operator runs it: its exit code, its lines, and its last line's next step. */
async function doctor(env: Record<string, string>): Promise<{ code: number | string; out: string; next: string }> {
  const p = spawnCli(['doctor'], env);
  const code = await exitWithin(p, 60_000, 'doctor');
  const out = p.stdout();
  return { code, out, next: /^Next step: (.*)$/m.exec(out)?.[1] ?? `(no next step) ${out} ${p.stderr()}` };
}

describe('doctor tells operators the truth (a real `atelier doctor` against the loopback Discord and Slack)', () => {
  const discord = new FakeDiscord();
  const slack = new SlackFake();
  let dir = '';
  let base: Record<string, string> = {};

  beforeAll(async () => {
    await discord.start();
    await slack.start();
    dir = mkdtempSync(join(tmpdir(), 'atelier-doctor-'));
    base = {
      DATA_DIR: dir,
      LOG_LEVEL: 'silent',
      DISCORD_TOKEN: discord.botToken,
      DISCORD_APPLICATION_ID: discord.applicationId,
      DISCORD_PUBLIC_KEY: discord.keys.publicKeyHex,
      DISCORD_API_URL: discord.apiUrl,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
    };
  }, 60_000);

  afterAll(async () => {
    await discord.stop();
    await slack.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('with working tokens and no commands yet: exits 0 and the next step is to register', async () => {
    const r = await doctor(base);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('ok   Discord: bot token works');
    expect(r.out).toContain(`ok   Discord: application ${discord.applicationId} matches DISCORD_APPLICATION_ID`);
    expect(r.out).toContain("ok   Discord: DISCORD_PUBLIC_KEY is the application's public key");
    expect(r.out).toContain('ok   Slack: the token holds every scope the manifest asks for');
    expect(r.next).toBe('run register: npm run atelier -- register');
  }, 90_000);

  it('with commands registered and the bot in no server: the next step is the invite URL', async () => {
    const rest = await fetch(`${discord.apiUrl}/v10/applications/${discord.applicationId}/commands`, {
      method: 'PUT',
      headers: { authorization: `Bot ${discord.botToken}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ name: 'imagine', description: 'Make images', type: 1 }]),
    });
    expect(rest.status).toBe(200);
    discord.botGuilds = [];
    try {
      const r = await doctor(base);
      expect(r.code, r.out).toBe(0);
      expect(r.next).toBe(`invite the bot with: ${inviteUrl(discord.applicationId)}`);
    } finally {
      discord.botGuilds = ['300000000000000001'];
    }
  }, 90_000);

  it('a refused Discord token, a wrong application id or a wrong public key fail (exit 1) and say what to set', async () => {
    const badToken = await doctor({ ...base, DISCORD_TOKEN: 'not-the-token' });
    expect(badToken.code).toBe(1);
    expect(badToken.out).toContain('FAIL Discord: DISCORD_TOKEN is refused (401 Unauthorized)');
    expect(badToken.next).toMatch(/^copy a fresh bot token into DISCORD_TOKEN/);

    const wrongApp = await doctor({ ...base, DISCORD_APPLICATION_ID: '199999999999999999' });
    expect(wrongApp.code).toBe(1);
    expect(wrongApp.next).toBe(`set DISCORD_APPLICATION_ID=${discord.applicationId}`);

    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
    const wrongKey = await doctor({ ...base, DISCORD_PUBLIC_KEY: Buffer.from(other.subarray(other.length - 32)).toString('hex') });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.next).toBe(`set DISCORD_PUBLIC_KEY=${discord.keys.publicKeyHex}`);
  }, 180_000);

  it('a refused Slack token, or one without the scopes the manifest asks for, fails and says what to do', async () => {
    const badToken = await doctor({ ...base, SLACK_BOT_TOKEN: 'xoxb-not-the-token' });
    expect(badToken.code).toBe(1);
    expect(badToken.out).toContain('FAIL Slack: SLACK_BOT_TOKEN is refused (invalid_auth)');

    slack.proxy.tokens.set(BOT_TOKEN, ['commands', 'chat:write']);
    try {
      const fewer = await doctor(base);
      expect(fewer.code).toBe(1);
      expect(fewer.out).toContain('FAIL Slack: the bot token lacks the scopes files:write, files:read, channels:join, users:read, im:write');
      expect(fewer.next).toMatch(/^add the scopes files:write, files:read, channels:join, users:read, im:write/);
    } finally {
      slack.proxy.tokens.set(BOT_TOKEN, [...BOT_TOKEN_SCOPES]);
    }
  }, 120_000);
});
