import { randomUUID } from 'node:crypto';
import type { EventSourceMessage } from 'eventsource-parser';
import type { FormData } from 'undici';
import { UserError } from '../../core/errors.ts';
import type { ImageProvider, ProviderCapabilities, ProviderImage, ProviderResult, ProviderRunContext, SourceImage } from '../../core/provider.ts';
import { ImageDecodeError, probeImage } from '../../images/probe.ts';
import { createOnce, refuseBlindResume, unknownOutcome } from '../create-once.ts';
import type { HttpClient } from '../http.ts';
import { ProviderHttpError } from '../provider-error.ts';
import { completedEventSchema, errorEventSchema, isModerationCode, partialEventSchema, usageSchema } from './api.ts';
import { buildGenerationBody, isFlexibleModel, OPENAI_FIELDS, OPENAI_MAX_COUNT, OPENAI_MAX_RESPONSE_BYTES, STANDARD_RATIOS, supportsInputFidelity, type OpenAIExtras } from './body.ts';
import { buildEditUpload, buildVaryUpload, type EditUpload } from './edits.ts';

export interface OpenAIOptions {
  http: HttpClient;
  /** OPENAI_IMAGE_MODEL: the model used when a request names none. */
  model: string;
  extras: OpenAIExtras;
  /** How long OpenAI may take to start answering; a high-quality image takes a minute or more. */
  headersTimeoutMs?: number;
}

const NAME = 'OpenAI';

/** Collects a streamed (or, from compatible servers that ignore `stream`, a JSON) answer into images. */
class Collector {
  readonly finals: { b64: string; mime: string }[] = [];
  readonly usage: Record<string, number> = {};
  private failure: UserError | undefined;

  constructor(
    private readonly ctx: ProviderRunContext,
    private readonly expected: number,
    private readonly partials: number,
  ) {}

  readonly onEvent = (e: EventSourceMessage): void => {
    let data: unknown;
    try {
      data = JSON.parse(e.data);
    } catch {
      return; // a keep-alive or comment line: nothing to read
    }
    const completed = completedEventSchema.safeParse(data);
    if (completed.success) {
      this.finals.push({ b64: completed.data.b64_json, mime: mimeOf(completed.data.output_format) });
      if (completed.data.usage) this.addUsage(completed.data.usage);
      this.ctx.progress({ percent: Math.round((this.finals.length / this.expected) * 100), stage: `image ${this.finals.length} of ${this.expected}` });
      return;
    }
    const partial = partialEventSchema.safeParse(data);
    if (partial.success) {
      const step = (partial.data.partial_image_index + 1) / (this.partials + 1);
      const percent = Math.round(((this.finals.length + step) / this.expected) * 100);
      this.ctx.progress({ percent: Math.min(percent, 99), stage: 'drawing', preview: { bytes: Buffer.from(partial.data.b64_json, 'base64'), mime: mimeOf(partial.data.output_format) } });
      return;
    }
    const error = errorEventSchema.safeParse(data);
    if (error.success || e.event === 'error') this.failure = streamError(error.success ? error.data.error : {});
  };

  /** A non-streamed `ImagesResponse`. */
  takeJson(answer: unknown): void {
    const a = answer as { data?: { b64_json?: unknown }[]; output_format?: string; usage?: unknown } | undefined;
    for (const d of a?.data ?? []) if (typeof d.b64_json === 'string' && d.b64_json) this.finals.push({ b64: d.b64_json, mime: mimeOf(a?.output_format) });
    const usage = usageSchema.safeParse(a?.usage);
    if (usage.success) this.addUsage(usage.data);
  }

  check(): void {
    if (this.failure) throw this.failure;
  }

  private addUsage(u: Record<string, unknown>): void {
    for (const k of ['total_tokens', 'input_tokens', 'output_tokens'] as const) {
      const v = u[k];
      if (typeof v === 'number') this.usage[k] = (this.usage[k] ?? 0) + v;
    }
  }
}

function mimeOf(format: string | undefined): string {
  return format === 'jpeg' ? 'image/jpeg' : format === 'webp' ? 'image/webp' : 'image/png';
}

function streamError(e: { message?: string; code?: string | null }): UserError {
  const message = e.message ?? 'the stream ended in an error';
  if (isModerationCode(e.code)) {
    return new ProviderHttpError('MODERATION', `${NAME} refused this prompt under its content policy: ${message}. Rephrase the prompt.`, NAME, { phase: 'answered', blockedBy: NAME });
  }
  return new ProviderHttpError('PROVIDER_REJECTED', `${NAME} could not make this image: ${message}`, NAME, { phase: 'answered' });
}

/** Fails visibly on a resume: OpenAI keeps no job to look up, so a lost answer is never re-sent on its own. */
function guardResume(ctx: ProviderRunContext, what: string): void {
  refuseBlindResume(NAME, ctx, what);
  if (ctx.resume?.providerJobId) {
    throw new UserError('UNKNOWN_OUTCOME', `${NAME} made ${what}, but Atelier restarted before saving the images and ${NAME} cannot send them again. Press 🔄 to try again.`, { retryable: true });
  }
}

async function toImages(c: Collector): Promise<ProviderImage[]> {
  const images: ProviderImage[] = [];
  for (const f of c.finals) {
    const bytes = new Uint8Array(Buffer.from(f.b64, 'base64'));
    try {
      const p = await probeImage(bytes);
      images.push({ bytes, mime: p.mime, width: p.width, height: p.height });
    } catch (err) {
      if (err instanceof ImageDecodeError) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${NAME} sent an image that does not decode (${err.message}).`, NAME, { phase: 'answered', unreadable: true });
      throw err;
    }
  }
  return images;
}

export function createOpenAIProvider(o: OpenAIOptions): ImageProvider {
  const flexible = isFlexibleModel(o.model);
  const capabilities: ProviderCapabilities = {
    modes: ['simple'],
    // gpt-image-2 takes any size but draws no transparent background.
    fields: flexible ? OPENAI_FIELDS.filter((f) => f !== 'transparency') : OPENAI_FIELDS,
    aspectRatios: flexible ? 'any' : STANDARD_RATIOS,
    maxCount: OPENAI_MAX_COUNT,
    upscale: false,
    // V: an edit of the chosen image with the same prompt (`POST /images/edits`).
    variations: true,
    progressPercent: true,
    previews: true,
    webhooks: false,
    // Image prompts and /blend are edits with the pictures as `image[]`. Only as image prompts: the API has no roles,
    // so --sref / --cref would be words in the prompt, not references. No --iw: nothing in the API weighs pictures
    // against the text (`input_fidelity` keeps faces and details, is two-valued, and gpt-image-2 refuses it).
    imageInput: { maxImages: 5, roles: ['prompt'], blend: true },
    // Zoom, pan, square and Vary (Region): an edit with a mask whose transparent pixels are where to paint.
    outpaint: true,
    inpaint: true,
    // No varyStrength: a V is an edit asking for the same prompt again, and the API has no strength to turn.
    notes: [
      'Pictures, /blend, zoom, pan and Vary (Region) are OpenAI edits (`/images/edits`), billed like a generation plus the pictures as input tokens.',
      ...(o.extras.input_fidelity ? [`input_fidelity ${o.extras.input_fidelity} is sent with edits on ${supportsInputFidelity(o.model) ? o.model : 'gpt-image-1 and gpt-image-1.5 only'}.`] : []),
    ],
  };

  /** One billable streamed call, recorded before it is sent; a lost answer is an unknown outcome, never a resend. */
  async function run(
    ctx: ProviderRunContext,
    path: string,
    body: { json?: unknown; form?: FormData; summary?: EditUpload['summary'] },
    expected: number,
    partials: number,
    what: string,
    operation: 'generate' | 'vary',
  ): Promise<ProviderResult> {
    const c = new Collector(ctx, expected, partials);
    // A multipart body is recorded by its fields and what it uploads, never the pictures' bytes.
    const intentBody = body.json ?? { path, fields: [...new Set(body.form?.keys() ?? [])], ...body.summary };
    await createOnce(
      ctx,
      { key: `${ctx.jobId}-${randomUUID().slice(0, 8)}`, operation, body: intentBody },
      async () => {
        const answer = await o.http.call({
          method: 'POST',
          path,
          ...(body.json !== undefined ? { json: body.json } : { form: body.form }),
          idempotent: false,
          signal: ctx.signal,
          onEvent: c.onEvent,
          maxResponseBytes: OPENAI_MAX_RESPONSE_BYTES,
          headersTimeoutMs: o.headersTimeoutMs ?? 300_000,
        });
        if (answer !== undefined) c.takeJson(answer);
        c.check();
        if (c.finals.length === 0) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${NAME} finished without sending an image.`, NAME, { phase: 'answered', unreadable: true });
        return `${ctx.jobId}-openai`;
      },
      async (err) => {
        throw unknownOutcome(NAME, what, err);
      },
    );
    const images = await toImages(c);
    return { images, ...(Object.keys(c.usage).length ? { usage: c.usage, note: `OpenAI usage: ${c.usage.total_tokens ?? '?'} tokens` } : {}) };
  }

  return {
    id: 'openai',
    displayName: 'OpenAI Images',
    capabilities,
    async generate(req, ctx) {
      guardResume(ctx, 'this generation');
      if (req.images?.length || req.edit) {
        // Pictures and canvases are edits: the same streamed answer, from `POST /images/edits`.
        const upload = await buildEditUpload(req, ctx, o.model, o.extras);
        ctx.progress({ stage: `queued at ${NAME}` });
        return run(ctx, '/images/edits', { form: upload.form, summary: upload.summary }, upload.n, upload.partials, req.edit ? 'this edit' : 'this generation', 'generate');
      }
      const body = buildGenerationBody(req, o.model, o.extras);
      ctx.progress({ stage: `queued at ${NAME}` });
      return run(ctx, '/images/generations', { json: body }, body.n, body.partial_images, 'this generation', 'generate');
    },
    async vary(source: SourceImage, ctx) {
      guardResume(ctx, 'this variation');
      const upload = await buildVaryUpload(source, source.request, o.model, o.extras);
      ctx.progress({ stage: `queued at ${NAME}` });
      return run(ctx, '/images/edits', { form: upload.form, summary: upload.summary }, 1, upload.partials, 'this variation', 'vary');
    },
    async check(signal) {
      const model = (await o.http.call({ method: 'GET', path: `/models/${encodeURIComponent(o.model)}`, idempotent: true, signal })) as { id?: string } | undefined;
      return { ok: true, detail: `key accepted; model ${model?.id ?? o.model} is available` };
    },
  };
}
