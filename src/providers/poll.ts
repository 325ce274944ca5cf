import { UserError } from '../core/errors.ts';
import type { Notifier } from './notifier.ts';
import { isProviderSideFailure } from './failover.ts';
import { abortError, sleep } from './timing.ts';

/** Poll timing a provider's options carry; tests turn it down. */
export interface PollTiming {
  pollTimeoutMs?: number;
  pollInitialDelayMs?: number;
  pollMaxDelayMs?: number;
}

/**
 * Ten minutes at most for a generation. The first poll comes early (a quarter second: a fast or cached
 * generation is noticed at once, not after a fixed wait), and the gap grows by half each time up to 10 s,
 * so a minute-long job costs about a dozen polls. Webhooks wake the poller earlier still.
 */
export const pollTiming = (t: PollTiming) => ({
  timeoutMs: t.pollTimeoutMs ?? 10 * 60_000,
  initialDelayMs: t.pollInitialDelayMs ?? 250,
  maxDelayMs: t.pollMaxDelayMs ?? 10_000,
});

export interface PollOptions<T> {
  /** The provider's name, for the timeout message. */
  provider: string;
  /** What is being waited for, e.g. "generation 123". */
  what: string;
  fetch: () => Promise<T>;
  /** Returns the final value when done; undefined keeps polling. Throws to fail. */
  settle: (value: T) => T | undefined;
  signal: AbortSignal;
  /** Gives up after this long with a clear PROVIDER_TIMEOUT. */
  timeoutMs: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Webhooks wake the poller early; a flood of hints still cannot poll faster than this. */
  minGapMs?: number;
  notifier?: Notifier;
  notifyKey?: string;
  now?: () => number;
  /** Called when a fetch fails on the provider's side and we keep waiting (the job is already billed). */
  onTransientError?: (err: unknown) => void;
}

/** Polls with growing gaps until `settle` returns a value, woken early by webhook hints. */
export async function pollUntil<T>(o: PollOptions<T>): Promise<T> {
  const now = o.now ?? Date.now;
  const started = now();
  let delay = o.initialDelayMs ?? 1_000;
  const maxDelay = o.maxDelayMs ?? 10_000;
  const minGap = o.minGapMs ?? Math.min(250, o.initialDelayMs ?? 250);
  for (;;) {
    if (o.signal.aborted) throw abortError(o.signal);
    // Listen before fetching: a webhook that lands while the fetch is in flight must still wake us.
    const hint = o.notifier && o.notifyKey ? o.notifier.wait(o.notifyKey) : undefined;
    try {
      let value: T | undefined;
      let fetched = false;
      try {
        value = await o.fetch();
        fetched = true;
      } catch (err) {
        // The job was created and paid for: a flaky minute at the provider should not throw it away.
        if (!isProviderSideFailure(err) || now() - started >= o.timeoutMs) throw err;
        o.onTransientError?.(err);
      }
      if (fetched) {
        const done = o.settle(value as T);
        if (done !== undefined) return done;
      }
      const left = o.timeoutMs - (now() - started);
      if (left <= 0) {
        throw new UserError(
          'PROVIDER_TIMEOUT',
          `${o.provider} did not finish ${o.what} within ${Math.round(o.timeoutMs / 1000)} s. It may still finish at the provider; try again later.`,
          { retryable: true },
        );
      }
      const gapStart = now();
      await Promise.race([sleep(Math.min(delay, left), o.signal), hint?.promise ?? new Promise<never>(() => {})]);
      const spent = now() - gapStart;
      if (spent < minGap) await sleep(minGap - spent, o.signal);
    } finally {
      hint?.cancel();
    }
    delay = Math.min(maxDelay, Math.round(delay * 1.5));
  }
}
