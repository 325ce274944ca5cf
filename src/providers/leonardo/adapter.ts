import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { z } from 'zod';
import { UserError } from '../../core/errors.ts';
import type { Logger } from '../../core/ports.ts';
import { silentLogger } from '../../core/ports.ts';
import type { GenerationRequest } from '../../core/request.ts';
import type { ImageProvider, ProviderCapabilities, ProviderImage, ProviderIntent, ProviderResult, ProviderRunContext, SourceImage } from '../../core/provider.ts';
import { createOnce, refuseBlindResume, unknownOutcome } from '../create-once.ts';
import type { ImageDownloader } from '../download.ts';
import type { HttpCall, HttpClient } from '../http.ts';
import { RateLimiter, Semaphore } from '../limiter.ts';
import type { Notifier } from '../notifier.ts';
import { pollTiming, pollUntil, type PollTiming } from '../poll.ts';
import { ProviderHttpError } from '../provider-error.ts';
import { editCanvas } from '../../images/canvas.ts';
import {
  canvasInitImageResponseSchema,
  createResponseSchema,
  generationResponseSchema,
  initImageResponseSchema,
  platformModelsSchema,
  universalUpscalerResponseSchema,
  upscaleResponseSchema,
  variationResponseSchema,
  type LeonardoGeneration,
} from './api.ts';
import { buildLeonardoBody, defaultModelId, LARGE, LEONARDO_FIELDS, MAX_COUNT, SIZE, type InitSource, type LeonardoExtras } from './body.ts';
import { FAMILY_RULES, knownModel, LEONARDO_MODELS, type ModelFamily } from './models.ts';
import { PlatformModels } from './platform-models.ts';
import { buildCanvasBody, CANVAS_MAX_SIDE, canvasLeavesOut, canvasModel } from './canvas.ts';
import { UPSCALER, VARY_INIT_STRENGTH } from './pictures.ts';
import type { PresignedUploader } from './upload.ts';

export const LEONARDO_NAME = 'Leonardo.Ai';

/** Leonardo's documented defaults: 10 concurrent jobs; 2000 requests/min overall; 100/min per create endpoint. */
export interface LeonardoLimits {
  concurrentJobs: number;
  requestsPerMinute: number;
  createsPerMinute: number;
}
export const DEFAULT_LEONARDO_LIMITS: LeonardoLimits = { concurrentJobs: 10, requestsPerMinute: 2000, createsPerMinute: 100 };

export interface LeonardoOptions extends PollTiming {
  http: HttpClient;
  downloader: ImageDownloader;
  notifier: Notifier;
  extras?: LeonardoExtras;
  /** Sends the user's own picture to Leonardo's presigned upload form (image input). */
  uploader?: PresignedUploader;
  /** How long the GET /platformModels list is kept for name look-ups. */
  modelListTtlMs?: number;
  limits?: Partial<LeonardoLimits>;
  /** Whether a webhook callback is configured (LEONARDO_WEBHOOK_TOKEN); only then do we expect hints. */
  webhooks?: boolean;
  logger?: Logger;
  /** init_strength for V: how closely a variation follows its source (0.1–0.9). */
  variationStrength?: number;
}

export function createLeonardoProvider(o: LeonardoOptions): ImageProvider {
  const log = (o.logger ?? silentLogger).child({ provider: 'leonardo' });
  const limits = { ...DEFAULT_LEONARDO_LIMITS, ...o.limits };
  const jobs = new Semaphore(limits.concurrentJobs);
  const allRequests = new RateLimiter(limits.requestsPerMinute, 60_000);
  const generationCreates = new RateLimiter(limits.createsPerMinute, 60_000);
  const upscaleCreates = new RateLimiter(limits.createsPerMinute, 60_000);
  const defaultId = defaultModelId(o.extras ?? {});
  const defaultModel: { name: string; id: string; family?: ModelFamily } = (defaultId && knownModel(defaultId)) || { name: defaultId ?? 'PhotoReal v1 (its own model)', id: defaultId ?? '' };
  const models = [...(defaultModel.id ? [defaultModel] : []), ...LEONARDO_MODELS.filter((m) => m.id !== defaultModel.id)];
  const guideStyles = [...new Set(Object.values(FAMILY_RULES).flatMap((f) => Object.keys(f.styles ?? {})))];

  const capabilities: ProviderCapabilities = {
    modes: ['simple'],
    fields: LEONARDO_FIELDS,
    aspectRatios: 'any',
    maxCount: MAX_COUNT,
    upscale: true,
    variations: true,
    progressPercent: false,
    previews: false,
    webhooks: Boolean(o.webhooks),
    models: models.map((m) => ({ name: m.name, id: m.id, ...(m.family && modelNote(m.family) ? { note: modelNote(m.family)! } : {}) })),
    styles: guideStyles,
    steps: { min: 10, max: 60 },
    guidance: { min: 1, max: 20 },
    size: SIZE,
    largeSize: LARGE,
    // The user's pictures and edits are uploaded to Leonardo first (presigned forms), so they need the uploader.
    ...(o.uploader
      ? { imageInput: { maxImages: 3, perRole: 1, roles: ['prompt', 'style', 'character'] as const, weight: true }, outpaint: true, inpaint: true }
      : {}),
    varyStrength: true,
    upscaleModes: ['subtle', 'creative'],
    notes: [
      `Default model: ${defaultModel.name}. Any platform model is reachable by its name (GET /platformModels) or id through POST /v1/generations.`,
      'Models the docs place only on /v2/generations (FLUX.2 Pro, FLUX.1 Kontext [pro], Nano Banana, GPT Image, Seedream, Ideogram) are not reachable here.',
      'U costs API tokens (Leonardo upscale); V is a new generation from the image and costs the same as one.',
      ...(o.uploader
        ? [
            'Pictures: one image prompt (--iw 0–3 maps to init strength 0.1–0.9), one style reference (phoenix, SDXL models) and one character reference (SDXL models).',
            'Zoom, pan, Make Square and Vary (Region) go through Leonardo Canvas Inpainting, painted by Leonardo Diffusion XL when the picture\'s model has no canvas (phoenix, lucid, flux, lightning-xl, anime-xl).',
          ]
        : []),
      'Upscale (Subtle / Creative) is Leonardo\'s Universal Upscaler at 2×.',
    ],
  };
  const platformModels = new PlatformModels(async (signal) => {
    const raw = await api({ method: 'GET', path: '/platformModels', idempotent: true, signal });
    return parse(platformModelsSchema, raw, 'model list').custom_models;
  }, o.modelListTtlMs);

  /** Uploads one of our stored images through POST /init-image and the presigned form; returns its init image id. */
  async function uploadInit(imageId: string, ctx: ProviderRunContext): Promise<string> {
    if (!o.uploader || !ctx.readImage) {
      throw new UserError('UNSUPPORTED', `${LEONARDO_NAME} can only start from images it made itself here: pick an image from a ${LEONARDO_NAME} result.`);
    }
    let image = await ctx.readImage(imageId);
    // Users may give GIFs; Leonardo's upload takes png, jpg or webp, so its first frame goes as a PNG.
    if (image.mime === 'image/gif') image = { ...image, bytes: new Uint8Array(await sharp(image.bytes).png().toBuffer()), mime: 'image/png' };
    const extension = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' }[image.mime];
    if (!extension) throw new UserError('INVALID_OPTIONS', `${LEONARDO_NAME} takes PNG, JPEG or WebP pictures, not ${image.mime}.`);
    const raw = await api({ method: 'POST', path: '/init-image', json: { extension }, idempotent: false, signal: ctx.signal });
    const answer = parse(initImageResponseSchema, raw, 'upload answer').uploadInitImage;
    await o.uploader.upload(answer.url, readFields(answer.fields), { bytes: image.bytes, mime: image.mime, name: `init.${extension}` }, ctx.signal);
    return answer.id;
  }

  function readFields(json: string): Record<string, string> {
    try {
      return z.record(z.string(), z.string()).parse(JSON.parse(json));
    } catch {
      throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${LEONARDO_NAME} sent an unreadable upload form.`, LEONARDO_NAME, { phase: 'answered' });
    }
  }

  async function api<T>(call: HttpCall, endpoint?: RateLimiter): Promise<T> {
    await allRequests.take(call.signal);
    if (endpoint) await endpoint.take(call.signal);
    return o.http.call<T>(call);
  }

  function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, raw: unknown, what: string, create = false): T {
    const r = schema.safeParse(raw);
    if (r.success) return r.data;
    // An unreadable answer to a create still means it may have been billed.
    throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${LEONARDO_NAME} sent an unexpected ${what}.`, LEONARDO_NAME, { phase: 'answered', unreadable: create });
  }

  async function fetchGeneration(id: string, signal: AbortSignal): Promise<LeonardoGeneration | null> {
    const raw = await api({ method: 'GET', path: `/generations/${encodeURIComponent(id)}`, idempotent: true, signal });
    return parse(generationResponseSchema, raw, 'generation').generations_by_pk;
  }

  function waitGeneration(id: string, ctx: ProviderRunContext): Promise<LeonardoGeneration> {
    let warned = false;
    return pollUntil<LeonardoGeneration | null>({
      provider: LEONARDO_NAME,
      what: `generation ${id}`,
      signal: ctx.signal,
      ...pollTiming(o),
      notifier: o.notifier,
      notifyKey: id,
      fetch: () => fetchGeneration(id, ctx.signal),
      onTransientError: (err) => log.warn({ generationId: id, err: err instanceof Error ? err.message : String(err) }, 'poll failed; still waiting'),
      settle: (g) => {
        if (!g?.status) return undefined;
        if (g.status === 'COMPLETE') return g;
        if (g.status === 'FAILED') throw new UserError('PROVIDER_REJECTED', `${LEONARDO_NAME} could not make this generation. Rephrase the prompt or change the settings, then try again.`);
        if (g.status !== 'PENDING' && !warned) {
          warned = true;
          log.warn({ generationId: id, status: g.status }, 'undocumented Leonardo status; still waiting');
        }
        return undefined;
      },
    }) as Promise<LeonardoGeneration>;
  }

  /** Every image with Leonardo's own `nsfw` flag on it: the runner withholds flagged ones where NSFW is not allowed. */
  async function collect(g: LeonardoGeneration, ctx: ProviderRunContext): Promise<ProviderResult> {
    const seed = g.seed === null || g.seed === undefined ? undefined : Number(g.seed);
    // An entry without a URL has nothing to fetch (the SDK allows it); it is not an image of the result.
    const all = g.generated_images.filter((i): i is typeof i & { url: string } => Boolean(i.url));
    if (all.length === 0) {
      throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${LEONARDO_NAME} finished generation ${g.id} without any images.`, LEONARDO_NAME, { phase: 'answered' });
    }
    const images: ProviderImage[] = [];
    for (const img of all) {
      const d = await o.downloader.download(img.url, ctx.signal);
      images.push({ ...d, ...(img.id ? { providerImageId: img.id } : {}), nsfw: img.nsfw === true, ...(Number.isFinite(seed) ? { seed } : {}) });
    }
    return { images, providerJobId: g.id, ...(Number.isFinite(seed) ? { seed } : {}) };
  }


  /**
   * The Leonardo job id for this run: the one recorded before a restart, or one create, recorded with its
   * intent first. A create whose answer was lost fails visibly: Leonardo cannot be asked what it made.
   */
  async function createOrResume<B>(ctx: ProviderRunContext, what: string, operation: ProviderIntent['operation'], makeBody: () => B, create: (body: B) => Promise<string>): Promise<string> {
    if (ctx.resume?.providerJobId) return ctx.resume.providerJobId;
    refuseBlindResume(LEONARDO_NAME, ctx, what);
    const body = makeBody();
    return createOnce(
      ctx,
      { key: `${ctx.jobId}-${randomUUID().slice(0, 8)}`, operation, body },
      () => create(body),
      async (err) => {
        throw unknownOutcome(LEONARDO_NAME, what, err);
      },
    );
  }

  async function runGeneration(req: GenerationRequest, ctx: ProviderRunContext, operation: 'generate' | 'vary'): Promise<ProviderResult> {
    if (req.edit) return runCanvas(req, ctx);
    let body: object | undefined;
    if (!ctx.resume?.providerJobId) {
      const modelId = req.model ? await platformModels.resolve(req.model, ctx.signal) : undefined;
      // Checked before the upload, so a request the model refuses uploads nothing.
      const pending = Object.fromEntries((req.images ?? []).map((i) => [i.imageId, 'pending']));
      buildLeonardoBody(req, o.extras, modelId, req.init && !req.init.providerImageId ? { uploadedImageId: 'pending' } : undefined, pending);
      let init: InitSource | undefined;
      if (req.init && !req.init.providerImageId) init = { uploadedImageId: await uploadInit(req.init.imageId, ctx) };
      const uploads: Record<string, string> = {};
      for (const picture of req.images ?? []) uploads[picture.imageId] ??= await uploadInit(picture.imageId, ctx);
      body = buildLeonardoBody(req, o.extras, modelId, init, uploads);
    }
    return createAndCollect(ctx, operation, body);
  }

  async function createAndCollect(ctx: ProviderRunContext, operation: 'generate' | 'vary', body: object | undefined, note?: string): Promise<ProviderResult> {
    const id = await createOrResume(ctx, 'this generation', operation, () => body!, async (body) => {
      const raw = await api({ method: 'POST', path: '/generations', json: body, idempotent: false, signal: ctx.signal }, generationCreates);
      return parse(createResponseSchema, raw, 'create answer', true).sdGenerationJob.generationId;
    });
    ctx.progress({ stage: `rendering at ${LEONARDO_NAME}` });
    const result = await collect(await waitGeneration(id, ctx), ctx);
    return note ? { ...result, note } : result;
  }

  /** Uploads a picture and its mask through POST /canvas-init-image; returns both ids. */
  async function uploadCanvas(picture: Uint8Array, mask: Uint8Array, ctx: ProviderRunContext): Promise<{ init: string; mask: string }> {
    if (!o.uploader) throw new UserError('UNSUPPORTED', `${LEONARDO_NAME} is set up without picture uploads here, so it cannot zoom, pan or repaint.`);
    const raw = await api({ method: 'POST', path: '/canvas-init-image', json: { initExtension: 'png', maskExtension: 'png' }, idempotent: false, signal: ctx.signal });
    const forms = parse(canvasInitImageResponseSchema, raw, 'canvas upload answer');
    for (const [form, bytes, name] of [[forms.init, picture, 'init.png'], [forms.mask, mask, 'mask.png']] as const) {
      await o.uploader.upload(form.url!, readFields(form.fields!), { bytes, mime: 'image/png', name }, ctx.signal);
    }
    return { init: forms.init.id, mask: forms.mask.id! };
  }

  /** Zoom, pan, square and Vary (Region): the edit's canvas and mask, inpainted by a model that has the canvas. */
  async function runCanvas(req: GenerationRequest, ctx: ProviderRunContext): Promise<ProviderResult> {
    const edit = req.edit!;
    const model = canvasModel(req.model ? (knownModel(req.model)?.id ?? req.model) : defaultModel.id || undefined);
    const left = canvasLeavesOut(req);
    const said = [
      ...(model.substituted ? [`painted by ${model.name}, as ${LEONARDO_NAME}'s canvas does not take ${req.model ?? defaultModel.name}`] : []),
      ...(left.length ? [`${LEONARDO_NAME}'s canvas takes no ${left.join(', ')}`] : []),
    ];
    let body: object | undefined;
    if (!ctx.resume?.providerJobId) {
      if (!ctx.readImage) throw new UserError('UNSUPPORTED', `${LEONARDO_NAME} cannot read the picture to edit here.`);
      const source = await ctx.readImage(edit.imageId);
      const canvas = await editCanvas(source.bytes, edit, { maxSide: CANVAS_MAX_SIDE, multipleOf: 8 });
      const ids = await uploadCanvas(canvas.filled, canvas.mask, ctx);
      body = buildCanvasBody(req, model.id, ids, canvas);
    }
    return createAndCollect(ctx, 'generate', body, said.length ? `${said.join('; ')}.` : undefined);
  }

  async function withSlot<T>(ctx: ProviderRunContext, run: () => Promise<T>): Promise<T> {
    const release = await jobs.acquire(ctx.signal);
    try {
      return await run();
    } finally {
      release();
    }
  }

  return {
    id: 'leonardo',
    displayName: LEONARDO_NAME,
    capabilities,
    concurrency: limits.concurrentJobs,
    generate: (req, ctx) => withSlot(ctx, () => runGeneration(req, ctx, 'generate')),
    vary(source: SourceImage, ctx) {
      if (!source.providerImageId) throw new UserError('UNSUPPORTED', `This image has no ${LEONARDO_NAME} id, so it cannot be varied there.`);
      const { seed: _seed, init: _init, ...rest } = source.request;
      const req: GenerationRequest = {
        ...rest,
        init: { imageId: source.providerImageId, providerImageId: source.providerImageId, strength: source.strength ? VARY_INIT_STRENGTH[source.strength] : (o.variationStrength ?? 0.5) },
      };
      return withSlot(ctx, () => runGeneration(req, ctx, 'vary'));
    },
    upscale(source: SourceImage, ctx) {
      return withSlot(ctx, async () => {
        if (!source.providerImageId) throw new UserError('UNSUPPORTED', `This image has no ${LEONARDO_NAME} id, so it cannot be upscaled there.`);
        const mode = source.upscaleMode;
        const id = mode
          ? await createOrResume(ctx, 'this upscale', 'upscale', () => ({ generatedImageId: source.providerImageId, upscalerStyle: 'GENERAL', ...UPSCALER[mode] }), async (body) => {
              const raw = await api({ method: 'POST', path: '/variations/universal-upscaler', json: body, idempotent: false, signal: ctx.signal }, upscaleCreates);
              return parse(universalUpscalerResponseSchema, raw, 'upscale answer', true).universalUpscaler.id;
            })
          : await createOrResume(ctx, 'this upscale', 'upscale', () => ({ id: source.providerImageId }), async (body) => {
              const raw = await api({ method: 'POST', path: '/variations/upscale', json: body, idempotent: false, signal: ctx.signal }, upscaleCreates);
              return parse(upscaleResponseSchema, raw, 'upscale answer', true).sdUpscaleJob.id;
            });
        ctx.progress({ stage: `upscaling at ${LEONARDO_NAME}` });
        const variationId = id;
        const done = await pollUntil({
          provider: LEONARDO_NAME,
          what: `upscale ${variationId}`,
          signal: ctx.signal,
          ...pollTiming(o),
          notifier: o.notifier,
          notifyKey: variationId,
          fetch: async () =>
            parse(variationResponseSchema, await api({ method: 'GET', path: `/variations/${encodeURIComponent(variationId)}`, idempotent: true, signal: ctx.signal }), 'variation')
              .generated_image_variation_generic,
          settle: (list) => {
            const v = list.find((x) => x.id === variationId) ?? list[0];
            if (!v?.status) return undefined;
            if (v.status === 'FAILED') throw new UserError('PROVIDER_REJECTED', `${LEONARDO_NAME} could not upscale this image. Try again or pick another image.`);
            return v.status === 'COMPLETE' && v.url ? list : undefined;
          },
        });
        const v = done.find((x) => x.id === variationId) ?? done[0]!;
        const d = await o.downloader.download(v.url!, ctx.signal);
        return { images: [{ ...d, providerImageId: source.providerImageId }], providerJobId: variationId };
      });
    },
    async check(signal) {
      const me = await api<{ user_details?: { user?: { username?: string }; apiSubscriptionTokens?: number; apiPaidTokens?: number; apiConcurrencySlots?: number }[] }>({
        method: 'GET',
        path: '/me',
        idempotent: true,
        signal,
      });
      const d = me?.user_details?.[0];
      if (!d) return { ok: false, detail: `${LEONARDO_NAME} /me answered without user details.` };
      return {
        ok: true,
        detail: `key accepted (${d.user?.username ?? 'account'}); API tokens: ${d.apiSubscriptionTokens ?? 0} subscription + ${d.apiPaidTokens ?? 0} paid; ${d.apiConcurrencySlots ?? '?'} concurrency slots`,
      };
    },
  };
}

function modelNote(family: ModelFamily): string | undefined {
  const f = FAMILY_RULES[family];
  if (f.stepsAndGuidance) return undefined;
  const styles = Object.keys(f.styles ?? {}).length;
  return `${styles > 1 ? 'styles by name' : 'style Dynamic only'}; contrast ${f.contrast?.fallback ?? ''} sent (required); no negative prompt, steps, guidance, tiling or transparency${f.alchemy ? '' : ', no alchemy'}`;
}
