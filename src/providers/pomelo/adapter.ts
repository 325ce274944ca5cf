import { randomUUID } from 'node:crypto';
import { UserError } from '../../core/errors.ts';
import type { ImageProvider, ProviderCapabilities, ProviderImage, ProviderRunContext } from '../../core/provider.ts';
import { createOnce, refuseBlindResume, unknownOutcome } from '../create-once.ts';
import type { ImageDownloader } from '../download.ts';
import type { HttpClient } from '../http.ts';
import { ProviderHttpError } from '../provider-error.ts';
import { fluxResponseSchema, midjourneyResponseSchema } from './api.ts';
import { buildFluxBody, buildFluxTaskBody, buildMidjourneyBody, FLUX_FIELDS, isFluxTaskModel, MIDJOURNEY_FIELDS, MJ_MAX_OUTPUTS } from './body.ts';
import type { GatewayGate } from './gate.ts';
import { MIDJOURNEY_PICTURE_ROLES, publicPictures } from '../midjourney-pictures.ts';

export interface PomeloOptions {
  http: HttpClient;
  downloader: ImageDownloader;
  /** The key's concurrency and request limits, shared by both endpoints. */
  gate: GatewayGate;
  /** The gateway renders while the request is open; allow it this long for response headers. */
  generateTimeoutMs?: number;
}

const base = { progressPercent: false, previews: false, webhooks: false, upscale: false, variations: false } as const;

/**
 * The synchronous gateway keeps no job we could look up, so a restart after the request went out, or
 * a lost answer, cannot be reconciled: the job fails visibly rather than paying twice.
 */
function guardResume(name: string, ctx: ProviderRunContext): void {
  refuseBlindResume(name, ctx, 'this generation');
  if (ctx.resume?.providerJobId) {
    throw new UserError('UNKNOWN_OUTCOME', `${name} finished this generation, but Atelier restarted before saving the images and ${name} cannot send them again. Press 🔄 to try again.`, {
      retryable: true,
    });
  }
}

/** One billable synchronous call: intent recorded first, the answer parsed, its id recorded after. */
async function generateOnce<T>(
  name: string,
  o: PomeloOptions,
  ctx: ProviderRunContext,
  path: string,
  body: object,
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
  idOf: (answer: T) => string | undefined,
): Promise<T> {
  let answer: T | undefined;
  if (o.gate.busy) ctx.progress({ stage: `waiting for a free ${name} slot` });
  const leave = await o.gate.enter(ctx.signal);
  ctx.progress({ stage: `rendering at ${name}` });
  try {
    await createOnce(
      ctx,
      { key: `${ctx.jobId}-${randomUUID().slice(0, 8)}`, operation: 'generate', body },
      async () => {
        const raw = await o.http.call({ method: 'POST', path, json: body, idempotent: false, signal: ctx.signal, headersTimeoutMs: o.generateTimeoutMs ?? 180_000 });
        const parsed = schema.safeParse(raw);
        if (!parsed.success) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${name} answered without any images.`, name, { phase: 'answered', unreadable: true });
        answer = parsed.data;
        return idOf(parsed.data) ?? `${ctx.jobId}-sync`;
      },
      async (err) => {
        throw unknownOutcome(name, 'this generation', err);
      },
    );
  } finally {
    leave();
  }
  return answer!;
}

export function createMidjourneyProvider(o: PomeloOptions): ImageProvider {
  const name = 'Midjourney (gateway)';
  const capabilities: ProviderCapabilities = {
    ...base,
    modes: ['simple', 'advanced'],
    fields: MIDJOURNEY_FIELDS,
    aspectRatios: 'any',
    maxCount: MJ_MAX_OUTPUTS,
    // Pictures go into Midjourney's prompt as public URLs it fetches; the gateway documents no buttons (zoom, pan, vary).
    imageInput: { maxImages: 5, roles: MIDJOURNEY_PICTURE_ROLES, weight: true, blend: true, needsPublicUrl: true },
    notes: ['Style references (--sref) need Midjourney 6 or later: the gateway runs version 5 unless the model option says otherwise.'],
  };
  return {
    id: 'midjourney',
    displayName: name,
    capabilities,
    async generate(req, ctx) {
      guardResume(name, ctx);
      const body = buildMidjourneyBody(req, await publicPictures(req, ctx, name));
      const answer = await generateOnce(name, o, ctx, '/api/v1/midjourney/generate', body, midjourneyResponseSchema, (a) => a.images[0]?.id);
      const images: ProviderImage[] = [];
      for (const img of answer.images) {
        const d = await o.downloader.download(img.url, ctx.signal);
        images.push({ ...d, ...(img.id ? { providerImageId: img.id } : {}) });
      }
      return { images, ...(answer.images[0]?.id ? { providerJobId: answer.images[0].id } : {}) };
    },
  };
}

export function createFluxProvider(o: PomeloOptions): ImageProvider {
  const name = 'Flux.1 (gateway)';
  const capabilities: ProviderCapabilities = { ...base, modes: ['simple'], fields: FLUX_FIELDS, aspectRatios: 'any', maxCount: 1 };
  return {
    id: 'flux',
    displayName: name,
    capabilities,
    async generate(req, ctx) {
      guardResume(name, ctx);
      // A chosen model goes through the task endpoint, where the docs list flux-1-pro / -dev / -schnell.
      const task = isFluxTaskModel(req.model);
      const body = task ? buildFluxTaskBody(req) : buildFluxBody(req);
      const answer = await generateOnce(name, o, ctx, task ? '/api/v1/task' : '/api/v1/flux.1', body, fluxResponseSchema, (a) => a.id);
      const seed = answer.seed ?? undefined;
      const images: ProviderImage[] = [];
      for (const img of answer.images) {
        const d = await o.downloader.download(img.url, ctx.signal);
        images.push({ ...d, ...(seed !== undefined ? { seed } : {}) });
      }
      return { images, ...(seed !== undefined ? { seed } : {}), ...(answer.id ? { providerJobId: answer.id } : {}) };
    },
  };
}
