import { UserError } from '../../src/core/errors.ts';
import type { ImageProvider, ProviderRunContext, SourceImage } from '../../src/core/provider.ts';
import type { GenerationRequest } from '../../src/core/request.ts';
import { createLocalProvider } from '../../src/providers/local/index.ts';

/**
 * Providers that differ from `local` only in what they declare or when they finish, for tests of
 * capability-driven buttons and repeated presses. Both draw with the local renderer.
 */
const local = createLocalProvider({ longSide: 128, previewSide: 64 });

/** The local renderer's capabilities without anything about pictures: no image input, edits or strengths. */
function plainCapabilities() {
  const { imageInput: _i, outpaint: _o, inpaint: _n, varyStrength: _v, upscaleModes: _u, ...rest } = local.capabilities;
  return rest;
}

/** Draws, but declares (and has) no upscale and no variations, like the Flux.1 gateway. */
export const sketchProvider: ImageProvider = {
  id: 'sketch',
  displayName: 'Sketch',
  capabilities: { ...plainCapabilities(), upscale: false, variations: false },
  generate: (request, ctx) => local.generate(request, ctx),
};

/** Its upscales wait until `release()` (or their AbortSignal), so a test can press again while one runs. */
export function heldUpscaleProvider(): ImageProvider & { release(): void } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  return {
    id: 'held',
    displayName: 'Held',
    capabilities: local.capabilities,
    generate: (request, ctx) => local.generate(request, ctx),
    async upscale(source: SourceImage, ctx: ProviderRunContext) {
      await new Promise<void>((resolve, reject) => {
        void gate.then(resolve);
        ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
      });
      return local.upscale!(source, ctx);
    },
    release: () => open(),
  };
}

/**
 * Square images only, no seed, aspect ratio or anything else: and, like a real API, it refuses a request
 * carrying a field it does not take (a 400), so a failover that hands it one unchanged fails.
 */
export const narrowProvider: ImageProvider = {
  id: 'narrow',
  displayName: 'Narrow',
  capabilities: { ...local.capabilities, fields: ['count'], aspectRatios: ['1:1'], maxCount: 4 },
  generate(request, ctx) {
    const extra = Object.entries(request).filter(([k, v]) => v !== undefined && !['mode', 'prompt', 'count'].includes(k) && !(k === 'aspectRatio' && v === '1:1'));
    if (extra.length) return Promise.reject(new UserError('PROVIDER_REJECTED', `Narrow: unknown field ${extra.map(([k]) => k).join(', ')} (400)`));
    return local.generate(request, ctx);
  },
};

/** Always answers with its own rate limit (a 429 that outlasted the HTTP layer's retries). */
export const rateLimitedProvider: ImageProvider = {
  id: 'limited',
  displayName: 'Limited',
  capabilities: { ...local.capabilities, fields: ['count', 'aspectRatio'] },
  generate: () => Promise.reject(new UserError('RATE_LIMITED', 'Limited is rate-limiting us. Try again shortly.', { retryable: true })),
};

/** Takes advanced (raw Midjourney) prompts and remembers every request it was handed. */
export function advancedProvider(): ImageProvider & { seen: GenerationRequest[] } {
  const seen: GenerationRequest[] = [];
  return {
    id: 'mj',
    displayName: 'MJ-like',
    capabilities: { ...local.capabilities, modes: ['simple', 'advanced'] },
    generate(request, ctx) {
      seen.push(request);
      return local.generate({ ...request, mode: 'simple' }, ctx);
    },
    seen,
  };
}

/**
 * Takes every kind of picture input and edit, and records what it was handed: each request, the bytes of each
 * picture it read back through `ctx.readImage`, and the strength / mode of each U and V. Draws with `local`.
 */
export function pictureProvider(): ImageProvider & { seen: { request: GenerationRequest; pictures: { mime: string; width: number; height: number; size: number }[] }[]; sources: SourceImage[] } {
  const seen: { request: GenerationRequest; pictures: { mime: string; width: number; height: number; size: number }[] }[] = [];
  const sources: SourceImage[] = [];
  return {
    id: 'pictures',
    displayName: 'Pictures',
    capabilities: {
      ...local.capabilities,
      imageInput: { maxImages: 5, roles: ['prompt', 'style', 'character'], weight: true, blend: true },
      outpaint: true,
      inpaint: true,
      varyStrength: true,
      upscaleModes: ['subtle', 'creative'],
    },
    async generate(request, ctx) {
      const ids = [...(request.images ?? []).map((i) => i.imageId), ...(request.edit ? [request.edit.imageId] : [])];
      const pictures = [];
      for (const id of ids) {
        const p = await ctx.readImage!(id);
        pictures.push({ mime: p.mime, width: p.width, height: p.height, size: p.bytes.byteLength });
      }
      seen.push({ request, pictures });
      const { images: _i, imageWeight: _w, blend: _b, edit: _e, ...plain } = request;
      return local.generate(plain, ctx);
    },
    upscale(source, ctx) {
      sources.push(source);
      return local.upscale!(source, ctx);
    },
    vary(source, ctx) {
      sources.push(source);
      return local.vary!(source, ctx);
    },
    seen,
    sources,
  };
}

/** The local renderer with U and V but nothing about pictures: no image input, zoom, region or strengths. */
export const plainProvider: ImageProvider = {
  id: 'plain',
  displayName: 'Plain',
  capabilities: plainCapabilities(),
  generate: (request, ctx) => local.generate(request, ctx),
  upscale: (source, ctx) => local.upscale!(source, ctx),
  vary: (source, ctx) => local.vary!(source, ctx),
};
