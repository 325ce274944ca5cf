import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { UserError } from '../../core/errors.ts';
import type { Logger } from '../../core/ports.ts';
import { silentLogger } from '../../core/ports.ts';
import type { GenerationRequest } from '../../core/request.ts';
import type { ImageProvider, ProviderCapabilities, ProviderImage, ProviderIntent, ProviderResult, ProviderRunContext, SourceImage } from '../../core/provider.ts';
import type { HttpClient } from '../http.ts';
import { sniffImage } from '../image-type.ts';
import { Semaphore } from '../limiter.ts';
import { ProviderHttpError } from '../provider-error.ts';
import { abortError, sleep } from '../timing.ts';
import { extrasResponseSchema, imagesResponseSchema, infoSchema, progressSchema, samplersSchema, sdModelsSchema, taskProgressSchema, upscalersSchema } from './api.ts';
import { A1111_FIELDS, buildTxt2ImgBody, type A1111Catalog, type Txt2ImgBody } from './body.ts';
import { CREATIVE_DENOISE, RENDER_SIDE, varyDenoise } from '../strengths.ts';
import { A1111_SIZE, checkPictures, editFields, fitSize, imagePromptFields, MAX_UPSCALED_SIDE, pickUpscaler, redrawFields, upscaleFactor, type Img2ImgFields } from './pictures.ts';

export const A1111_NAME = 'AUTOMATIC1111';
/** Bounds for answers that carry base64 images: up to eight full-size results, or one preview. */
const IMAGES_RESPONSE_CAP = 96 * 1024 * 1024;
const PREVIEW_RESPONSE_CAP = 16 * 1024 * 1024;

export interface A1111Options {
  http: HttpClient;
  /** A1111_MODEL: the checkpoint for our jobs, sent per request. */
  model?: string;
  sampler?: string;
  logger?: Logger;
  /** txt2img answers only when the images are done: allow it this long for response headers. */
  generateTimeoutMs?: number;
  /** How often progress is read while our task runs. */
  progressIntervalMs?: number;
  previewIntervalMs?: number;
  catalogTtlMs?: number;
  /** How long a canceled task that is still queued at the server is watched, to interrupt it once it starts. */
  cancelWatchMs?: number;
}

type TaskState = 'active' | 'queued' | 'completed' | 'unknown';

export type A1111Provider = ImageProvider & {
  /** Image-to-image on the same server (the image-input issue uses it): the source as base64 in init_images. */
  img2img(req: GenerationRequest, init: { bytes: Uint8Array; strength: number }, ctx: ProviderRunContext): Promise<{ images: ProviderImage[]; seed?: number; providerJobId: string }>;
};

export function createA1111Provider(o: A1111Options): A1111Provider {
  const log = (o.logger ?? silentLogger).child({ provider: 'a1111' });
  const name = A1111_NAME;
  // The webui runs one task at a time for everyone; we send one at a time so we always know which is ours.
  const serial = new Semaphore(1);
  let catalog: { at: number; value: A1111Catalog } | undefined;
  let upscalers: { at: number; names: string[] } | undefined;
  /** Whether the server has /internal/progress (A1111 ≥ 1.6, Forge, SD.Next); without it we never interrupt. */
  let taskLookup = true;

  const capabilities: ProviderCapabilities = {
    modes: ['simple'],
    fields: A1111_FIELDS,
    aspectRatios: 'any',
    maxCount: 8,
    upscale: true,
    variations: true,
    progressPercent: true,
    previews: true,
    webhooks: false,
    size: A1111_SIZE,
    // img2img starts from one picture; several init images are a batch of separate starts, not a blend (processing.py).
    imageInput: { maxImages: 1, roles: ['prompt'], weight: true },
    outpaint: true,
    inpaint: true,
    varyStrength: true,
    upscaleModes: ['subtle', 'creative'],
    notes: [
      'An image prompt is img2img from the picture: --iw 1 is denoising strength 0.75, each unit of --iw keeps a fifth more of the picture.',
      'U and Upscale (Subtle) double the picture with the best upscaler the webui lists (R-ESRGAN 4x+ when installed, else Lanczos); Upscale (Creative) re-renders it at twice the size.',
    ],
  };

  async function readCatalog(signal: AbortSignal, fresh = false): Promise<A1111Catalog> {
    if (!fresh && catalog && Date.now() - catalog.at < (o.catalogTtlMs ?? 5 * 60_000)) return catalog.value;
    const models = sdModelsSchema.safeParse(await o.http.call({ method: 'GET', path: '/sdapi/v1/sd-models', idempotent: true, signal }));
    const samplers = samplersSchema.safeParse(await o.http.call({ method: 'GET', path: '/sdapi/v1/samplers', idempotent: true, signal }));
    if (!models.success || !samplers.success) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${name} sent an unreadable model or sampler list.`, name, { phase: 'answered' });
    const value: A1111Catalog = { models: new Map(), samplers: new Set() };
    for (const m of models.data) for (const alias of [m.title, m.model_name, m.filename]) if (alias) value.models.set(alias, m.title);
    for (const s of samplers.data) {
      value.samplers.add(s.name);
      for (const a of s.aliases ?? []) value.samplers.add(a);
    }
    catalog = { at: Date.now(), value };
    return value;
  }

  async function readUpscalers(signal: AbortSignal): Promise<string[]> {
    if (upscalers && Date.now() - upscalers.at < (o.catalogTtlMs ?? 5 * 60_000)) return upscalers.names;
    const parsed = upscalersSchema.safeParse(await o.http.call({ method: 'GET', path: '/sdapi/v1/upscalers', idempotent: true, signal }));
    if (!parsed.success) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${name} sent an unreadable upscaler list.`, name, { phase: 'answered' });
    upscalers = { at: Date.now(), names: parsed.data.map((u) => u.name) };
    return upscalers.names;
  }

  async function taskState(taskId: string, signal: AbortSignal): Promise<TaskState> {
    if (!taskLookup) return 'unknown';
    try {
      const raw = await o.http.call({ method: 'POST', path: '/internal/progress', json: { id_task: taskId, id_live_preview: -1, live_preview: false }, idempotent: true, signal });
      const t = taskProgressSchema.safeParse(raw);
      if (!t.success) return 'unknown';
      return t.data.active ? 'active' : t.data.queued ? 'queued' : t.data.completed ? 'completed' : 'unknown';
    } catch (err) {
      if (err instanceof ProviderHttpError && err.info.status === 404) taskLookup = false;
      throw err;
    }
  }

  const interrupt = (signal: AbortSignal) => o.http.call({ method: 'POST', path: '/sdapi/v1/interrupt', idempotent: true, signal });

  /** Interrupts our task if it is the one running; a canceled task still queued there is watched and interrupted when it starts. */
  async function cancelAtServer(taskId: string): Promise<void> {
    const deadline = Date.now() + (o.cancelWatchMs ?? 10 * 60_000);
    const attempt = async (): Promise<'done' | 'queued'> => {
      const state = await taskState(taskId, AbortSignal.timeout(10_000));
      if (state === 'active') await interrupt(AbortSignal.timeout(10_000));
      return state === 'queued' ? 'queued' : 'done';
    };
    const report = (err: unknown) => log.warn({ taskId, err: err instanceof Error ? err.message : String(err) }, 'could not cancel at the webui');
    try {
      if ((await attempt()) === 'done') return;
    } catch (err) {
      report(err);
      return;
    }
    // The webui cannot drop a queued task; it will start once the one ahead finishes, and is stopped then.
    void (async () => {
      try {
        while (Date.now() < deadline) {
          await sleep(o.progressIntervalMs ?? 1_000);
          if ((await attempt()) === 'done') return;
        }
      } catch (err) {
        report(err);
      }
    })();
  }

  /** Reads progress while our request is open: queued behind another task, or percent, ETA and the live preview. */
  function watchProgress(taskId: string, ctx: ProviderRunContext): () => void {
    const stop = new AbortController();
    const signal = AbortSignal.any([stop.signal, ctx.signal]);
    let lastPreviewAt = 0;
    void (async () => {
      while (!signal.aborted) {
        try {
          await sleep(o.progressIntervalMs ?? 1_000, signal);
          const state = await taskState(taskId, signal).catch(() => 'unknown' as const);
          if (state === 'queued') {
            ctx.progress({ stage: `waiting: ${name} is busy with another task` });
            continue;
          }
          if (state !== 'active' && state !== 'unknown') continue;
          const p = progressSchema.safeParse(await o.http.call({ method: 'GET', path: '/sdapi/v1/progress', query: { skip_current_image: 'false' }, idempotent: true, signal, maxResponseBytes: PREVIEW_RESPONSE_CAP }));
          if (!p.success || signal.aborted) continue;
          const eta = p.data.eta_relative && p.data.eta_relative > 0 ? ` (about ${Math.ceil(p.data.eta_relative)} s left)` : '';
          const update: Parameters<ProviderRunContext['progress']>[0] = { percent: Math.max(0, Math.min(99, Math.round(p.data.progress * 100))), stage: `rendering on ${name}${eta}` };
          const now = Date.now();
          if (p.data.current_image && now - lastPreviewAt >= (o.previewIntervalMs ?? 1_000)) {
            const bytes = decodeBase64Image(p.data.current_image);
            const mime = bytes && sniffImage(bytes);
            if (bytes && mime) {
              lastPreviewAt = now;
              update.preview = { bytes, mime };
            }
          }
          ctx.progress(update);
        } catch (err) {
          if (!signal.aborted) log.debug({ taskId, err: err instanceof Error ? err.message : String(err) }, 'progress read failed');
        }
      }
    })();
    return () => stop.abort();
  }

  async function decodeResult(raw: unknown, want: number): Promise<{ images: ProviderImage[]; seed?: number }> {
    const parsed = imagesResponseSchema.safeParse(raw);
    if (!parsed.success || !parsed.data.images?.length) {
      throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${name} answered without any images.`, name, { phase: 'answered', unreadable: true });
    }
    let seeds: number[] = [];
    try {
      const info = infoSchema.safeParse(JSON.parse(parsed.data.info ?? '{}'));
      if (info.success) seeds = info.data.all_seeds ?? (info.data.seed !== undefined ? [info.data.seed] : []);
    } catch {
      // The info string is advisory; images without seeds are still images.
    }
    // Extensions (ControlNet and others) may append their own images after the batch.
    const images: ProviderImage[] = [];
    for (const [i, b64] of parsed.data.images.slice(0, want).entries()) {
      const bytes = decodeBase64Image(b64);
      const mime = bytes && sniffImage(bytes);
      if (!bytes || !mime) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${name} sent image ${i + 1} in a form that is not an image.`, name, { phase: 'answered' });
      let meta: sharp.Metadata;
      try {
        meta = await sharp(bytes, { limitInputPixels: 16384 * 16384 }).metadata();
      } catch {
        throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${name} sent image ${i + 1}, which could not be decoded.`, name, { phase: 'answered' });
      }
      const seed = seeds[i] ?? seeds[0];
      images.push({ bytes, mime, width: meta.width ?? 0, height: meta.height ?? 0, ...(seed !== undefined ? { seed } : {}) });
    }
    return { images, ...(seeds[0] !== undefined ? { seed: seeds[0] } : {}) };
  }

  /**
   * One blocking render, ours alone on the server. The intent is recorded with the task id we force on the
   * server, so after a restart or a lost answer we can ask whether the server ever saw it.
   */
  async function render(path: '/sdapi/v1/txt2img' | '/sdapi/v1/img2img', body: Txt2ImgBody & Record<string, unknown>, ctx: ProviderRunContext, operation: ProviderIntent['operation'] = 'generate') {
    if (ctx.resume?.providerJobId) {
      throw new UserError('UNKNOWN_OUTCOME', `${name} finished this job, but Atelier restarted before saving the images and ${name} cannot send them again. Press 🔄 to try again.`, { retryable: true });
    }
    const release = await serial.acquire(ctx.signal);
    try {
      let taskId = `atelier-${ctx.jobId}-${randomUUID().slice(0, 8)}`;
      if (ctx.resume?.intent) {
        taskId = ctx.resume.intent.key;
        const state = await taskState(taskId, ctx.signal).catch(() => 'unknown' as const);
        // Seen by the server: its images went to a connection that no longer exists. Free the GPU, fail visibly.
        if (state === 'active' || state === 'queued' || state === 'completed') {
          if (state !== 'completed') void cancelAtServer(taskId);
          throw new UserError('UNKNOWN_OUTCOME', `${name} had this job when Atelier restarted, and its images cannot be fetched again. Press 🔄 to try again.`, { retryable: true });
        }
        if (!taskLookup) throw new UserError('UNKNOWN_OUTCOME', `${name} may have started this job before Atelier restarted, and this server cannot be asked. Press 🔄 to try again.`, { retryable: true });
      }
      const wire = { ...body, force_task_id: taskId };
      await ctx.recordIntent({ key: taskId, operation, body: withoutPictures(wire) });
      ctx.progress({ stage: `sent to ${name}` });
      const stopWatching = watchProgress(taskId, ctx);
      let raw: unknown;
      try {
        raw = await send(path, wire, taskId, ctx);
      } finally {
        stopWatching();
      }
      // An interrupted task still answers with what it had: a canceled job must not turn into a result.
      if (ctx.signal.aborted) throw abortError(ctx.signal);
      await ctx.recordSubmitted(taskId);
      return { ...(await decodeResult(raw, body.batch_size * body.n_iter)), providerJobId: taskId };
    } finally {
      release();
    }
  }

  async function send(path: string, wire: Record<string, unknown>, taskId: string, ctx: ProviderRunContext): Promise<unknown> {
    // The images come back inline as base64: four SDXL PNGs are several megabytes.
    const post = () => o.http.call({ method: 'POST', path, json: wire, idempotent: false, signal: ctx.signal, headersTimeoutMs: o.generateTimeoutMs ?? 15 * 60_000, maxResponseBytes: IMAGES_RESPONSE_CAP });
    try {
      return await post();
    } catch (err) {
      if (ctx.signal.aborted) {
        await cancelAtServer(taskId);
        throw err;
      }
      const lost = err instanceof ProviderHttpError && (err.info.phase === 'maybe-sent' || err.info.unreadable === true);
      if (!lost) throw err;
      const state = await taskState(taskId, AbortSignal.timeout(10_000)).catch(() => 'unknown' as const);
      if (state === 'unknown' && taskLookup) {
        // The server never saw it: sending again is not a second job.
        log.warn({ taskId, err: (err as Error).message }, 'txt2img answer lost before the server saw it; sending once more');
        return post();
      }
      if (state === 'active' || state === 'queued') void cancelAtServer(taskId);
      throw new UserError('UNKNOWN_OUTCOME', `${name}'s answer was lost (${(err as Error).message.replace(/\s*Try again.*$/, '')}), and its images cannot be fetched again. Press 🔄 to try again.`, { retryable: true });
    }
  }

  /** POST /sdapi/v1/extra-single-image: the upscaler alone, no sampling, so no task id and no progress to read. */
  async function extras(source: SourceImage, factor: number, ctx: ProviderRunContext): Promise<ProviderResult> {
    const names = await readUpscalers(ctx.signal);
    const upscaler = pickUpscaler(names);
    if (!upscaler) throw new UserError('NOT_CONFIGURED', `${name} lists no upscaler (not even Lanczos), so it cannot upscale. Check the webui's upscaler settings.`);
    const release = await serial.acquire(ctx.signal);
    try {
      const wire = { image: Buffer.from(source.bytes).toString('base64'), resize_mode: 0, upscaling_resize: round2(factor), upscaler_1: upscaler, upscaler_2: 'None', show_extras_results: true };
      const key = `atelier-${ctx.jobId}-upscale`;
      await ctx.recordIntent({ key, operation: 'upscale', body: withoutPictures(wire) });
      ctx.progress({ stage: `upscaling on ${name} (${upscaler})` });
      // An extras run is free and gives the same picture again, so an answer lost on the way may be asked for twice.
      const raw = await o.http.call({ method: 'POST', path: '/sdapi/v1/extra-single-image', json: wire, idempotent: true, signal: ctx.signal, headersTimeoutMs: o.generateTimeoutMs ?? 15 * 60_000, maxResponseBytes: IMAGES_RESPONSE_CAP });
      const parsed = extrasResponseSchema.safeParse(raw);
      const bytes = parsed.success && parsed.data.image ? decodeBase64Image(parsed.data.image) : undefined;
      const mime = bytes && sniffImage(bytes);
      if (!bytes || !mime) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${name} answered the upscale without an image.`, name, { phase: 'answered', unreadable: true });
      const meta = await sharp(bytes, { limitInputPixels: 16384 * 16384 }).metadata().catch(() => undefined);
      if (!meta?.width || !meta.height) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${name} sent an upscaled image that could not be decoded.`, name, { phase: 'answered' });
      await ctx.recordSubmitted(key);
      const image: ProviderImage = { bytes, mime, width: meta.width, height: meta.height, ...(source.seed !== undefined ? { seed: source.seed } : {}) };
      return { images: [image], ...(source.seed !== undefined ? { seed: source.seed } : {}), providerJobId: key, note: `Upscaled with ${upscaler}.` };
    } finally {
      release();
    }
  }

  /** A txt2img body of the request's words and settings; its pictures go into the img2img fields instead. */
  async function baseBody(req: GenerationRequest, signal: AbortSignal): Promise<Txt2ImgBody & Record<string, unknown>> {
    const { images: _images, imageWeight: _weight, blend: _blend, edit: _edit, ...plain } = req;
    return buildTxt2ImgBody(plain, { model: o.model, sampler: o.sampler, catalog: await readCatalog(signal), name }) as Txt2ImgBody & Record<string, unknown>;
  }

  const img2imgOf = (body: Txt2ImgBody & Record<string, unknown>, fields: Img2ImgFields, ctx: ProviderRunContext, operation: ProviderIntent['operation']) =>
    render('/sdapi/v1/img2img', { ...body, ...fields }, ctx, operation);

  function readPicture(ctx: ProviderRunContext, imageId: string) {
    if (!ctx.readImage) throw new UserError('UNSUPPORTED', `${name} needs the picture's bytes, and this job has none to give.`);
    return ctx.readImage(imageId);
  }

  return {
    id: 'a1111',
    concurrency: 1,
    displayName: name,
    capabilities,
    async generate(req, ctx) {
      if (req.edit) {
        // An edit paints on its source's canvas: the request's own shape and image prompts do not apply.
        const source = await readPicture(ctx, req.edit.imageId);
        return img2imgOf(await baseBody(req, ctx.signal), await editFields(source.bytes, req.edit), ctx, 'generate');
      }
      if (req.images?.length) {
        checkPictures(req, name);
        const picture = await readPicture(ctx, req.images[0]!.imageId);
        const body = await baseBody(req, ctx.signal);
        const shaped = req.aspectRatio || req.width !== undefined ? { width: body.width, height: body.height } : undefined;
        return img2imgOf(body, imagePromptFields(picture, req, shaped), ctx, 'generate');
      }
      return render('/sdapi/v1/txt2img', await baseBody(req, ctx.signal), ctx);
    },
    async vary(source, ctx) {
      // New noise for each variation, as on /imagine: the parent's seed would make V1 and V2 alike.
      const { seed: _seed, ...request } = source.request;
      const body = await baseBody(request, ctx.signal);
      return img2imgOf(body, redrawFields(source.bytes, fitSize(source.width, source.height, RENDER_SIDE), varyDenoise(source.strength)), ctx, 'vary');
    },
    async upscale(source, ctx) {
      const factor = upscaleFactor(source, source.upscaleMode);
      if (!factor) {
        const ceiling = source.upscaleMode === 'creative' ? A1111_SIZE.max : MAX_UPSCALED_SIDE;
        throw new UserError('INVALID_OPTIONS', `That picture is ${source.width}×${source.height}; ${name} upscales up to ${ceiling} pixels a side, so it cannot grow further.`);
      }
      if (source.upscaleMode !== 'creative') return extras(source, factor, ctx);
      const body = { ...(await baseBody(source.request, ctx.signal)), batch_size: 1, n_iter: 1, ...(source.seed !== undefined ? { seed: source.seed } : {}) };
      const size = fitSize(source.width * factor, source.height * factor, A1111_SIZE.max);
      return img2imgOf(body, redrawFields(source.bytes, size, CREATIVE_DENOISE), ctx, 'upscale');
    },
    async img2img(req, init, ctx) {
      const body = buildTxt2ImgBody(req, { model: o.model, sampler: o.sampler, catalog: await readCatalog(ctx.signal), name });
      return render('/sdapi/v1/img2img', { ...body, init_images: [Buffer.from(init.bytes).toString('base64')], denoising_strength: init.strength }, ctx);
    },
    async choices(field, signal) {
      const c = await readCatalog(signal);
      return field === 'model' ? [...new Set(c.models.values())] : [...c.samplers];
    },
    async check(signal) {
      const c = await readCatalog(signal, true);
      const titles = [...new Set(c.models.values())];
      const problems: string[] = [];
      if (titles.length === 0) problems.push('no checkpoints installed');
      if (o.model && !c.models.has(o.model)) problems.push(`A1111_MODEL "${o.model}" is not among its ${titles.length} checkpoints`);
      if (o.sampler && !c.samplers.has(o.sampler)) problems.push(`A1111_SAMPLER "${o.sampler}" is not one of its samplers`);
      const detail = `reachable; ${titles.length} checkpoint${titles.length === 1 ? '' : 's'} (${titles.slice(0, 3).join(', ')}${titles.length > 3 ? ', …' : ''}), ${c.samplers.size} sampler names`;
      return problems.length ? { ok: false, detail: `${detail}; but ${problems.join('; ')}` } : { ok: true, detail };
    },
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** A body as recorded with the job: the pictures (megabytes of base64) replaced by their size, the rest as sent. */
function withoutPictures(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body };
  const size = (v: unknown) => (typeof v === 'string' ? `<picture, ${v.length} base64 characters>` : v);
  if (Array.isArray(out.init_images)) out.init_images = out.init_images.map(size);
  for (const k of ['mask', 'image']) if (k in out) out[k] = size(out[k]);
  return out;
}

/** Base64 image, with or without a `data:image/...;base64,` prefix (both appear in the webui's answers). */
function decodeBase64Image(text: string): Uint8Array | undefined {
  const b64 = text.startsWith('data:') ? text.slice(text.indexOf(',') + 1) : text;
  if (!/^[A-Za-z0-9+/=\s]+$/.test(b64.slice(0, 200))) return undefined;
  const bytes = Buffer.from(b64, 'base64');
  return bytes.length ? new Uint8Array(bytes) : undefined;
}
