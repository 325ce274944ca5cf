import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { ProviderProgress } from '../../../src/core/provider.ts';
import { probeImage } from '../../../src/images/probe.ts';
import { LOCAL_DEFAULTS } from '../../../src/providers/local/index.ts';
import { previewLayout } from '../../../src/providers/local/render.ts';
import { pixels, provider, rawDistance, request, testContext } from './helpers.ts';

/**
 * How far a preview grid is from the final images: each cell of the preview against its final image,
 * both reduced to 32×32 so the measure sees the picture rather than the preview's JPEG noise.
 */
async function distanceToFinal(preview: Uint8Array, finals: readonly Uint8Array[], width: number, height: number): Promise<number> {
  const layout = previewLayout(finals.length, width, height, LOCAL_DEFAULTS.previewSide);
  const size = { width: 32, height: 32 };
  let sum = 0;
  for (const [i, final] of finals.entries()) {
    const { left, top } = layout.cells[i]!;
    const crop = await sharp(preview).extract({ left, top, width: layout.cellWidth, height: layout.cellHeight }).png().toBuffer();
    const [a, b] = await Promise.all([pixels(crop, size), pixels(final, size)]);
    sum += rawDistance(a.data, b.data);
  }
  return sum / finals.length;
}

describe('local renderer: passes and progress', () => {
  it.each([
    ['a lighthouse on a cliff above the sea', {}],
    ['a neon city of towers', { timeOfDay: 'night' as const, weather: 'rainy' as const }],
    ['red fox in a snowy meadow', { weather: 'foggy' as const, stylize: 800 }],
    ['mountains and a quiet lake with pine trees', { weather: 'snowy' as const, timeOfDay: 'sunset' as const }],
    ['a blue whale in the deep ocean', { weather: 'thunderstorm' as const, stylize: 400, chaos: 60 }],
  ])('reports each pass of "%s" with a preview that converges to the final images', async (prompt, extra) => {
    const ctx = testContext();
    const result = await provider.generate(request({ prompt, width: 256, height: 192, ...extra }), ctx);
    const updates = ctx.updates;
    expect(updates.length).toBeGreaterThanOrEqual(4);
    expect(updates.length).toBeLessThanOrEqual(6);
    const percents = updates.map((u) => u.percent!);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(new Set(percents).size).toBe(percents.length);
    expect(percents.every((p) => p > 0 && p <= 100)).toBe(true);
    expect(updates.every((u) => typeof u.stage === 'string' && u.stage.length > 0)).toBe(true);

    const finals = result.images.map((i) => i.bytes);
    const distances: number[] = [];
    for (const update of updates) {
      const preview = update.preview!;
      expect(preview.mime).toBe('image/jpeg');
      const probed = await probeImage(preview.bytes);
      expect(Math.max(probed.width, probed.height)).toBeLessThanOrEqual(LOCAL_DEFAULTS.previewSide);
      distances.push(await distanceToFinal(preview.bytes, finals, 256, 192));
    }
    for (let k = 1; k < distances.length; k++) expect(distances[k]).toBeLessThan(distances[k - 1]!);
    // The last preview is the final picture, give or take JPEG and downsampling.
    expect(distances.at(-1)).toBeLessThan(2.5);
    expect(distances[0]).toBeGreaterThan(distances.at(-1)! * 3);
  });

  it('yields to the event loop between passes', async () => {
    const seen: boolean[] = [];
    let ran = false;
    const ctx = testContext(() => {
      seen.push(ran);
      ran = false;
      setImmediate(() => {
        ran = true;
      });
    });
    await provider.generate(request({ count: 2 }), ctx);
    // Every pass after the first started only after the callback scheduled in the previous pass had run.
    expect(seen.slice(1).every(Boolean)).toBe(true);
  });

  it('stops between passes when canceled, with an AbortError', async () => {
    const ctx = testContext((update, c) => {
      if (c.updates.length === 2) c.controller.abort();
    });
    const err = await provider.generate(request(), ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('AbortError');
    expect(ctx.updates).toHaveLength(2);
  });

  it('does not start when already canceled', async () => {
    const ctx = testContext();
    ctx.controller.abort(new Error('user canceled'));
    await expect(provider.generate(request(), ctx)).rejects.toMatchObject({ name: 'AbortError' });
    expect(ctx.updates satisfies ProviderProgress[]).toEqual([]);
  });
});
