import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { createEmulator, type Emulator } from 'emulate';
import { SlackApiProxy, type SlackRoles } from './web-api-proxy.ts';
import { SlackFilesHost } from './files-host.ts';
import { signSlackRequest } from '../../../src/platforms/slack/signature.ts';

export const BOT_TOKEN = 'xoxb-atelier-test';
/** What the test workspace granted the bot token (an install from the manifest). */
export const BOT_TOKEN_SCOPES = ['chat:write', 'files:write', 'files:read', 'channels:join', 'channels:read', 'users:read', 'commands', 'im:write'] as const;
export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
const MEMBERS = ['alice', 'bob', 'mod', 'owner'] as const;
/**
 * The workspace's people and their roles. mod is an admin; owner is a workspace owner who is not an admin
 * (Slack usually reports owners as admins too: this one tells the two flags apart).
 */
const PEOPLE: (SlackRoles & { name: string; real_name: string })[] = [
  { name: 'alice', real_name: 'Alice' },
  { name: 'bob', real_name: 'Bob' },
  { name: 'mod', real_name: 'Mod', is_admin: true },
  { name: 'owner', real_name: 'Owner', is_owner: true },
  { name: 'atelier', real_name: 'Atelier' },
];
/** Each member's own user token: only the fake uses them, to act as that person. */
const memberToken = (name: string) => `xoxp-atelier-test-${name}`;

export interface FakeUser {
  id: string;
  name: string;
}

export interface SlackMessage {
  ts: string;
  text?: string;
  user?: string;
  thread_ts?: string;
  subtype?: string;
  blocks?: { type: string; block_id?: string; text?: { text: string }; elements?: { type: string; text?: string | { text: string }; action_id?: string }[] }[];
  files?: { id: string; name: string; title?: string; size?: number; mimetype?: string }[];
}

/**
 * The Slack side of a test: the emulate@0.12.2 Web API behind the spec-checking proxy, seeded with a
 * workspace, four members (mod is an admin, owner a workspace owner), the bot user and #general.
 */
export class SlackFake {
  readonly proxy = new SlackApiProxy();
  /** files.slack.com: users' files, behind the bot token (`SLACK_FILES_URL` points the app here). */
  readonly files = new SlackFilesHost(new Set([BOT_TOKEN]), () => this.teamId);
  private emulator: Emulator | undefined;
  private emulatorUrl = '';
  users: Record<'alice' | 'bob' | 'mod' | 'owner' | 'bot', FakeUser> = {} as never;
  teamId = '';
  channel = '';

  get apiUrl(): string {
    return `${this.proxy.url}/api/`;
  }

  async start(): Promise<void> {
    await this.proxy.listen();
    await this.files.listen();
    // The emulator reports its advertised base URL (the proxy's), not where it listens: pick the port here.
    const port = await freePort();
    this.emulatorUrl = `http://127.0.0.1:${port}`;
    this.emulator = await createEmulator({
      service: 'slack',
      port,
      hostname: '127.0.0.1',
      // Upload URLs the emulator hands out point at the proxy too, so uploads are seen and checked.
      baseUrl: this.proxy.url,
      seed: {
        tokens: { [BOT_TOKEN]: { login: 'atelier', scopes: [...BOT_TOKEN_SCOPES] }, ...Object.fromEntries(MEMBERS.map((n) => [memberToken(n), { login: n, scopes: ['channels:write', 'channels:join'] }])) },
        slack: {
          team: { name: 'Atelier Test', domain: 'atelier-test' },
          users: PEOPLE.map(({ name, real_name, is_admin }) => ({ name, real_name, ...(is_admin ? { is_admin } : {}) })),
        },
      },
    });
    this.proxy.target = this.emulatorUrl;
    this.proxy.tokens.set(BOT_TOKEN, [...BOT_TOKEN_SCOPES]);
    const auth = await this.direct('auth.test', {});
    this.teamId = String(auth.team_id);
    const list = (await this.direct('users.list', {})) as { members: { id: string; name: string }[] };
    const byName = (n: string) => {
      const u = list.members.find((m) => m.name === n);
      if (!u) throw new Error(`emulator has no user ${n}`);
      return { id: u.id, name: u.name };
    };
    this.users = { alice: byName('alice'), bob: byName('bob'), mod: byName('mod'), owner: byName('owner'), bot: byName('atelier') };
    // The emulator keeps is_admin only; the proxy gives users.info the other role flags Slack answers with.
    for (const { name, real_name: _, ...roles } of PEOPLE) this.proxy.roles.set(byName(name).id, roles);
    const chans = (await this.direct('conversations.list', {})) as { channels: { id: string; name: string }[] };
    this.channel = chans.channels.find((c) => c.name === 'general')!.id;
    // Everyone is in #general on Slack (the workspace's default channel); the emulator seeds only its admin
    // there, so the members join as themselves. The bot is not: joining is the app's job.
    for (const n of MEMBERS) await this.direct('conversations.join', { channel: this.channel }, memberToken(n));
  }

  async stop(): Promise<void> {
    await this.emulator?.close();
    await this.proxy.close();
    await this.files.close();
  }

  /** Straight to the emulator, unchecked and unrecorded: the test reading state, not the app. */
  async direct(method: string, args: Record<string, unknown>, token = BOT_TOKEN): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.emulatorUrl}/api/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(args),
    });
    const body = (await res.json()) as Record<string, unknown>;
    if (!body.ok) throw new Error(`${method}: ${String(body.error)}`);
    return body;
  }

  /** A trigger id as Slack puts in a command or button payload: valid 3 s, once. */
  async triggerFor(userId: string): Promise<string> {
    return String((await this.direct('views.generateTriggerId', { user_id: userId })).trigger_id);
  }

  /** Top-level messages of the channel, oldest first. */
  async history(channel = this.channel): Promise<SlackMessage[]> {
    const out = (await this.direct('conversations.history', { channel, limit: 200 })) as { messages: SlackMessage[] };
    return [...out.messages].reverse();
  }

  /** Replies in a message's thread, oldest first, without the parent. */
  async replies(ts: string, channel = this.channel): Promise<SlackMessage[]> {
    const out = (await this.direct('conversations.replies', { channel, ts, limit: 200 })) as { messages: SlackMessage[] };
    return out.messages.filter((m) => m.ts !== ts);
  }

  /** A response_url that lands in the proxy's capture list. */
  responseUrl(): { id: string; url: string } {
    const id = randomBytes(6).toString('hex');
    return { id, url: `${this.proxy.url}/_response/${id}` };
  }
}

/** POSTs a body to the app as Slack does, signed with a real HMAC (or a deliberately bad one). */
export async function postSigned(url: string, body: string, opts: { contentType?: string; secret?: string; timestamp?: number } = {}): Promise<{ status: number; body: string }> {
  const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': opts.contentType ?? 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': signSlackRequest(opts.secret ?? SIGNING_SECRET, ts, body),
    },
    body,
  });
  return { status: res.status, body: await res.text() };
}

/** A slash command's form body, field for field as Slack sends it. */
export function slashCommandBody(fields: { command: string; text: string; user: FakeUser; teamId: string; channel: string; triggerId: string; responseUrl: string }): string {
  return new URLSearchParams({
    token: 'verification-token-unused',
    team_id: fields.teamId,
    team_domain: 'atelier-test',
    channel_id: fields.channel,
    channel_name: 'general',
    user_id: fields.user.id,
    user_name: fields.user.name,
    command: fields.command,
    text: fields.text,
    api_app_id: 'A000000001',
    is_enterprise_install: 'false',
    response_url: fields.responseUrl,
    trigger_id: fields.triggerId,
  }).toString();
}

/** A button press, as the `payload=` form field Slack sends for block_actions. */
export function blockActionBody(fields: { user: FakeUser; teamId: string; channel: string; messageTs: string; actionId: string; triggerId: string; responseUrl: string }): string {
  const payload = {
    type: 'block_actions',
    user: { id: fields.user.id, username: fields.user.name, name: fields.user.name, team_id: fields.teamId },
    api_app_id: 'A000000001',
    token: 'verification-token-unused',
    container: { type: 'message', message_ts: fields.messageTs, channel_id: fields.channel, is_ephemeral: false },
    trigger_id: fields.triggerId,
    team: { id: fields.teamId, domain: 'atelier-test' },
    channel: { id: fields.channel, name: 'general' },
    message: { type: 'message', ts: fields.messageTs },
    response_url: fields.responseUrl,
    actions: [{ type: 'button', action_id: fields.actionId, block_id: 'buttons-0', value: fields.actionId, text: { type: 'plain_text', text: 'x' }, action_ts: `${Date.now() / 1000}` }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A modal submission, as the `payload=` form field Slack sends for view_submission. */
export function viewSubmissionBody(fields: { user: FakeUser; teamId: string; view: { id: string; callback_id: string; private_metadata: string; blocks?: unknown[] }; values: Record<string, Record<string, unknown>> }): string {
  const payload = {
    type: 'view_submission',
    team: { id: fields.teamId, domain: 'atelier-test' },
    user: { id: fields.user.id, username: fields.user.name, name: fields.user.name, team_id: fields.teamId },
    api_app_id: 'A000000001',
    token: 'verification-token-unused',
    trigger_id: `${Date.now()}.trigger`,
    // Slack sends the view back whole, its blocks included (the captured payload in talosgh/omega-slackbot:tmp.py).
    view: { id: fields.view.id, team_id: fields.teamId, type: 'modal', callback_id: fields.view.callback_id, private_metadata: fields.view.private_metadata, blocks: fields.view.blocks ?? [], state: { values: fields.values }, hash: 'h', app_id: 'A000000001', bot_id: 'B000000001' },
    response_urls: [],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A message shortcut, as the `payload=` form field Slack sends for message_action: callback_id, trigger_id,
 * response_url, the channel, and the whole message it was used on, files included (docs.slack.dev shortcuts
 * interaction payload; @slack/bolt MessageShortcut).
 */
export function messageShortcutBody(fields: { user: FakeUser; teamId: string; channel: string; callbackId: string; triggerId: string; responseUrl: string; message: { ts: string; user: string; text?: string; files?: unknown[] } }): string {
  const payload = {
    type: 'message_action',
    token: 'verification-token-unused',
    action_ts: `${Date.now() / 1000}`,
    team: { id: fields.teamId, domain: 'atelier-test' },
    user: { id: fields.user.id, name: fields.user.name, username: fields.user.name, team_id: fields.teamId },
    channel: { id: fields.channel, name: 'general' },
    is_enterprise_install: false,
    enterprise: null,
    callback_id: fields.callbackId,
    trigger_id: fields.triggerId,
    response_url: fields.responseUrl,
    message_ts: fields.message.ts,
    message: { type: 'message', text: fields.message.text ?? '', user: fields.message.user, ts: fields.message.ts, ...(fields.message.files ? { files: fields.message.files, upload: true } : {}) },
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
