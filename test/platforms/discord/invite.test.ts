import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageProvider } from '../../../src/core/provider.ts';
import { BOT_PERMISSIONS, INVITE_SCOPES, inviteUrl } from '../../../src/platforms/discord/permissions.ts';
import { registerCommands } from '../../../src/platforms/discord/register.ts';
import { createRest } from '../../../src/platforms/discord/rest.ts';
import { commands } from '../../../commands/index.ts';
import type { LoggedRequest } from '../../fakes/discord/fake-discord.ts';
import { alice, startHarness, type Harness } from './harness.ts';

/**
 * What each bot-token call needs, from Discord's permissions reference (topics/permissions.mdx:
 * "Permissions" table and "Permissions for Timed Out Members"; resources/message.mdx "Create Message":
 * "requires SEND_MESSAGES … ATTACH_FILES to upload files … SEND_MESSAGES_IN_THREADS in a thread";
 * editing or deleting one's own message needs nothing; opening a DM (users/@me/channels) needs nothing).
 * Bit positions are the documented ones, written out here so the test does not share the code's table.
 */
const BITS: Record<string, bigint> = {
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  SendMessagesInThreads: 1n << 38n,
};

function needs(r: LoggedRequest): string[] {
  if (r.auth !== 'bot') return []; // interaction webhooks carry the interaction token and need no permission
  if (r.method === 'POST' && r.route === '/channels/{channel_id}/messages') {
    // The channel an interaction came from may be a thread: the same post then needs the thread permission.
    return ['ViewChannel', 'SendMessages', 'SendMessagesInThreads', ...(r.files > 0 ? ['AttachFiles'] : [])];
  }
  return [];
}

/** Finishes each job only when the test opens the gate: the interaction token can expire in between. */
let open: () => void = () => undefined;
const gated: ImageProvider = {
  id: 'gated',
  displayName: 'Gated',
  capabilities: { modes: ['simple'], fields: ['count', 'seed'], aspectRatios: ['1:1'], maxCount: 2, upscale: false, variations: false, progressPercent: false, previews: false, webhooks: false },
  async generate(req) {
    await new Promise<void>((r) => (open = r));
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#3060a0' } }).png().toBuffer();
    return { images: Array.from({ length: req.count ?? 1 }, () => ({ bytes: new Uint8Array(png), mime: 'image/png', width: 64, height: 64 })), seed: 1 };
  },
};

describe('the invite link asks for exactly what the bot uses', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ providers: [gated] });
  });
  afterAll(() => h.close());

  it('the permissions follow from the REST calls the bot really makes with its own token', async () => {
    // Register, then a public result and a private one after the interaction tokens expired: every
    // bot-token path the bot has (channel message with files, DM, edits, deletes).
    await registerCommands({ rest: createRest({ api: h.fake.apiUrl, token: h.fake.botToken }), applicationId: h.fake.applicationId, commands });
    const expireThenFinish = async (options: Record<string, string | number | boolean>) => {
      const webhookCalls = () => h.fake.requests.filter((r) => r.auth === 'none' && r.status < 300).length;
      const before = webhookCalls();
      await h.imagine(alice, { provider: 'gated', ...options });
      // The job's first message went out on the interaction token; only then does the token expire.
      await expect.poll(webhookCalls, { timeout: 20_000 }).toBeGreaterThan(before);
      await h.discord.messages.idle();
      h.fake.expireTokens();
      open();
    };
    await expireThenFinish({ prompt: 'a lighthouse for the invite', count: 2 });
    await h.waitFor((m) => m.content.includes('a lighthouse for the invite') && /Done in/.test(m.content), 'a public result by bot token');
    await expireThenFinish({ prompt: 'a private harbour', private: true });
    await h.waitFor((m) => m.dm === true && m.content.includes('a private harbour'), 'a private result by DM');
    await h.discord.messages.idle();

    const bot = h.fake.requests.filter((r) => r.auth === 'bot' && r.status < 300);
    expect(bot.some((r) => r.files > 0), 'a bot-token upload was exercised').toBe(true);
    const derived = new Set(bot.flatMap(needs));
    expect(new Set(BOT_PERMISSIONS.map((p) => p.name))).toEqual(derived);
    const integer = [...derived].reduce((n, p) => n | BITS[p]!, 0n).toString();
    const url = new URL(inviteUrl(h.fake.applicationId));
    expect(url.searchParams.get('permissions')).toBe(integer);
    expect(url.searchParams.get('scope')).toBe('bot applications.commands');
    expect(INVITE_SCOPES).toEqual(['bot', 'applications.commands']);
  });

  it('`atelier invite` prints that URL and what each permission is for; without an application id it says what to set', async () => {
    const run = promisify(execFile);
    const bin = resolve(import.meta.dirname, '../../../bin/atelier.js');
    const env = { ...process.env, DISCORD_APPLICATION_ID: '123456789012345678', LOG_LEVEL: 'silent', DATABASE_URL: '', REDIS_URL: '' };
    const { stdout } = await run(process.execPath, [bin, 'invite'], { env, timeout: 60_000 });
    expect(stdout).toContain(inviteUrl('123456789012345678'));
    for (const p of BOT_PERMISSIONS) expect(stdout).toContain(`${p.name}: ${p.why}`);
    const missing = await run(process.execPath, [bin, 'invite'], { env: { ...env, DISCORD_APPLICATION_ID: '' }, timeout: 60_000 }).catch((e: { code: number; stderr: string }) => e);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('DISCORD_APPLICATION_ID') });
    // Each run starts a Node process with its loader: seconds on a busy CI machine, so the bound is generous.
  }, 180_000);

  it('reads the application id from a .env in the working directory, as the guide says; the environment wins', async () => {
    const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const run = promisify(execFile);
    const bin = resolve(import.meta.dirname, '../../../bin/atelier.js');
    const dir = await mkdtemp(resolve(tmpdir(), 'atelier-dotenv-'));
    try {
      await writeFile(resolve(dir, '.env'), 'DISCORD_APPLICATION_ID=222222222222222222\n');
      const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent', DATABASE_URL: '', REDIS_URL: '' };
      delete env['DISCORD_APPLICATION_ID'];
      const fromFile = await run(process.execPath, [bin, 'invite'], { cwd: dir, env, timeout: 60_000 });
      expect(fromFile.stdout).toContain('client_id=222222222222222222');
      const fromEnv = await run(process.execPath, [bin, 'invite'], { cwd: dir, env: { ...env, DISCORD_APPLICATION_ID: '333333333333333333' }, timeout: 60_000 });
      expect(fromEnv.stdout).toContain('client_id=333333333333333333');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
