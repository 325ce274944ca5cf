import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { Request as UndiciRequest } from 'undici';
import type { APIAttachment, APIInteraction, APIMessage } from 'discord-api-types/v10';
import { discordSpec } from './openapi.ts';
import { checkMessageLimits } from './limits.ts';
import { FakeGateway } from './gateway.ts';
import { CHANNEL_ID, GUILD_ID, snowflake } from './interactions.ts';

/** A message as the fake keeps it: what users of the channel would see. */
export interface FakeMessage {
  id: string;
  channelId: string;
  content: string;
  components: { type: number; components: { type: number; custom_id?: string; label?: string; emoji?: { name?: string } }[] }[];
  attachments: { id: string; filename: string; size: number; content_type?: string }[];
  /** Embeds as last written (the bot's thumbnails of a user's pictures). */
  embeds: { description?: string; thumbnail?: { url?: string } }[];
  flags: number;
  ephemeral: boolean;
  /** The user an ephemeral message is shown to. */
  visibleTo?: string;
  /** Users this message pinged when it was created. */
  pings: string[];
  /** The deferred "thinking…" state: set by a type 5 answer, cleared by the first edit. */
  loading: boolean;
  deleted: boolean;
  dm: boolean;
  edits: number;
  /** Interaction token that created it, if any. */
  token?: string;
}

interface FakeInteraction {
  id: string;
  token: string;
  userId: string;
  channelId: string;
  type: number;
  /** The message a component sits on. */
  sourceMessageId?: string;
  acked?: number;
  originalId?: string;
  modal?: { custom_id: string; title: string; components: unknown[] };
  expired: boolean;
  answered: Promise<Record<string, unknown>>;
  resolveAnswer: (body: Record<string, unknown>) => void;
}

export interface LoggedRequest {
  method: string;
  path: string;
  route?: string;
  status: number;
  auth: 'bot' | 'none';
  files: number;
}

export interface FakeDiscordOptions {
  applicationId?: string;
  botToken?: string;
  /** Per-route bucket: requests allowed per window before 429. */
  rateLimit?: { limit: number; windowMs: number };
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const MAX_REQUEST_BYTES = 25 * 1024 * 1024;

/**
 * A loopback Discord: REST under /api/v10 and a gateway on the same port. Every request is checked
 * against Discord's OpenAPI spec (closed objects), the documented limits and multipart rules, and
 * answered as Discord does, errors included. Anything refused is also recorded in `violations`, so a
 * test can assert the bot never sent Discord something it would reject.
 */
export class FakeDiscord {
  readonly applicationId: string;
  readonly botToken: string;
  readonly keys: { publicKeyHex: string; privateKey: KeyObject };
  readonly messages = new Map<string, FakeMessage>();
  readonly violations: string[] = [];
  readonly requests: LoggedRequest[] = [];
  /** Every file a message took in (a `files[n]` part Discord stored), in order: counts what was uploaded where. */
  readonly uploads: { messageId: string; filename: string; size: number }[] = [];
  readonly commands = new Map<string, unknown[]>();
  /** Per-file upload cap this "guild" has (Discord's default 10 MiB). */
  attachmentLimit = 10 * 1024 * 1024;
  /** Channels where the bot lacks Attach Files. */
  readonly noAttach = new Set<string>();
  /** Users who do not accept DMs. */
  readonly dmClosed = new Set<string>();
  /** Called on every message change (drivers wait on it). */
  onChange: () => void = () => {};
  /** Where HTTP-mode interactions are POSTed. */
  interactionsUrl?: string;
  /** Servers the bot has been added to (GET /users/@me/guilds); empty until someone invites it. */
  botGuilds: string[] = [GUILD_ID];
  readonly gateway: FakeGateway;

  /** Files users attached, served by the CDN: by attachment id. */
  private readonly hosted = new Map<string, { bytes: Uint8Array; contentType?: string; filename: string; channelId: string; expiresAt: number }>();
  private readonly cdnKey = randomBytes(32);
  private cdnServer?: Server;
  /** The attachment CDN's origin (Discord's cdn.discordapp.com): its own loopback port, as it is its own host. */
  cdnUrl = '';
  /** GETs the CDN answered, with their status (a test checks what was fetched, and that expired links gave 404). */
  readonly cdnRequests: { path: string; status: number }[] = [];

  private server?: Server;
  private readonly interactions = new Map<string, FakeInteraction>();
  private readonly byToken = new Map<string, FakeInteraction>();
  private readonly buckets = new Map<string, { count: number; resetAt: number }>();
  private readonly dmChannels = new Map<string, string>();
  private readonly rateLimit: { limit: number; windowMs: number };
  url = '';

  constructor(opts: FakeDiscordOptions = {}) {
    this.applicationId = opts.applicationId ?? '200000000000000001';
    this.botToken = opts.botToken ?? 'fake-bot-token';
    this.rateLimit = opts.rateLimit ?? { limit: 5, windowMs: 5_000 };
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    this.keys = { publicKeyHex: Buffer.from(spki.subarray(spki.length - 32)).toString('hex'), privateKey };
    this.gateway = new FakeGateway(this.applicationId, this.botToken);
  }

  get apiUrl(): string {
    return `${this.url}/api`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.violations.push(`fake crashed on ${req.method} ${req.url}: ${String(err)}`);
        if (!res.headersSent) res.writeHead(500, JSON_HEADERS);
        res.end(JSON.stringify({ message: 'fake crashed', code: 0 }));
      });
    });
    this.server.on('upgrade', (req, socket, head) => this.gateway.upgrade(req, socket, head));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.gateway.url = this.url.replace('http', 'ws');
    this.cdnServer = createServer((req, res) => this.serveCdn(req, res));
    await new Promise<void>((r) => this.cdnServer!.listen(0, '127.0.0.1', () => r()));
    this.cdnUrl = `http://127.0.0.1:${(this.cdnServer.address() as AddressInfo).port}`;
  }

  /**
   * A file a user attaches to a command, as Discord hosts it: the attachment object an interaction carries in
   * `data.resolved.attachments` (discord-api-types `APIAttachment`; spec `AttachmentResponse`: id, filename,
   * size, url, proxy_url required, content_type when Discord can tell), its `url` on the CDN, signed and
   * expiring. `contentType` is what Discord declares, which need not match the bytes.
   */
  hostAttachment(file: { name: string; bytes: Uint8Array; contentType?: string }, opts: { channelId?: string; ttlMs?: number } = {}): APIAttachment {
    const id = snowflake();
    const channelId = opts.channelId ?? CHANNEL_ID;
    const expiresAt = Date.now() + (opts.ttlMs ?? 24 * 3600_000);
    this.hosted.set(id, { bytes: file.bytes, ...(file.contentType ? { contentType: file.contentType } : {}), filename: file.name, channelId, expiresAt });
    const url = this.signedUrl(channelId, id, file.name, expiresAt);
    return { id, filename: file.name, size: file.bytes.byteLength, url, proxy_url: url, ...(file.contentType ? { content_type: file.contentType } : {}) };
  }

  /** Every attachment link handed out so far stops working now (Discord's signed links expire; ours at once). */
  expireAttachments(): void {
    for (const f of this.hosted.values()) f.expiresAt = 0;
  }

  /**
   * Discord's signed attachment URLs: `/attachments/{channel}/{attachment}/{filename}?ex=…&is=…&hm=…&`, `ex` the
   * expiry and `is` the issue time as hex Unix seconds, `hm` a signature over them (discord-api-docs
   * Reference.md "Signed Attachment CDN URLs", added in discord/discord-api-docs#6650; the parameters'
   * meanings as read by clients in Zeptosec/Thermastore#10 and ClearURLs/Rules#312). The signature here is an
   * HMAC of our own: Discord's algorithm is not public, and nothing outside the fake checks it.
   */
  private signedUrl(channelId: string, id: string, filename: string, expiresAt: number): string {
    const ex = Math.floor(expiresAt / 1000).toString(16);
    const is = Math.floor(Date.now() / 1000).toString(16);
    const path = `/attachments/${channelId}/${id}/${encodeURIComponent(filename)}`;
    return `${this.cdnUrl}${path}?ex=${ex}&is=${is}&hm=${this.sign(path, ex, is)}&`;
  }

  private sign(path: string, ex: string, is: string): string {
    return createHmac('sha256', this.cdnKey).update(`${path}|${ex}|${is}`).digest('hex');
  }

  /**
   * An expired, unsigned or tampered link is a 404 with "This content is no longer available." (the text users
   * report: Zeptosec/Thermastore#10, denisnumb/discord-chat-mod#23); a live one is the file with its type.
   */
  private serveCdn(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://cdn');
    const gone = (status = 404) => {
      this.cdnRequests.push({ path: url.pathname, status });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end('This content is no longer available.');
    };
    const m = /^\/attachments\/(\d+)\/(\d+)\/[^/]+$/.exec(url.pathname);
    const file = m ? this.hosted.get(m[2]!) : undefined;
    if (req.method !== 'GET' || !m || !file || file.channelId !== m[1]) return gone();
    const [ex, is, hm] = ['ex', 'is', 'hm'].map((k) => url.searchParams.get(k) ?? '');
    if (!ex || !is || hm !== this.sign(url.pathname, ex, is)) return gone();
    if (parseInt(ex, 16) * 1000 < Date.now() || file.expiresAt <= Date.now()) return gone();
    this.cdnRequests.push({ path: url.pathname, status: 200 });
    res.writeHead(200, { 'content-type': file.contentType ?? 'application/octet-stream', 'content-length': String(file.bytes.byteLength) });
    res.end(Buffer.from(file.bytes));
  }

  async stop(): Promise<void> {
    this.gateway.close();
    const cdn = this.cdnServer;
    this.cdnServer = undefined;
    if (cdn) {
      cdn.closeAllConnections();
      await new Promise<void>((r) => cdn.close(() => r()));
    }
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  /** Every reply token issued so far stops working (Discord's 15 minutes, now). */
  expireTokens(): void {
    for (const i of this.interactions.values()) i.expired = true;
  }

  /** Registers an interaction the fake is about to deliver, so its token and answers can be tracked. */
  register(i: APIInteraction): void {
    let resolveAnswer!: (b: Record<string, unknown>) => void;
    const answered = new Promise<Record<string, unknown>>((r) => (resolveAnswer = r));
    const user = i.member?.user ?? i.user;
    const rec: FakeInteraction = {
      id: i.id,
      token: i.token,
      userId: user?.id ?? '0',
      channelId: i.channel?.id ?? '',
      type: i.type,
      sourceMessageId: 'message' in i && i.message ? i.message.id : undefined,
      expired: false,
      answered,
      resolveAnswer,
    };
    this.interactions.set(i.id, rec);
    this.byToken.set(i.token, rec);
  }

  /** HTTP mode: signs and POSTs an interaction to the app, applies its answer as Discord would. */
  async post(i: APIInteraction, signing: 'valid' | 'forged' | 'stale' | 'future' = 'valid'): Promise<{ status: number; body?: Record<string, unknown> }> {
    if (!this.interactionsUrl) throw new Error('interactionsUrl is not set');
    this.register(i);
    const body = JSON.stringify(i);
    const skew = signing === 'stale' ? -600 : signing === 'future' ? 600 : 0;
    const timestamp = String(Math.floor(Date.now() / 1000) + skew);
    const key = signing === 'forged' ? generateKeyPairSync('ed25519').privateKey : this.keys.privateKey;
    const signature = sign(null, Buffer.from(timestamp + body), key).toString('hex');
    const res = await fetch(this.interactionsUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature-ed25519': signature, 'x-signature-timestamp': timestamp }, body, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    if (res.status !== 200) return { status: res.status };
    const answer = JSON.parse(text) as Record<string, unknown>;
    const problem = this.applyAnswer(i.id, answer);
    if (problem) this.violations.push(`interaction answer refused: ${problem}`);
    return { status: 200, body: answer };
  }

  /** Gateway mode: dispatches an interaction and waits (Discord's 3 s) for the bot's callback. */
  async dispatch(i: APIInteraction): Promise<Record<string, unknown> | undefined> {
    this.register(i);
    this.gateway.dispatch('INTERACTION_CREATE', i);
    const rec = this.interactions.get(i.id)!;
    const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), 3_000).unref());
    const answer = await Promise.race([rec.answered, timeout]);
    if (!answer) this.violations.push(`interaction ${i.id} was not answered within 3 s ("The application did not respond")`);
    return answer;
  }

  /** A message as an interaction payload would embed it (for button presses). */
  apiMessage(id: string): APIMessage {
    const m = this.messages.get(id);
    if (!m) throw new Error(`no message ${id}`);
    return this.toApi(m);
  }

  /** The modal an interaction answered with, if any. */
  modalOf(interactionId: string): FakeInteraction['modal'] {
    return this.interactions.get(interactionId)?.modal;
  }

  private applyAnswer(interactionId: string, answer: Record<string, unknown>): string | undefined {
    const rec = this.interactions.get(interactionId);
    if (!rec) return `unknown interaction ${interactionId}`;
    const check = discordSpec().check('POST', `/interactions/${rec.id}/${rec.token}/callback`, answer);
    if (!check.ok) return `callback body: ${check.errors.join('; ')}`;
    if (rec.acked !== undefined) return 'already acknowledged (40060)';
    const type = answer.type as number;
    const data = (answer.data ?? {}) as Record<string, unknown>;
    if (type === 1 && rec.type !== 1) return 'PONG to something that is not a PING';
    if (type !== 1 && rec.type === 1) return 'a PING must be answered with PONG';
    if (type === 9 && rec.type === 5) return 'a modal cannot answer a modal submit';
    if ((type === 6 || type === 7) && rec.type !== 3 && !(rec.type === 5 && rec.sourceMessageId)) return `type ${type} is only for component interactions`;
    const limits = checkMessageLimits(data);
    if (limits.length) return limits.join('; ');
    rec.acked = type;
    if (type === 4 || type === 5) {
      const flags = Number(data.flags ?? 0);
      const m = this.create(rec.channelId, type === 4 ? data : { content: '' }, flags, rec.userId, rec.token);
      m.loading = type === 5;
      rec.originalId = m.id;
    } else if (type === 6 || type === 7) {
      rec.originalId = rec.sourceMessageId;
      if (type === 7 && rec.sourceMessageId) this.edit(this.messages.get(rec.sourceMessageId)!, data);
    } else if (type === 9) {
      rec.modal = data as FakeInteraction['modal'];
    }
    rec.resolveAnswer(answer);
    this.onChange();
    return undefined;
  }

  private create(channelId: string, body: Record<string, unknown>, flags: number, userId: string, token?: string, dm = false, uploads: Upload[] = []): FakeMessage {
    const ephemeral = (flags & 64) !== 0;
    const m: FakeMessage = {
      id: snowflake(),
      channelId,
      content: '',
      components: [],
      attachments: [],
      embeds: [],
      flags,
      ephemeral,
      ...(ephemeral ? { visibleTo: userId } : {}),
      pings: [],
      loading: false,
      deleted: false,
      dm,
      edits: 0,
      ...(token ? { token } : {}),
    };
    this.messages.set(m.id, m);
    this.write(m, body, uploads);
    m.pings = pingsOf(m.content, body.allowed_mentions as Mentions | undefined);
    m.edits = 0;
    return m;
  }

  private edit(m: FakeMessage, body: Record<string, unknown>): void {
    this.write(m, body);
    m.loading = false;
    m.edits++;
  }

  /**
   * What Discord refuses in a write's `attachments`: each entry names either a `files[n]` part of this request (its
   * index) or an attachment the message already has (its id), and nothing else. An unknown id is refused with
   * 50035 Invalid Form Body (the spec's MessageAttachmentRequest: `id` required, a snowflake; discord-api-types
   * RESTPatchAPIChannelMessageJSONBody: "the attachments array must contain all attachments that should be present
   * after edit, including retained and new attachments"), never silently dropped.
   */
  private attachmentProblems(m: FakeMessage | undefined, body: Record<string, unknown>, uploads: Upload[]): string[] {
    if (!Array.isArray(body.attachments)) return [];
    const out: string[] = [];
    for (const [k, a] of (body.attachments as { id?: unknown }[]).entries()) {
      const id = String(a?.id);
      if (uploads.some((u) => u.index === id) || m?.attachments.some((x) => x.id === id)) continue;
      out.push(`attachments[${k}].id ${id} is neither a files[n] part of this request nor an attachment of the message`);
    }
    return out;
  }

  /** A write refused for its attachments: recorded as a violation, answered as Discord answers. */
  private refuse(what: string, problems: string[]): { status: number; body: unknown } {
    this.violations.push(`${what}: ${problems.join('; ')}`);
    return { status: 400, body: { message: 'Invalid Form Body', code: 50035, errors: problems } };
  }

  /**
   * A message's files after a write. With `attachments`, exactly those stay: kept ones by id, new ones by upload
   * index; an existing attachment the list omits is removed. Without it, existing files stay and uploads are
   * appended. (Discord's Edit Message: "attachments: attached files to keep"; discord.js MessageEditOptions:
   * "All attachments will be kept if omitted"; serenity EditAttachments: once the list is supplied, "Discord removes
   * all attachments from the message" not in it.)
   */
  private write(m: FakeMessage, body: Record<string, unknown>, uploads: Upload[] = []): void {
    if (typeof body.content === 'string') m.content = body.content;
    if (Array.isArray(body.components)) m.components = body.components as FakeMessage['components'];
    if (Array.isArray(body.embeds)) m.embeds = body.embeds as FakeMessage['embeds'];
    if (Array.isArray(body.attachments)) {
      const kept = m.attachments;
      m.attachments = (body.attachments as { id: string | number; filename?: string }[]).map((a) => {
        const up = uploads.find((u) => u.index === String(a.id));
        if (up) return { id: snowflake(), filename: a.filename ?? up.filename, size: up.size, content_type: up.contentType };
        // attachmentProblems refused the request before any write for an id the message does not have.
        return kept.find((k) => k.id === String(a.id))!;
      });
    } else if (uploads.length) {
      m.attachments = [...m.attachments, ...uploads.map((u) => ({ id: snowflake(), filename: u.filename, size: u.size, content_type: u.contentType }))];
    }
    for (const u of uploads) this.uploads.push({ messageId: m.id, filename: u.filename, size: u.size });
  }

  private toApi(m: FakeMessage): APIMessage {
    return {
      id: m.id,
      channel_id: m.channelId,
      author: { id: this.applicationId, username: 'Atelier', discriminator: '0', global_name: null, avatar: null, bot: true },
      content: m.content,
      timestamp: new Date().toISOString(),
      edited_timestamp: m.edits ? new Date().toISOString() : null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: m.attachments.map((a) => ({ ...a, url: `${this.url}/attachments/${a.id}/${a.filename}`, proxy_url: `${this.url}/attachments/${a.id}/${a.filename}` })),
      embeds: [],
      pinned: false,
      type: 0,
      flags: m.flags,
      components: m.components as APIMessage['components'],
    };
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      chunks.push(c);
    }
    const raw = Buffer.concat(chunks);
    const m = /^\/api\/v(\d+)(\/.*)$/.exec(url.pathname);
    if (!m || m[1] !== '10') return this.send(res, method, url.pathname, 404, { message: '404: Not Found', code: 0 });
    // Discord routes `%40original` and `@original` alike; so must we, before matching.
    const path = decodeURIComponent(m[2]!);
    const auth = req.headers.authorization === `Bot ${this.botToken}` ? 'bot' : 'none';
    const log = (status: number, route?: string, files = 0) => this.requests.push({ method, path, route, status, auth, files });

    if (size > MAX_REQUEST_BYTES) {
      log(413);
      return this.send(res, method, path, 413, { message: 'Request entity too large', code: 40005 });
    }
    let body: unknown;
    let uploads: Upload[] = [];
    const type = req.headers['content-type'] ?? '';
    try {
      if (type.startsWith('multipart/form-data')) ({ body, uploads } = await parseMultipart(raw, type));
      else if (raw.length) body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      log(400);
      this.violations.push(`${method} ${path}: unreadable body: ${String(err)}`);
      return this.send(res, method, path, 400, { message: 'Invalid Form Body', code: 50035 });
    }
    const spec = discordSpec().check(method, path, body);
    const problems = [...spec.errors];
    if (body && typeof body === 'object' && !Array.isArray(body)) problems.push(...checkMessageLimits(body as Record<string, unknown>));
    problems.push(...checkUploads(body, uploads), ...checkEmbedFiles(body));
    if (problems.length) {
      log(400, spec.route);
      this.violations.push(`${method} ${path}: ${problems.join('; ')}`);
      return this.send(res, method, path, 400, { message: 'Invalid Form Body', code: 50035, errors: problems });
    }
    if (uploads.some((u) => u.size > this.attachmentLimit)) {
      log(413, spec.route, uploads.length);
      return this.send(res, method, path, 413, { message: 'Request entity too large', code: 40005 });
    }
    const limited = this.limit(method, spec.route!, spec.params);
    if (limited) {
      log(429, spec.route);
      return this.send(res, method, path, 429, { message: 'You are being rate limited.', retry_after: limited.retryAfter, global: false }, limited.headers);
    }
    const out = this.route(method, spec.route!, spec.params, (body ?? {}) as Record<string, unknown>, uploads, auth, url.searchParams);
    log(out.status, spec.route, uploads.length);
    if (out.status >= 200 && out.status < 300) this.onChange();
    return this.send(res, method, path, out.status, out.body, this.bucketHeaders(method, spec.route!, spec.params));
  }

  private route(method: string, route: string, p: Record<string, string>, body: Record<string, unknown>, uploads: Upload[], auth: 'bot' | 'none', _q: URLSearchParams): { status: number; body?: unknown } {
    const needBot = () => (auth === 'bot' ? undefined : { status: 401, body: { message: '401: Unauthorized', code: 0 } });
    const unknownMessage = { status: 404, body: { message: 'Unknown Message', code: 10008 } };
    const key = `${method} ${route}`;
    switch (key) {
      // Doctor's questions. Shapes: Discord's user, application and partial-guild objects
      // (discord-api-docs resources/user.md, resources/application.md "Get Current Application"), checked against
      // discord-api-types' APIUser / APIApplication (`verify_key`: the interactions public key, hex) / RESTAPIPartialCurrentUserGuild.
      case 'GET /users/@me':
        return needBot() ?? { status: 200, body: { id: this.applicationId, username: 'Atelier', discriminator: '0', global_name: null, avatar: null, bot: true } };
      case 'GET /applications/@me':
        return needBot() ?? { status: 200, body: { id: this.applicationId, name: 'Atelier', icon: null, description: '', bot_public: true, bot_require_code_grant: false, verify_key: this.keys.publicKeyHex, flags: 0 } };
      case 'GET /users/@me/guilds':
        return needBot() ?? { status: 200, body: this.botGuilds.map((id) => ({ id, name: 'Atelier Test', icon: null, owner: false, permissions: '0', features: [] })) };
      case 'GET /gateway/bot':
        return needBot() ?? { status: 200, body: { url: this.gateway.url, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 } } };
      case 'GET /applications/{application_id}/commands':
      case 'GET /applications/{application_id}/guilds/{guild_id}/commands':
        return needBot() ?? { status: 200, body: this.commands.get(p.guild_id ?? 'global') ?? [] };
      case 'PUT /applications/{application_id}/commands':
      case 'PUT /applications/{application_id}/guilds/{guild_id}/commands': {
        const denied = needBot();
        if (denied) return denied;
        const stored = (body as unknown as Record<string, unknown>[]).map((c) => ({ id: snowflake(), application_id: this.applicationId, version: snowflake(), type: 1, default_member_permissions: null, nsfw: false, ...c }));
        this.commands.set(p.guild_id ?? 'global', stored);
        return { status: 200, body: stored };
      }
      case 'POST /interactions/{interaction_id}/{interaction_token}/callback': {
        const rec = this.interactions.get(p.interaction_id!);
        if (!rec || rec.token !== p.interaction_token) return { status: 404, body: { message: 'Unknown interaction', code: 10062 } };
        if (rec.acked !== undefined) return { status: 400, body: { message: 'Interaction has already been acknowledged.', code: 40060 } };
        const problem = this.applyAnswer(rec.id, body);
        if (problem) {
          this.violations.push(`callback refused: ${problem}`);
          return { status: 400, body: { message: problem, code: 50035 } };
        }
        return { status: 204 };
      }
      case 'PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original':
      case 'PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}':
      case 'DELETE /webhooks/{webhook_id}/{webhook_token}/messages/@original':
      case 'DELETE /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}':
      case 'POST /webhooks/{webhook_id}/{webhook_token}': {
        const rec = this.byToken.get(p.webhook_token!);
        if (p.webhook_id !== this.applicationId || !rec) return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
        if (rec.expired) return { status: 401, body: { message: 'Invalid Webhook Token', code: 50027 } };
        if (rec.acked === undefined) return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
        if (method === 'POST') {
          const refused = this.attachmentProblems(undefined, body, uploads);
          if (refused.length) return this.refuse(key, refused);
          const m = this.create(rec.channelId, body, Number(body.flags ?? 0), rec.userId, rec.token, false, uploads);
          return { status: 200, body: this.toApi(m) };
        }
        const id = p.message_id ?? rec.originalId;
        const m = id ? this.messages.get(id) : undefined;
        if (!m || m.deleted) return unknownMessage;
        if (method === 'DELETE') {
          m.deleted = true;
          return { status: 204 };
        }
        if (this.noAttach.has(m.channelId) && uploads.length && !m.ephemeral) return { status: 403, body: { message: 'Missing Permissions', code: 50013 } };
        const refused = this.attachmentProblems(m, body, uploads);
        if (refused.length) return this.refuse(key, refused);
        this.write(m, body, uploads);
        m.loading = false;
        m.edits++;
        return { status: 200, body: this.toApi(m) };
      }
      case 'POST /channels/{channel_id}/messages': {
        const denied = needBot();
        if (denied) return denied;
        const dmUser = [...this.dmChannels.entries()].find(([, c]) => c === p.channel_id)?.[0];
        if (dmUser && this.dmClosed.has(dmUser)) return { status: 403, body: { message: 'Cannot send messages to this user', code: 50007 } };
        if (this.noAttach.has(p.channel_id!) && uploads.length) return { status: 403, body: { message: 'Missing Permissions', code: 50013 } };
        const refused = this.attachmentProblems(undefined, body, uploads);
        if (refused.length) return this.refuse(key, refused);
        const m = this.create(p.channel_id!, body, Number(body.flags ?? 0) & ~64, '', undefined, Boolean(dmUser), uploads);
        return { status: 200, body: this.toApi(m) };
      }
      case 'PATCH /channels/{channel_id}/messages/{message_id}':
      case 'DELETE /channels/{channel_id}/messages/{message_id}': {
        const denied = needBot();
        if (denied) return denied;
        const m = this.messages.get(p.message_id!);
        // A bot cannot see ephemeral messages at all.
        if (!m || m.deleted || m.ephemeral || m.channelId !== p.channel_id) return unknownMessage;
        if (method === 'DELETE') {
          m.deleted = true;
          return { status: 204 };
        }
        if (this.noAttach.has(m.channelId) && uploads.length) return { status: 403, body: { message: 'Missing Permissions', code: 50013 } };
        const refused = this.attachmentProblems(m, body, uploads);
        if (refused.length) return this.refuse(key, refused);
        this.write(m, body, uploads);
        m.loading = false;
        m.edits++;
        return { status: 200, body: this.toApi(m) };
      }
      case 'POST /users/@me/channels': {
        const denied = needBot();
        if (denied) return denied;
        const user = String(body.recipient_id);
        const id = this.dmChannels.get(user) ?? snowflake();
        this.dmChannels.set(user, id);
        return { status: 200, body: { id, type: 1, last_message_id: null, flags: 0, recipients: [{ id: user, username: user, discriminator: '0', global_name: null, avatar: null }] } };
      }
      default:
        this.violations.push(`${key}: the fake does not implement this operation`);
        return { status: 404, body: { message: '404: Not Found', code: 0 } };
    }
  }

  /** A bucket per route and major parameter, as Discord scopes them. */
  private bucketKey(method: string, route: string, p: Record<string, string>): string {
    const major = p.channel_id ?? (p.webhook_id ? `${p.webhook_id}/${p.webhook_token}` : p.interaction_id ?? p.application_id ?? '');
    return `${method} ${route} ${major}`;
  }

  private limit(method: string, route: string, p: Record<string, string>): { retryAfter: number; headers: Record<string, string> } | undefined {
    // Interaction callbacks are not rate limited the same way; everything else shares per-route buckets.
    if (route.startsWith('/interactions/')) return undefined;
    const key = this.bucketKey(method, route, p);
    const now = Date.now();
    let b = this.buckets.get(key);
    if (!b || b.resetAt <= now) {
      b = { count: 0, resetAt: now + this.rateLimit.windowMs };
      this.buckets.set(key, b);
    }
    if (b.count >= this.rateLimit.limit) {
      const retryAfter = (b.resetAt - now) / 1000;
      return { retryAfter, headers: { ...this.bucketHeaders(method, route, p), 'retry-after': String(Math.ceil(retryAfter)), 'x-ratelimit-scope': 'user' } };
    }
    b.count++;
    return undefined;
  }

  private bucketHeaders(method: string, route: string, p: Record<string, string>): Record<string, string> {
    const b = this.buckets.get(this.bucketKey(method, route, p));
    if (!b) return {};
    const resetAfter = Math.max(0, (b.resetAt - Date.now()) / 1000);
    return {
      'x-ratelimit-limit': String(this.rateLimit.limit),
      'x-ratelimit-remaining': String(Math.max(0, this.rateLimit.limit - b.count)),
      'x-ratelimit-reset': String(b.resetAt / 1000),
      'x-ratelimit-reset-after': resetAfter.toFixed(3),
      'x-ratelimit-bucket': Buffer.from(`${method} ${route}`).toString('hex').slice(0, 16),
    };
  }

  private send(res: ServerResponse, _method: string, _path: string, status: number, body?: unknown, headers: Record<string, string> = {}): void {
    if (status === 204 || body === undefined) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    res.writeHead(status, { ...JSON_HEADERS, ...headers });
    res.end(JSON.stringify(body));
  }
}

interface Upload {
  /** n of files[n]. */
  index: string;
  filename: string;
  size: number;
  contentType?: string;
}

type Mentions = { parse?: string[]; users?: string[] };

function pingsOf(content: string, allowed: Mentions | undefined): string[] {
  const mentioned = [...content.matchAll(/<@!?(\d+)>/g)].map((m) => m[1]!);
  if (!allowed) return [...new Set(mentioned)];
  return [...new Set(mentioned.filter((id) => allowed.users?.includes(id) || allowed.parse?.includes('users')))];
}

async function parseMultipart(raw: Buffer, contentType: string): Promise<{ body: unknown; uploads: Upload[] }> {
  const form = await new UndiciRequest('http://fake/', { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(raw) }).formData();
  let body: unknown;
  const uploads: Upload[] = [];
  for (const [name, value] of form.entries()) {
    if (name === 'payload_json') {
      body = JSON.parse(typeof value === 'string' ? value : await value.text());
      continue;
    }
    const m = /^files\[(\d+)\]$/.exec(name);
    if (!m || typeof value === 'string') throw new Error(`unexpected multipart part "${name}"`);
    uploads.push({ index: m[1]!, filename: value.name, size: value.size, contentType: value.type || undefined });
  }
  return { body, uploads };
}

/**
 * An embed shows an uploaded file as `attachment://<filename>`, and the name must be one of the message's files
 * (discord-api-docs reference.mdx "Uploading Files", "Using Attachments within Embeds"; discord.py's FAQ and
 * python-discord/bot#1389: "the filename ... and the filename in the URL must match"); otherwise nothing shows.
 */
function checkEmbedFiles(body: unknown): string[] {
  const b = body as { embeds?: { thumbnail?: { url?: string }; image?: { url?: string } }[]; attachments?: { filename?: string }[] } | undefined;
  if (!Array.isArray(b?.embeds)) return [];
  const names = new Set((b.attachments ?? []).map((a) => a.filename));
  const errors: string[] = [];
  for (const [k, e] of b.embeds.entries()) {
    for (const url of [e.thumbnail?.url, e.image?.url]) {
      if (url?.startsWith('attachment://') && !names.has(url.slice('attachment://'.length))) errors.push(`embeds[${k}]: ${url} names no file of this message`);
    }
  }
  return errors;
}

/** `attachments[].id` must name a `files[n]` part (or an attachment the message keeps), and every part must be named. */
function checkUploads(body: unknown, uploads: Upload[]): string[] {
  if (!uploads.length) return [];
  const errors: string[] = [];
  const atts = (body as { attachments?: { id: string | number }[] } | undefined)?.attachments;
  if (!Array.isArray(atts)) return ['files were uploaded without an attachments array in payload_json'];
  for (const u of uploads) if (!atts.some((a) => String(a.id) === u.index)) errors.push(`files[${u.index}] has no attachments entry with id ${u.index}`);
  for (const a of atts) if (/^\d{1,2}$/.test(String(a.id)) && !uploads.some((u) => u.index === String(a.id))) errors.push(`attachments id ${a.id} has no files[${a.id}] part`);
  if (uploads.length > 10) errors.push(`${uploads.length} files; the limit is 10`);
  return errors;
}
