import { randomUUID } from 'node:crypto';
import { UserError } from '../../core/errors.ts';
import type { ImageProvider, ProviderCapabilities, ProviderImage, ProviderRunContext } from '../../core/provider.ts';
import { createOnce, refuseBlindResume, unknownOutcome } from '../create-once.ts';
import type { ImageDownloader } from '../download.ts';
import type { HttpClient } from '../http.ts';
import { pollTiming, pollUntil, type PollTiming } from '../poll.ts';
import { ProviderHttpError } from '../provider-error.ts';
import { asyncAnswerSchema, checkSchema, modelsSchema, statusSchema, type HordeCheck } from './api.ts';
import { ANONYMOUS_KEY, buildHordeBody, HORDE_FIELDS, HORDE_MAX_COUNT } from './body.ts';

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
    variations: false,
    progressPercent: true,
    previews: false,
    webhooks: false,
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

  return {
    id: 'horde',
    displayName: anonymous ? 'AI Horde (anonymous)' : 'AI Horde',
    capabilities,
    async generate(req, ctx) {
      // The Horde keeps the request by id, so a restart after the create follows it instead of paying again.
      let id = ctx.resume?.providerJobId;
      if (!id) {
        refuseBlindResume(NAME, ctx, 'this request');
        if (req.model && !(await knownModels(ctx.signal)).has(req.model)) {
          const some = [...(await knownModels(ctx.signal))].slice(0, 8).join(', ');
          throw new UserError('UNSUPPORTED', `No ${NAME} worker serves the model "${req.model}" now.${some ? ` Some that do: ${some}.` : ''}`);
        }
        const body = buildHordeBody(req, ctx.allowNsfw);
        ctx.progress({ stage: `sending to ${NAME}` });
        id = await createOnce(
          ctx,
          { key: `${ctx.jobId}-${randomUUID().slice(0, 8)}`, operation: 'generate', body },
          async () => {
            const answer = asyncAnswerSchema.safeParse(await o.http.call({ method: 'POST', path: '/v2/generate/async', json: body, idempotent: false, signal: ctx.signal }));
            if (!answer.success) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${NAME} accepted the request without an id.`, NAME, { phase: 'answered', unreadable: true });
            return answer.data.id;
          },
          async (err) => {
            throw unknownOutcome(NAME, 'this request', err);
          },
        );
      }
      const r = await follow(id, ctx);
      if (!r.images.length && r.note) throw new UserError('MODERATION', `${NAME}: every image was ${r.note.replace(/^.*withheld: /, '')}. Rephrase the prompt, or ask a moderator about this channel's NSFW setting.`, { blockedBy: NAME });
      return { ...r, providerJobId: id, ...(r.images[0]?.seed !== undefined ? { seed: r.images[0].seed } : {}) };
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

async function fromBase64(b64: string): Promise<{ bytes: Uint8Array; mime: string; width: number; height: number }> {
  const { probeImage } = await import('../../images/probe.ts');
  const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
  const p = await probeImage(bytes).catch((err: Error) => {
    throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${NAME} sent an image that does not decode (${err.message}).`, NAME, { phase: 'answered', unreadable: true });
  });
  return { bytes, mime: p.mime, width: p.width, height: p.height };
}
