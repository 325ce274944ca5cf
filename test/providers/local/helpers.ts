import sharp from 'sharp';
import type { ProviderProgress, ProviderResult, ProviderRunContext } from '../../../src/core/provider.ts';
import { generationRequestSchema, type GenerationRequestInput } from '../../../src/core/request.ts';
import { createLocalProvider } from '../../../src/providers/local/index.ts';

export const provider = createLocalProvider();

export interface TestContext extends ProviderRunContext {
  updates: ProviderProgress[];
  controller: AbortController;
}

export function testContext(onProgress?: (update: ProviderProgress, ctx: TestContext) => void): TestContext {
  const controller = new AbortController();
  const ctx: TestContext = {
    jobId: 'job-1',
    signal: controller.signal,
    controller,
    updates: [],
    progress(update) {
      ctx.updates.push(update);
      onProgress?.(update, ctx);
    },
    recordIntent: async () => {},
    recordSubmitted: async () => {},
    allowNsfw: false,
  };
  return ctx;
}

/** Small images by default: every property here holds at any size, and tests share two cores. */
export function request(input: Partial<GenerationRequestInput> = {}) {
  return generationRequestSchema.parse({ prompt: 'a lighthouse on a cliff above the sea', width: 160, height: 160, seed: 42, ...input });
}

export async function generate(input: Partial<GenerationRequestInput> = {}): Promise<ProviderResult> {
  return provider.generate(request(input), testContext());
}

export interface Pixels {
  width: number;
  height: number;
  data: Uint8Array;
}

export async function pixels(bytes: Uint8Array, size?: { width: number; height: number }): Promise<Pixels> {
  const pipeline = sharp(bytes).removeAlpha();
  if (size) pipeline.resize(size.width, size.height, { fit: 'fill' });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

/**
 * The distance between two pictures of the same size: mean absolute difference per channel, on a
 * 0–255 scale, after both are reduced to 32×32 so it measures composition and colour, not pixel noise.
 */
export async function distance(a: Uint8Array, b: Uint8Array): Promise<number> {
  const size = { width: 32, height: 32 };
  const [pa, pb] = await Promise.all([pixels(a, size), pixels(b, size)]);
  return rawDistance(pa.data, pb.data);
}

export function rawDistance(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`sizes differ: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

/** Mean of the distances between every pair. */
export async function meanPairwiseDistance(images: readonly Uint8Array[]): Promise<number> {
  const ds: number[] = [];
  for (let i = 0; i < images.length; i++) for (let j = i + 1; j < images.length; j++) ds.push(await distance(images[i]!, images[j]!));
  return ds.reduce((s, d) => s + d, 0) / ds.length;
}

/** Mean colour and luma (0–255) and the luma's standard deviation, a measure of contrast. */
export async function colourStats(bytes: Uint8Array): Promise<{ r: number; g: number; b: number; luma: number; contrast: number }> {
  const { data } = await pixels(bytes);
  let r = 0;
  let g = 0;
  let b = 0;
  let l2 = 0;
  const n = data.length / 3;
  for (let i = 0; i < data.length; i += 3) {
    r += data[i]!;
    g += data[i + 1]!;
    b += data[i + 2]!;
    const l = 0.2126 * data[i]! + 0.7152 * data[i + 1]! + 0.0722 * data[i + 2]!;
    l2 += l * l;
  }
  r /= n;
  g /= n;
  b /= n;
  const luma = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return { r, g, b, luma, contrast: Math.sqrt(Math.max(0, l2 / n - luma * luma)) };
}

/** Stats averaged over every image of a result, so one odd image cannot decide a test. */
export async function resultStats(result: ProviderResult) {
  const all = await Promise.all(result.images.map((i) => colourStats(i.bytes)));
  const avg = (k: keyof (typeof all)[number]) => all.reduce((s, x) => s + x[k], 0) / all.length;
  return { r: avg('r'), g: avg('g'), b: avg('b'), luma: avg('luma'), contrast: avg('contrast') };
}
