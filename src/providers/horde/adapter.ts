import { randomUUID } from 'node:crypto';
import { UserError } from '../../core/errors.ts';
import type { ImageProvider, ProviderCapabilities, ProviderImage, ProviderResult, ProviderRunContext, SourceImage } from '../../core/provider.ts';
import type { GenerationRequest } from '../../core/request.ts';
import { createOnce, refuseBlindResume, unknownOutcome } from '../create-once.ts';
import type { ImageDownloader } from '../download.ts';
import type { HttpClient } from '../http.ts';
import { pollTiming, pollUntil, type PollTiming } from '../poll.ts';
import { ProviderHttpError } from '../provider-error.ts';
import { asyncAnswerSchema, checkSchema, modelsSchema, statusSchema, type HordeCheck } from './api.ts';
import { ANONYMOUS_KEY, buildHordeBody, denoiseForWeight, HORDE_FIELDS, HORDE_MAX_COUNT, hordeShape, hordeSize, INPAINTING_MODELS, PAINT_LONG_SIDE, VARY_DENOISE, type HordeBody } from './body.ts';
import { img2imgSource, paintSource } from './pictures.ts';

export interface HordeOptions extends PollTiming {
  http: HttpClient;
  downloader: ImageDownloader;
  apiKey: string;
  /** How long the model list is trusted before it is fetched again. */
  modelsTtlMs?: number;
}

const NAME = 'AI Horde';

function progressText(c: HordeCheck): { percent?: number; stage: string } {
  const n = (c.finished ?? 0) + (c.processing ?? 0) + (c.waiting ?? 0);
  const wait = c.wait_time ? ` · about ${Math.max(1, Math.round(c.wait_time))} s` : '';
  const kudos = c.kudos !== undefined ? ` · ${Math.round(c.kudos)} kudos` : '';
  if ((c.processing ?? 0) > 0 || (c.finished ?? 0) > 0) {
    return { percent: n ? Math.round(((c.finished ?? 0) / n) * 100) : undefined, stage: `drawing ${c.finished ?? 0} of ${n} on the Horde${wait}${kudos}` };
  }
  return { stage: `#${c.queue_position ?? '?'} in the Horde's queue${wait}${kudos}` };
}

export function createHordeProvider(o: HordeOptions): ImageProvider {
  const timing = pollTiming(o);
  const anonymous = o.apiKey === ANONYMOUS_KEY;
  let models: { names: Set<string>; at: number } | undefined;

  const capabilities: ProviderCapabilities = {
    modes: ['simple'],
    fields: HORDE_FIELDS,
    aspectRatios: 'any',
    maxCount: HORDE_MAX_COUNT,
    upscale: false,
    // V, Vary (Subtle) and Vary (Strong): img2img of the chosen image at a denoising strength each.
    variations: true,
    varyStrength: true,
    progressPercent: true,
    previews: false,
    webhooks: false,
    // One picture, as img2img (`source_image`), --iw as its denoising strength. No /blend: several pictures are
    // `extra_source_images`, which the Horde takes only for Stable Cascade "remix", and more than one only from
    // trusted users (horde/apis/v2/stable.py, base.py). No --sref / --cref: img2img has no roles.
    imageInput: { maxImages: 1, roles: ['prompt'], weight: true },
    // Zoom, pan, square and Vary (Region): `source_processing` outpainting / inpainting with a mask, on the Horde's
    // inpainting models, when a worker serves one (checked before sending).
    outpaint: true,
    inpaint: true,
    notes: [
      'A picture (img2img) costs 1.3× the kudos of the same request without one.',
      `Zoom, pan, Make Square and Vary (Region) are painted by the Horde's Stable Diffusion 1.5 inpainting models (${INPAINTING_MODELS.join(', ')}) at up to ${PAINT_LONG_SIDE} px, whichever model the job used.`,
    ],
  };

  /** The image models workers serve now (`/v2/status/models?type=image`), cached: a model no worker has never finishes. */
  async function knownModels(signal: AbortSignal): Promise<Set<string>> {
    if (models && Date.now() - models.at < (o.modelsTtlMs ?? 10 * 60_000)) return models.names;
    const raw = await o.http.call({ method: 'GET', path: '/v2/status/models', query: { type: 'image' }, idempotent: true, signal });
    const parsed = modelsSchema.safeParse(raw);
    if (!parsed.success) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${NAME} sent an unreadable model list.`, NAME, { phase: 'answered', unreadable: true });
    models = { names: new Set(parsed.data.filter((m) => (m.count ?? 1) > 0).map((m) => m.name)), at: Date.now() };
    return models.names;
  }

  /** Asks the Horde to drop the request; best effort, so a cancel never waits on it for long. */
  async function cancelAtHorde(id: string): Promise<void> {
    await o.http.call({ method: 'DELETE', path: `/v2/generate/status/${encodeURIComponent(id)}`, idempotent: true, signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  }

  async function follow(id: string, ctx: ProviderRunContext): Promise<{ images: ProviderImage[]; note?: string }> {
    const onAbort = () => void cancelAtHorde(id);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await pollUntil({
        provider: NAME,
        what: `request ${id}`,
        fetch: async () => checkSchema.parse(await o.http.call({ method: 'GET', path: `/v2/generate/check/${encodeURIComponent(id)}`, idempotent: true, signal: ctx.signal })),
        settle: (c) => {
          if (c.faulted) throw new UserError('PROVIDER_UNAVAILABLE', `${NAME} could not complete this request (a worker failed). Press 🔄 to try again.`, { retryable: true });
          if (c.is_possible === false) {
            throw new UserError('UNSUPPORTED', `No ${NAME} worker can serve this request now (model, size or steps). Try another model or a smaller size.`);
          }
          if (c.done) return c;
          ctx.progress(progressText(c));
          return undefined;
        },
        signal: ctx.signal,
        timeoutMs: timing.timeoutMs,
        initialDelayMs: timing.initialDelayMs,
        maxDelayMs: timing.maxDelayMs,
      });
      // The full status is rate-limited by the Horde: read it once, when the check says done.
      const status = statusSchema.parse(await o.http.call({ method: 'GET', path: `/v2/generate/status/${encodeURIComponent(id)}`, idempotent: true, signal: ctx.signal }));
      const gens = status.generations ?? [];
      const shown = ctx.allowNsfw ? gens : gens.filter((g) => g.censored !== true);
      const images: ProviderImage[] = [];
      for (const g of shown) {
        if (!g.img) continue;
        const d = g.img.startsWith('http') ? await o.downloader.download(g.img, ctx.signal) : await fromBase64(g.img);
        const seed = Number(g.seed);
        images.push({ ...d, ...(g.id ? { providerImageId: g.id } : {}), ...(Number.isSafeInteger(seed) ? { seed } : {}), nsfw: g.censored === true });
      }
      const withheld = gens.length - shown.length;
      return { images, ...(withheld ? { note: `${withheld} image${withheld === 1 ? '' : 's'} withheld: censored by the Horde's NSFW filter` } : {}) };
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  /** One billable create, recorded before it is sent (pictures by size only), then followed to the images. */
  async function submit(body: HordeBody, ctx: ProviderRunContext, operation: 'generate' | 'vary', note?: string): Promise<ProviderResult> {
    ctx.progress({ stage: `sending to ${NAME}` });
    const id = await createOnce(
      ctx,
      { key: `${ctx.jobId}-${randomUUID().slice(0, 8)}`, operation, body: withoutPictures(body) },
      async () => {
        const answer = asyncAnswerSchema.safeParse(await o.http.call({ method: 'POST', path: '/v2/generate/async', json: body, idempotent: false, signal: ctx.signal }));
        if (!answer.success) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${NAME} accepted the request without an id.`, NAME, { phase: 'answered', unreadable: true });
        return answer.data.id;
      },
      async (err) => {
        throw unknownOutcome(NAME, 'this request', err);
      },
    );
    const r = await finish(await follow(id, ctx), id);
    return note ? { ...r, note: r.note ? `${r.note}; ${note}` : note } : r;
  }

  function finish(r: { images: ProviderImage[]; note?: string }, id: string): ProviderResult {
    if (!r.images.length && r.note) throw new UserError('MODERATION', `${NAME}: every image was ${r.note.replace(/^.*withheld: /, '')}. Rephrase the prompt, or ask a moderator about this channel's NSFW setting.`, { blockedBy: NAME });
    return { ...r, providerJobId: id, ...(r.images[0]?.seed !== undefined ? { seed: r.images[0].seed } : {}) };
  }

  /** Zoom, pan, square, Vary (Region): outpainting / inpainting on the inpainting models workers serve now. */
  async function paint(req: GenerationRequest, ctx: ProviderRunContext): Promise<ProviderResult> {
    const edit = req.edit!;
    const served = await knownModels(ctx.signal);
    const models = INPAINTING_MODELS.filter((m) => served.has(m));
    if (!models.length) {
      throw new UserError('UNSUPPORTED', `No ${NAME} worker serves an inpainting model now (${INPAINTING_MODELS.join(', ')}), which zoom, pan and Vary (Region) need. Try again later.`, { retryable: true });
    }
    // The Horde takes one source picture: the canvas. A job's own image prompt shaped the picture on it already.
    const source = await ctx.readImage!(edit.imageId);
    const canvas = await paintSource(source.bytes, edit, source);
    // The job's own model cannot paint masks; the picture on the canvas carries its look.
    const { model: _model, ...request } = req;
    const body = buildHordeBody(request, ctx.allowNsfw);
    Object.assign(body.params, { width: canvas.width, height: canvas.height, denoising_strength: 1 });
    body.models = [...models];
    body.source_image = canvas.image;
    body.source_mask = canvas.mask;
    body.source_processing = edit.kind === 'outpaint' ? 'outpainting' : 'inpainting';
    return submit(body, ctx, 'generate', req.model ? `painted by ${NAME}'s inpainting models, not ${req.model}` : undefined);
  }

  return {
    id: 'horde',
    displayName: anonymous ? 'AI Horde (anonymous)' : 'AI Horde',
    capabilities,
    async generate(req, ctx) {
      // A restart after the create follows the request by id; the pictures are not read or sent again.
      if (ctx.resume?.providerJobId) return finish(await follow(ctx.resume.providerJobId, ctx), ctx.resume.providerJobId);
      refuseBlindResume(NAME, ctx, 'this request');
      if (req.edit) return paint(req, ctx);
      if (req.model && !(await knownModels(ctx.signal)).has(req.model)) {
        const some = [...(await knownModels(ctx.signal))].slice(0, 8).join(', ');
        throw new UserError('UNSUPPORTED', `No ${NAME} worker serves the model "${req.model}" now.${some ? ` Some that do: ${some}.` : ''}`);
      }
      const body = buildHordeBody(req, ctx.allowNsfw);
      const picture = req.images?.[0];
      if (picture) {
        const p = await ctx.readImage!(picture.imageId);
        // Without --ar the picture keeps its own shape.
        const size = req.aspectRatio ? hordeSize(req.aspectRatio) : hordeShape(p.width, p.height);
        Object.assign(body.params, size, { denoising_strength: denoiseForWeight(req.imageWeight) });
        body.source_image = await img2imgSource(p.bytes, size);
        body.source_processing = 'img2img';
      }
      return submit(body, ctx, 'generate');
    },
    async vary(source: SourceImage, ctx) {
      if (ctx.resume?.providerJobId) return finish(await follow(ctx.resume.providerJobId, ctx), ctx.resume.providerJobId);
      refuseBlindResume(NAME, ctx, 'this variation');
      // A new picture near the chosen one: its prompt and model, not its seed.
      const { seed: _seed, ...request } = source.request;
      const body = buildHordeBody(request, ctx.allowNsfw);
      const size = hordeShape(source.width, source.height);
      Object.assign(body.params, size, { denoising_strength: VARY_DENOISE[source.strength ?? 'plain'] });
      body.source_image = await img2imgSource(source.bytes, size);
      body.source_processing = 'img2img';
      return submit(body, ctx, 'vary');
    },
    async check(signal) {
      if (anonymous) {
        await knownModels(signal);
        return { ok: true, detail: 'reachable; anonymous (no AI_HORDE_API_KEY): works, at the back of the queue' };
      }
      const user = (await o.http.call({ method: 'GET', path: '/v2/find_user', idempotent: true, signal })) as { username?: string; kudos?: number } | undefined;
      return { ok: true, detail: `key accepted: ${user?.username ?? 'unknown user'}, ${Math.round(user?.kudos ?? 0)} kudos` };
    },
  };
}

/** The body as recorded with the job: the pictures by their size, not their bytes. */
function withoutPictures(body: HordeBody): unknown {
  const size = (b64: string | undefined) => (b64 === undefined ? undefined : `<webp, ${Math.round((b64.length * 3) / 4)} bytes>`);
  return { ...body, source_image: size(body.source_image), source_mask: size(body.source_mask) };
}

async function fromBase64(b64: string): Promise<{ bytes: Uint8Array; mime: string; width: number; height: number }> {
  const { probeImage } = await import('../../images/probe.ts');
  const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
  const p = await probeImage(bytes).catch((err: Error) => {
    throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${NAME} sent an image that does not decode (${err.message}).`, NAME, { phase: 'answered', unreadable: true });
  });
  return { bytes, mime: p.mime, width: p.width, height: p.height };
}
