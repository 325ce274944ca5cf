import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import sharp from 'sharp';
import { close } from '../discord/openapi.ts';
import { FakeServer, isInvalidJson, type FakeReply, type SeenRequest } from './fake-server.ts';

/**
 * A loopback OpenAI Images API. Each rule names its source:
 * - [spec] OpenAI's OpenAPI document (test/fixtures/openai/openapi.json, MIT, licence beside it):
 *   `CreateImageRequest`, `CreateImageEditRequest`, `ImagesResponse`, `ImageGenStreamEvent`,
 *   `ImageEditStreamEvent`, `Error`, and the operations' descriptions. Every object that lists its
 *   properties is closed here: the API answers an unknown parameter with 400 "Unknown parameter".
 * - [sdk] the official `openai` package (v6.49, `resources/images.d.ts`, `ImageGenerateParamsBase`,
 *   `ImageEditParamsBase`; v7.5 for the edit rules), a second reading of the same API. Both are generated from
 *   one document, so for edits a third witness reads the wire: the Vercel AI SDK (`@ai-sdk/openai`,
 *   `openai-image-model.ts` + `convertToFormData`, Apache-2.0) and the openai package's own multipart encoder
 *   (`internal/uploads.ts`): one picture as `image`, several as repeated `image[]`, the mask as `mask`.
 * Where they disagree the fake follows the spec, and test/providers/openai.test.ts names it:
 * transparent backgrounds on gpt-image-2 ([spec] "in preview"; [sdk] "will return an error"). One exception,
 * named in test/providers/openai-pictures.test.ts: `input_fidelity` on gpt-image-2 ([spec][sdk] "gpt-image-1.5 and
 * later"; the live API's refusals reported by its users), where the fake follows the reports.
 */
const SPEC = JSON.parse(readFileSync(fileURLToPath(new URL('../../fixtures/openai/openapi.json', import.meta.url)), 'utf8')) as {
  components: { schemas: Record<string, unknown> };
};

const GPT = ['gpt-image-1', 'gpt-image-1-mini', 'gpt-image-1.5', 'gpt-image-2', 'gpt-image-2-2026-04-21', 'chatgpt-image-latest'];
const isGpt = (m: string) => GPT.includes(m);
const GPT_ONLY = ['stream', 'partial_images', 'output_format', 'output_compression', 'background', 'moderation'];

let ajv: Ajv2020 | undefined;
const validators = new Map<string, ValidateFunction>();

/** Validates `value` against a schema of the spec's components, with every listed object closed. */
export function checkSchema(name: string, value: unknown): string[] {
  if (!ajv) {
    ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
    ajv.addSchema({ $id: 'openai', components: nullable(close(structuredClone(SPEC.components))) });
  }
  let v = validators.get(name);
  if (!v) {
    v = ajv.compile({ $ref: `openai#/components/schemas/${name}` });
    validators.set(name, v);
  }
  return v(value) ? [] : (v.errors ?? []).slice(0, 6).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

/** The document mixes OpenAPI 3.0's `nullable` into 3.1 schemas: read it as "null is allowed too". */
function nullable<T>(node: T): T {
  if (Array.isArray(node)) {
    node.forEach(nullable);
    return node;
  }
  if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.nullable === true) {
      if (typeof o.type === 'string') o.type = [o.type, 'null'];
      else if (Array.isArray(o.anyOf)) o.anyOf.push({ type: 'null' });
    }
    delete o.nullable;
    for (const v of Object.values(o)) nullable(v);
  }
  return node;
}

/** The `Error` schema [spec]. */
const error = (status: number, message: string, code: string | null, param: string | null = null, type = 'invalid_request_error'): FakeReply => ({
  status,
  body: { error: { message, type, param, code } },
});

/** One picture of an accepted edit, as the fake decoded it. */
export interface SeenPicture {
  /** The form field it came in: `image`, `image[]` or `mask`. */
  key: string;
  bytes: number;
  format: string | undefined;
  width: number | undefined;
  height: number | undefined;
  hasAlpha: boolean;
  data: Buffer;
}

/** An accepted `POST /images/edits`. */
export interface SeenEdit {
  fields: Record<string, string>;
  images: SeenPicture[];
  mask?: SeenPicture;
}

export interface OpenAIFakeOptions {
  apiKey?: string;
  /** A word in a prompt that the fake refuses as OpenAI's moderation would (`moderation_blocked`). */
  blockedWord?: string;
  /** Cut the event stream after this many events, as a dropped connection would. */
  cutAfterEvents?: number;
  /** Answer with an `error` event in the stream instead of the final image. */
  streamError?: { code: string; message: string };
}

export class OpenAIFake {
  readonly server: FakeServer;
  readonly rejected: string[] = [];
  /** Accepted edits, decoded. */
  readonly edits: SeenEdit[] = [];
  /** Billable calls that were accepted (each would be charged). */
  creates = 0;
  private pngCache = new Map<string, Buffer>();

  constructor(readonly opts: OpenAIFakeOptions = {}) {
    this.server = new FakeServer((r) => this.handle(r));
  }

  get url(): string {
    return this.server.url;
  }

  async start(): Promise<this> {
    await this.server.start();
    return this;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private refuse(reply: FakeReply): FakeReply {
    this.rejected.push(String((reply.body as { error: { message: string } }).error.message));
    return reply;
  }

  private async handle(r: SeenRequest): Promise<FakeReply> {
    if (r.headers.authorization !== `Bearer ${this.opts.apiKey ?? 'sk-test'}`) {
      return this.refuse(error(401, 'Incorrect API key provided.', 'invalid_api_key'));
    }
    if (r.method === 'GET' && r.path.startsWith('/models/')) {
      const id = decodeURIComponent(r.path.slice('/models/'.length));
      if (!GPT.includes(id) && !['dall-e-2', 'dall-e-3'].includes(id)) return this.refuse(error(404, `The model '${id}' does not exist`, 'model_not_found', 'model'));
      return { status: 200, body: { id, object: 'model', created: 1_700_000_000, owned_by: 'system' } };
    }
    if (r.method === 'POST' && r.path === '/images/generations') {
      if (isInvalidJson(r.body) || typeof r.body !== 'object' || !r.body) return this.refuse(error(400, 'We could not parse the JSON body of your request.', null));
      const problem = this.generationRule(r.body as Record<string, unknown>);
      if (problem) return this.refuse(problem);
      return this.answer(r.body as Record<string, unknown>, 'image_generation');
    }
    if (r.method === 'POST' && r.path === '/images/edits') {
      // A real multipart parser (undici's, behind the global Request), not a reading of our own encoder.
      const form = await new Request('http://fake/', { method: 'POST', headers: { 'content-type': String(r.headers['content-type'] ?? '') }, body: new Uint8Array(r.rawBytes) }).formData().catch(() => undefined);
      if (!form) return this.refuse(error(400, 'Expected a multipart/form-data body.', null));
      const fields: Record<string, unknown> = {};
      const images: { key: string; file: File }[] = [];
      let mask: File | undefined;
      for (const [k, v] of form as unknown as Iterable<[string, FormDataEntryValue]>) {
        if (k === 'image' || k === 'image[]') {
          if (typeof v === 'string') return this.refuse(error(400, `'${k}' must be a file.`, 'invalid_type', 'image'));
          images.push({ key: k, file: v });
        } else if (k === 'mask') {
          if (typeof v === 'string') return this.refuse(error(400, "'mask' must be a file.", 'invalid_type', 'mask'));
          mask = v;
        } else fields[k] = v;
      }
      const seen = await this.describeEdit(fields, images, mask);
      const problem = await this.editRule(fields, seen);
      if (problem) return this.refuse(problem);
      this.edits.push(seen);
      const body = { ...fields, n: Number(fields.n ?? 1), stream: fields.stream === 'true', partial_images: fields.partial_images === undefined ? undefined : Number(fields.partial_images) };
      return this.answer(body, 'image_edit');
    }
    return error(404, `Unknown request URL: ${r.method} ${r.path}.`, 'unknown_url');
  }

  /** The documented rules of `POST /images/generations`, before anything is billed. */
  private generationRule(b: Record<string, unknown>): FakeReply | undefined {
    const unknown = Object.keys(b).find((k) => !(k in ((SPEC.components.schemas['CreateImageRequest'] as { properties: object }).properties)));
    if (unknown) return error(400, `Unknown parameter: '${unknown}'.`, 'unknown_parameter', unknown); // [spec] closed set of properties; [sdk] the same set
    const schema = checkSchema('CreateImageRequest', b);
    if (schema.length) return error(400, `Invalid request: ${schema.join('; ')}`, 'invalid_value'); // [spec] types, enums, bounds (n 1–10, partial_images 0–3)
    return this.commonRules(b);
  }

  private commonRules(b: Record<string, unknown>): FakeReply | undefined {
    const model = String(b.model ?? 'dall-e-2'); // [spec] model default dall-e-2 for generations
    if (typeof b.prompt !== 'string' || !b.prompt) return error(400, "Missing required parameter: 'prompt'.", 'missing_required_parameter', 'prompt'); // [spec] required
    if (isGpt(model) && b.prompt.length > 32_000) return error(400, 'The prompt is longer than 32000 characters.', 'string_above_max_length', 'prompt'); // [spec][sdk] 32000 for GPT image models
    if (!isGpt(model)) {
      const gptOnly = GPT_ONLY.find((k) => b[k] !== undefined && b[k] !== false);
      if (gptOnly) return error(400, `'${gptOnly}' is only supported for the GPT image models.`, 'unsupported_parameter', gptOnly); // [spec][sdk] "only supported for the GPT image models"
    } else if (b.response_format !== undefined) {
      return error(400, "'response_format' is not supported for the GPT image models, which always return base64.", 'unsupported_parameter', 'response_format'); // [spec][sdk]
    }
    if (model === 'dall-e-3' && Number(b.n ?? 1) !== 1) return error(400, 'dall-e-3 supports only n=1.', 'invalid_value', 'n'); // [spec][sdk]
    const size = b.size === undefined ? undefined : String(b.size);
    if (size && isGpt(model)) {
      if (model.startsWith('gpt-image-2')) {
        // [sdk] (size) any WIDTHxHEIGHT, both divisible by 16, ratio 1:3 to 3:1, at most 3840x2160
        const m = /^(\d+)x(\d+)$/.exec(size);
        if (size !== 'auto' && !m) return error(400, `Invalid size '${size}'.`, 'invalid_value', 'size');
        if (m) {
          const [w, h] = [Number(m[1]), Number(m[2])];
          if (w % 16 || h % 16 || w / h > 3 || h / w > 3 || Math.max(w, h) > 3840 || Math.min(w, h) > 2160) return error(400, `Invalid size '${size}'.`, 'invalid_value', 'size');
        }
      } else if (!['1024x1024', '1536x1024', '1024x1536', 'auto'].includes(size)) {
        return error(400, `Invalid size '${size}'. Supported sizes are 1024x1024, 1024x1536, 1536x1024, and auto.`, 'invalid_value', 'size'); // [spec][sdk]
      }
    }
    const format = String(b.output_format ?? 'png');
    if (b.output_compression !== undefined && format === 'png') return error(400, "'output_compression' applies only to jpeg and webp output.", 'invalid_value', 'output_compression'); // [spec][sdk]
    if (b.background === 'transparent' && format === 'jpeg') return error(400, 'Transparent backgrounds need png or webp output.', 'invalid_value', 'background'); // [spec][sdk]
    if (b.partial_images !== undefined && b.stream !== true) return error(400, "'partial_images' is used only with stream=true.", 'invalid_value', 'partial_images'); // [sdk] "used for streaming responses"
    if (this.opts.blockedWord && b.prompt.toLowerCase().includes(this.opts.blockedWord)) {
      return error(400, 'Your request was rejected by the safety system.', 'moderation_blocked', null, 'image_generation_user_error'); // the image guide: moderation_blocked
    }
    return undefined;
  }

  /** What one edit carried, decoded: kept for the tests to read (pictures by size and format, never compared byte for byte). */
  private async describeEdit(fields: Record<string, unknown>, images: { key: string; file: File }[], mask: File | undefined): Promise<SeenEdit> {
    const picture = async (file: File, key: string): Promise<SeenPicture> => {
      const bytes = Buffer.from(await file.arrayBuffer());
      const meta = await sharp(bytes).metadata().catch(() => undefined);
      return { key, bytes: bytes.length, format: meta?.format, width: meta?.width, height: meta?.height, hasAlpha: meta?.hasAlpha ?? false, data: bytes };
    };
    return {
      fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)])),
      images: await Promise.all(images.map((i) => picture(i.file, i.key))),
      ...(mask ? { mask: await picture(mask, 'mask') } : {}),
    };
  }

  /** `POST /images/edits` [spec] `CreateImageEditRequest`: multipart, `image` (1–16) and `prompt` required. */
  private async editRule(fields: Record<string, unknown>, seen: SeenEdit): Promise<FakeReply | undefined> {
    const known = Object.keys((SPEC.components.schemas['CreateImageEditRequest'] as { properties: object }).properties);
    const unknown = Object.keys(fields).find((k) => !known.includes(k));
    if (unknown) return error(400, `Unknown parameter: '${unknown}'.`, 'unknown_parameter', unknown); // [spec] closed set; [sdk] ImageEditParamsBase has the same set
    const model = String(fields.model ?? 'gpt-image-1.5'); // [spec][sdk] edits default to gpt-image-1.5
    const images = seen.images;
    if (images.length === 0) return error(400, "Missing required parameter: 'image'.", 'missing_required_parameter', 'image'); // [spec] required; [sdk] `image` not optional
    if (typeof fields.prompt !== 'string' || !fields.prompt) return error(400, "Missing required parameter: 'prompt'.", 'missing_required_parameter', 'prompt'); // [spec] required; [sdk] `prompt` not optional
    if (isGpt(model)) {
      if (images.length > 16) return error(400, `Too many images: ${images.length}. You can provide up to 16 images.`, 'invalid_value', 'image'); // [spec] maxItems 16, "up to 16 images"; [sdk] the same sentence
      for (const img of images) {
        // [spec][sdk] "each image should be a png, webp, or jpg file less than 50MB"
        if (!['png', 'webp', 'jpeg'].includes(img.format ?? '') || img.bytes >= 50 * 1024 * 1024) return error(400, `Invalid image file or mode for image ${images.indexOf(img) + 1}, please check your image file.`, 'invalid_image_file', 'image');
      }
    } else if (model === 'dall-e-2') {
      // [spec][sdk] "For dall-e-2, you can only provide one image, and it should be a square png file less than 4MB."
      const [img] = images;
      if (images.length > 1 || img!.format !== 'png' || img!.width !== img!.height || img!.bytes >= 4 * 1024 * 1024) return error(400, 'dall-e-2 edits take one square PNG under 4MB.', 'invalid_image_file', 'image');
    } else {
      return error(400, `Invalid model '${model}': edits take dall-e-2 or a GPT image model.`, 'invalid_value', 'model'); // [spec][sdk] "One of dall-e-2 or a GPT image model"
    }
    if (seen.mask) {
      const m = seen.mask;
      const first = images[0]!;
      // [spec][sdk] "Must be a valid PNG file, less than 4MB, and have the same dimensions as `image`"; "if there are
      // multiple images provided, the mask will be applied on the first image".
      if (m.format !== 'png' || m.bytes >= 4 * 1024 * 1024) return error(400, 'Invalid mask: it must be a PNG file under 4MB.', 'invalid_image_file', 'mask');
      if (m.width !== first.width || m.height !== first.height) return error(400, `Invalid mask: its size (${m.width}x${m.height}) must match the image's (${first.width}x${first.height}).`, 'invalid_mask_image_size', 'mask');
      // OpenAI's image-generation guide ("the mask image must also contain an alpha channel"), and a second reader of
      // it (docs.apiyi.com's gpt-image-2 mask guide: a mask without alpha "will fail with invalid_image_file").
      if (!m.hasAlpha) return error(400, 'Invalid mask: it must have an alpha channel (transparent where to edit).', 'invalid_image_file', 'mask');
    }
    if (fields.input_fidelity !== undefined) {
      // [spec][sdk] "only supported for gpt-image-1 and gpt-image-1.5 and later models, unsupported for gpt-image-1-mini".
      // Users report gpt-image-2 refusing it (`invalid_input_fidelity_model`, vulca-org/vulca-visual-control-sdk#12):
      // the sources disagree on gpt-image-2, and the fake follows the reports of the live API.
      if (!['gpt-image-1', 'gpt-image-1.5'].includes(model)) return error(400, `The model '${model}' does not support the 'input_fidelity' parameter.`, 'invalid_input_fidelity_model', 'input_fidelity', 'image_generation_user_error');
    }
    const typed: Record<string, unknown> = { ...fields };
    for (const k of ['n', 'output_compression', 'partial_images']) if (typed[k] !== undefined) typed[k] = Number(typed[k]);
    if (typed.stream !== undefined) typed.stream = typed.stream === 'true';
    const schema = checkSchema('CreateImageEditRequest', { ...typed, image: 'binary', ...(seen.mask ? { mask: 'binary' } : {}) });
    if (schema.length) return error(400, `Invalid request: ${schema.join('; ')}`, 'invalid_value');
    return this.commonRules({ model: 'gpt-image-1.5', ...typed });
  }

  private async png(color: string, size: string): Promise<Buffer> {
    const key = `${color}${size}`;
    let png = this.pngCache.get(key);
    if (!png) {
      const [w, h] = size === 'auto' ? [64, 64] : size.split('x').map((n) => Math.max(8, Math.round(Number(n) / 16)));
      png = await sharp({ create: { width: w!, height: h!, channels: 4, background: color } }).png().toBuffer();
      this.pngCache.set(key, png);
    }
    return png;
  }

  /** The answer: a `text/event-stream` of partial and completed events, or an `ImagesResponse`. */
  private async answer(b: Record<string, unknown>, kind: 'image_generation' | 'image_edit'): Promise<FakeReply> {
    this.creates++;
    const n = Number(b.n ?? 1);
    const size = String(b.size ?? 'auto');
    const format = (b.output_format as string | undefined) ?? 'png';
    const common = { created_at: 1_700_000_000, size: ['1024x1024', '1024x1536', '1536x1024'].includes(size) ? size : 'auto', quality: (b.quality as string | undefined) ?? 'auto', background: (b.background as string | undefined) ?? 'auto', output_format: format };
    const usage = { total_tokens: 300, input_tokens: 40, output_tokens: 260, input_tokens_details: { text_tokens: 40, image_tokens: 0 } };
    const finals = await Promise.all(Array.from({ length: n }, (_, i) => this.png(`#${(0x305080 + i * 0x101010).toString(16)}`, size)));
    if (b.stream !== true) {
      return { status: 200, body: { created: 1_700_000_000, data: finals.map((f) => ({ b64_json: f.toString('base64') })), background: 'opaque', output_format: format, size: common.size === 'auto' ? '1024x1024' : common.size, quality: 'medium', usage } };
    }
    const partials = Number(b.partial_images ?? 0);
    const events: { event: string; data: object }[] = [];
    for (const f of finals) {
      const preview = await this.png('#808080', size);
      for (let p = 0; p < partials; p++) events.push({ event: `${kind}.partial_image`, data: { type: `${kind}.partial_image`, b64_json: preview.toString('base64'), ...common, partial_image_index: p } });
      events.push({ event: `${kind}.completed`, data: { type: `${kind}.completed`, b64_json: f.toString('base64'), ...common, usage } });
    }
    if (this.opts.streamError) events.splice(events.length - 1, 1, { event: 'error', data: { type: 'error', error: { ...this.opts.streamError, type: 'image_generation_user_error', param: null } } });
    const cut = this.opts.cutAfterEvents;
    return {
      status: 200,
      write: (res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
        events.forEach((e, i) => {
          if (cut !== undefined && i >= cut) return;
          res.write(`event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
        });
        // Let what was written reach the client, then drop the connection mid-stream.
        if (cut !== undefined) setTimeout(() => res.socket?.destroy(), 20);
        else res.end();
      },
    };
  }

  /** What the fake streamed, read back, for its own self-test against the spec. */
  static streamEventSchemas = { image_generation: 'ImageGenStreamEvent', image_edit: 'ImageEditStreamEvent' } as const;
}
