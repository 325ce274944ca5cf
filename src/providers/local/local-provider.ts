import { randomInt } from 'node:crypto';
import sharp from 'sharp';
import type { ImageProvider, ProviderCapabilities, ProviderImage, ProviderResult, ProviderRunContext, SourceImage } from '../../core/provider.ts';
import { dimensionsFor, type GenerationRequest } from '../../core/request.ts';
import { hashString, imageSeed, type SeedChain } from './random.ts';
import { renderScenes } from './render.ts';
import { planScene } from './scene.ts';
import { motifsOf } from './words.ts';
import { applyEdit, applyPictures } from './pictures.ts';

export interface LocalProviderOptions {
  /** Long side when the request gives neither width nor height. */
  longSide?: number;
  /** Longest side of the preview grid sent with each pass. */
  previewSide?: number;
  /** Where a seed comes from when the request has none. */
  randomSeed?: () => number;
}

export const LOCAL_DEFAULTS = {
  longSide: 1024,
  previewSide: 256,
  randomSeed: () => randomInt(0, 4294967296),
} as const satisfies Required<LocalProviderOptions>;

export const LOCAL_CAPABILITIES: ProviderCapabilities = {
  modes: ['simple'],
  fields: ['aspectRatio', 'width', 'height', 'count', 'seed', 'chaos', 'stylize', 'weather', 'timeOfDay', 'negativePrompt'],
  aspectRatios: 'any',
  maxCount: 8,
  upscale: true,
  variations: true,
  progressPercent: true,
  previews: true,
  webhooks: false,
  // What it does with pictures is honest and simple (pictures.ts): their layout and palette, not their content.
  imageInput: { maxImages: 5, roles: ['prompt', 'style', 'character'], weight: true, blend: true },
  outpaint: true,
  inpaint: true,
  varyStrength: true,
  upscaleModes: ['subtle', 'creative'],
};

/** Vary (Subtle) and Vary (Strong): how far from the source the new scene may stray. */
const VARY_STRENGTH_PULL = { subtle: 0.05, strong: 0.35 } as const;

const DEFAULT_COUNT = 4;
const DEFAULT_STYLIZE = 100;
/** How far a variation strays from its source: about chaos 0. */
const VARY_PULL = 0.12;
/** Upscaling stops here, so a 4096 source does not become a 67-megapixel PNG. */
const MAX_UPSCALED_SIDE = 4096;

/** How far each image of a job strays from the job's shared composition: a little even at chaos 0. */
export const pullFor = (chaos: number | undefined): number => 0.25 + 0.75 * ((chaos ?? 0) / 100);

/** Exact size: width × height when both are set, one of them completed from the aspect ratio, or the aspect ratio at `longSide`. */
export function sizeFor(request: GenerationRequest, longSide: number): { width: number; height: number } {
  const { width, height, aspectRatio } = request;
  if (width && height) return { width, height };
  const [w, h] = (aspectRatio ?? '1:1').split(':').map(Number) as [number, number];
  if (width) return { width, height: Math.max(32, Math.round((width * h) / w)) };
  if (height) return { width: Math.max(32, Math.round((height * w) / h)), height };
  return dimensionsFor(aspectRatio, longSide);
}

/**
 * A variation must start from exactly the scene its source was drawn from, so each image carries its
 * seed chain in `providerImageId`: `local:<seeds>:<pulls>`, comma-separated.
 */
const chainId = (chain: SeedChain): string => `local:${chain.seeds.join(',')}:${chain.pulls.join(',')}`;

function chainOf(source: SourceImage): SeedChain {
  const m = /^local:([\d,]+):([\d.,e-]*)$/.exec(source.providerImageId ?? '');
  if (m) {
    const seeds = m[1]!.split(',').map(Number);
    const pulls = m[2] ? m[2].split(',').map(Number) : [];
    if (seeds.length === pulls.length + 1 && [...seeds, ...pulls].every(Number.isFinite)) return { seeds, pulls };
  }
  // An image stored without its chain (older rows): its job seed and position give the same scene.
  const jobSeed = source.seed ?? source.request.seed ?? hashString(Buffer.from(source.bytes.subarray(0, 4096)).toString('latin1'));
  return { seeds: [jobSeed, imageSeed(jobSeed, Math.max(0, source.index - 1))], pulls: [pullFor(source.request.chaos)] };
}

async function render(
  request: GenerationRequest,
  size: { width: number; height: number },
  chains: readonly SeedChain[],
  seed: number,
  ctx: ProviderRunContext,
  previewSide: number,
): Promise<ProviderImage[]> {
  const motifs = motifsOf(request.prompt, request.negativePrompt);
  const scenes = chains.map((chain) =>
    planScene({ motifs, ...size, stylize: request.stylize ?? DEFAULT_STYLIZE, timeOfDay: request.timeOfDay, weather: request.weather, chain }),
  );
  const pngs = await renderScenes(scenes, { signal: ctx.signal, progress: (p) => ctx.progress(p), previewSide });
  return pngs.map((bytes, i) => ({ bytes, mime: 'image/png', ...size, seed, providerImageId: chainId(chains[i]!) }));
}

/**
 * The built-in renderer: draws an abstract landscape from the prompt's words, deterministically from
 * the seed. It is for trying Atelier without keys and for tests; it is not a model.
 */
export function createLocalProvider(options: LocalProviderOptions = {}): ImageProvider {
  const { longSide, previewSide, randomSeed } = { ...LOCAL_DEFAULTS, ...options };
  return {
    id: 'local',
    displayName: 'Local renderer',
    capabilities: LOCAL_CAPABILITIES,

    async generate(request, ctx): Promise<ProviderResult> {
      const seed = request.seed ?? randomSeed();
      const count = Math.min(LOCAL_CAPABILITIES.maxCount, request.count ?? DEFAULT_COUNT);
      const pull = pullFor(request.chaos);
      const chains = Array.from({ length: count }, (_, i) => ({ seeds: [seed, imageSeed(seed, i)], pulls: [pull] }));
      if (request.edit) {
        // An edit's canvas has the source's shape, not the request's.
        const source = await ctx.readImage!(request.edit.imageId);
        const shape = request.edit.kind === 'outpaint' ? request.edit.canvas : source;
        const scale = Math.min(1, longSide / Math.max(shape.width, shape.height));
        const drawn = await render(request, { width: Math.max(32, Math.round(shape.width * scale)), height: Math.max(32, Math.round(shape.height * scale)) }, chains, seed, ctx, previewSide);
        const images = [];
        // At most the renderer's own size: four 2048² composites of an upscaled source cost seconds for no gain here.
        for (const d of drawn) images.push(await applyEdit(d, request, ctx, longSide));
        return { images, seed };
      }
      const images = await applyPictures(await render(request, sizeFor(request, longSide), chains, seed, ctx, previewSide), request, ctx);
      return { images, seed };
    },

    async vary(source, ctx): Promise<ProviderResult> {
      const from = chainOf(source);
      // "A nearby seed": the source's job seed moved by its position, so V1 and V2 of one job differ.
      const seed = (from.seeds[0]! + Math.max(1, source.index)) >>> 0;
      const count = Math.min(LOCAL_CAPABILITIES.maxCount, source.request.count ?? DEFAULT_COUNT);
      const pull = source.strength ? VARY_STRENGTH_PULL[source.strength] : VARY_PULL;
      const chains = Array.from({ length: count }, (_, k) => ({ seeds: [...from.seeds, imageSeed(seed, k)], pulls: [...from.pulls, pull] }));
      const images = await render(source.request, { width: source.width, height: source.height }, chains, seed, ctx, previewSide);
      return { images, seed };
    },

    async upscale(source, ctx): Promise<ProviderResult> {
      if (ctx.signal.aborted) {
        const err = new Error('the upscale was canceled', { cause: ctx.signal.reason });
        err.name = 'AbortError';
        throw err;
      }
      ctx.progress({ percent: 0, stage: 'upscaling' });
      const factor = Math.min(2, MAX_UPSCALED_SIDE / Math.max(source.width, source.height));
      const width = Math.round(source.width * factor);
      const height = Math.round(source.height * factor);
      let resized = sharp(source.bytes).resize(width, height, { kernel: 'lanczos3', fit: 'fill' });
      // Creative adds crispness the source did not have; subtle stays as close to it as resampling can.
      if (source.upscaleMode === 'creative') resized = resized.sharpen({ sigma: 1.2, m1: 1.5, m2: 3 });
      const bytes = await resized.png({ compressionLevel: 6 }).toBuffer();
      const image: ProviderImage = { bytes, mime: 'image/png', width, height, seed: source.seed, providerImageId: source.providerImageId };
      return { images: [image], seed: source.seed, note: factor < 2 ? `Upscaled to ${width}×${height}, the largest this renderer makes.` : undefined };
    },

    async check() {
      return { ok: true, detail: 'built in: draws abstract pictures from the prompt, no key needed' };
    },
  };
}
