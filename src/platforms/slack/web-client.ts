import { WebClient, type WebClientOptions } from '@slack/web-api';
import type { Logger } from '../../core/ports.ts';
import { boltLogger } from './bolt-logger.ts';

/** Per-call limits. The SDK's default retry policy keeps trying for about half an hour. */
export const CLIENT_LIMITS = {
  timeoutMs: 10_000,
  retries: 3,
  /** Web API answers are small JSON; anything far bigger is not Slack. */
  maxResponseBytes: 4 * 1024 * 1024,
  /** The longest Retry-After we wait out inline; longer ones fail the call. */
  maxRetryAfterSeconds: 30,
} as const;

export type FetchLike = NonNullable<WebClientOptions['fetch']>;

/** A fetch whose answer is read whole but never past `maxBytes`. */
export function boundedFetch(maxBytes: number, inner: typeof fetch = fetch): FetchLike {
  return async (url, init) => {
    const res = await inner(url, init as RequestInit);
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > maxBytes) {
      await res.body?.cancel();
      throw new Error(`Slack answer too large (${declared} bytes)`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = res.body?.getReader();
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw new Error(`Slack answer too large (over ${maxBytes} bytes)`);
      }
      chunks.push(value);
    }
    const out = new Response(res.status === 204 ? null : Buffer.concat(chunks), { status: res.status, statusText: res.statusText, headers: res.headers });
    return out as unknown as Awaited<ReturnType<FetchLike>>;
  };
}

/** The options every WebClient of the adapter uses (Bolt's, Socket Mode's and the message sink's). */
export function clientOptions(apiUrl: string, logger: Logger): WebClientOptions {
  return {
    slackApiUrl: apiUrl,
    logger: boltLogger(logger),
    timeout: CLIENT_LIMITS.timeoutMs,
    retryConfig: { retries: CLIENT_LIMITS.retries, factor: 2, minTimeout: 250, maxTimeout: 4_000, randomize: true },
    // A 429 comes back to us as an error with its Retry-After, so one budget per workspace can honour it
    // instead of the SDK sleeping inside its own queue for as long as Slack says.
    rejectRateLimitedCalls: true,
    fetch: boundedFetch(CLIENT_LIMITS.maxResponseBytes),
    allowAbsoluteUrls: false,
  };
}

export function createWebClient(token: string, apiUrl: string, logger: Logger): WebClient {
  return new WebClient(token, clientOptions(apiUrl, logger));
}

/** The Web API error code (`not_in_channel`, `ratelimited`, …) of a failed call, if it has one. */
export function slackErrorCode(err: unknown): string | undefined {
  const e = err as { code?: string; data?: { error?: unknown } };
  if (e?.code === 'slack_webapi_rate_limited_error') return 'ratelimited';
  return typeof e?.data?.error === 'string' ? e.data.error : undefined;
}

export function retryAfterSeconds(err: unknown): number | undefined {
  const e = err as { code?: string; retryAfter?: unknown };
  return e?.code === 'slack_webapi_rate_limited_error' && typeof e.retryAfter === 'number' ? e.retryAfter : undefined;
}

/**
 * Runs one Web API call, waiting out a 429's Retry-After (bounded) and trying again a few times. For
 * calls outside the chat.update budget: posts, uploads, views.
 */
export async function withRetryAfter<T>(call: () => Promise<T>, attempts = 3, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (err) {
      const wait = retryAfterSeconds(err);
      if (wait === undefined || i >= attempts || wait > CLIENT_LIMITS.maxRetryAfterSeconds) throw err;
      await sleep(wait * 1000);
    }
  }
}
