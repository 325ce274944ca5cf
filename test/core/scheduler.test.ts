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

/**
 * The rules as first written: scan every user in the ring and every entry of a lane, count running jobs
 * by walking them, simulate the whole line for positions. The scheduler keeps counts and shortcuts so a
 * submission costs no walk of the queue; it must decide exactly what this does.
 */
class ReferenceScheduler {
  lanes = new Map<string, { jobId: string; userKey: string; channelKey: string }[]>();
  ring: string[] = [];
  running = new Map<string, { jobId: string; userKey: string; channelKey: string }>();
  constructor(private limits: { global: number; perUser: number; perChannel: number }) {}
  add(e: { jobId: string; userKey: string; channelKey: string }) {
    const lane = this.lanes.get(e.userKey);
    if (lane) lane.push(e);
    else {
      this.lanes.set(e.userKey, [e]);
      this.ring.push(e.userKey);
    }
  }
  remove(jobId: string) {
    for (const [user, lane] of this.lanes) {
      const i = lane.findIndex((e) => e.jobId === jobId);
      if (i < 0) continue;
      lane.splice(i, 1);
      if (!lane.length) {
        this.lanes.delete(user);
        this.ring = this.ring.filter((u) => u !== user);
      }
      return true;
    }
    return false;
  }
  count(key: 'userKey' | 'channelKey', v: string) {
    return [...this.running.values()].filter((e) => e[key] === v).length;
  }
  next() {
    if (this.running.size >= this.limits.global) return undefined;
    for (let i = 0; i < this.ring.length; i++) {
      const user = this.ring[i]!;
      if (this.count('userKey', user) >= this.limits.perUser) continue;
      const lane = this.lanes.get(user)!;
      const idx = lane.findIndex((e) => this.count('channelKey', e.channelKey) < this.limits.perChannel);
      if (idx < 0) continue;
      const [entry] = lane.splice(idx, 1);
      this.ring.splice(i, 1);
      if (lane.length) this.ring.push(user);
      else this.lanes.delete(user);
      this.running.set(entry!.jobId, entry!);
      return entry;
    }
    return undefined;
  }
  positions() {
    const out = new Map<string, number>();
    const cursors = this.ring.map((u) => ({ lane: this.lanes.get(u)!, at: 0 }));
    for (let progressed = true; progressed; ) {
      progressed = false;
      for (const c of cursors) {
        const e = c.lane[c.at];
        if (!e) continue;
        out.set(e.jobId, out.size + 1);
        c.at++;
        progressed = true;
      }
    }
    return out;
  }
}

describe('FairScheduler against the rules as first written', () => {
  it('starts the same jobs in the same order and reports the same places, over random traffic', () => {
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let run = 0; run < 12; run++) {
      const limits = { global: 1 + rand(6), perUser: 1 + rand(3), perChannel: 1 + rand(4) };
      const s = new FairScheduler(limits);
      const ref = new ReferenceScheduler(limits);
      let n = 0;
      for (let step = 0; step < 200; step++) {
        const op = rand(10);
        if (op < 5) {
          const e = entry(`j${n++}`, `u${rand(5)}`, `c${rand(3)}`);
          s.add(e);
          ref.add({ ...e });
        } else if (op < 7) {
          const running = [...ref.running.keys()];
          if (running.length) {
            const id = running[rand(running.length)]!;
            ref.running.delete(id);
            s.finish(id);
          }
        } else if (op < 8) {
          const id = `j${rand(n + 1)}`;
          expect(s.remove(id)).toBe(ref.remove(id));
        }
        // The queue asks for every job that may start after each change.
        for (;;) {
          const want = ref.next()?.jobId;
          expect(s.next()?.jobId).toBe(want);
          if (!want) break;
        }
        const places = ref.positions();
        expect(s.positions()).toEqual(places);
        expect(s.positions(3)).toEqual(new Map([...places].slice(0, 3)));
        expect(new Map([...places.keys()].map((id) => [id, s.positionOf(id)]))).toEqual(places);
        expect(s.waitingCount()).toBe(places.size);
        expect(s.runningCount()).toBe(ref.running.size);
      }
    }
  });
});

describe('FairScheduler: a job past its provider', () => {
  it("gives its user's and channel's slots to the next job, but still counts against the global limit until it finishes", () => {
    const s = new FairScheduler({ global: 3, perUser: 1, perChannel: 1 });
    s.add(entry('a1', 'alice'));
    s.add(entry('a2', 'alice'));
    s.add(entry('b1', 'bob'));
    expect(s.next()?.jobId).toBe('a1');
    expect(s.next()).toBeUndefined();
    s.leaveProvider('a1');
    expect(s.next()?.jobId).toBe('b1');
    s.leaveProvider('b1');
    expect(s.next()?.jobId).toBe('a2');
    // Three running (two composing their results): the global limit holds.
    s.add(entry('c1', 'carol', 'c2'));
    expect(s.next()).toBeUndefined();
    s.finish('a1');
    expect(s.next()?.jobId).toBe('c1');
    // Finishing after leaving frees nothing twice: alice's a2 still holds her one slot.
    s.add(entry('a3', 'alice', 'c3'));
    s.finish('b1');
    expect(s.next()).toBeUndefined();
    s.leaveProvider('a1');
    s.finish('a1');
    expect(s.next()).toBeUndefined();
    s.finish('a2');
    expect(s.next()?.jobId).toBe('a3');
  });
});

describe('FairScheduler: a provider with its own concurrency', () => {
  const at = (jobId: string, user: string, provider: string, channel = 'c1') => ({ jobId, userKey: user, channelKey: channel, providerKey: provider });

  it('starts no more jobs at a provider than it runs; the rest wait their turn here while other providers go on', () => {
    const s = new FairScheduler({ global: 10, perUser: 5, perChannel: 10, perProvider: (p) => (p === 'gpu' ? 1 : undefined) });
    s.add(at('a1', 'alice', 'gpu'));
    s.add(at('b1', 'bob', 'gpu'));
    s.add(at('c1', 'carol', 'cloud'));
    expect(s.next()?.jobId).toBe('a1');
    // Bob's job waits for the one GPU; Carol's, elsewhere, does not wait behind it.
    expect(s.next()?.jobId).toBe('c1');
    expect(s.next()).toBeUndefined();
    // Alice adds another: still Bob's turn at the GPU first (round-robin, not first come in the adapter).
    s.add(at('a2', 'alice', 'gpu'));
    expect(s.next()).toBeUndefined();
    s.leaveProvider('a1');
    expect(s.next()?.jobId).toBe('b1');
    expect(s.next()).toBeUndefined();
    s.finish('b1');
    expect(s.next()?.jobId).toBe('a2');
  });
});
