import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { blockKitProblems, checkCall, GENERIC_ERRORS, loadMethodSpecs, viewProblems } from './method-specs.ts';

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  /** The emulator's answer (or the injected fault). */
  answer: Record<string, unknown>;
  /** When the call arrived (ms since the epoch): to check Retry-After was waited out. */
  at: number;
}

/**
 * The role flags of Slack's user object. Slack's users.info answer carries each of them as a boolean for every
 * user (slackapi/slack-api-specs, web-api/slack_web_openapi_v2.json: users.info's typical success response and
 * objs_user); the emulator (emulate@0.12.2, formatUser) answers with is_admin and is_bot only.
 */
export interface SlackRoles {
  is_admin?: boolean;
  is_owner?: boolean;
  is_primary_owner?: boolean;
  is_restricted?: boolean;
  is_ultra_restricted?: boolean;
}
const NO_ROLES: Required<SlackRoles> = { is_admin: false, is_owner: false, is_primary_owner: false, is_restricted: false, is_ultra_restricted: false };

export type Fault = ({ retryAfter: number } | { error: string }) & {
  /** Only calls whose arguments match; others pass through untouched. */
  when?: (args: Record<string, unknown>) => boolean;
};

/**
 * A loopback proxy in front of the emulator: every Web API call is checked against the vendored
 * method specs (a violation is answered `invalid_arguments` and recorded, so a test fails on it),
 * faults are injected on request (`ratelimited` with Retry-After, or any error the method documents),
 * `apps.connections.open` is answered for the Socket Mode fake, and `response_url` posts are captured.
 */
export class SlackApiProxy {
  readonly calls: RecordedCall[] = [];
  readonly violations: string[] = [];
  readonly responses: { id: string; body: Record<string, unknown> }[] = [];
  socketUrl: string | undefined;
  private readonly specs = loadMethodSpecs();
  private readonly faults = new Map<string, Fault[]>();
  private server: Server | undefined;
  url = '';
  target = '';
  /**
   * Tokens Slack knows, with their scopes. The emulator answers auth.test for any token; Slack answers
   * `invalid_auth` (docs.slack.dev/reference/methods/auth.test, errors). Slack lists a token's scopes in the
   * `x-oauth-scopes` header of each answer (docs.slack.dev/authentication/tokens; @slack/web-api's WebClient
   * reads that header into response_metadata.scopes).
   */
  readonly tokens = new Map<string, string[]>();
  /** Each user's roles by id: users.info answers carry all the flags, as Slack's do (see SlackRoles). */
  readonly roles = new Map<string, SlackRoles>();

  /** The next `times` calls of `method` fail as Slack would fail them. */
  failNext(method: string, fault: Fault, times = 1): void {
    if ('error' in fault && !GENERIC_ERRORS.has(fault.error) && !(fault.error in (this.specs.get(method)?.errors ?? {}))) {
      throw new Error(`${method} does not document the error ${fault.error}`);
    }
    this.faults.set(method, [...(this.faults.get(method) ?? []), ...Array<Fault>(times).fill(fault)]);
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  async listen(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req).then(
        ({ status, headers, body }) => {
          res.writeHead(status, headers);
          res.end(body);
        },
        (err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; headers: Record<string, string>; body: Buffer | string }> {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const raw = Buffer.concat(chunks);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const json = (body: unknown, status = 200, extra: Record<string, string> = {}) => ({ status, headers: { 'content-type': 'application/json', ...extra }, body: JSON.stringify(body) });

    const response = /^\/_response\/([\w-]+)$/.exec(path);
    if (response) {
      this.responses.push({ id: response[1]!, body: JSON.parse(raw.toString('utf8')) as Record<string, unknown> });
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' };
    }
    const m = /^\/api\/([\w.]+)$/.exec(path);
    if (!m) return this.forward(req, raw);
    const method = m[1]!;
    const args = parseArgs(req.headers['content-type'] ?? '', raw);
    const at = Date.now();
    const record = (answer: Record<string, unknown>) => this.calls.push({ method, args, answer, at });

    if (method === 'apps.connections.open') {
      const answer = this.socketUrl ? { ok: true, url: this.socketUrl } : { ok: false, error: 'invalid_auth' };
      record(answer);
      return json(answer);
    }
    // views.generateTriggerId is the emulator's own test helper, not a Slack method.
    if (method !== 'views.generateTriggerId') {
      const problems = checkCall(this.specs, method, args, Boolean(req.headers.authorization));
      if (args.blocks !== undefined) problems.push(...blockKitProblems(method, args.blocks));
      if (args.view !== undefined) problems.push(...viewProblems(method, args.view));
      if (problems.length) {
        this.violations.push(...problems);
        const answer = { ok: false, error: 'invalid_arguments', problems };
        record(answer);
        return json(answer);
      }
    }
    const queue = this.faults.get(method) ?? [];
    const at2 = queue.findIndex((f) => !f.when || f.when(args));
    const fault = at2 >= 0 ? queue.splice(at2, 1)[0] : undefined;
    if (fault) {
      if ('retryAfter' in fault) {
        const answer = { ok: false, error: 'ratelimited' };
        record(answer);
        return json(answer, 429, { 'retry-after': String(fault.retryAfter) });
      }
      const answer = { ok: false, error: fault.error };
      record(answer);
      return json(answer);
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (method === 'auth.test' && this.tokens.size && !(token && this.tokens.has(token))) {
      const answer = { ok: false, error: 'invalid_auth' };
      record(answer);
      return json(answer);
    }
    const out = method === 'users.info' ? withRoles(await this.forward(req, raw), this.roles) : await this.forward(req, raw);
    const scopes = token ? this.tokens.get(token) : undefined;
    if (scopes) out.headers['x-oauth-scopes'] = scopes.join(',');
    try {
      record(JSON.parse(out.body.toString()) as Record<string, unknown>);
    } catch {
      record({ ok: false, error: 'unreadable answer' });
    }
    return out;
  }

  private async forward(req: IncomingMessage, raw: Buffer) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
    const res = await fetch(new URL(req.url ?? '/', this.target), { method: req.method ?? 'GET', headers, ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: raw as unknown as BodyInit }) });
    const body = Buffer.from(await res.arrayBuffer());
    const answerHeaders: Record<string, string> = { 'content-type': res.headers.get('content-type') ?? 'application/octet-stream' };
    return { status: res.status, headers: answerHeaders, body };
  }
}

/** A users.info answer with every role flag Slack sends: the user's own, false for the rest. */
function withRoles<T extends { body: Buffer }>(out: T, roles: ReadonlyMap<string, SlackRoles>): T {
  const answer = JSON.parse(out.body.toString('utf8')) as { ok?: boolean; user?: { id?: string } & SlackRoles };
  if (!answer.ok || !answer.user?.id) return out;
  answer.user = { ...answer.user, ...NO_ROLES, ...(answer.user.is_admin ? { is_admin: true } : {}), ...roles.get(answer.user.id) };
  return { ...out, body: Buffer.from(JSON.stringify(answer)) };
}

/** Web API calls come form-encoded (objects as JSON strings) or as JSON. */
function parseArgs(contentType: string, raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8');
  if (!text) return {};
  if (contentType.includes('application/json')) return JSON.parse(text) as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(text));
}
