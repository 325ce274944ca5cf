/**
 * A token bucket per channel for bot-token writes. Discord does not document its per-channel message
 * limits (discord-api-docs#4413) and answers 429 / 20028 when they are hit; staying under a conservative
 * budget keeps a busy channel from tipping into those at all.
 */
export class ChannelBudget {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly capacity = 5,
    private readonly refillPerSecond = 1,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until a write is allowed in `channelId`; 0 means "now", and the token is taken. */
  tryTake(channelId: string): number {
    const t = this.now();
    const b = this.buckets.get(channelId) ?? { tokens: this.capacity, at: t };
    b.tokens = Math.min(this.capacity, b.tokens + ((t - b.at) / 1000) * this.refillPerSecond);
    b.at = t;
    this.buckets.set(channelId, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / this.refillPerSecond) * 1000);
  }

  /** Waits for a token in `channelId`. */
  async take(channelId: string): Promise<void> {
    for (;;) {
      const wait = this.tryTake(channelId);
      if (wait === 0) return;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
