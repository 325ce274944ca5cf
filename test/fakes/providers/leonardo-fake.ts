import { randomUUID } from 'node:crypto';
import { makePng } from './images.ts';
import { FakeServer, isInvalidJson, type FakeReply, type SeenRequest } from './fake-server.ts';
import { sdkCheckCreateGeneration, sdkCheckUpscale, sdkResponses } from './leonardo-sdk.ts';

/**
 * A loopback Leonardo.Ai REST API (PROVIDERS.md §2): Bearer auth, POST /generations with the documented
 * rules, PENDING → COMPLETE | FAILED, /variations/upscale polled on /variations/{id}, /me, Hasura-style
 * errors `{ error, path, code }`, and webhook callbacks. Requests and answers are also checked against
 * the SDK's zod schemas.
 */
export const BASE_PATH = '/api/rest/v1';
const CONTRAST = [1.0, 1.3, 1.8, 2.5, 3, 3.5, 4, 4.5];
const ALCHEMY_STYLES = ['ANIME', 'CREATIVE', 'DYNAMIC', 'ENVIRONMENT', 'GENERAL', 'ILLUSTRATION', 'PHOTOGRAPHY', 'RAYTRACED', 'RENDER_3D', 'SKETCH_BW', 'SKETCH_COLOR', 'NONE'];
const PLAIN_STYLES = ['LEONARDO', 'NONE'];
export const PHOENIX_ID = 'de7d3faf-762f-48e0-b3b7-9d0ac3a3fcf3';

export interface FakeLeonardoGeneration {
  id: string;
  body: Record<string, any>;
  status: 'PENDING' | 'COMPLETE' | 'FAILED';
  pendingPolls: number;
  images: { id: string; url: string; nsfw: boolean }[];
}

export type LeonardoLifecycle = 'auto' | 'failed' | 'never' | 'manual';

export class LeonardoFake {
  readonly server: FakeServer;
  readonly generations = new Map<string, FakeLeonardoGeneration>();
  readonly variations = new Map<string, { id: string; imageId: string; status: 'PENDING' | 'COMPLETE' | 'FAILED'; polls: number }>();
  lifecycle: LeonardoLifecycle = 'auto';
  /** Indexes of images to flag nsfw in new generations. */
  nsfwIndexes: number[] = [];
  imageUrl: (name: string) => string = (name) => `${this.server.url}/cdn/${name}.png`;
  private small: Uint8Array | undefined;
  private big: Uint8Array | undefined;

  constructor(readonly apiKey = '0b7a6c1e-leo-test-key') {
    this.server = new FakeServer((req) => this.route(req));
  }

  async start(): Promise<this> {
    this.small = await makePng(64, 64);
    this.big = await makePng(256, 256);
    await this.server.start();
    return this;
  }

  get baseUrl(): string {
    return this.server.url + BASE_PATH;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  get creates(): number {
    return this.server.count(`POST ${BASE_PATH}/generations`);
  }

  complete(id: string): void {
    const g = this.generations.get(id)!;
    g.status = 'COMPLETE';
  }

  /** The documented callback: `authorization: Bearer <callback key>`, event image_generation.complete. */
  async sendWebhook(url: string, token: string, id: string): Promise<number> {
    const g = this.generations.get(id)!;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        type: 'image_generation.complete',
        object: 'generation',
        timestamp: Date.now(),
        api_version: 'v1',
        data: { object: { id: g.id, status: 'COMPLETE', prompt: g.body.prompt, imageWidth: g.body.width, imageHeight: g.body.height, images: g.images.map((i) => ({ ...i, generationId: g.id })) } },
      }),
    });
    return res.status;
  }

  private err(status: number, error: string, code = 'validation-failed', path = '$'): FakeReply {
    return { status, body: { error, path, code } };
  }

  private answer(schema: { safeParse(v: unknown): { success: boolean; error?: { message: string } } }, body: unknown): FakeReply {
    const r = schema.safeParse(body);
    if (!r.success) throw new Error(`fake answer does not match the SDK schema: ${r.error?.message}`);
    return { status: 200, body };
  }

  private async route(req: SeenRequest): Promise<FakeReply> {
    const cdn = /^\/cdn\/([\w-]+)\.png$/.exec(req.path);
    if (cdn && req.method === 'GET') return { status: 200, bytes: cdn[1]!.startsWith('up-') ? this.big! : this.small!, headers: { 'content-type': 'image/png' } };
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) return this.err(401, 'Authentication hook unauthorized this request', 'access-denied');
    if (!req.path.startsWith(BASE_PATH)) return this.err(404, 'not found', 'not-found');
    const path = req.path.slice(BASE_PATH.length);
    if (req.method === 'GET' && path === '/me') {
      return this.answer(sdkResponses.me, { user_details: [{ user: { id: 'u1', username: 'atelier' }, apiSubscriptionTokens: 3500, apiPaidTokens: 100, apiConcurrencySlots: 10 }] });
    }
    if (req.method === 'POST' && path === '/generations') return this.create(req);
    const gen = /^\/generations\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && gen) return this.getGeneration(gen[1]!);
    if (req.method === 'POST' && path === '/variations/upscale') return this.upscale(req);
    const variation = /^\/variations\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && variation) return this.getVariation(variation[1]!);
    return this.err(404, `no route for ${req.method} ${path}`, 'not-found');
  }

  /** The documented rules for POST /generations (see the SDK's field descriptions). */
  validateCreate(body: unknown): string[] {
    if (!body || typeof body !== 'object' || Array.isArray(body) || isInvalidJson(body)) return ['body must be a JSON object'];
    const b = body as Record<string, any>;
    const p = sdkCheckCreateGeneration(b);
    if (typeof b.prompt !== 'string' || !b.prompt.trim()) p.push('prompt is required');
    for (const side of ['width', 'height']) {
      const v = b[side];
      if (v !== undefined && (!Number.isInteger(v) || v < 32 || v > 1536 || v % 8 !== 0)) p.push(`${side} must be between 32 and 1536 and be a multiple of 8`);
    }
    const w = b.width ?? 1024;
    const h = b.height ?? 768;
    const n = b.num_images ?? 4;
    if (!Number.isInteger(n) || n < 1 || n > 8) p.push('num_images must be between 1 and 8');
    else if ((w > 768 || h > 768) && n > 4) p.push('num_images must be between 1 and 4 if either width or height is over 768');
    if (b.num_inference_steps !== undefined && (b.num_inference_steps < 10 || b.num_inference_steps > 60)) p.push('num_inference_steps must be between 10 and 60');
    if (b.guidance_scale !== undefined && (b.guidance_scale < 1 || b.guidance_scale > 20)) p.push('guidance_scale must be between 1 and 20');
    const flux = ['FLUX', 'FLUX_DEV'].includes(b.sd_version);
    if (b.seed !== undefined && (b.seed < 0 || b.seed > (flux ? 2147483637 : 9999999998))) p.push('seed is out of range');
    const alchemy = b.alchemy === true;
    if (b.contrast !== undefined) {
      if (!CONTRAST.includes(b.contrast)) p.push(`contrast must be one of ${CONTRAST.join(', ')}`);
      else if ((b.modelId === PHOENIX_ID || b.sd_version === 'PHOENIX') && alchemy && b.contrast < 2.5) p.push('contrast must be 2.5 or higher for Phoenix with alchemy');
    }
    if (b.ultra === true && alchemy) p.push('ultra can not be used with alchemy');
    if (b.photoReal === true) {
      if (!alchemy) p.push('photoReal requires alchemy');
      if ((b.photoRealVersion ?? 'v1') === 'v1' && b.modelId) p.push('photoReal v1 requires modelId to be unspecified');
      if (b.photoRealStrength !== undefined && ![0.55, 0.5, 0.45].includes(b.photoRealStrength)) p.push('photoRealStrength must be 0.55, 0.5 or 0.45');
    }
    if (b.photoRealVersion !== undefined && !['v1', 'v2'].includes(b.photoRealVersion)) p.push('photoRealVersion must be v1 or v2');
    if (b.presetStyle !== undefined && b.presetStyle !== null && b.photoReal !== true) {
      const allowed = alchemy ? ALCHEMY_STYLES : PLAIN_STYLES;
      if (!allowed.includes(b.presetStyle)) p.push(`presetStyle ${b.presetStyle} is not valid ${alchemy ? 'with' : 'without'} alchemy`);
    }
    if (b.init_strength !== undefined && (b.init_strength < 0.1 || b.init_strength > 0.9)) p.push('init_strength must be between 0.1 and 0.9');
    if (b.init_generation_image_id !== undefined && !this.findImage(b.init_generation_image_id)) p.push('init_generation_image_id does not exist');
    return p;
  }

  private findImage(id: string) {
    for (const g of this.generations.values()) {
      const img = g.images.find((i) => i.id === id);
      if (img) return img;
    }
    return undefined;
  }

  private create(req: SeenRequest): FakeReply {
    const problems = this.validateCreate(req.body);
    if (problems.length) return this.err(400, problems.join('; '));
    const b = req.body as Record<string, any>;
    const id = randomUUID();
    const count = b.num_images ?? 4;
    const images = Array.from({ length: count }, (_, i) => {
      const imageId = randomUUID();
      return { id: imageId, url: this.imageUrl(imageId), nsfw: this.nsfwIndexes.includes(i) };
    });
    const pendingPolls = { auto: 2, failed: 1, never: Number.POSITIVE_INFINITY, manual: Number.POSITIVE_INFINITY }[this.lifecycle];
    this.generations.set(id, { id, body: b, status: 'PENDING', pendingPolls, images });
    return this.answer(sdkResponses.createGeneration, { sdGenerationJob: { generationId: id, apiCreditCost: 8, cost: { amount: '0.02', unit: 'DOLLARS' } } });
  }

  private getGeneration(id: string): FakeReply {
    const g = this.generations.get(id);
    if (!g) return this.answer(sdkResponses.getGeneration, { generations_by_pk: null });
    if (g.status === 'PENDING') {
      if (g.pendingPolls <= 0) g.status = this.lifecycle === 'failed' ? 'FAILED' : 'COMPLETE';
      else g.pendingPolls--;
    }
    const b = g.body;
    return this.answer(sdkResponses.getGeneration, {
      generations_by_pk: {
        id: g.id,
        status: g.status,
        createdAt: new Date().toISOString(),
        modelId: b.modelId ?? null,
        prompt: b.prompt,
        negativePrompt: b.negative_prompt ?? null,
        imageHeight: b.height ?? 768,
        imageWidth: b.width ?? 1024,
        inferenceSteps: b.num_inference_steps ?? 15,
        guidanceScale: b.guidance_scale ?? 7,
        seed: b.seed ?? 123456,
        public: false,
        generated_images: g.status === 'COMPLETE' ? g.images.map((i) => ({ ...i, likeCount: 0, generated_image_variation_generics: [] })) : [],
        generation_elements: [],
      },
    });
  }

  private upscale(req: SeenRequest): FakeReply {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const problems = sdkCheckUpscale(b);
    if (typeof b.id !== 'string' || !b.id) problems.push('id is required');
    else if (!this.findImage(b.id)) problems.push('generated image not found');
    if (problems.length) return this.err(400, problems.join('; '));
    const id = randomUUID();
    this.variations.set(id, { id, imageId: b.id as string, status: 'PENDING', polls: this.lifecycle === 'never' ? Number.POSITIVE_INFINITY : 1 });
    return this.answer(sdkResponses.createUpscale, { sdUpscaleJob: { id, apiCreditCost: 2 } });
  }

  private getVariation(id: string): FakeReply {
    const v = this.variations.get(id);
    if (!v) return this.answer(sdkResponses.getVariation, { generated_image_variation_generic: [] });
    if (v.status === 'PENDING' && v.polls-- <= 0) v.status = 'COMPLETE';
    return this.answer(sdkResponses.getVariation, {
      generated_image_variation_generic: [
        { id: v.id, createdAt: new Date().toISOString(), status: v.status, transformType: 'UPSCALE', ...(v.status === 'COMPLETE' ? { url: this.imageUrl(`up-${v.id}`) } : {}) },
      ],
    });
  }
}
