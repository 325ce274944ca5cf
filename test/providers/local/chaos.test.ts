import { describe, expect, it } from 'vitest';
import { LOCAL_CAPABILITIES } from '../../../src/providers/local/index.ts';
import { generate, meanPairwiseDistance } from './helpers.ts';

describe('local renderer: count and chaos', () => {
  it('draws four images by default and as many as asked, up to eight, each different', async () => {
    expect((await generate()).images).toHaveLength(4);
    expect((await generate({ count: 1 })).images).toHaveLength(1);
    const eight = await generate({ count: 8, width: 64, height: 64 });
    expect(eight.images).toHaveLength(8);
    expect(LOCAL_CAPABILITIES.maxCount).toBe(8);
    const distinct = new Set(eight.images.map((i) => Buffer.from(i.bytes).toString('base64')));
    expect(distinct.size).toBe(8);
  });

  // Distance: mean absolute channel difference of 32×32 reductions (see helpers), averaged over all pairs.
  it.each([
    ['a lighthouse on a cliff above the sea', 3],
    ['red fox in a misty forest', 11],
    ['city of towers under two moons', 29],
  ])('keeps the images of "%s" (seed %i) closer together at chaos 0 than at chaos 100', async (prompt, seed) => {
    const [calm, wild] = await Promise.all([generate({ prompt, seed, chaos: 0 }), generate({ prompt, seed, chaos: 100 })]);
    const calmDistance = await meanPairwiseDistance(calm.images.map((i) => i.bytes));
    const wildDistance = await meanPairwiseDistance(wild.images.map((i) => i.bytes));
    expect(calmDistance).toBeGreaterThan(0);
    expect(wildDistance).toBeGreaterThan(calmDistance * 1.5);
  });
});
