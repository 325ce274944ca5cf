import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import type { Logger } from '../../core/ports.ts';
import type { HttpServer, RawRequest, RawResponse } from '../../server.ts';
import type { ReplayGuard } from '../replay-guard.ts';
import { signatureHeadersProblem, verifySlackSignature } from './signature.ts';

/**
 * The largest thing Slack posts is a view submission carrying its whole view: views are at most 250 kB
 * (views.open's `view_too_large`), and form encoding can triple that. 1 MiB covers it.
 */
export const MAX_SLACK_BODY_BYTES = 1024 * 1024;

export interface HttpReceiverOptions {
  server: HttpServer;
  signingSecret: string;
  path: string;
  logger: Logger;
  /** Remembers signatures and trigger ids for the signature window, so a replayed request does nothing twice. */
  replays: ReplayGuard;
  /** Slack gives up after 3 s; answer an empty 200 before that if a listener never acks. */
  ackTimeoutMs?: number;
  now?: () => number;
}

/**
 * Bolt's receiver on the shared HTTP server. It verifies the signature on the raw body itself (Bolt's
 * built-in check accepts timestamps in the future), answers url_verification and ssl_check, and
 * answers Slack as soon as a listener calls ack(), not when the listener finishes.
 */
export class SlackHttpReceiver implements Receiver {
  private app: App | undefined;
  private stopped = true;
  private readonly ackTimeoutMs: number;

  constructor(private readonly options: HttpReceiverOptions) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 2500;
    options.server.route('POST', options.path, (req) => this.handle(req), {
      maxBodyBytes: MAX_SLACK_BODY_BYTES,
      precheck: (h) => (signatureHeadersProblem({ signature: h['x-slack-signature'], timestamp: h['x-slack-request-timestamp'] }) ? 'invalid signature' : undefined),
    });
  }

  init(app: App): void {
    this.app = app;
  }

  async start(): Promise<void> {
    this.stopped = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  private async handle(req: RawRequest): Promise<RawResponse> {
    const log = this.options.logger;
    const check = verifySlackSignature(
      this.options.signingSecret,
      { signature: req.headers['x-slack-signature'], timestamp: req.headers['x-slack-request-timestamp'] },
      req.body,
      Math.floor((this.options.now?.() ?? Date.now()) / 1000),
    );
    if (!check.ok) {
      log.warn({ reason: check.reason }, 'slack request refused: bad signature');
      return { status: 401, body: { error: 'invalid signature' } };
    }
    if (this.stopped || !this.app) return { status: 503, body: { error: 'not running' } };

    let parsed: unknown;
    try {
      parsed = parseBody(req);
    } catch {
      log.warn({}, 'slack request refused: unreadable body');
      return { status: 400, body: { error: 'unreadable body' } };
    }
    // Signed yet malformed (payload=null, an action without its user): refused here, before a listener trips on it.
    const problem = malformed(parsed);
    if (problem || !isRecord(parsed)) {
      log.warn({ problem }, 'slack request refused: malformed payload');
      return { status: 400, body: { error: `malformed payload: ${problem}` } };
    }
    const body = parsed;
    // Slack's periodic certificate check carries no work.
    if (body.ssl_check) return { status: 200 };
    if (body.type === 'url_verification') return { status: 200, body: { challenge: body.challenge } };
    if (!(await this.options.replays.firstTime(replayKeys(req, body)))) {
      log.warn({ type: body.type ?? body.command }, 'slack request ignored: a replay of one already received');
      return { status: 200 };
    }

    const app = this.app;
    return new Promise<RawResponse>((resolve) => {
      let done = false;
      const finish = (out: RawResponse) => {
        if (done) return false;
        done = true;
        clearTimeout(timer);
        resolve(out);
        return true;
      };
      const timer = setTimeout(() => {
        if (finish({ status: 200 })) log.warn({ type: body.type ?? body.command }, 'slack listener did not ack in time; answered empty');
      }, this.ackTimeoutMs);
      const event: ReceiverEvent = {
        body,
        ...retryInfo(req),
        ack: async (response?: unknown) => {
          if (!finish(toResponse(response))) log.debug({}, 'slack ack after the answer was sent; ignored');
        },
      };
      app.processEvent(event).catch((err: unknown) => {
        log.error({ err }, 'slack listener failed');
        // Nothing acked: a 500 lets Slack show its own error (events are retried by Slack).
        finish({ status: 500 });
      });
    });
  }
}

function parseBody(req: RawRequest): unknown {
  const type = String(req.headers['content-type'] ?? '');
  const text = req.body.toString('utf8');
  if (type.includes('application/json')) return JSON.parse(text);
  const form = Object.fromEntries(new URLSearchParams(text));
  // Interactivity arrives as one form field holding JSON.
  if (typeof form.payload === 'string') return JSON.parse(form.payload);
  return form;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Interactivity payloads whose listeners act for a person: Slack always says who. */
const NEEDS_USER = new Set(['block_actions', 'view_submission', 'view_closed', 'shortcut', 'message_action', 'block_suggestion']);

/** What is missing from a body every listener relies on, or undefined when it has the shape Slack documents. */
function malformed(body: unknown): string | undefined {
  if (!isRecord(body)) return 'the body is not an object';
  if (typeof body.type === 'string' && NEEDS_USER.has(body.type)) {
    if (!isRecord(body.user) || typeof body.user.id !== 'string' || !body.user.id) return `${body.type} without a user`;
  }
  if (body.command !== undefined) {
    for (const field of ['command', 'text', 'user_id', 'channel_id'] as const) if (typeof body[field] !== 'string') return `slash command without ${field}`;
  }
  return undefined;
}

/** The request's signature (unique to its bytes and time) and, when present, its one-use trigger id. */
function replayKeys(req: RawRequest, body: Record<string, unknown>): string[] {
  const keys = [`slack:signature:${String(req.headers['x-slack-request-timestamp'])}:${String(req.headers['x-slack-signature'])}`];
  if (typeof body.trigger_id === 'string' && body.trigger_id.length <= 256) keys.push(`slack:trigger:${body.trigger_id}`);
  return keys;
}

function retryInfo(req: RawRequest): Pick<ReceiverEvent, 'retryNum' | 'retryReason'> {
  const num = req.headers['x-slack-retry-num'];
  const reason = req.headers['x-slack-retry-reason'];
  return {
    ...(typeof num === 'string' && /^\d+$/.test(num) ? { retryNum: Number(num) } : {}),
    ...(typeof reason === 'string' ? { retryReason: reason } : {}),
  };
}

function toResponse(response: unknown): RawResponse {
  if (response === undefined || response === null || response === '') return { status: 200 };
  if (typeof response === 'string') return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: response };
  return { status: 200, body: response };
}
