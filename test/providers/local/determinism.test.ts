import { describe, expect, it } from 'vitest';
import { createLocalProvider } from '../../../src/providers/local/index.ts';
import { distance, generate, request, testContext } from './helpers.ts';

describe('local renderer: determinism', () => {
  it('draws byte-identical PNGs for the same request and seed', async () => {
    const [a, b] = await Promise.all([generate({ seed: 1234 }), generate({ seed: 1234 })]);
    expect(a.images).toHaveLength(4);
    expect(a.seed).toBe(1234);
    a.images.forEach((image, i) => {
      expect(image.mime).toBe('image/png');
      expect(Buffer.compare(image.bytes, b.images[i]!.bytes)).toBe(0);
    });
  });

  it('draws different pictures for another seed', async () => {
    const [a, b] = await Promise.all([generate({ seed: 1 }), generate({ seed: 2 })]);
    for (let i = 0; i < 4; i++) expect(await distance(a.images[i]!.bytes, b.images[i]!.bytes)).toBeGreaterThan(8);
  });

  it('picks a seed when the request has none, and returns it so the result can be drawn again', async () => {
    const seeds = [77, 78];
    const local = createLocalProvider({ randomSeed: () => seeds.shift()! });
    const first = await local.generate(request({ seed: undefined }), testContext());
    const second = await local.generate(request({ seed: undefined }), testContext());
    expect([first.seed, second.seed]).toEqual([77, 78]);
    expect(first.images.every((i) => i.seed === 77)).toBe(true);
    const again = await local.generate(request({ seed: first.seed }), testContext());
    expect(Buffer.compare(again.images[0]!.bytes, first.images[0]!.bytes)).toBe(0);
  });

  it('picks a random 32-bit seed by default', async () => {
    const result = await createLocalProvider().generate(request({ seed: undefined, count: 1, width: 64, height: 64 }), testContext());
    expect(Number.isInteger(result.seed)).toBe(true);
    expect(result.seed).toBeGreaterThanOrEqual(0);
    expect(result.seed).toBeLessThan(2 ** 32);
  });
});
