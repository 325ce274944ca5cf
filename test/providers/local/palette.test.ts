import { describe, expect, it } from 'vitest';
import type { GenerationRequestInput } from '../../../src/core/request.ts';
import { generate, resultStats } from './helpers.ts';

/** Same prompt and seed throughout, so only the light differs. */
const scene = { prompt: 'mountains and a quiet lake with pine trees', seed: 5 };

type Stats = Awaited<ReturnType<typeof resultStats>>;

/** Mean colour statistics of each variant of the scene, in order. */
function statsOf<const T extends readonly Partial<GenerationRequestInput>[]>(variants: T): Promise<{ [K in keyof T]: Stats }> {
  return Promise.all(variants.map((v) => generate({ ...scene, ...v }).then(resultStats))) as Promise<{ [K in keyof T]: Stats }>;
}

describe('local renderer: time of day and weather shift the palette', () => {
  it('makes night darker than afternoon, and midnight darker still', async () => {
    const [afternoon, night, midnight] = await statsOf([{ timeOfDay: 'afternoon' }, { timeOfDay: 'night' }, { timeOfDay: 'midnight' }]);
    expect(night.luma).toBeLessThan(afternoon.luma * 0.5);
    expect(midnight.luma).toBeLessThan(night.luma);
  });

  it('makes a sunset warmer (more red than blue) than the morning', async () => {
    const [morning, sunset] = await statsOf([{ timeOfDay: 'morning' }, { timeOfDay: 'sunset' }]);
    expect(sunset.r - sunset.b).toBeGreaterThan(morning.r - morning.b + 20);
  });

  it('makes snowy brighter than clear, clear brighter than rainy, rainy brighter than a thunderstorm', async () => {
    const [clear, snowy, rainy, storm] = await statsOf([
      { timeOfDay: 'afternoon' },
      { timeOfDay: 'afternoon', weather: 'snowy' },
      { timeOfDay: 'afternoon', weather: 'rainy' },
      { timeOfDay: 'afternoon', weather: 'thunderstorm' },
    ]);
    expect(snowy.luma).toBeGreaterThan(clear.luma + 15);
    expect(rainy.luma).toBeLessThan(clear.luma - 15);
    expect(storm.luma).toBeLessThan(rainy.luma);
  });

  it('makes fog flatten the contrast', async () => {
    const [sunny, foggy] = await statsOf([
      { timeOfDay: 'afternoon', weather: 'sunny' },
      { timeOfDay: 'afternoon', weather: 'foggy' },
    ]);
    expect(foggy.contrast).toBeLessThan(sunny.contrast * 0.7);
  });
});
