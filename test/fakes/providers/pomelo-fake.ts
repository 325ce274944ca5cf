import { randomUUID } from 'node:crypto';
import { makePng } from './images.ts';
import { FakeServer, isInvalidJson, type FakeReply, type SeenRequest } from './fake-server.ts';
import { midjourneyPictures } from './midjourney-prompt.ts';
import { fetchPicture, type FetchedPicture } from './fetch-picture.ts';

/**
 * A loopback Midjourney / Flux.1 gateway (pomeloapi.com). Each rule names its source page under
 * https://www.pomeloapi.com/docs/: [api] api, [img] endpoints/image-generation, [tasks] api/tasks,
 * [errors] errors, [limits] rate-limits, [usage] usage-policies; PROVIDERS.md §3 collects [img].
 * The pages cross-check each other: [limits] and [usage] agree on 10 image requests a minute on Free.
 *
 * - base URL `https://www.pomeloapi.com/api`, version `/api/v1/` [api]; Bearer auth [api, img, tasks].
 * - POST /api/v1/midjourney/generate: prompt required; style a free-text preset ("e.g." raw, cute,
 *   scenic); width/height integers, default 512; model a string, default "5"; num_outputs 1–4 [img].
 * - POST /api/v1/flux.1: prompt required; negative_prompt, style (preset "e.g." anime…), seed integer,
 *   steps integer ≤ 50, aspect_ratio "W:H" [img].
 * - POST /api/v1/task with an image model: model one of flux-1-pro, flux-1-dev, flux-1-schnell; prompt,
 *   width, height, num_inference_steps, guidance_scale, seed as in its example [tasks]. The page shows no
 *   image response: this fake answers the flux.1 response shape `{ id, images[{url,width,height}], seed }`.
 * - errors `{ "error": { type, message, code, param, status } }`, codes parameter_required,
 *   parameter_invalid, invalid_api_key, rate_limit_exceeded, quota_exceeded, server_error [errors].
 *   [errors] gives no status for quota_exceeded; this fake answers 429 with it, the reading under which
 *   a client would most easily mistake it for a burst limit.
 * - per key: concurrent requests 2 / 5 / 25 and requests a minute 10 / 60 / 300 by plan; headers
 *   x-ratelimit-limit / -remaining / -reset (UTC epoch seconds); 429 with Retry-After and
 *   `rate_limit_error` / `rate_limit_exceeded` when exceeded [limits]. Defaults are the Free plan's.
 * - requests that violate the content policy are rejected [img, usage], shape undocumented: this fake
 *   answers 400 `invalid_request_error` whose message names the content policy.
 * - the Midjourney endpoint's `prompt` goes to Midjourney ("access to Midjourney's image generation
 *   capabilities" [img]); pictures in it are read as Midjourney reads them (midjourney-prompt.ts, [mj] with
 *   a second gateway's docs as witness), on the version `model` names ("5" by default [img]). [img] says nothing
 *   of pictures, so how the gateway reports Midjourney's refusal is not documented: this fake answers 400
 *   `invalid_request_error` naming the problem. `pictureUrls` records the URLs Midjourney would fetch.
 *   No /blend endpoint and no button actions are documented [img]: a blend is two or more image URLs alone.
 */
const MJ_FIELDS = ['prompt', 'style', 'width', 'height', 'model', 'num_outputs'];
const FLUX_FIELDS = ['prompt', 'negative_prompt', 'style', 'seed', 'steps', 'aspect_ratio'];
const TASK_IMAGE_FIELDS = ['model', 'prompt', 'width', 'height', 'num_inference_steps', 'guidance_scale', 'seed'];
export const FLUX_TASK_MODELS = ['flux-1-pro', 'flux-1-dev', 'flux-1-schnell'];
export const BLOCKED_WORD = 'gore';

interface Problem {
  message: string;
  code: 'parameter_required' | 'parameter_invalid';
  param: string;
}

export class PomeloFake {
  readonly server: FakeServer;
  imageUrl: (id: string) => string = (id) => `${this.server.url}/files/${id}.png`;
  /** Plan limits (Free by default). */
  concurrency = 2;
  perWindow = 10;
  windowMs = 60_000;
  /** Whether answers carry the x-ratelimit-* headers. */
  rateHeaders = true;
  retryAfterSeconds = 30;
  /** Generations left this month; 0 answers quota_exceeded. */
  monthlyQuota = Number.POSITIVE_INFINITY;
  /** How long a generation holds its request open. */
  delayMs = 0;
  inFlight = 0;
  maxInFlight = 0;
  rateLimited = 0;
  private windowStart = 0;
  private windowCount = 0;
  private png: Uint8Array | undefined;
  /** Picture URLs in Midjourney prompts (image prompts and --sref), which Midjourney would fetch. */
  readonly pictureUrls: string[] = [];
  /** When set, the fake fetches each picture URL as Midjourney would; one it cannot read refuses the request. */
  fetchPictures = false;
  readonly fetched: FetchedPicture[] = [];

  constructor(readonly apiKey = 'pk-test') {
    this.server = new FakeServer((req) => this.route(req));
  }

  async start(): Promise<this> {
    this.png = await makePng(96, 64);
    await this.server.start();
    return this;
  }

  get url(): string {
    return this.server.url;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private err(status: number, type: string, code: string, message: string, param?: string, headers?: Record<string, string>): FakeReply {
    return { status, headers, body: { error: { type, message, code, ...(param ? { param } : {}), status } } };
  }

  private invalid(problems: Problem[]): FakeReply {
    const [p] = problems;
    return this.err(400, 'invalid_request_error', p!.code, problems.map((x) => x.message).join('; '), p!.param);
  }

  /** Fixed windows aligned to the epoch, so the reset header (whole seconds) names the window's end. */
  private windowHeaders(): Record<string, string> {
    if (!this.rateHeaders) return {};
    return {
      'x-ratelimit-limit': String(this.perWindow),
      'x-ratelimit-remaining': String(Math.max(0, this.perWindow - this.windowCount)),
      'x-ratelimit-reset': String(Math.ceil((this.windowStart + this.windowMs) / 1000)),
    };
  }

  private async route(req: SeenRequest): Promise<FakeReply> {
    if (req.method === 'GET' && /^\/files\/[\w-]+\.png$/.test(req.path)) return { status: 200, bytes: this.png!, headers: { 'content-type': 'image/png' } };
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) return this.err(401, 'authentication_error', 'invalid_api_key', 'Invalid API key');
    const generate = { '/api/v1/midjourney/generate': () => this.midjourney(req.body), '/api/v1/flux.1': () => this.flux(req.body), '/api/v1/task': () => this.task(req.body) }[req.path];
    if (req.method !== 'POST' || !generate) return this.err(404, 'invalid_request_error', 'not_found', `No route ${req.method} ${req.path}`);

    const now = Date.now();
    const start = Math.floor(now / this.windowMs) * this.windowMs;
    if (start !== this.windowStart) {
      this.windowStart = start;
      this.windowCount = 0;
    }
    if (this.windowCount >= this.perWindow || this.inFlight >= this.concurrency) {
      this.rateLimited++;
      const wait = this.inFlight >= this.concurrency ? this.retryAfterSeconds : Math.ceil((this.windowStart + this.windowMs - now) / 1000);
      return this.err(429, 'rate_limit_error', 'rate_limit_exceeded', `You have exceeded your request rate limit. Please try again after ${wait} seconds.`, undefined, {
        'retry-after': String(wait),
        ...this.windowHeaders(),
      });
    }
    this.windowCount++;
    if (this.monthlyQuota <= 0) return this.err(429, 'invalid_request_error', 'quota_exceeded', 'You have exceeded your monthly quota.', undefined, this.windowHeaders());
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      const reply = await generate();
      if (reply.status === 200) this.monthlyQuota--;
      return { ...reply, headers: { ...reply.headers, ...this.windowHeaders() } };
    } finally {
      this.inFlight--;
    }
  }

  private object(body: unknown): Record<string, unknown> | undefined {
    return body && typeof body === 'object' && !Array.isArray(body) && !isInvalidJson(body) ? (body as Record<string, unknown>) : undefined;
  }

  private common(b: Record<string, unknown>, fields: string[]): Problem[] {
    const p: Problem[] = Object.keys(b)
      .filter((k) => !fields.includes(k))
      .map((k) => ({ message: `Unknown parameter '${k}'`, code: 'parameter_invalid' as const, param: k }));
    if (typeof b.prompt !== 'string' || !b.prompt.trim()) p.push({ message: "The 'prompt' parameter is required", code: 'parameter_required', param: 'prompt' });
    return p;
  }

  private int(b: Record<string, unknown>, k: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Problem[] {
    const v = b[k];
    if (v === undefined) return [];
    return Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? [] : [{ message: `'${k}' must be an integer from ${min} to ${max}`, code: 'parameter_invalid', param: k }];
  }

  private str(b: Record<string, unknown>, k: string): Problem[] {
    return b[k] === undefined || (typeof b[k] === 'string' && (b[k] as string).trim()) ? [] : [{ message: `'${k}' must be a non-empty string`, code: 'parameter_invalid', param: k }];
  }

  validateMidjourney(body: unknown): Problem[] {
    const b = this.object(body);
    if (!b) return [{ message: 'Body must be a JSON object', code: 'parameter_invalid', param: 'body' }];
    return [...this.common(b, MJ_FIELDS), ...this.str(b, 'style'), ...this.int(b, 'width', 1), ...this.int(b, 'height', 1), ...this.str(b, 'model'), ...this.int(b, 'num_outputs', 1, 4)];
  }

  validateFlux(body: unknown): Problem[] {
    const b = this.object(body);
    if (!b) return [{ message: 'Body must be a JSON object', code: 'parameter_invalid', param: 'body' }];
    const p = [...this.common(b, FLUX_FIELDS), ...this.str(b, 'negative_prompt'), ...this.str(b, 'style'), ...this.int(b, 'seed'), ...this.int(b, 'steps', 1, 50)];
    if (b.aspect_ratio !== undefined && !/^\d+:\d+$/.test(String(b.aspect_ratio))) p.push({ message: "'aspect_ratio' must look like 16:9", code: 'parameter_invalid', param: 'aspect_ratio' });
    return p;
  }

  validateTask(body: unknown): Problem[] {
    const b = this.object(body);
    if (!b) return [{ message: 'Body must be a JSON object', code: 'parameter_invalid', param: 'body' }];
    if (b.model === undefined) return [{ message: "The 'model' parameter is required", code: 'parameter_required', param: 'model' }];
    if (!FLUX_TASK_MODELS.includes(String(b.model))) return [{ message: `'model' must be an image model: ${FLUX_TASK_MODELS.join(', ')}`, code: 'parameter_invalid', param: 'model' }];
    const p = [...this.common(b, TASK_IMAGE_FIELDS), ...this.int(b, 'width', 1), ...this.int(b, 'height', 1), ...this.int(b, 'num_inference_steps', 1), ...this.int(b, 'seed')];
    if (b.guidance_scale !== undefined && typeof b.guidance_scale !== 'number') p.push({ message: "'guidance_scale' must be a number", code: 'parameter_invalid', param: 'guidance_scale' });
    return p;
  }

  private refused(prompt: unknown): FakeReply | undefined {
    if (typeof prompt === 'string' && prompt.toLowerCase().includes(BLOCKED_WORD)) {
      return this.err(400, 'invalid_request_error', 'parameter_invalid', 'Request rejected: the prompt violates our content policy', 'prompt');
    }
    return undefined;
  }

  private async midjourney(body: unknown): Promise<FakeReply> {
    const p = this.validateMidjourney(body);
    if (p.length) return this.invalid(p);
    const b = body as Record<string, unknown>;
    const refused = this.refused(b.prompt);
    if (refused) return refused;
    const version = Number(/(?:^|\s)--v(?:ersion)?\s+(\d+(?:\.\d+)?)/.exec(String(b.prompt))?.[1] ?? b.model ?? '5');
    const pictures = midjourneyPictures(String(b.prompt), Number.isFinite(version) ? version : 5);
    if (pictures.problems.length) return this.err(400, 'invalid_request_error', 'parameter_invalid', `Midjourney refused the prompt: ${pictures.problems.join('; ')}`, 'prompt');
    this.pictureUrls.push(...pictures.urls);
    if (this.fetchPictures) {
      for (const url of pictures.urls) {
        const got = await fetchPicture(url);
        this.fetched.push(got);
        if (!got.ok) return this.err(400, 'invalid_request_error', 'parameter_invalid', `Midjourney could not read the image at ${url}`, 'prompt');
      }
    }
    const n = (b.num_outputs as number) ?? 1;
    const images = Array.from({ length: n }, () => {
      const id = randomUUID();
      return { url: this.imageUrl(id), id, created_at: new Date().toISOString() };
    });
    return { status: 200, body: { status: 'success', images, prompt: b.prompt, model: b.model ?? '5' } };
  }

  private fluxAnswer(b: Record<string, unknown>, model: string): FakeReply {
    const id = `gen_${randomUUID().slice(0, 6)}`;
    return {
      status: 200,
      body: { id, created: Math.floor(Date.now() / 1000), images: [{ url: this.imageUrl(id), width: 1024, height: 576 }], prompt: b.prompt, model, seed: (b.seed as number) ?? 42105, status: 'complete' },
    };
  }

  private flux(body: unknown): FakeReply {
    const p = this.validateFlux(body);
    if (p.length) return this.invalid(p);
    const b = body as Record<string, unknown>;
    return this.refused(b.prompt) ?? this.fluxAnswer(b, 'flux.1');
  }

  private task(body: unknown): FakeReply {
    const p = this.validateTask(body);
    if (p.length) return this.invalid(p);
    const b = body as Record<string, unknown>;
    return this.refused(b.prompt) ?? this.fluxAnswer(b, String(b.model));
  }
}
