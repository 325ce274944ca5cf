import { describe, expect, it } from 'vitest';
import { WebAPIRateLimitedError } from '@slack/web-api';
import { UpdateBudget, type Clock } from '../../../src/platforms/slack/update-budget.ts';

/** A clock the test moves by hand: the budget's pacing is checked without waiting. */
class ManualClock implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.seq;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimeout = (h: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== h);
  };
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      const next = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
    await flush();
  }
}
const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function recorder(clock: ManualClock) {
  const sent: { msg: string; state: string; at: number }[] = [];
  const send = (msg: string, state: string) => async () => {
    sent.push({ msg, state, at: clock.t });
  };
  return { sent, send };
}

describe('UpdateBudget', () => {
  it('coalesces a message to its newest state, at most once per interval', async () => {
    const clock = new ManualClock();
    const budget = new UpdateBudget({ clock, minIntervalMs: 2000, perMinute: 600, burst: 10 });
    const { sent, send } = recorder(clock);
    void budget.submit('T1', 'm1', send('m1', '10%'));
    await clock.advance(0);
    for (const s of ['20%', '30%', '40%']) {
      void budget.submit('T1', 'm1', send('m1', s));
      await clock.advance(300);
    }
    await clock.advance(5000);
    expect(sent.map((x) => x.state)).toEqual(['10%', '40%']);
    expect(sent[1]!.at - sent[0]!.at).toBeGreaterThanOrEqual(2000);
  });

  it('shares one per-workspace budget between messages and lets finals go first', async () => {
    const clock = new ManualClock();
    const budget = new UpdateBudget({ clock, minIntervalMs: 2000, perMinute: 60, burst: 1 });
    const { sent, send } = recorder(clock);
    void budget.submit('T1', 'z', send('z', 'z-progress'));
    void budget.submit('T1', 'a', send('a', 'a-progress'));
    void budget.submit('T1', 'b', send('b', 'b-progress'));
    void budget.submit('T1', 'c', send('c', 'c-final'), true);
    void budget.submit('T2', 'x', send('x', 'x-progress'));
    await clock.advance(0);
    // One token per workspace: T1's went to z; T2 has its own budget.
    expect(sent.map((x) => x.state)).toEqual(['z-progress', 'x-progress']);
    await clock.advance(3000);
    // 60 a minute: one a second, the final first, then whoever waited longest.
    expect(sent.map((x) => x.state)).toEqual(['z-progress', 'x-progress', 'c-final', 'a-progress', 'b-progress']);
    const t1 = sent.filter((x) => x.msg !== 'x').map((x) => x.at);
    for (let i = 1; i < t1.length; i++) expect(t1[i]! - t1[i - 1]!).toBeGreaterThanOrEqual(1000);
  });

  it('honours Retry-After for the whole workspace and the final state wins', async () => {
    const clock = new ManualClock();
    const budget = new UpdateBudget({ clock, minIntervalMs: 2000, perMinute: 600, burst: 10 });
    const sent: string[] = [];
    let limited = true;
    const send = (state: string) => async () => {
      if (limited) {
        limited = false;
        throw new WebAPIRateLimitedError(7);
      }
      sent.push(`${state}@${clock.t}`);
    };
    const first = budget.submit('T1', 'm', send('running'));
    await clock.advance(0);
    const other = budget.submit('T1', 'n', send('other'));
    const last = budget.submit('T1', 'm', send('done'), true);
    void budget.submit('T1', 'm', send('late progress'));
    await clock.advance(6999);
    expect(sent).toEqual([]);
    await clock.advance(1);
    await Promise.all([first, other, last]);
    expect(sent).toEqual(['done@7000', 'other@7000']);
  });

  it('gives up after its attempts and reports other errors to the caller', async () => {
    const clock = new ManualClock();
    const budget = new UpdateBudget({ clock, minIntervalMs: 0, perMinute: 6000, burst: 10, maxAttempts: 2 });
    const limited = budget.submit('T1', 'm', async () => {
      throw new WebAPIRateLimitedError(1);
    });
    const failed = budget.submit('T1', 'n', async () => {
      throw new Error('message_not_found');
    });
    const outcome = Promise.allSettled([limited, failed]);
    await clock.advance(5000);
    const [a, b] = await outcome;
    expect(a.status).toBe('rejected');
    expect(b).toMatchObject({ status: 'rejected', reason: { message: 'message_not_found' } });
    expect(budget.idle()).toBe(true);
  });
});
