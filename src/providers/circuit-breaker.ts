/** Options for a per-provider circuit breaker. */
export interface CircuitBreakerOptions {
  /** Consecutive provider-side failures that open the circuit. */
  failureThreshold?: number;
  /** How long the circuit stays open before one trial call is let through. */
  cooldownMs?: number;
  now?: () => number;
}

/**
 * Stops calling a provider that keeps failing, so jobs fail fast (and can fail over) instead of each
 * waiting out its own timeouts. Closed → open after N consecutive failures → half-open after the
 * cooldown, where one call decides.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;
  private readonly threshold: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;

  constructor(options: CircuitBreakerOptions = {}) {
    this.threshold = options.failureThreshold ?? 5;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.openedAt === undefined) return 'closed';
    return this.now() - this.openedAt >= this.cooldownMs ? 'half-open' : 'open';
  }

  /** Whether a call may go out now; in half-open state only one trial at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  /** Milliseconds until a trial call is allowed. */
  retryInMs(): number {
    return this.openedAt === undefined ? 0 : Math.max(0, this.cooldownMs - (this.now() - this.openedAt));
  }

  success(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.trialInFlight = false;
  }

  failure(): void {
    this.trialInFlight = false;
    this.failures++;
    if (this.openedAt !== undefined || this.failures >= this.threshold) this.openedAt = this.now();
  }

  /** A call that says nothing about the provider's health (e.g. canceled) releases a trial slot. */
  release(): void {
    this.trialInFlight = false;
  }
}
