import sharp from 'sharp';
import { makePng } from './images.ts';
import { FakeServer, isInvalidJson, type FakeReply, type SeenRequest } from './fake-server.ts';

/**
 * A loopback AUTOMATIC1111 / Forge webui API. Rules derived (not copied: the webui is AGPL-3.0) from
 * AUTOMATIC1111/stable-diffusion-webui, with SD.Next (vladmandic/automatic) and Forge as second witnesses
 * where they share the code:
 * - `modules/api/models.py`: the txt2img/img2img request models are generated from the processing classes with
 *   every field Optional and typed (prompt str, seed/steps/width/height/batch_size/n_iter int, cfg_scale float,
 *   override_settings dict, …); unknown keys are ignored, a wrong type is FastAPI's 422 `{ detail: [{ loc, msg,
 *   type }] }`. Responses: TextToImageResponse `{ images: [base64], parameters, info: "<json>" }`;
 *   ProgressResponse `{ progress 0–1, eta_relative, state, current_image, textinfo }`; SDModelItem, SamplerItem.
 * - `modules/api/api.py`: `validate_sampler_name` → HTTPException "Sampler not found" (404 in A1111 1.x; SD.Next
 *   and later forks use 400 — either is a refusal); img2img without `init_images` → 404 "Init image not found";
 *   `--api-auth` is HTTP Basic, refused with 401 `{ detail: "Incorrect username or password" }`; a request runs
 *   under the one `queue_lock`; `force_task_id` names the task; POST /sdapi/v1/interrupt stops the running task,
 *   which still answers with the images it has.
 * - `modules/progress.py`: POST /internal/progress `{ id_task }` → `{ active, queued, completed, … }` (same in
 *   SD.Next's copy).
 * - `modules/processing.py` (and SD.Next's): an `override_settings.sd_model_checkpoint` that matches no checkpoint
 *   alias is dropped silently and the loaded model renders — accepted, not refused, as the real server does.
 *
 * Pictures (issue 12), each rule from the webui source and a second witness, the `webuiapi` client
 * (mix1009/sdwebuiapi `webuiapi/webuiapi.py`: its img2img / extra_single_image payloads):
 * - img2img fields (`processing.py` StableDiffusionProcessingImg2Img, typed by the generated request model):
 *   `init_images` a list (pydantic `list | None`: anything else is a 422), `mask` a string, `resize_mode`,
 *   `mask_blur`, `inpainting_fill`, `inpaint_full_res_padding`, `inpainting_mask_invert` ints, `inpaint_full_res` a
 *   bool, `denoising_strength` a float. webuiapi sends the same names and types.
 * - `api.py` decode_base64_to_image: each init image and the mask are base64 (a `data:image/...;base64,` prefix is
 *   cut off); one that does not decode is HTTPException 500 "Invalid encoded image", which the api middleware
 *   answers as `{ error, detail, body, errors }`. webuiapi sends `data:` URLs, Atelier plain base64: both decode.
 * - `processing.py` init: one init image is repeated over the batch; more init images than `batch_size` raise
 *   RuntimeError "bad number of images passed" (500 through the middleware).
 * - `models.py` ExtrasSingleImageRequest: `resize_mode` 0|1 (422 otherwise), `upscaling_resize` > 0, `upscaler_1` /
 *   `upscaler_2` strings defaulting to "None", `image` base64 → ExtrasSingleImageResponse `{ html_info, image }`.
 *   `scripts/postprocessing_upscale.py`: an upscaler name the webui does not list fails its assert "could not find
 *   upscaler named …" (500 AssertionError); "None" leaves the picture as it was. webuiapi's extra_single_image sends
 *   the same fields with upscaler_1 "None" by default. GET /sdapi/v1/upscalers lists `{ name, model_name,
 *   model_path, model_url, scale }` (`api.py` get_upscalers); None, Lanczos and Nearest are always there.
 */
export const MODELS = [
  { title: 'sd_xl_base_1.0.safetensors [31e35c80fc]', model_name: 'sd_xl_base_1.0', hash: '31e35c80fc', sha256: null, filename: '/models/Stable-diffusion/sd_xl_base_1.0.safetensors', config: null },
  { title: 'dreamshaper_8.safetensors [879db523c3]', model_name: 'dreamshaper_8', hash: '879db523c3', sha256: null, filename: '/models/Stable-diffusion/dreamshaper_8.safetensors', config: null },
];
const SAMPLERS = [
  { name: 'DPM++ 2M', aliases: ['k_dpmpp_2m'], options: {} },
  { name: 'Euler a', aliases: ['k_euler_a', 'k_euler_ancestral'], options: {} },
  { name: 'Euler', aliases: ['k_euler'], options: { scheduler: 'default' } },
];
const INT_FIELDS = ['seed', 'steps', 'width', 'height', 'batch_size', 'n_iter', 'subseed', 'clip_skip', 'resize_mode', 'mask_blur', 'mask_blur_x', 'mask_blur_y', 'inpainting_fill', 'inpaint_full_res_padding', 'inpainting_mask_invert'];
const FLOAT_FIELDS = ['cfg_scale', 'denoising_strength', 'subseed_strength', 'image_cfg_scale', 'initial_noise_multiplier'];
const STR_FIELDS = ['prompt', 'negative_prompt', 'sampler_name', 'scheduler', 'force_task_id', 'sampler_index', 'mask'];
const BOOL_FIELDS = ['override_settings_restore_afterwards', 'send_images', 'save_images', 'inpaint_full_res', 'include_init_images'];
/** What GET /sdapi/v1/upscalers lists on a stock install with one model upscaler downloaded. */
export const UPSCALERS = [
  { name: 'None', model_name: null, model_path: null, model_url: null, scale: 4 },
  { name: 'Lanczos', model_name: null, model_path: null, model_url: null, scale: 4 },
  { name: 'Nearest', model_name: null, model_path: null, model_url: null, scale: 4 },
  { name: 'R-ESRGAN 4x+', model_name: 'RealESRGAN_x4plus', model_path: '/models/RealESRGAN/RealESRGAN_x4plus.pth', model_url: null, scale: 4 },
];
/** The api middleware's answer to an exception (`api.py` handle_exception). */
const raised = (status: number, error: string, detail: string, errors: string): FakeReply => ({ status, body: { error, detail, body: '', errors } });

/** `decode_base64_to_image`: the picture's size, or undefined when it is not a picture. */
async function decodePicture(text: unknown): Promise<{ width: number; height: number; bytes: Buffer } | undefined> {
  if (typeof text !== 'string') return undefined;
  const b64 = text.startsWith('data:image/') ? (text.split(';')[1]?.split(',')[1] ?? '') : text;
  const bytes = Buffer.from(b64, 'base64');
  try {
    const meta = await sharp(bytes).metadata();
    return meta.width && meta.height ? { width: meta.width, height: meta.height, bytes } : undefined;
  } catch {
    return undefined;
  }
}

interface Task {
  id: string;
  body: Record<string, any>;
  step: number;
  steps: number;
  interrupted: boolean;
  model: string;
  done: (reply: FakeReply) => void;
}

export class A1111Fake {
  readonly server: FakeServer;
  loaded = MODELS[0]!.title;
  /** auto: a running task advances on each progress read and on its own; hold: one step, then only `release()` finishes it. */
  mode: 'auto' | 'hold' = 'auto';
  readonly queue: Task[] = [];
  running: Task | undefined;
  readonly finished: string[] = [];
  /** Task ids of every render the server started, in order. */
  readonly started: string[] = [];
  /** Bodies of finished renders with the model that actually rendered. */
  readonly rendered: { id: string; model: string; interrupted: boolean }[] = [];
  /** Whether /internal/progress exists (older servers lack it). */
  internalProgress = true;
  /** The PNG every result image is (tests set a large one to exercise response sizes). */
  png: Uint8Array | undefined;
  /** What GET /sdapi/v1/upscalers answers (a test removes the model upscaler). */
  upscalers = UPSCALERS.map((u) => ({ ...u }));
  /** Every picture the server decoded for img2img and extras, by field, for assertions. */
  readonly decoded: { field: 'init_images' | 'mask' | 'image'; width: number; height: number; bytes: Buffer }[] = [];
  private timer: NodeJS.Timeout | undefined;

  /** How long one sampling step takes when nobody reads progress (the CLI test slows it to see previews). */
  stepMs = 60;

  constructor(readonly auth?: string) {
    this.server = new FakeServer((req) => this.route(req));
  }

  async start(): Promise<this> {
    this.png = await makePng(64, 64, [30, 140, 90]);
    await this.server.start();
    const tick = () => {
      if (this.mode === 'auto' && this.running) this.step();
      this.timer = setTimeout(tick, this.stepMs);
    };
    this.timer = setTimeout(tick, this.stepMs);
    return this;
  }

  get url(): string {
    return this.server.url;
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.server.close();
  }

  get renders(): number {
    return this.server.count('POST /sdapi/v1/txt2img') + this.server.count('POST /sdapi/v1/img2img');
  }

  release(): void {
    this.mode = 'auto';
    if (this.running) this.running.step = this.running.steps;
    this.step();
  }

  private async route(req: SeenRequest): Promise<FakeReply> {
    if (this.auth && req.headers.authorization !== `Basic ${Buffer.from(this.auth).toString('base64')}`) {
      return { status: 401, body: { detail: 'Incorrect username or password' }, headers: { 'www-authenticate': 'Basic' } };
    }
    const key = `${req.method} ${req.path}`;
    switch (key) {
      case 'GET /sdapi/v1/sd-models':
        return { status: 200, body: MODELS };
      case 'GET /sdapi/v1/samplers':
        return { status: 200, body: SAMPLERS };
      case 'GET /sdapi/v1/upscalers':
        return { status: 200, body: this.upscalers };
      case 'POST /sdapi/v1/extra-single-image':
        return this.extras(req.body);
      case 'GET /sdapi/v1/options':
        return { status: 200, body: { sd_model_checkpoint: this.loaded } };
      case 'GET /sdapi/v1/progress':
        return this.progress();
      case 'POST /internal/progress': {
        if (!this.internalProgress) return { status: 404, body: { detail: 'Not Found' } };
        const id = (req.body as { id_task?: string } | undefined)?.id_task;
        const active = this.running?.id === id;
        const queued = this.queue.some((t) => t.id === id);
        return { status: 200, body: { active, queued, completed: this.finished.includes(id ?? ''), progress: active ? this.running!.step / this.running!.steps : null, eta: null, live_preview: null, id_live_preview: -1, textinfo: queued ? 'In queue...' : active ? null : 'Waiting...' } };
      }
      case 'POST /sdapi/v1/interrupt':
        if (this.running) {
          this.running.interrupted = true;
          this.step();
        }
        return { status: 200, body: {} };
      case 'POST /sdapi/v1/txt2img':
      case 'POST /sdapi/v1/img2img':
        return this.render(req, key.endsWith('img2img'));
    }
    return { status: 404, body: { detail: 'Not Found' } };
  }

  /** Pydantic's checks on the generated request model, then the api.py checks. */
  validate(body: unknown, img2img: boolean): FakeReply | undefined {
    if (!body || typeof body !== 'object' || Array.isArray(body) || isInvalidJson(body)) {
      return { status: 422, body: { detail: [{ type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from' }] } };
    }
    const b = body as Record<string, unknown>;
    const detail: { type: string; loc: string[]; msg: string; input: unknown }[] = [];
    for (const [k, v] of Object.entries(b)) {
      if (v === null || v === undefined) continue;
      if (INT_FIELDS.includes(k) && !(typeof v === 'number' && Number.isInteger(v)) && !(typeof v === 'string' && /^-?\d+$/.test(v))) {
        detail.push({ type: typeof v === 'number' ? 'int_from_float' : 'int_parsing', loc: ['body', k], msg: typeof v === 'number' ? 'Input should be a valid integer, got a number with a fractional part' : 'Input should be a valid integer, unable to parse string as an integer', input: v });
      }
      if (FLOAT_FIELDS.includes(k) && typeof v !== 'number' && !(typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)))) {
        detail.push({ type: 'float_parsing', loc: ['body', k], msg: 'Input should be a valid number', input: v });
      }
      if (STR_FIELDS.includes(k) && typeof v !== 'string') detail.push({ type: 'string_type', loc: ['body', k], msg: 'Input should be a valid string', input: v });
      if (BOOL_FIELDS.includes(k) && typeof v !== 'boolean') detail.push({ type: 'bool_parsing', loc: ['body', k], msg: 'Input should be a valid boolean', input: v });
      if (k === 'override_settings' && (typeof v !== 'object' || Array.isArray(v))) detail.push({ type: 'dict_type', loc: ['body', k], msg: 'Input should be a valid dictionary', input: v });
      if (k === 'init_images' && !Array.isArray(v)) detail.push({ type: 'list_type', loc: ['body', k], msg: 'Input should be a valid list', input: v });
    }
    if (detail.length) return { status: 422, body: { detail } };
    const sampler = (b.sampler_name ?? b.sampler_index) as string | undefined;
    if (sampler !== undefined && !SAMPLERS.some((s) => s.name === sampler || s.aliases.includes(sampler))) return { status: 404, body: { detail: 'Sampler not found' } };
    if (img2img && (!Array.isArray(b.init_images) || b.init_images.length === 0)) return { status: 404, body: { detail: 'Init image not found' } };
    return undefined;
  }

  /** img2img's pictures, as `api.py` and `processing.py` read them before sampling. */
  private async readPictures(body: Record<string, any>): Promise<FakeReply | undefined> {
    const seen: ReturnType<A1111Fake['decoded']['slice']> = [];
    for (const init of body.init_images as unknown[]) {
      const p = await decodePicture(init);
      if (!p) return raised(500, 'HTTPException', 'Invalid encoded image', '500: Invalid encoded image');
      seen.push({ field: 'init_images', ...p });
    }
    if (body.mask) {
      const m = await decodePicture(body.mask);
      if (!m) return raised(500, 'HTTPException', 'Invalid encoded image', '500: Invalid encoded image');
      seen.push({ field: 'mask', ...m });
    }
    const batch = Number(body.batch_size ?? 1);
    if (body.init_images.length > 1 && body.init_images.length > batch) {
      return raised(500, 'RuntimeError', '', `bad number of images passed: ${body.init_images.length}; expecting ${batch} or less`);
    }
    this.decoded.push(...seen);
    return undefined;
  }

  /** POST /sdapi/v1/extra-single-image, as derived in the header. */
  private async extras(body: unknown): Promise<FakeReply> {
    if (!body || typeof body !== 'object' || Array.isArray(body) || isInvalidJson(body)) {
      return { status: 422, body: { detail: [{ type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from' }] } };
    }
    const b = body as Record<string, unknown>;
    const detail: { type: string; loc: string[]; msg: string; input: unknown }[] = [];
    if (b.resize_mode !== undefined && b.resize_mode !== 0 && b.resize_mode !== 1) detail.push({ type: 'literal_error', loc: ['body', 'resize_mode'], msg: 'Input should be 0 or 1', input: b.resize_mode });
    if (b.upscaling_resize !== undefined && !(typeof b.upscaling_resize === 'number' && b.upscaling_resize > 0)) detail.push({ type: 'greater_than', loc: ['body', 'upscaling_resize'], msg: 'Input should be greater than 0', input: b.upscaling_resize });
    for (const k of ['upscaler_1', 'upscaler_2', 'image']) if (b[k] !== undefined && typeof b[k] !== 'string') detail.push({ type: 'string_type', loc: ['body', k], msg: 'Input should be a valid string', input: b[k] });
    if (detail.length) return { status: 422, body: { detail } };
    const picture = await decodePicture(b.image ?? '');
    if (!picture) return raised(500, 'HTTPException', 'Invalid encoded image', '500: Invalid encoded image');
    this.decoded.push({ field: 'image', ...picture });
    const upscaler = String(b.upscaler_1 ?? 'None');
    if (upscaler !== 'None' && !this.upscalers.some((u) => u.name === upscaler)) return raised(500, 'AssertionError', '', `could not find upscaler named ${upscaler}`);
    const factor = upscaler === 'None' ? 1 : b.resize_mode === 1 ? Math.max(Number(b.upscaling_resize_w ?? 512) / picture.width, Number(b.upscaling_resize_h ?? 512) / picture.height) : Number(b.upscaling_resize ?? 2);
    const out = await sharp(picture.bytes).resize(Math.round(picture.width * factor), Math.round(picture.height * factor), { fit: 'fill' }).png().toBuffer();
    return { status: 200, body: { html_info: '<p></p>', image: out.toString('base64') } };
  }

  private async render(req: SeenRequest, img2img: boolean): Promise<FakeReply> {
    const refused = this.validate(req.body, img2img);
    if (refused) return refused;
    const body = req.body as Record<string, any>;
    if (img2img) {
      const bad = await this.readPictures(body);
      if (bad) return bad;
    }
    const wanted = body.override_settings?.sd_model_checkpoint as string | undefined;
    const match = MODELS.find((m) => wanted !== undefined && [m.title, m.model_name, m.filename, m.hash].includes(wanted));
    return new Promise<FakeReply>((done) => {
      const task: Task = { id: body.force_task_id ?? `task(${Date.now()})`, body, step: 0, steps: Math.min(4, Number(body.steps ?? 20)), interrupted: false, model: match?.title ?? this.loaded, done };
      this.queue.push(task);
      if (!this.running) this.next();
    });
  }

  private next(): void {
    this.running = this.queue.shift();
    if (this.running) this.started.push(this.running.id);
  }

  /** One sampling step of the running task; the last one answers its request. */
  private step(): void {
    const t = this.running;
    if (!t) return;
    // Held: one step shows progress and a preview, then it waits for release().
    if (!t.interrupted && t.step < t.steps && !(this.mode === 'hold' && t.step >= 1)) t.step++;
    if (!t.interrupted && (t.step < t.steps || this.mode === 'hold')) return;
    this.running = undefined;
    this.finished.push(t.id);
    this.rendered.push({ id: t.id, model: t.model, interrupted: t.interrupted });
    const n = Number(t.body.batch_size ?? 1) * Number(t.body.n_iter ?? 1);
    const seed = Number(t.body.seed ?? -1) >= 0 ? Number(t.body.seed) : 1234567;
    const info = { prompt: t.body.prompt, seed, all_seeds: Array.from({ length: n }, (_, i) => seed + i), sd_model_name: t.model.split(' ')[0]!.replace(/\.safetensors$/, ''), job_timestamp: '20260101000000' };
    t.done({ status: 200, body: { images: Array.from({ length: n }, () => Buffer.from(this.png!).toString('base64')), parameters: t.body, info: JSON.stringify(info) } });
    this.next();
  }

  private progress(): FakeReply {
    // A read moves sampling on by a step but never finishes the task: finishing is the webui's own pace (the timer).
    const r = this.running;
    if (r && !r.interrupted && r.step < r.steps - 1 && !(this.mode === 'hold' && r.step >= 1)) r.step++;
    const state = { skipped: false, interrupted: r?.interrupted ?? false, job: r ? `task(${r.id})` : '', job_count: r ? 1 : 0, job_timestamp: '20260101000000', job_no: 0, sampling_step: r?.step ?? 0, sampling_steps: r?.steps ?? 0 };
    return {
      status: 200,
      body: {
        progress: r ? r.step / r.steps : 0,
        eta_relative: r ? (r.steps - r.step) * 0.5 : 0,
        state,
        current_image: r && r.step > 0 ? Buffer.from(this.png!).toString('base64') : null,
        textinfo: null,
      },
    };
  }
}
