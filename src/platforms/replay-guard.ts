import type { Store } from '../core/ports.ts';

/**
 * Discord and Slack accept a signature whose timestamp is within 5 minutes either way of our clock, so a
 * captured request verifies for up to 10 minutes after it was signed: its keys are remembered that long.
 */
export const REPLAY_WINDOW_MS = 10 * 60 * 1000;

/**
 * "Once per request": a signed request seen before (by this process or any other sharing the store) is
 * answered without doing its work again. The store holds the keys, so every web process behind a load
 * balancer sees the same ones, and expired keys are swept there.
 */
export class ReplayGuard {
  constructor(
    private readonly store: Pick<Store, 'claimOnce'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** True the first time any of these keys is seen within the window; every key is recorded either way. */
  async firstTime(keys: readonly string[]): Promise<boolean> {
    const at = this.now();
    const claims = await Promise.all(keys.map((k) => this.store.claimOnce(k, at + REPLAY_WINDOW_MS, at)));
    return claims.every(Boolean);
  }
}
