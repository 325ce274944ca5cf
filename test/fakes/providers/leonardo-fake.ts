import { createHmac, randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { makePng } from './images.ts';
import { FakeServer, isInvalidJson, type FakeReply, type SeenRequest } from './fake-server.ts';
import { sdkCheckCanvasInit, sdkCheckCreateGeneration, sdkCheckInitImage, sdkCheckUniversalUpscaler, sdkCheckUpscale, sdkResponses } from './leonardo-sdk.ts';

/**
 * A loopback Leonardo.Ai REST API (PROVIDERS.md §2). Each rule and where it comes from:
 * - Bearer auth, Hasura-style errors `{ error, path, code }`: docs "API error messages".
 * - Every request body field and type, and every answer: the `@leonardo-ai/sdk` 4.21 zod schemas
 *   (leonardo-sdk.ts), the API reference's generated client.
 * - width/height 32–1536 in multiples of 8; num_images 1–8, 1–4 over 768 px; steps 10–60; guidance 1–20;
 *   seed ≤ 9999999998 (2147483637 for Flux); contrast ∈ {1, 1.3, 1.8, 2.5, 3, 3.5, 4, 4.5}; photoReal /
 *   alchemy / ultra / presetStyle rules: the SDK's field documentation (creategeneration).
 * - Per model (PHOENIX / LUCID / FLUX below), from each model's guide on docs.leonardo.ai (phoenix,
 *   lucid-origin, lucid-realism, flux-dev, flux-schnell): `contrast` is required; only the guide's body
 *   parameters are taken (alchemy — Phoenix only —, contrast, enhancePrompt, enhancePromptInstruction,
 *   height, modelId, num_images, prompt, seed, styleUUID, ultra, width, and controlnets from its "Image
 *   Guidance" section; `public` is account-wide in the SDK); `styleUUID` must be one of the guide's table
 *   (Phoenix's from a second public client, see src/providers/leonardo/models.ts); controlnets need the
 *   guide's Content Reference preprocessor (Phoenix 364, Lucid Realism 430) and strengthType Low|Mid|High.
 *   Disagreements, where the fake follows the API reference: the guides' tables list contrast 3/3.5/4
 *   while the SDK (and the Lucid Realism "Required Parameters" list) accept all eight values; the Lucid
 *   Origin sample sends 1920×1080 while the SDK caps a side at 1536; `styleUUID` is in every guide but not
 *   in the SDK schema (it is accepted here as the guides document it). Tests name each.
 * - `GET /platformModels` → `custom_models[{ id, name, description, … }]`: [sdk] listplatformmodels.
 * - `POST /init-image { extension }` → `uploadInitImage { id, url, key, fields }` with `fields` a JSON
 *   string ([sdk] uploadinitimage); the file then goes as a presigned S3 POST (docs recipe "Upload an
 *   image": form fields as given, then the file, no API key). The S3 POST rules (AWS "Browser-based
 *   uploads using POST"): every policy field must be present and unchanged, `file` must be the last
 *   field, the policy must not have expired, content-length-range and Content-Type must hold; success is
 *   204 with no body, a refusal is an XML `<Error><Code>`. An init image is usable once uploaded.
 * - Reference controlnets, from [guide] docs "Generate Images Using Image Guidance" and [sdk] ControlnetInput:
 *   preprocessorId by base model (SDXL: Style 67, Character 133, Content 100, Edge 19, Depth 20, Pose 21, Text
 *   22; Phoenix: Style 166 — and Content 364 from the Phoenix guide, where the table says "x"); strengthType
 *   Low|Mid|High|Ultra|Max ([sdk] enum), only for Style / Character / Content Reference, and Low–High only for
 *   Character and Content ([guide]); the image must exist (GENERATED) or have been uploaded (UPLOADED).
 * - Canvas, from [canvas] docs "Generate Images Using Canvas Inpainting" + its recipe, and [sdk]
 *   uploadcanvasinitimage / canvasRequestType: `POST /canvas-init-image { initExtension, maskExtension }` answers
 *   two presigned forms (`canvasNames`: the SDK's `mask*` names, or the recipe's `masks*`; the sources disagree);
 *   a canvas create takes only prompt, canvasRequest, canvasRequestType, canvasInitId, canvasMaskId,
 *   init_strength, num_images, guidance_scale, modelId ("parameters other than those listed are not
 *   compatible"); both pictures uploaded, the same size, sides multiples of 8, at most 1536; every model but
 *   Lightning XL, Anime XL and Phoenix; num_images per the guide's table; init_strength at most 0.8 (the guide's
 *   "Max Inpaint strength is init_strength:0.8", read with its own samples 0.13 and 0.15) and at least the SDK's 0.1.
 *   The images come out the canvas's size.
 * - Universal Upscaler, from [sdk] createuniversalupscalerjob and docs "Upscale with Universal Upscaler":
 *   creativityStrength 1–10, upscaleMultiplier 1.0–2.0, upscalerStyle and ultraUpscaleStyle exclusive,
 *   detailContrast / similarity only with ultraUpscaleStyle, a source image that exists; polled as a variation.
 *   The output size is not documented: the fake makes the source times the multiplier.
 * - Poll answers: [sdk] marks a generation's status and a variation's id/status optional or nullable; the
 *   fake can leave them out (`statusless`) to show the adapter waits.
 */
export const BASE_PATH = '/api/rest/v1';
const CONTRAST = [1.0, 1.3, 1.8, 2.5, 3, 3.5, 4, 4.5];
const ALCHEMY_STYLES = ['ANIME', 'CREATIVE', 'DYNAMIC', 'ENVIRONMENT', 'GENERAL', 'ILLUSTRATION', 'PHOTOGRAPHY', 'RAYTRACED', 'RENDER_3D', 'SKETCH_BW', 'SKETCH_COLOR', 'NONE'];
const PLAIN_STYLES = ['LEONARDO', 'NONE'];
export const PHOENIX_ID = 'de7d3faf-762f-48e0-b3b7-9d0ac3a3fcf3';
export const LUCID_ORIGIN_ID = '7b592283-e8a7-4c5a-9ba6-d18c31f258b9';
export const LUCID_REALISM_ID = '05ce0082-2d80-4a2d-8653-4d1c85e2418e';
export const FLUX_DEV_ID = 'b2614463-296c-462a-9586-aafdb8f00e36';
export const KINO_XL_ID = 'aa77f04e-3eec-4034-9c07-d0f619684628';
/** A platform model outside the adapter's table, reachable only through /platformModels. */
export const RPG_V5 = { id: 'f1929ea3-b169-4c18-a16c-5d58b4292c69', name: 'RPG v5' };

const LUCID_STYLE_IDS = [
  '9fdc5e8c-4d13-49b4-9ce6-5a74cbb19177', 'a5632c7c-ddbb-4e2f-ba34-8456ab3ac436', 'cc53f935-884c-40a0-b7eb-1f5c42821fb5', '6fedbf1f-4a17-45ec-84fb-92fe524a29ef',
  '111dc692-d470-4eec-b791-3475abac4c46', '594c4a08-a522-4e0e-b7ff-e4dac4b6b622', '85da2dcc-c373-464c-9a7a-5624359be859', 'd574325d-1278-4fe2-974b-768525f253c3',
  '97c20e5c-1af6-4d42-b227-54d03d8f0727', '335e6010-a75c-45d9-afc5-032c65e9180e', '30c1d34f-e3a9-479a-b56f-c018bbc9c02a', 'cadc8cd6-7838-4c99-b645-df76be8ba8d8',
  'a2f7ea66-959b-4bbe-b508-6133238b76b6', '621e1c9a-6319-4bee-a12d-ae40659162fa', '0d914779-c822-430a-b976-30075033f1c4', '556c1ee5-ec38-42e8-955a-1e82dad0ffa1',
  '8e2bc543-6ee2-45f9-bcd9-594b6ce84dcd', '6105baa2-851b-446e-9db5-08a671a8c42f', '5bdc3f2a-1be6-4d1c-8e77-992a30824a2c', '62736842-6e4b-4028-b79a-4f1a1606e893',
  'dee282d3-891f-4f73-ba02-7f8131e5541b',
];
const PHOENIX_STYLE_IDS = [
  'debdf72a-91a4-467b-bf61-cc02bdeb69c6', '9fdc5e8c-4d13-49b4-9ce6-5a74cbb19177', 'a5632c7c-ddbb-4e2f-ba34-8456ab3ac436', '33abbb99-03b9-4dd7-9761-ee98650b2c88',
  '6fedbf1f-4a17-45ec-84fb-92fe524a29ef', '111dc692-d470-4eec-b791-3475abac4c46', '594c4a08-a522-4e0e-b7ff-e4dac4b6b622', '2e74ec31-f3a4-4825-b08b-2894f6d13941',
  '1fbb6a68-9319-44d2-8d56-2957ca0ece6a', '97c20e5c-1af6-4d42-b227-54d03d8f0727', '645e4195-f63d-4715-a3f2-3fb1e6eb8c70', '30c1d34f-e3a9-479a-b56f-c018bbc9c02a',
  'cadc8cd6-7838-4c99-b645-df76be8ba8d8', '621e1c9a-6319-4bee-a12d-ae40659162fa', '556c1ee5-ec38-42e8-955a-1e82dad0ffa1', '8e2bc543-6ee2-45f9-bcd9-594b6ce84dcd',
  '22a9a7d2-2166-4d86-80ff-22e2643adbcf', '7c3f932b-a572-47cb-9b9b-f20211e63b5b', '581ba6d6-5aac-4492-bebe-54c424a0d46e', '0d34f8e1-46d4-428f-8ddd-4b11811fa7c9',
  'b504f83c-3326-4947-82e1-7fe9e839ec0f', 'be8c6b58-739c-4d44-b9c1-b032ed308b61', '093accc3-7633-4ffd-82da-d34000dfc0d6', '5bdc3f2a-1be6-4d1c-8e77-992a30824a2c',
  'dee282d3-891f-4f73-ba02-7f8131e5541b',
];
interface GuideModel {
  name: string;
  alchemy: boolean;
  styles: string[];
  contentReference?: number;
  styleReference?: number;
}
const GUIDE_MODELS: Record<string, GuideModel> = {
  [PHOENIX_ID]: { name: 'Phoenix 1.0', alchemy: true, styles: PHOENIX_STYLE_IDS, contentReference: 364, styleReference: 166 },
  '6b645e3a-d64f-4341-a6d8-7a3690fbf042': { name: 'Phoenix 0.9', alchemy: true, styles: PHOENIX_STYLE_IDS, contentReference: 364, styleReference: 166 },
  [LUCID_ORIGIN_ID]: { name: 'Lucid Origin', alchemy: false, styles: LUCID_STYLE_IDS },
  [LUCID_REALISM_ID]: { name: 'Lucid Realism', alchemy: false, styles: LUCID_STYLE_IDS, contentReference: 430 },
  [FLUX_DEV_ID]: { name: 'FLUX Dev', alchemy: false, styles: ['111dc692-d470-4eec-b791-3475abac4c46'] },
  '1dd50843-d653-4516-a8e3-f0238ee453ff': { name: 'FLUX Schnell', alchemy: false, styles: ['111dc692-d470-4eec-b791-3475abac4c46'] },
};
const GUIDE_FIELDS = new Set(['alchemy', 'contrast', 'enhancePrompt', 'enhancePromptInstruction', 'height', 'modelId', 'num_images', 'prompt', 'seed', 'styleUUID', 'ultra', 'width', 'controlnets', 'public']);
const PLATFORM_MODELS = [
  { id: PHOENIX_ID, name: 'Leonardo Phoenix 1.0' },
  { id: LUCID_ORIGIN_ID, name: 'Lucid Origin' },
  { id: FLUX_DEV_ID, name: 'Flux Dev' },
  { id: KINO_XL_ID, name: 'Leonardo Kino XL' },
  RPG_V5,
];
const UPLOAD_MAX_BYTES = 10 * 1024 * 1024;
/** [guide] preprocessor ids on SDXL models; which take a strengthType, and which only Low–High. */
const SDXL_PREPROCESSORS = new Set([67, 133, 100, 19, 20, 21, 22]);
const REFERENCE_STRENGTHS: Record<number, string[]> = {
  67: ['Low', 'Mid', 'High', 'Ultra', 'Max'],
  166: ['Low', 'Mid', 'High', 'Ultra', 'Max'],
  133: ['Low', 'Mid', 'High'],
  100: ['Low', 'Mid', 'High'],
  364: ['Low', 'Mid', 'High'],
  430: ['Low', 'Mid', 'High'],
};
const CANVAS_FIELDS = new Set(['prompt', 'canvasRequest', 'canvasRequestType', 'canvasInitId', 'canvasMaskId', 'init_strength', 'num_images', 'guidance_scale', 'modelId']);
/** [canvas] "All models except for Leonardo Lightning XL, Leonardo Anime XL and Phoenix". */
const NO_CANVAS_MODELS = new Set(['b24e16ff-06e3-43eb-8d33-4416c2d75876', 'e71a1c2f-4f80-4800-934f-2c68979d8cc8', PHOENIX_ID, '6b645e3a-d64f-4341-a6d8-7a3690fbf042']);

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
  /** Poll answers (generation and variation) that leave status and variation id out first, as the SDK allows. */
  statusless = 0;
  /** Init images by id: minted by POST /init-image, usable once the presigned upload arrived. */
  readonly initImages = new Map<string, { id: string; key: string; fields: Record<string, string>; expires: number; uploaded?: { bytes: Buffer; type: string; width: number; height: number } }>();
  /** How POST /canvas-init-image names the mask's form: the SDK's `mask*` or the docs recipe's `masks*`. */
  canvasNames: 'sdk' | 'recipe' = 'sdk';
  readonly upscalers = new Map<string, Record<string, unknown>>();
  imageUrl: (name: string) => string = (name) => `${this.server.url}/cdn/${name}.png`;
  /** Each CDN image's size: a generation's images are as large as it asked for (SDK default 1024×768). */
  private readonly sizes = new Map<string, { width: number; height: number }>();
  private readonly pngs = new Map<string, Promise<Uint8Array>>();

  constructor(readonly apiKey = '0b7a6c1e-leo-test-key') {
    this.server = new FakeServer((req) => this.route(req));
  }

  async start(): Promise<this> {
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
    if (cdn && req.method === 'GET') {
      const size = this.sizes.get(cdn[1]!);
      if (!size) return { status: 404 };
      const key = `${size.width}x${size.height}`;
      if (!this.pngs.has(key)) this.pngs.set(key, makePng(size.width, size.height));
      return { status: 200, bytes: await this.pngs.get(key)!, headers: { 'content-type': 'image/png' } };
    }
    // The presigned storage takes no API key: the signed policy in the form is the authorisation.
    if (req.method === 'POST' && req.path === '/s3/upload') return this.s3Post(req);
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) return this.err(401, 'Authentication hook unauthorized this request', 'access-denied');
    if (!req.path.startsWith(BASE_PATH)) return this.err(404, 'not found', 'not-found');
    const path = req.path.slice(BASE_PATH.length);
    if (req.method === 'GET' && path === '/platformModels') {
      return this.answer(sdkResponses.platformModels, { custom_models: PLATFORM_MODELS.map((m) => ({ ...m, description: m.name, nsfw: false, featured: true, generated_image: null })) });
    }
    if (req.method === 'POST' && path === '/init-image') return this.mintUpload(req);
    if (req.method === 'GET' && path === '/me') {
      return this.answer(sdkResponses.me, { user_details: [{ user: { id: 'u1', username: 'atelier' }, apiSubscriptionTokens: 3500, apiPaidTokens: 100, apiConcurrencySlots: 10 }] });
    }
    if (req.method === 'POST' && path === '/generations') return this.create(req);
    const gen = /^\/generations\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && gen) return this.getGeneration(gen[1]!);
    if (req.method === 'POST' && path === '/variations/upscale') return this.upscale(req);
    if (req.method === 'POST' && path === '/variations/universal-upscaler') return this.universalUpscale(req);
    if (req.method === 'POST' && path === '/canvas-init-image') return this.mintCanvasUpload(req);
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
    const guide = GUIDE_MODELS[b.modelId];
    if (guide) {
      if (b.contrast === undefined || b.contrast === null) p.push(`contrast is required for ${guide.name}`);
      for (const k of Object.keys(b)) if (!GUIDE_FIELDS.has(k)) p.push(`${k} is not a parameter of ${guide.name}`);
      if (alchemy && !guide.alchemy) p.push(`alchemy is not supported for ${guide.name}`);
      if (b.styleUUID !== undefined && !guide.styles.includes(b.styleUUID)) p.push(`styleUUID ${b.styleUUID} is not a style of ${guide.name}`);
      for (const c of (b.controlnets ?? []) as Record<string, any>[]) {
        if (![guide.contentReference, guide.styleReference].includes(c.preprocessorId)) p.push(`preprocessorId ${c.preprocessorId} is not available for ${guide.name}`);
      }
    } else {
      for (const c of (b.controlnets ?? []) as Record<string, any>[]) {
        if (!SDXL_PREPROCESSORS.has(c.preprocessorId)) p.push(`preprocessorId ${c.preprocessorId} is not available for this model`);
      }
    }
    for (const c of (b.controlnets ?? []) as Record<string, any>[]) {
      const strengths = REFERENCE_STRENGTHS[c.preprocessorId];
      if (c.strengthType !== undefined && !strengths) p.push(`strengthType only applies to Style, Character and Content Reference (preprocessor ${c.preprocessorId})`);
      else if (strengths && !strengths.includes(c.strengthType)) p.push(`strengthType must be one of ${strengths.join(', ')} for preprocessor ${c.preprocessorId}`);
      if (c.initImageType === 'GENERATED' ? !this.findImage(c.initImageId) : !this.initImages.get(c.initImageId)?.uploaded) p.push(`initImageId ${c.initImageId} does not exist`);
    }
    if (b.canvasRequest === true) p.push(...this.validateCanvas(b));
    else if (['canvasInitId', 'canvasMaskId', 'canvasRequestType'].some((k) => b[k] !== undefined)) p.push('canvasInitId, canvasMaskId and canvasRequestType need canvasRequest: true');
    if (b.init_image_id !== undefined && !this.initImages.get(b.init_image_id)?.uploaded) p.push('init_image_id does not exist or was never uploaded');
    if (b.init_strength !== undefined && (b.init_strength < 0.1 || b.init_strength > 0.9)) p.push('init_strength must be between 0.1 and 0.9');
    if (b.init_generation_image_id !== undefined && !this.findImage(b.init_generation_image_id)) p.push('init_generation_image_id does not exist');
    return p;
  }

  /** [canvas] rules; the caller has already checked the body against the SDK schema. */
  private validateCanvas(b: Record<string, any>): string[] {
    const p: string[] = [];
    for (const k of Object.keys(b)) if (!CANVAS_FIELDS.has(k)) p.push(`${k} is not compatible with Canvas Inpainting`);
    if (NO_CANVAS_MODELS.has(b.modelId)) p.push(`model ${b.modelId} cannot be used with Canvas Inpainting`);
    const init = this.initImages.get(b.canvasInitId)?.uploaded;
    const mask = this.initImages.get(b.canvasMaskId)?.uploaded;
    if (!init) p.push('canvasInitId does not exist or was never uploaded');
    if (!mask) p.push('canvasMaskId does not exist or was never uploaded');
    if (init && mask) {
      if (init.width !== mask.width || init.height !== mask.height) p.push('mask and init image dimensions must match');
      if (init.width % 8 || init.height % 8) p.push('canvas image dimensions must be divisible by 8');
      if (init.width > 1536 || init.height > 1536) p.push('canvas images may be at most 1536x1536');
      const n = b.num_images ?? 4;
      const max = Math.max(init.width, init.height) <= 768 ? 8 : init.width * init.height <= 768 * 1024 ? 4 : 2;
      if (n > max) p.push(`num_images may be at most ${max} for a ${init.width}x${init.height} canvas`);
    }
    if (b.init_strength !== undefined && b.init_strength > 0.8) p.push('init_strength may be at most 0.8 for Canvas Inpainting');
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
    const canvas = b.canvasRequest === true ? this.initImages.get(b.canvasInitId)!.uploaded! : undefined;
    const images = Array.from({ length: count }, (_, i) => {
      const imageId = randomUUID();
      this.sizes.set(imageId, canvas ? { width: canvas.width, height: canvas.height } : { width: b.width ?? 1024, height: b.height ?? 768 });
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
    if (this.statusless > 0) {
      this.statusless--;
      return this.answer(sdkResponses.getGeneration, { generations_by_pk: { id: g.id, createdAt: new Date().toISOString(), prompt: b.prompt, generated_images: [] } });
    }
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
    // The upscaler's output size is not documented; twice the source is what the fake makes.
    const source = this.sizes.get(b.id as string)!;
    this.sizes.set(`up-${id}`, { width: source.width * 2, height: source.height * 2 });
    this.variations.set(id, { id, imageId: b.id as string, status: 'PENDING', polls: this.lifecycle === 'never' ? Number.POSITIVE_INFINITY : 1 });
    return this.answer(sdkResponses.createUpscale, { sdUpscaleJob: { id, apiCreditCost: 2 } });
  }

  private universalUpscale(req: SeenRequest): FakeReply {
    const b = (req.body ?? {}) as Record<string, any>;
    const problems = sdkCheckUniversalUpscaler(b);
    const source = b.generatedImageId ?? b.initImageId ?? b.variationId;
    if (!source) problems.push('one of generatedImageId, initImageId or variationId is required');
    else if (b.generatedImageId && !this.findImage(b.generatedImageId)) problems.push('generated image not found');
    const within = (k: string, lo: number, hi: number) => b[k] !== undefined && b[k] !== null && (b[k] < lo || b[k] > hi) && problems.push(`${k} must be between ${lo} and ${hi}`);
    within('creativityStrength', 1, 10);
    within('upscaleMultiplier', 1, 2);
    within('detailContrast', 1, 10);
    within('similarity', 1, 10);
    if (b.upscalerStyle && b.ultraUpscaleStyle) problems.push('upscalerStyle can not be used with ultraUpscaleStyle');
    if (!b.ultraUpscaleStyle && (b.detailContrast !== undefined || b.similarity !== undefined)) problems.push('detailContrast and similarity can only be used with ultraUpscaleStyle');
    if (problems.length) return this.err(400, problems.join('; '));
    const id = randomUUID();
    const size = this.sizes.get(b.generatedImageId) ?? { width: 1024, height: 768 };
    const m = b.upscaleMultiplier ?? 1.5;
    this.sizes.set(`up-${id}`, { width: Math.round(size.width * m), height: Math.round(size.height * m) });
    this.upscalers.set(id, b);
    this.variations.set(id, { id, imageId: source, status: 'PENDING', polls: this.lifecycle === 'never' ? Number.POSITIVE_INFINITY : 1 });
    return this.answer(sdkResponses.universalUpscaler, { universalUpscaler: { id, apiCreditCost: 10 } });
  }

  private getVariation(id: string): FakeReply {
    const v = this.variations.get(id);
    if (!v) return this.answer(sdkResponses.getVariation, { generated_image_variation_generic: [] });
    if (this.statusless > 0) {
      this.statusless--;
      return this.answer(sdkResponses.getVariation, { generated_image_variation_generic: [{ id: null, createdAt: new Date().toISOString(), transformType: 'UPSCALE', url: null }] });
    }
    if (v.status === 'PENDING' && v.polls-- <= 0) v.status = 'COMPLETE';
    return this.answer(sdkResponses.getVariation, {
      generated_image_variation_generic: [
        { id: v.id, createdAt: new Date().toISOString(), status: v.status, transformType: 'UPSCALE', ...(v.status === 'COMPLETE' ? { url: this.imageUrl(`up-${v.id}`) } : {}) },
      ],
    });
  }

  /** POST /init-image: a presigned S3 POST form for one file, signed with a secret only the fake knows. */
  private mintUpload(req: SeenRequest): FakeReply {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const problems = sdkCheckInitImage(b);
    if (typeof b.extension !== 'string' || !['png', 'jpg', 'jpeg', 'webp'].includes(b.extension)) problems.push('extension must be png, jpg, jpeg or webp');
    if (problems.length) return this.err(400, problems.join('; '));
    const form = this.mintForm(b.extension as string);
    return this.answer(sdkResponses.uploadInitImage, { uploadInitImage: { id: form.id, key: form.key, url: form.url, fields: JSON.stringify(form.fields) } });
  }

  /** POST /canvas-init-image: one presigned form for the picture, one for its mask. */
  private mintCanvasUpload(req: SeenRequest): FakeReply {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const problems = sdkCheckCanvasInit(b);
    for (const k of ['initExtension', 'maskExtension']) if (!['png', 'jpg', 'jpeg', 'webp'].includes(b[k] as string)) problems.push(`${k} must be png, jpg, jpeg or webp`);
    if (problems.length) return this.err(400, problems.join('; '));
    const init = this.mintForm(b.initExtension as string);
    const mask = this.mintForm(b.maskExtension as string);
    const m = this.canvasNames === 'sdk' ? 'mask' : 'masks';
    return this.answer(sdkResponses.uploadCanvasInitImage, {
      uploadCanvasInitImage: {
        initImageId: init.id, initKey: init.key, initUrl: init.url, initFields: JSON.stringify(init.fields),
        [`${m}ImageId`]: mask.id, [`${m}Key`]: mask.key, [`${m}Url`]: mask.url, [`${m}Fields`]: JSON.stringify(mask.fields),
      },
    });
  }

  private mintForm(extension: string): { id: string; key: string; url: string; fields: Record<string, string> } {
    const id = randomUUID();
    const key = `uploads/${id}.${extension}`;
    const expires = Date.now() + 5 * 60_000;
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(expires).toISOString(),
        conditions: [{ bucket: 'fake-init-images' }, { key }, ['starts-with', '$Content-Type', 'image/'], ['content-length-range', 1, UPLOAD_MAX_BYTES]],
      }),
    ).toString('base64');
    const fields = {
      'Content-Type': extension === 'png' ? 'image/png' : extension === 'webp' ? 'image/webp' : 'image/jpeg',
      bucket: 'fake-init-images',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'FAKEKEY/20260101/us-east-1/s3/aws4_request',
      'X-Amz-Date': '20260101T000000Z',
      key,
      Policy: policy,
      'X-Amz-Signature': createHmac('sha256', 'fake-s3-secret').update(policy).digest('hex'),
    };
    this.initImages.set(id, { id, key, fields, expires });
    return { id, key, url: `${this.server.url}/s3/upload`, fields };
  }

  private s3Error(status: number, code: string, message: string): FakeReply {
    return { status, bytes: Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`), headers: { 'content-type': 'application/xml' } };
  }

  /** The presigned POST as S3 checks it: multipart, every signed field unchanged, the file last and within the policy. */
  private async s3Post(req: SeenRequest): Promise<FakeReply> {
    const type = String(req.headers['content-type'] ?? '');
    if (!type.startsWith('multipart/form-data')) return this.s3Error(412, 'PreconditionFailed', 'Bucket POST must be of the enclosure-type multipart/form-data');
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(req.rawBytes), { headers: { 'content-type': type } }).formData();
    } catch {
      return this.s3Error(400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
    }
    const names: string[] = [];
    form.forEach((_v, k) => names.push(k));
    if (names.at(-1) !== 'file') return this.s3Error(400, 'InvalidArgument', 'Bucket POST must contain a field named file, and it must be the last field.');
    const upload = [...this.initImages.values()].find((u) => u.key === form.get('key'));
    if (!upload) return this.s3Error(403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["eq", "$key"]');
    for (const [k, v] of Object.entries(upload.fields)) {
      if (form.get(k) !== v) return this.s3Error(403, 'AccessDenied', `Invalid according to Policy: Policy Condition failed on ${k}`);
    }
    if (Date.now() > upload.expires) return this.s3Error(403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
    const file = form.get('file');
    if (!(file instanceof Blob)) return this.s3Error(400, 'InvalidArgument', 'file must be a file part');
    if (file.size < 1 || file.size > UPLOAD_MAX_BYTES) return this.s3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
    const bytes = Buffer.from(await file.arrayBuffer());
    // S3 stores any bytes; Leonardo reads the picture when it is used, so an unreadable one shows up then.
    const meta = await sharp(bytes).metadata().catch(() => ({ width: 0, height: 0 }));
    upload.uploaded = { bytes, type: upload.fields['Content-Type']!, width: meta.width ?? 0, height: meta.height ?? 0 };
    return { status: 204 };
  }
}
