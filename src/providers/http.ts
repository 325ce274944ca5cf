import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Agent, FormData, request, type Dispatcher } from 'undici';
import { UserError } from '../core/errors.ts';
import type { Logger } from '../core/ports.ts';
import { silentLogger } from '../core/ports.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { ProviderHttpError } from './provider-error.ts';
import { backoffDelay, parseRetryAfter, sleep } from './timing.ts';

/** How a provider's error body reads to a person; `moderation` marks a content-policy refusal. */
export interface VendorError {
  message: string;
  moderation?: boolean;
  /** The account's credits or quota are used up: the user must top up, so neither retry nor failover helps. */
  outOfCredits?: boolean;
}

export interface HttpClientOptions {
  /** The provider's name as users know it ("all-images.ai"), used in every message. */
  provider: string;
  baseUrl: string;
  /** Auth and other fixed headers. Never logged. */
  headers?: Record<string, string>;
  /** The setting that holds the key, named when the provider refuses it. */
  keySetting?: string;
  dispatcher?: Dispatcher;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  maxResponseBytes?: number;
  /** Attempts for idempotent calls (first try included). */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A Retry-After longer than this is not waited out: the caller gets RATE_LIMITED instead. */
  maxRetryAfterMs?: number;
  breaker?: CircuitBreaker;
  readError?: (status: number, body: unknown, text: string) => VendorError;
  /** Sees every answer's status and headers (rate-limit headers a provider documents). */
  observe?: (status: number, headers: Record<string, string | string[] | undefined>) => void;
  logger?: Logger;
  random?: () => number;
}

export interface HttpCall {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  /** A multipart body (image uploads); undici writes the boundary and streams the parts. */
  form?: FormData;
  /**
   * For a 2xx `text/event-stream` answer: each server-sent event as it arrives, so progress (partial
   * images) shows while the provider works. The call then resolves with undefined.
   */
  onEvent?: (event: EventSourceMessage) => void;
  /** Overrides the client's response cap (answers that carry images as base64). */
  maxResponseBytes?: number;
  /**
   * Safe to repeat. False for billable creates: those are retried only when the request provably never
   * left (connection refused) or the provider said 429 (it refused, so nothing was made).
   */
  idempotent: boolean;
  signal?: AbortSignal;
  /** Overrides the client's header timeout (synchronous generation endpoints answer slowly). */
  headersTimeoutMs?: number;
}

export interface HttpClient {
  readonly provider: string;
  readonly baseUrl: string;
  readonly breaker: CircuitBreaker;
  call<T = unknown>(call: HttpCall): Promise<T>;
  close(): Promise<void>;
}

const DEFAULTS = {
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 30_000,
  bodyTimeoutMs: 30_000,
  maxResponseBytes: 2 * 1024 * 1024,
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 30_000,
} as const;

/** Network failures that happen before a request is written, so even a create may be repeated. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** One provider's HTTP client: its own connection pool, timeouts, retries, circuit breaker and size cap. */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const o = { ...DEFAULTS, ...stripUndefined(options) };
  const ownsDispatcher = !options.dispatcher;
  const dispatcher =
    options.dispatcher ??
    new Agent({ connect: { timeout: o.connectTimeoutMs }, headersTimeout: o.headersTimeoutMs, bodyTimeout: o.bodyTimeoutMs, connections: 16 });
  const breaker = options.breaker ?? new CircuitBreaker();
  const log = options.logger ?? silentLogger;
  const random = options.random ?? Math.random;
  const base = o.baseUrl.replace(/\/+$/, '');
  const name = o.provider;

  async function attempt(call: HttpCall): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
    const url = new URL(base + call.path);
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    let res: Dispatcher.ResponseData;
    const cap = call.maxResponseBytes ?? o.maxResponseBytes;
    try {
      res = await request(url, {
        dispatcher,
        method: call.method,
        headers: {
          accept: call.onEvent ? 'text/event-stream, application/json' : 'application/json',
          ...(call.json !== undefined ? { 'content-type': 'application/json' } : {}),
          ...o.headers,
        },
        body: call.json !== undefined ? JSON.stringify(call.json) : call.form,
        signal: call.signal,
        headersTimeout: call.headersTimeoutMs ?? o.headersTimeoutMs,
        bodyTimeout: o.bodyTimeoutMs,
      });
    } catch (err) {
      throw networkError(err, call.signal);
    }
    const declared = Number(res.headers['content-length'] ?? NaN);
    if (declared > cap) {
      discard(res.body);
      throw tooLarge(res.statusCode, cap);
    }
    const streaming = call.onEvent && res.statusCode < 300 && String(res.headers['content-type'] ?? '').includes('text/event-stream');
    const parser = streaming ? createParser({ onEvent: call.onEvent! }) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > cap) {
          discard(res.body);
          throw tooLarge(res.statusCode, cap);
        }
        if (parser) parser.feed(chunk.toString('utf8'));
        else chunks.push(chunk);
      }
    } catch (err) {
      if (err instanceof ProviderHttpError) throw err;
      // A stream cut after the provider accepted the work: it may have been billed, and what we got is incomplete.
      if (parser && !call.signal?.aborted) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${name} stopped streaming before the images were complete.`, name, { status: res.statusCode, phase: 'answered', unreadable: true });
      throw networkError(err, call.signal, res.statusCode);
    }
    if (parser) return { status: res.statusCode, headers: res.headers, text: '' };
    return { status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') };
  }

  function tooLarge(status: number, cap: number): ProviderHttpError {
    return new ProviderHttpError('PROVIDER_UNAVAILABLE', `${name} sent a response larger than ${Math.round(cap / 1024)} KB; it was not read.`, name, {
      status,
      phase: 'answered',
    });
  }

  function networkError(err: unknown, signal: AbortSignal | undefined, status?: number): unknown {
    if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new UserError('CANCELED', 'The job was canceled.');
    const code = errCode(err);
    const phase = status !== undefined ? 'answered' : NOT_SENT_CODES.has(code) ? 'not-sent' : 'maybe-sent';
    if (TIMEOUT_CODES.has(code)) {
      return new ProviderHttpError('PROVIDER_TIMEOUT', `${name} did not answer in time (${describeCode(code)}). Try again in a minute.`, name, { phase, ...(status ? { status } : {}) });
    }
    return new ProviderHttpError('PROVIDER_UNAVAILABLE', `${name} could not be reached (${describeCode(code)}). Try again in a minute.`, name, {
      phase,
      ...(status ? { status } : {}),
    });
  }

  function rejection(status: number, text: string): ProviderHttpError {
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    const vendor = options.readError?.(status, body, text) ?? { message: genericErrorText(body, text) };
    const detail = vendor.message ? `: ${vendor.message}` : '';
    if (vendor.moderation) {
      return new ProviderHttpError('MODERATION', `${name} refused this prompt under its content policy${detail}. Rephrase the prompt.`, name, {
        status,
        phase: 'answered',
        blockedBy: name,
      });
    }
    if (vendor.outOfCredits || status === 402) {
      return new ProviderHttpError('PROVIDER_REJECTED', `${name} says this account has no credits or quota left (HTTP ${status}${detail}). Top up or upgrade your account at ${name}, then try again.`, name, {
        status,
        phase: 'answered',
      });
    }
    if (status === 401 || status === 403) {
      const fix = options.keySetting ? ` Check ${options.keySetting}.` : '';
      return new ProviderHttpError('PROVIDER_REJECTED', `${name} refused the API key (HTTP ${status}${detail}).${fix}`, name, { status, phase: 'answered' });
    }
    if (status === 429) {
      return new ProviderHttpError('RATE_LIMITED', `${name} is rate-limiting us${detail}. Try again shortly.`, name, { status, phase: 'answered' });
    }
    if (status >= 500) {
      return new ProviderHttpError('PROVIDER_UNAVAILABLE', `${name} had an internal error (HTTP ${status}${detail}). Try again in a minute.`, name, {
        status,
        phase: 'answered',
      });
    }
    return new ProviderHttpError('PROVIDER_REJECTED', `${name} refused the request (HTTP ${status}${detail}).`, name, { status, phase: 'answered' });
  }

  async function call<T>(c: HttpCall): Promise<T> {
    for (let n = 1; ; n++) {
      if (!breaker.tryAcquire()) {
        const wait = Math.ceil(breaker.retryInMs() / 1000);
        throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${name} is failing repeatedly; calls are paused for ${wait} s. Try again later or use another provider.`, name, {
          phase: 'not-sent',
          circuitOpen: true,
        });
      }
      let failure: unknown;
      let retryAfterMs: number | undefined;
      try {
        const res = await attempt(c);
        options.observe?.(res.status, res.headers);
        if (res.status >= 200 && res.status < 300) {
          breaker.success();
          if (!res.text.trim()) return undefined as T;
          try {
            return JSON.parse(res.text) as T;
          } catch {
            failure = new ProviderHttpError('PROVIDER_UNAVAILABLE', `${name} sent an answer that is not valid JSON (${res.text.length} bytes).`, name, {
              status: res.status,
              phase: 'answered',
              unreadable: true,
            });
            // A 2xx with a garbled body still means the create happened: the caller must not repeat it.
            if (!c.idempotent) throw failure;
          }
        } else {
          failure = rejection(res.status, res.text);
          if (res.status === 429) {
            breaker.release();
            retryAfterMs = parseRetryAfter(res.headers['retry-after']);
          } else if (res.status >= 500) breaker.failure();
          else breaker.success();
        }
      } catch (err) {
        if (!(err instanceof ProviderHttpError)) {
          breaker.release();
          throw err;
        }
        if (err.info.status === undefined || err.info.status >= 500 || err.code === 'PROVIDER_TIMEOUT') breaker.failure();
        else breaker.release();
        failure = err;
      }
      const f = failure as ProviderHttpError;
      const retryable =
        f.code === 'RATE_LIMITED' || (c.idempotent ? f.code === 'PROVIDER_UNAVAILABLE' || f.code === 'PROVIDER_TIMEOUT' : f.info.phase === 'not-sent');
      const delay = retryAfterMs ?? backoffDelay(n, o.baseDelayMs, o.maxDelayMs, random);
      if (!retryable || n >= o.maxAttempts || delay > o.maxRetryAfterMs || f.info.circuitOpen) {
        if (f.code === 'RATE_LIMITED') {
          throw new ProviderHttpError('RATE_LIMITED', f.message, name, { ...f.info, retryAfterMs: retryAfterMs ?? delay });
        }
        throw f;
      }
      log.debug({ provider: name, path: c.path, attempt: n, delayMs: Math.round(delay), code: f.code }, 'retrying provider call');
      await sleep(delay, c.signal);
    }
  }

  return {
    provider: name,
    baseUrl: base,
    breaker,
    call,
    async close() {
      if (ownsDispatcher) await dispatcher.close();
    },
  };
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function errCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  return String(e?.code ?? e?.cause?.code ?? 'network error');
}

function describeCode(code: string): string {
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect timeout';
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'no response headers in time';
    case 'UND_ERR_BODY_TIMEOUT':
      return 'response body stalled';
    case 'UND_ERR_SOCKET':
      return 'connection dropped';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return 'response cut short';
    default:
      return code;
  }
}

/** Best-effort readable text from an unknown error body: common fields, else the start of the text. */
export function genericErrorText(body: unknown, text: string): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    for (const key of ['message', 'error', 'detail', 'description']) {
      const v = b[key];
      if (typeof v === 'string' && v) return v;
      if (Array.isArray(v) && v.length) return v.map(String).join('; ');
    }
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/** Stops reading a body we refuse; undici reports the abort as an error nobody else listens for. */
function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on('error', () => {});
  body.destroy();
}
