import { randomUUID } from 'node:crypto';
import { UserError } from '../../core/errors.ts';
import type { KeyValue } from '../kv.ts';
import type { Logger } from '../../core/ports.ts';
import { silentLogger } from '../../core/ports.ts';
import { FORMATS, type GenerationRequest } from '../../core/request.ts';
import type { ImageProvider, ProviderCapabilities, ProviderImage, ProviderIntent, ProviderResult, ProviderRunContext, SourceImage } from '../../core/provider.ts';
import { unknownOutcome } from '../create-once.ts';
import type { ImageDownloader } from '../download.ts';
import type { HttpClient } from '../http.ts';
import type { Notifier } from '../notifier.ts';
import { pollTiming, pollUntil, type PollTiming } from '../poll.ts';
import { ProviderHttpError } from '../provider-error.ts';
import { sleep } from '../timing.ts';
import { ALLIMAGES_IMAGE_COUNT, buildAllImagesBody, SIMPLE_FIELDS, type AllImagesCreateBody } from './body.ts';
import { MIDJOURNEY_PICTURE_ROLES, publicPictures } from '../midjourney-pictures.ts';
import { boughtSchema, generationSchema, listSchema, repairImageUrl, STATUS, type Generation } from './api.ts';

export const ALLIMAGES_NAME = 'all-images.ai';
export const WEBHOOK_KV_KEY = 'providers.allimages.webhook';
export const WEBHOOK_EVENTS = ['print.created', 'print.active', 'print.progress', 'print.failed', 'print.completed'] as const;

export interface AllImagesOptions extends PollTiming {
  http: HttpClient;
  downloader: ImageDownloader;
  notifier: Notifier;
  kv: KeyValue;
  /** Our public base URL; when set, a webhook is subscribed once and its id kept in `kv`. */
  publicUrl?: string;
  logger?: Logger;
  /** After a lost create answer, how long to let the generation appear in the list before looking. */
  reconcileDelayMs?: number;
}

/** Polls answering a status the docs do not define before we stop waiting (the reference allows 5 unnamed). */
export const UNKNOWN_STATUS_LIMIT = 5;

const capabilities: ProviderCapabilities = {
  modes: ['simple', 'advanced'],
  fields: SIMPLE_FIELDS,
  aspectRatios: FORMATS,
  maxCount: ALLIMAGES_IMAGE_COUNT,
  fixedCount: ALLIMAGES_IMAGE_COUNT,
  // No native upscale: U buys the full-resolution image (POST /v1/images/buy) where the channel allows it. No variations.
  upscale: true,
  variations: false,
  progressPercent: false,
  previews: false,
  webhooks: true,
  // all-images.ai fetches pictures itself: one image prompt as `fromImageUrl`, the rest in a Midjourney prompt (body.ts).
  imageInput: { maxImages: 5, roles: MIDJOURNEY_PICTURE_ROLES, weight: true, blend: true, needsPublicUrl: true },
};

/** all-images.ai: Midjourney-backed, asynchronous, four images per generation. */
export function createAllImagesProvider(o: AllImagesOptions): ImageProvider {
  const log = (o.logger ?? silentLogger).child({ provider: 'allimages' });
  let webhookReady: Promise<void> | undefined;

  const readGeneration = (raw: unknown, what: string): Generation => {
    const parsed = generationSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${ALLIMAGES_NAME} sent an unexpected ${what} (no generation id or status).`, ALLIMAGES_NAME, {
        phase: 'answered',
        unreadable: true,
      });
    }
    return parsed.data;
  };

  async function ensureWebhook(): Promise<void> {
    if (!o.publicUrl) return;
    webhookReady ??= (async () => {
      const url = new URL('/webhooks/allimages', o.publicUrl).href;
      const stored = await o.kv.getValue(WEBHOOK_KV_KEY);
      const previous = stored ? (JSON.parse(stored) as { webhookId: string; url: string }) : undefined;
      if (previous?.url === url) return;
      const res = await o.http.call<{ webhookId?: string }>({ method: 'POST', path: '/v1/api-keys/webhook/subscribe', json: { url, events: WEBHOOK_EVENTS }, idempotent: false });
      if (!res?.webhookId) throw new Error('subscribe answered without a webhookId');
      await o.kv.setValue(WEBHOOK_KV_KEY, JSON.stringify({ webhookId: res.webhookId, url }));
      if (previous) {
        // Subscriptions cannot be listed, so the old one is removed now or never.
        await o.http.call({ method: 'DELETE', path: `/v1/api-keys/webhook/unsubscribe/${encodeURIComponent(previous.webhookId)}`, idempotent: true }).catch((err: unknown) => {
          log.warn({ err: String(err) }, 'could not remove the previous all-images.ai webhook');
        });
      }
      log.info({ url }, 'subscribed to all-images.ai webhooks');
    })().catch((err: unknown) => {
      // Polling works without webhooks; try again on the next job.
      webhookReady = undefined;
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'all-images.ai webhook subscription failed; polling only');
    });
    await webhookReady;
  }

  async function findByName(name: string, key: string, signal: AbortSignal): Promise<string | undefined> {
    const raw = await o.http.call({ method: 'GET', path: '/v1/image-generations', query: { name, limit: 10 }, idempotent: true, signal });
    const parsed = listSchema.safeParse(raw);
    if (!parsed.success) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${ALLIMAGES_NAME} sent an unexpected generation list.`, ALLIMAGES_NAME, { phase: 'answered' });
    // `name` is a search, not an exact filter: match the exact name and our key in metaData.
    const match = parsed.data.prints.find((p) => p.name === name && (p.metaData?.atelierKey === undefined || p.metaData.atelierKey === key));
    return match?.id;
  }

  /** A create whose answer was lost: look for the generation by its unique name; never create again blindly. */
  async function reconcile(body: AllImagesCreateBody, key: string, ctx: ProviderRunContext, cause?: unknown): Promise<string | undefined> {
    try {
      if (o.reconcileDelayMs) await sleep(o.reconcileDelayMs, ctx.signal);
      return await findByName(body.name, key, ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      throw unknownOutcome(ALLIMAGES_NAME, 'this generation', cause ?? err);
    }
  }

  async function create(body: AllImagesCreateBody, key: string, ctx: ProviderRunContext): Promise<string> {
    try {
      const raw = await o.http.call({ method: 'POST', path: '/v1/image-generations', json: body, idempotent: false, signal: ctx.signal });
      return readGeneration(raw, 'create answer').id;
    } catch (err) {
      if (err instanceof ProviderHttpError && err.outcomeUnknown) {
        const found = await reconcile(body, key, ctx, err);
        if (found) {
          log.info({ jobId: ctx.jobId, generationId: found }, 'reconciled a lost create by name');
          return found;
        }
        throw unknownOutcome(ALLIMAGES_NAME, 'this generation', err);
      }
      if (err instanceof UserError && err.code === 'PROVIDER_REJECTED' && body.processMode && /process\s*mode|dedicated/i.test(err.message)) {
        throw new UserError(
          'PROVIDER_REJECTED',
          `${ALLIMAGES_NAME} offers the fast/relax process mode only to Dedicated accounts, and this key's account is not one. Clear the process mode setting (or upgrade the account) and try again.`,
        );
      }
      throw err;
    }
  }

  async function submit(req: GenerationRequest, ctx: ProviderRunContext): Promise<string> {
    if (ctx.resume?.providerJobId) return ctx.resume.providerJobId;
    const resumed = ctx.resume?.intent;
    if (resumed) {
      const body = resumed.body as AllImagesCreateBody;
      const found = await reconcile(body, resumed.key, ctx);
      if (found) {
        await ctx.recordSubmitted(found);
        return found;
      }
      // The unique name is nowhere at the provider: the earlier attempt never landed, so sending it now is the first create.
      const id = await create(body, resumed.key, ctx);
      await ctx.recordSubmitted(id);
      return id;
    }
    const key = `${ctx.jobId}-${randomUUID().slice(0, 8)}`;
    const pictures = await publicPictures(req, ctx, ALLIMAGES_NAME);
    const body = buildAllImagesBody(req, { name: `atelier-${key}`, metaData: { atelierJobId: ctx.jobId, atelierKey: key } }, pictures);
    const intent: ProviderIntent = { key, operation: 'generate', body };
    await ctx.recordIntent(intent);
    const id = await create(body, key, ctx);
    await ctx.recordSubmitted(id);
    return id;
  }

  async function fetchGeneration(id: string, signal: AbortSignal): Promise<Generation> {
    const raw = await o.http.call({ method: 'GET', path: `/v1/image-generations/${encodeURIComponent(id)}`, idempotent: true, signal });
    return readGeneration(raw, 'generation');
  }

  async function waitDone(id: string, ctx: ProviderRunContext): Promise<Generation> {
    let lastStage = '';
    let unknownPolls = 0;
    return pollUntil({
      provider: ALLIMAGES_NAME,
      what: `generation ${id}`,
      signal: ctx.signal,
      ...pollTiming(o),
      notifier: o.notifier,
      notifyKey: id,
      fetch: () => fetchGeneration(id, ctx.signal),
      onTransientError: (err) => log.warn({ generationId: id, err: err instanceof Error ? err.message : String(err) }, 'poll failed; still waiting'),
      settle: (g) => {
        if (g.status === STATUS.done) return g;
        if (g.status === STATUS.error) {
          // The lifecycle page's example of status 4 is "description not accepted": a refusal of the prompt.
          throw new UserError('MODERATION', `Blocked by ${ALLIMAGES_NAME}: it did not accept this description (status 4, Error). Rephrase the prompt and try again.`, {
            blockedBy: ALLIMAGES_NAME,
          });
        }
        let stage: string;
        if (g.status === STATUS.create || g.status === STATUS.pending) stage = `queued at ${ALLIMAGES_NAME}`;
        else if (g.status === STATUS.processing) {
          const made = Math.min(ALLIMAGES_IMAGE_COUNT, Math.max(g.images.filter((i) => i.url).length, g.nbImages ?? 0));
          stage = made > 0 ? `${made} of ${ALLIMAGES_IMAGE_COUNT} images` : 'rendering';
        } else {
          unknownPolls++;
          log.warn({ generationId: id, status: g.status, polls: unknownPolls }, 'undocumented all-images.ai status');
          if (unknownPolls >= UNKNOWN_STATUS_LIMIT) {
            // Billed already: not a failover case, and the user may find it finished at all-images.ai later.
            throw new UserError(
              'UNKNOWN_OUTCOME',
              `${ALLIMAGES_NAME} kept reporting status ${g.status} for generation ${id}, a status its documentation does not define, so Atelier stopped waiting after ${unknownPolls} checks. It may still finish in your all-images.ai dashboard; press 🔄 to try again.`,
              { retryable: true },
            );
          }
          stage = `waiting (status ${g.status})`;
        }
        if (stage !== lastStage) ctx.progress({ stage });
        lastStage = stage;
        return undefined;
      },
    });
  }

  const fetchImage = (url: string, signal: AbortSignal) => o.downloader.download(repairImageUrl(url, o.http.baseUrl), signal);

  /**
   * The best rendition each image has without a purchase: a `free` image's full size, otherwise the
   * preview (`url`). Full resolution of the others is bought by U.
   */
  async function downloadAll(g: Generation, ctx: ProviderRunContext): Promise<{ images: ProviderImage[]; previews: number }> {
    const picks = g.images.map((img) => ({ img, link: img.free ? (img.urlFull ?? img.url) : img.url })).filter((p) => p.link);
    if (picks.length === 0) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${ALLIMAGES_NAME} finished generation ${g.id} without any images.`, ALLIMAGES_NAME, { phase: 'answered' });
    const images: ProviderImage[] = [];
    for (const { img, link } of picks) {
      const d = await fetchImage(link!, ctx.signal);
      images.push({ ...d, providerImageId: `${g.id}:${img.id}` });
    }
    return { images, previews: picks.filter((p) => !p.img.free).length };
  }

  function previewNote(previews: number, ctx: ProviderRunContext): string | undefined {
    if (previews === 0) return undefined;
    const how = ctx.paidUpscale ? 'U buys one at full resolution with all-images.ai credits' : 'buying the full resolution costs all-images.ai credits, which this channel has not allowed U to spend (setting paid_upscale)';
    return `${previews === 1 ? 'One image is' : `${previews} images are`} all-images.ai preview${previews === 1 ? '' : 's'} (reduced resolution); ${how}.`;
  }

  /** POST /v1/images/buy: credits are "debited only once" per image, so asking again for the same image is safe. */
  async function buy(imageId: string, signal: AbortSignal): Promise<string> {
    const raw = await o.http.call({ method: 'POST', path: '/v1/images/buy', json: { id: imageId }, idempotent: true, signal });
    const parsed = boughtSchema.safeParse(raw);
    const link = parsed.success ? (parsed.data.urlUpscale ?? parsed.data.urlFull) : undefined;
    if (!link) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${ALLIMAGES_NAME} sold image ${imageId} but sent no link to it. Press U again: the purchase is not charged twice.`, ALLIMAGES_NAME, { phase: 'answered', unreadable: true });
    return link;
  }

  return {
    id: 'allimages',
    displayName: ALLIMAGES_NAME,
    capabilities,
    async generate(req, ctx): Promise<ProviderResult> {
      await ensureWebhook();
      const id = await submit(req, ctx);
      ctx.progress({ stage: `queued at ${ALLIMAGES_NAME}` });
      const g = await waitDone(id, ctx);
      const { images, previews } = await downloadAll(g, ctx);
      const note = previewNote(previews, ctx);
      return { images, providerJobId: id, ...(note ? { note } : {}) };
    },
    async upscale(source: SourceImage, ctx): Promise<ProviderResult> {
      const [generationId, imageId] = (source.providerImageId ?? '').split(':');
      if (!generationId || !imageId) {
        throw new UserError('UNSUPPORTED', `This image has no ${ALLIMAGES_NAME} id, so its full-size version cannot be fetched. Re-run the prompt.`);
      }
      // Stored URLs may have expired, and whether the image is free is the provider's to say: ask again.
      const g = await fetchGeneration(generationId, ctx.signal);
      const img = g.images.find((i) => i.id === imageId);
      if (!img) throw new UserError('NOT_FOUND', `${ALLIMAGES_NAME} no longer has image ${source.index} of this generation.`);
      let link: string | undefined;
      if (img.free) link = img.urlFull ?? undefined;
      else {
        if (!ctx.paidUpscale) {
          throw new UserError(
            'NOT_ALLOWED',
            `The full-resolution image costs ${ALLIMAGES_NAME} credits, and this channel does not let U spend them. A moderator can allow it with /settings scope:channel paid_upscale:true.`,
          );
        }
        link = await buy(imageId, ctx.signal);
      }
      if (!link) throw new UserError('NOT_FOUND', `${ALLIMAGES_NAME} has no full-resolution link for image ${source.index} of this generation.`);
      const d = await fetchImage(link, ctx.signal);
      return { images: [{ ...d, providerImageId: `${generationId}:${imageId}` }], providerJobId: generationId };
    },
    async check(signal) {
      const who = await o.http.call<{ email?: string; name?: string }>({ method: 'GET', path: '/v1/api-keys/check', idempotent: true, signal });
      const credit = await o.http.call<{ credits?: { type?: string; credit?: number; unlimited?: boolean }[] }>({ method: 'GET', path: '/v1/credit', idempotent: true, signal });
      const credits = (credit?.credits ?? []).map((c) => `${c.type ?? 'credit'} ${c.unlimited ? 'unlimited' : (c.credit ?? '?')}`).join(', ');
      return { ok: true, detail: `key accepted (${who?.name ?? who?.email ?? 'account'}); credits: ${credits || 'no quotas'}` };
    },
  };
}
