import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeDiscord } from '../fakes/discord/fake-discord.ts';
import { ping } from '../fakes/discord/interactions.ts';
import { BOT_TOKEN, postSigned, SIGNING_SECRET, SlackFake } from '../fakes/slack/slack-fake.ts';
import { freePort, spawnCli, type CliProcess } from './cli-process.ts';

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** One attempt: the HTTP status, or 'refused' while nothing listens yet. */
async function attempt(send: () => Promise<{ status: number }>): Promise<number | 'refused'> {
  try {
    return (await send()).status;
  } catch {
    return 'refused';
  }
}

describe('ready means ready (a real `atelier start`)', () => {
  it('hammered from process start, Discord interactions and Slack events never answer 404; the summary names what runs', async () => {
    const discord = new FakeDiscord();
    await discord.start();
    const slack = new SlackFake();
    await slack.start();
    const dir = mkdtempSync(join(tmpdir(), 'atelier-ready-'));
    cleanup.push(() => discord.stop(), () => slack.stop(), () => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    discord.interactionsUrl = `${base}/discord/interactions`;
    const app: CliProcess = spawnCli(['start'], {
      PORT: String(port),
      DATA_DIR: dir,
      LOG_LEVEL: 'warn',
      DISCORD_TOKEN: discord.botToken,
      DISCORD_APPLICATION_ID: discord.applicationId,
      DISCORD_PUBLIC_KEY: discord.keys.publicKeyHex,
      DISCORD_API_URL: discord.apiUrl,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
    });
    cleanup.push(() => app.kill());

    const seen: { discord: (number | 'refused')[]; slack: (number | 'refused')[] } = { discord: [], slack: [] };
    const challenge = JSON.stringify({ token: 'unused', challenge: 'c-123', type: 'url_verification' });
    let afterListening = 0;
    // From the moment the process exists until ten rounds after it says it listens.
    while (afterListening < 10) {
      if (/listening on/.test(app.stdout())) afterListening++;
      const [d, s] = await Promise.all([
        attempt(() => discord.post(ping(discord.applicationId))),
        attempt(() => postSigned(`${base}/slack/events`, challenge, { contentType: 'application/json' })),
      ]);
      seen.discord.push(d);
      seen.slack.push(s);
      if (d === 'refused' && s === 'refused') await new Promise((r) => setTimeout(r, 10));
      const code = await Promise.race([app.exited, Promise.resolve(undefined)]);
      if (code !== undefined) throw new Error(`atelier start exited with ${code}: ${app.stderr()}`);
    }
    const answered = (xs: (number | 'refused')[]) => xs.filter((x) => x !== 'refused');
    // Before it listens, connections are refused; from the first answer on, every answer is the real one.
    expect(answered(seen.discord).length).toBeGreaterThanOrEqual(10);
    expect(answered(seen.slack).length).toBeGreaterThanOrEqual(10);
    expect(new Set(answered(seen.discord))).toEqual(new Set([200]));
    expect(new Set(answered(seen.slack))).toEqual(new Set([200]));

    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    const out = app.stdout();
    expect(out).toContain(`Discord: HTTP interactions at ${base}/discord/interactions`);
    expect(out).toContain(`Slack: HTTP events at ${base}/slack/events`);
    expect(out).not.toMatch(/Not configured: .*discord/);
    expect(out).not.toMatch(/Not configured: .*slack/);
  }, 120_000);
});
