import { UserError } from '../../core/errors.ts';
import { RateLimiter, Semaphore } from '../limiter.ts';
import { parseRetryAfter, sleep } from '../timing.ts';

export interface GateOptions {
  /** Concurrent requests per key: 2 / 5 / 25 by plan (docs/rate-limits). */
  concurrency: number;
  /** Requests per window per key: 10 / 60 / 300 a minute by plan (docs/rate-limits). */
  perWindow: number;
  windowMs?: number;
  /** A pause the gateway asks for beyond this is reported instead of waited out. */
  maxPauseMs?: number;
  now?: () => number;
}

type Headers = Record<string, string | string[] | undefined>;
const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/**
 * The gateway's per-key limits, shared by its Midjourney and Flux endpoints: a job waits in line for a
 * slot and for the request budget instead of being refused, and a `Retry-After` or an exhausted
 * `x-ratelimit-remaining` pauses everyone until the time the gateway named.
 */
export class GatewayGate {
  private readonly slots: Semaphore;
  private readonly rate: RateLimiter;
  private readonly now: () => number;
  private readonly maxPauseMs: number;
  private pausedUntil = 0;
  /** Calls holding or waiting for a slot. */
  private entered = 0;

  constructor(readonly o: GateOptions) {
    this.slots = new Semaphore(o.concurrency);
    this.now = o.now ?? Date.now;
    this.rate = new RateLimiter(o.perWindow, o.windowMs ?? 60_000, this.now);
    this.maxPauseMs = o.maxPauseMs ?? 120_000;
  }

  /** True when a new call would wait for a slot. */
  get busy(): boolean {
    return this.entered >= this.o.concurrency;
  }

  /** Reads the limit headers of every answer (docs/rate-limits: x-ratelimit-*, Retry-After on 429). */
  observe(status: number, headers: Headers): void {
    const now = this.now();
    if (status === 429) {
      const wait = parseRetryAfter(headers['retry-after'], now);
      if (wait !== undefined) this.pausedUntil = Math.max(this.pausedUntil, now + wait);
    }
    const remaining = Number(first(headers['x-ratelimit-remaining']));
    const reset = Number(first(headers['x-ratelimit-reset']));
    // The reset is "UTC epoch seconds".
    if (remaining === 0 && Number.isFinite(reset) && reset * 1000 > now) this.pausedUntil = Math.max(this.pausedUntil, reset * 1000);
  }

  /** Waits for a slot and the request budget; the returned function frees the slot. */
  async enter(signal: AbortSignal): Promise<() => void> {
    this.entered++;
    let release: () => void;
    try {
      release = await this.slots.acquire(signal);
    } catch (err) {
      this.entered--;
      throw err;
    }
    const leave = () => {
      this.entered--;
      release();
    };
    try {
      await this.rate.take(signal);
      const wait = this.pausedUntil - this.now();
      if (wait > this.maxPauseMs) {
        throw new UserError('RATE_LIMITED', `The Midjourney/Flux gateway's request limit for this key resets in ${Math.ceil(wait / 60_000)} min. Try again then.`, { retryAfterMs: wait });
      }
      if (wait > 0) await sleep(wait, signal);
    } catch (err) {
      leave();
      throw err;
    }
    return leave;
  }
}
