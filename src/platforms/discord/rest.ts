import { DefaultRestOptions, DiscordAPIError, REST, RateLimitError, type ResponseLike } from '@discordjs/rest';
import type { Readable } from 'node:stream';

export interface DiscordRestOptions {
  /** `DISCORD_API_URL`: https://discord.com/api, or a loopback fake in tests. */
  api: string;
  /** The bot token; without it only interaction webhooks (which need none) work. */
  token?: string;
  timeoutMs?: number;
  retries?: number;
  /** A 429 asking us to wait longer than this is thrown (RateLimitError) instead of waited out. */
  maxRateLimitWaitMs?: number;
  /** Responses larger than this are cut off with an error; Discord's own answers are a few KiB. */
  maxResponseBytes?: number;
}

export const REST_DEFAULTS = {
  timeoutMs: 10_000,
  retries: 2,
  maxRateLimitWaitMs: 30_000,
  maxResponseBytes: 2 * 1024 * 1024,
  /**
   * discord.js keeps a rate-limit queue per route and major parameter, and an interaction webhook's major
   * parameter is its id and token, so every interaction gets a queue of its own; by default idle queues are
   * swept hourly (a busy bot held an hour of interactions: heap grew about 0.8 MiB per 1,000 jobs in the
   * memory soak). A token lives 15 minutes; an idle queue goes within a minute (a sweep of a map, nothing more).
   */
  idleQueueSweepMs: 60_000,
} as const satisfies Required<Omit<DiscordRestOptions, 'api' | 'token'>> & { idleQueueSweepMs: number };

/**
 * The one REST client: discord.js's, so rate-limit buckets and 429 `retry_after` are honoured, with a
 * timeout, a bounded number of retries (5xx and timeouts), a bounded wait on 429 and a bounded body.
 */
export function createRest(opts: DiscordRestOptions): REST {
  const o = { ...REST_DEFAULTS, ...opts };
  const rest = new REST({
    api: o.api.replace(/\/+$/, ''),
    timeout: o.timeoutMs,
    retries: o.retries,
    rejectOnRateLimit: (data) => data.retryAfter > o.maxRateLimitWaitMs,
    makeRequest: boundedRequest(o.maxResponseBytes),
    handlerSweepInterval: REST_DEFAULTS.idleQueueSweepMs,
  });
  if (o.token) rest.setToken(o.token);
  return rest;
}

function boundedRequest(maxBytes: number): (url: string, init: Parameters<typeof DefaultRestOptions.makeRequest>[1]) => Promise<ResponseLike> {
  return async (url, init) => {
    const res = await DefaultRestOptions.makeRequest(url, await flattenForm(init));
    const chunks: Buffer[] = [];
    let size = 0;
    if (res.body) {
      for await (const chunk of res.body as Readable | AsyncIterable<Uint8Array>) {
        size += (chunk as Uint8Array).length;
        if (size > maxBytes) {
          (res.body as Readable).destroy?.();
          throw new Error(`Discord answered ${url} with more than ${maxBytes} bytes`);
        }
        chunks.push(Buffer.from(chunk as Uint8Array));
      }
    }
    const buf = Buffer.concat(chunks);
    let used = false;
    const use = () => {
      used = true;
      return buf;
    };
    return {
      body: null,
      headers: res.headers,
      status: res.status,
      statusText: res.statusText,
      ok: res.ok,
      get bodyUsed() {
        return used;
      },
      arrayBuffer: async () => {
        const b = use();
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      },
      text: async () => use().toString('utf8'),
      json: async () => JSON.parse(use().toString('utf8')) as unknown,
    };
  };
}

/**
 * Multipart bodies are serialized here, to bytes plus their boundary header: whichever undici copy loads
 * first becomes the global dispatcher, and a FormData built by another copy is not streamable by it.
 */
async function flattenForm<T extends { body?: unknown; headers?: unknown }>(init: T): Promise<T> {
  if (!(init.body instanceof FormData)) return init;
  const encoded = new Response(init.body);
  const headers: Record<string, string> = {};
  new Headers(init.headers as Record<string, string> | undefined).forEach((v, k) => (headers[k] = v));
  headers['content-type'] = encoded.headers.get('content-type')!;
  return { ...init, body: new Uint8Array(await encoded.arrayBuffer()), headers };
}

/** Discord's JSON error code (50027 invalid webhook token, 50013 missing permissions, ...), if it is one. */
export function discordCode(err: unknown): number | undefined {
  return err instanceof DiscordAPIError && typeof err.code === 'number' ? err.code : undefined;
}

export function httpStatus(err: unknown): number | undefined {
  return err instanceof DiscordAPIError ? err.status : undefined;
}

export const isRateLimit = (err: unknown): err is RateLimitError => err instanceof RateLimitError;

/** Discord error codes this adapter reacts to (topics/opcodes-and-status-codes.mdx). */
export const CODES = {
  unknownChannel: 10003,
  unknownMessage: 10008,
  unknownWebhook: 10015,
  unknownInteraction: 10062,
  cannotDmUser: 50007,
  missingAccess: 50001,
  missingPermissions: 50013,
  invalidWebhookToken: 50027,
  entityTooLarge: 40005,
  alreadyAcknowledged: 40060,
} as const;

/** How long after an interaction a 10015 counts as "not settled yet" rather than "gone". */
const SETTLE_MS = 10_000;

/**
 * Runs an interaction-webhook call, retrying briefly while the token is young: a follow-up can reach
 * Discord before it has processed our HTTP answer, and Discord sometimes answers 10015 Unknown Webhook
 * for a token it just issued (discord-api-docs#6851). Only after that does 10015 mean the token is dead.
 */
export async function settled<T>(call: () => Promise<T>, issuedAt: number, now: () => number = Date.now): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (discordCode(err) !== CODES.unknownWebhook || attempt >= 4 || now() - issuedAt > SETTLE_MS) throw err;
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }
}
