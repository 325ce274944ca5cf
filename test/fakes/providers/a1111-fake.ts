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
const INT_FIELDS = ['seed', 'steps', 'width', 'height', 'batch_size', 'n_iter', 'subseed', 'clip_skip'];
const FLOAT_FIELDS = ['cfg_scale', 'denoising_strength', 'subseed_strength'];
const STR_FIELDS = ['prompt', 'negative_prompt', 'sampler_name', 'scheduler', 'force_task_id', 'sampler_index'];
const BOOL_FIELDS = ['override_settings_restore_afterwards', 'send_images', 'save_images'];

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
    }
    if (detail.length) return { status: 422, body: { detail } };
    const sampler = (b.sampler_name ?? b.sampler_index) as string | undefined;
    if (sampler !== undefined && !SAMPLERS.some((s) => s.name === sampler || s.aliases.includes(sampler))) return { status: 404, body: { detail: 'Sampler not found' } };
    if (img2img && (!Array.isArray(b.init_images) || b.init_images.length === 0)) return { status: 404, body: { detail: 'Init image not found' } };
    return undefined;
  }

  private render(req: SeenRequest, img2img: boolean): Promise<FakeReply> | FakeReply {
    const refused = this.validate(req.body, img2img);
    if (refused) return refused;
    const body = req.body as Record<string, any>;
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
