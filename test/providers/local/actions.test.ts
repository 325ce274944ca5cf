import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { ProviderResult, SourceImage } from '../../../src/core/provider.ts';
import { probeImage } from '../../../src/images/probe.ts';
import { LOCAL_CAPABILITIES } from '../../../src/providers/local/index.ts';
import { distance, generate, pixels, provider, rawDistance, request, testContext } from './helpers.ts';

function sourceOf(result: ProviderResult, index: number, input = request()): SourceImage {
  const image = result.images[index - 1]!;
  return { ...image, index, request: input };
}

async function meanDistanceTo(source: Uint8Array, images: ProviderResult['images']): Promise<number> {
  const ds = await Promise.all(images.map((i) => distance(source, i.bytes)));
  return ds.reduce((s, d) => s + d, 0) / ds.length;
}

describe('local renderer: upscale and vary', () => {
  it('declares what it does', () => {
    expect(provider).toMatchObject({ id: 'local', displayName: 'Local renderer' });
    expect(LOCAL_CAPABILITIES).toMatchObject({
      modes: ['simple'],
      aspectRatios: 'any',
      maxCount: 8,
      upscale: true,
      variations: true,
      progressPercent: true,
      previews: true,
      webhooks: false,
    });
    for (const field of ['aspectRatio', 'width', 'height', 'count', 'seed', 'chaos', 'stylize', 'weather', 'timeOfDay', 'negativePrompt'] as const) {
      expect(LOCAL_CAPABILITIES.fields).toContain(field);
    }
  });

  it('upscales an image to twice its size with lanczos, as PNG', async () => {
    const result = await generate({ width: 120, height: 80 });
    const source = sourceOf(result, 2);
    const up = await provider.upscale!(source, testContext());
    expect(up.images).toHaveLength(1);
    expect(up.images[0]).toMatchObject({ mime: 'image/png', width: 240, height: 160 });
    expect(await probeImage(up.images[0]!.bytes)).toMatchObject({ mime: 'image/png', width: 240, height: 160 });
    // Scaled back down it is the same picture.
    const back = await sharp(up.images[0]!.bytes).resize(120, 80, { kernel: 'lanczos3' }).raw().toBuffer();
    expect(rawDistance(back, (await pixels(source.bytes)).data)).toBeLessThan(2);
  });

  it('varies an image: same prompt, nearby seed, new images closer to it than a fresh seed draws', async () => {
    const input = request({ chaos: 40 });
    const result = await provider.generate(input, testContext());
    const source = sourceOf(result, 3, input);
    const ctx = testContext();
    const varied = await provider.vary!(source, ctx);
    expect(varied.images).toHaveLength(4);
    expect(varied.images.every((i) => i.width === source.width && i.height === source.height)).toBe(true);
    expect(varied.seed).not.toBe(result.seed);
    expect(ctx.updates.length).toBeGreaterThanOrEqual(4);

    const fresh = await provider.generate(request({ chaos: 40, seed: 987654 }), testContext());
    const toVariations = await meanDistanceTo(source.bytes, varied.images);
    const toFresh = await meanDistanceTo(source.bytes, fresh.images);
    expect(toVariations).toBeGreaterThan(0);
    expect(toVariations).toBeLessThan(toFresh * 0.6);
    const siblings = await meanDistanceTo(source.bytes, result.images.filter((_, i) => i !== 2));
    expect(toVariations).toBeLessThan(siblings);
  });

  it('varies a variation from the picture it shows, and varies deterministically', async () => {
    const input = request();
    const first = await provider.vary!(sourceOf(await provider.generate(input, testContext()), 1, input), testContext());
    const source = sourceOf(first, 2, input);
    const [again, other] = await Promise.all([provider.vary!(source, testContext()), provider.vary!(source, testContext())]);
    again.images.forEach((image, i) => expect(Buffer.compare(image.bytes, other.images[i]!.bytes)).toBe(0));
    const fresh = await provider.generate(request({ seed: 5555 }), testContext());
    expect(await meanDistanceTo(source.bytes, again.images)).toBeLessThan((await meanDistanceTo(source.bytes, fresh.images)) * 0.6);
  });

  it('varies an image stored without its chain from its seed and position', async () => {
    const input = request({ chaos: 20 });
    const result = await provider.generate(input, testContext());
    const source = { ...sourceOf(result, 4, input), providerImageId: undefined };
    const varied = await provider.vary!(source, testContext());
    const fresh = await provider.generate(request({ chaos: 20, seed: 31337 }), testContext());
    expect(await meanDistanceTo(source.bytes, varied.images)).toBeLessThan((await meanDistanceTo(source.bytes, fresh.images)) * 0.6);
  });
});

describe('local renderer: upscale when canceled', () => {
  it('does not start', async () => {
    const result = await generate({ count: 1, width: 64, height: 64 });
    const ctx = testContext();
    ctx.controller.abort();
    await expect(provider.upscale!(sourceOf(result, 1), ctx)).rejects.toMatchObject({ name: 'AbortError' });
    expect(ctx.updates).toEqual([]);
  });
});
