import { describe, expect, it } from 'vitest';
import { FairScheduler } from '../../src/core/scheduler.ts';

const entry = (jobId: string, user: string, channel = 'c1') => ({ jobId, userKey: user, channelKey: channel });

describe('FairScheduler', () => {
  it("one user's 20 queued jobs do not starve another's one", () => {
    const s = new FairScheduler({ global: 1, perUser: 1, perChannel: 5 });
    for (let i = 0; i < 20; i++) s.add(entry(`a${i}`, 'alice'));
    s.add(entry('b0', 'bob'));
    const order: string[] = [];
    for (let i = 0; i < 21; i++) {
      const next = s.next()!;
      order.push(next.jobId);
      s.finish(next.jobId);
    }
    expect(order.indexOf('b0')).toBe(1);
    expect(order.filter((id) => id.startsWith('a'))).toEqual(Array.from({ length: 20 }, (_, i) => `a${i}`));
  });

  it('reports positions in round-robin order', () => {
    const s = new FairScheduler({ global: 1, perUser: 1, perChannel: 1 });
    s.add(entry('a1', 'alice'));
    s.add(entry('a2', 'alice'));
    s.add(entry('a3', 'alice'));
    s.add(entry('b1', 'bob'));
    s.add(entry('c1', 'carol'));
    expect([...s.positions()]).toEqual([
      ['a1', 1],
      ['b1', 2],
      ['c1', 3],
      ['a2', 4],
      ['a3', 5],
    ]);
  });

  it('holds the global, per-user and per-channel limits', () => {
    const s = new FairScheduler({ global: 3, perUser: 2, perChannel: 2 });
    s.add(entry('a1', 'alice', 'x'));
    s.add(entry('a2', 'alice', 'y'));
    s.add(entry('a3', 'alice', 'z'));
    s.add(entry('b1', 'bob', 'x'));
    s.add(entry('b2', 'bob', 'x'));
    const started = [s.next(), s.next(), s.next(), s.next()].map((e) => e?.jobId);
    // alice: 2 at most; channel x: 2 at most; 3 overall.
    expect(started).toEqual(['a1', 'b1', 'a2', undefined]);
    s.finish('a1');
    // Bob's turn in the ring: channel x has room again for one.
    expect(s.next()?.jobId).toBe('b2');
    expect(s.next()).toBeUndefined();
    s.finish('b1');
    // Alice runs only a2 now, so she has room for a3 in channel z.
    expect(s.next()?.jobId).toBe('a3');
    expect(s.next()).toBeUndefined();
  });

  it('removes a queued job and forgets an empty lane', () => {
    const s = new FairScheduler({ global: 5, perUser: 5, perChannel: 5 });
    s.add(entry('a1', 'alice'));
    s.add(entry('b1', 'bob'));
    expect(s.remove('a1')).toBe(true);
    expect(s.remove('a1')).toBe(false);
    expect(s.waitingCount()).toBe(1);
    expect(s.next()?.jobId).toBe('b1');
    expect(s.next()).toBeUndefined();
  });

  it('lets a job blocked by its channel wait while the same user runs elsewhere', () => {
    const s = new FairScheduler({ global: 5, perUser: 5, perChannel: 1 });
    s.add(entry('a1', 'alice', 'x'));
    s.add(entry('a2', 'alice', 'x'));
    s.add(entry('a3', 'alice', 'y'));
    expect(s.next()?.jobId).toBe('a1');
    expect(s.next()?.jobId).toBe('a3');
    expect(s.next()).toBeUndefined();
  });
});
