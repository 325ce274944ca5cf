import { retryAfterSeconds } from './web-client.ts';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface UpdateBudgetOptions {
  /** At most one update per message this often; newer states in between replace older ones. */
  minIntervalMs: number;
  /** chat.update is Tier 3 (about 50 a minute) per workspace, shared by every job in it. */
  perMinute: number;
  /** How many updates may go out back to back after a quiet spell. */
  burst: number;
  /** Attempts per state when Slack keeps answering 429. */
  maxAttempts: number;
  clock: Clock;
}

export const DEFAULT_UPDATE_BUDGET: Omit<UpdateBudgetOptions, 'clock'> = { minIntervalMs: 2_000, perMinute: 45, burst: 5, maxAttempts: 6 };

type Send = () => Promise<void>;

interface Pending {
  send: Send;
  final: boolean;
  attempts: number;
  since: number;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

interface MessageState {
  pending?: Pending;
  inFlight: boolean;
  lastSentAt: number;
}

interface Workspace {
  tokens: number;
  refilledAt: number;
  pausedUntil: number;
  timer?: unknown;
  wakeAt?: number;
  messages: Map<string, MessageState>;
}

/**
 * Edits of job messages, coalesced per message and paced per workspace. Only the newest state of a
 * message is kept; a final state is sent before any progress state of any message, and a 429 pauses
 * the whole workspace for its Retry-After and puts the state back (unless a newer one arrived).
 */
export class UpdateBudget {
  private readonly opts: UpdateBudgetOptions;
  private readonly workspaces = new Map<string, Workspace>();
  private closed = false;

  constructor(options: Partial<UpdateBudgetOptions> = {}) {
    this.opts = { ...DEFAULT_UPDATE_BUDGET, clock: realClock, ...options };
  }

  /** Resolves once this state, or a newer one of the same message, has been sent. */
  submit(workspace: string, message: string, send: Send, final = false): Promise<void> {
    const ws = this.workspace(workspace);
    const state = ws.messages.get(message) ?? { inFlight: false, lastSentAt: -Infinity };
    ws.messages.set(message, state);
    return new Promise<void>((resolve, reject) => {
      const waiters = [...(state.pending?.waiters ?? []), { resolve, reject }];
      // A final state is never replaced by a progress one that arrives after it.
      if (state.pending?.final && !final) {
        state.pending.waiters = waiters;
        return;
      }
      state.pending = { send, final, attempts: 0, since: state.pending?.since ?? this.opts.clock.now(), waiters };
      this.schedule(ws);
    });
  }

  /** Whether anything is still waiting or in flight (for shutdown and tests). */
  idle(): boolean {
    for (const ws of this.workspaces.values()) for (const m of ws.messages.values()) if (m.pending || m.inFlight) return false;
    return true;
  }

  close(): void {
    this.closed = true;
    for (const ws of this.workspaces.values()) {
      if (ws.timer !== undefined) this.opts.clock.clearTimeout(ws.timer);
      for (const m of ws.messages.values()) m.pending?.waiters.forEach((w) => w.reject(new Error('update budget closed')));
      ws.messages.clear();
    }
  }

  private workspace(id: string): Workspace {
    let ws = this.workspaces.get(id);
    if (!ws) {
      ws = { tokens: this.opts.burst, refilledAt: this.opts.clock.now(), pausedUntil: 0, messages: new Map() };
      this.workspaces.set(id, ws);
    }
    return ws;
  }

  private refill(ws: Workspace, now: number): void {
    ws.tokens = Math.min(this.opts.burst, ws.tokens + ((now - ws.refilledAt) * this.opts.perMinute) / 60_000);
    ws.refilledAt = now;
  }

  private schedule(ws: Workspace): void {
    if (this.closed) return;
    const now = this.opts.clock.now();
    this.refill(ws, now);
    // A message's pacing is remembered only as long as it matters.
    for (const [key, m] of ws.messages) if (!m.pending && !m.inFlight && now >= m.lastSentAt + this.opts.minIntervalMs) ws.messages.delete(key);
    // Send everything that may go now, finals first, then whoever has waited longest.
    for (;;) {
      if (now < ws.pausedUntil || ws.tokens < 1) break;
      const next = this.pick(ws, now);
      if (!next) break;
      ws.tokens -= 1;
      this.run(ws, next[0], next[1]);
    }
    this.arm(ws, now);
  }

  private pick(ws: Workspace, now: number): [string, MessageState] | undefined {
    let best: [string, MessageState] | undefined;
    for (const entry of ws.messages) {
      const m = entry[1];
      if (!m.pending || m.inFlight || now < m.lastSentAt + this.opts.minIntervalMs) continue;
      if (!best) best = entry;
      else {
        const b = best[1].pending!;
        const p = m.pending;
        if ((p.final && !b.final) || (p.final === b.final && p.since < b.since)) best = entry;
      }
    }
    return best;
  }

  private run(ws: Workspace, key: string, m: MessageState): void {
    const p = m.pending!;
    m.pending = undefined;
    m.inFlight = true;
    p.attempts += 1;
    p.send().then(
      () => {
        m.inFlight = false;
        m.lastSentAt = this.opts.clock.now();
        p.waiters.forEach((w) => w.resolve());
        this.schedule(ws);
      },
      (err: unknown) => {
        m.inFlight = false;
        const wait = retryAfterSeconds(err);
        if (wait !== undefined && p.attempts < this.opts.maxAttempts && !this.closed) {
          ws.pausedUntil = Math.max(ws.pausedUntil, this.opts.clock.now() + wait * 1000);
          ws.tokens = 0;
          if (!m.pending) m.pending = p;
          else m.pending.waiters.push(...p.waiters);
        } else {
          p.waiters.forEach((w) => w.reject(err));
          if (!m.pending) ws.messages.delete(key);
        }
        this.schedule(ws);
      },
    );
  }

  /** One timer per workspace, set for the earliest moment something could be sent. */
  private arm(ws: Workspace, now: number): void {
    let at = Infinity;
    for (const m of ws.messages.values()) if (m.pending && !m.inFlight) at = Math.min(at, m.lastSentAt + this.opts.minIntervalMs);
    if (at === Infinity) return;
    at = Math.max(at, ws.pausedUntil, now);
    if (ws.tokens < 1) at = Math.max(at, now + ((1 - ws.tokens) * 60_000) / this.opts.perMinute);
    if (ws.timer !== undefined && ws.wakeAt !== undefined && ws.wakeAt <= at) return;
    if (ws.timer !== undefined) this.opts.clock.clearTimeout(ws.timer);
    ws.wakeAt = at;
    ws.timer = this.opts.clock.setTimeout(() => {
      ws.timer = undefined;
      ws.wakeAt = undefined;
      this.schedule(ws);
    }, Math.max(0, Math.ceil(at - now)));
  }
}
