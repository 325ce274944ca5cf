import { describe, expect, it } from 'vitest';
import { ChannelBudget } from '../../../src/platforms/discord/channel-budget.ts';

describe('ChannelBudget (bot-token writes per channel)', () => {
  it('allows a burst up to its capacity, then refills at its rate, per channel', () => {
    let now = 0;
    const b = new ChannelBudget(3, 1, () => now);
    expect([b.tryTake('c1'), b.tryTake('c1'), b.tryTake('c1')]).toEqual([0, 0, 0]);
    expect(b.tryTake('c1')).toBe(1000);
    // Another channel has its own budget.
    expect(b.tryTake('c2')).toBe(0);
    now = 500;
    expect(b.tryTake('c1')).toBe(500);
    now = 1000;
    expect(b.tryTake('c1')).toBe(0);
    expect(b.tryTake('c1')).toBeGreaterThan(0);
    now = 60_000;
    expect([b.tryTake('c1'), b.tryTake('c1'), b.tryTake('c1'), b.tryTake('c1') > 0]).toEqual([0, 0, 0, true]);
  });
});
