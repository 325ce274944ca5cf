import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import sharp from 'sharp';
import { WebSocketServer, type WebSocket } from 'ws';
import { makeJpeg, makePng } from './images.ts';
import { FakeServer, isInvalidJson, type FakeReply, type SeenRequest } from './fake-server.ts';

/**
 * A loopback ComfyUI server. Every rule is derived (not copied: ComfyUI is GPL-3.0) from its source,
 * comfyanonymous/ComfyUI, with a second witness in a public client, `@saintno/comfyui-sdk`
 * (tctien342/comfyui-sdk `src/client.ts`, `src/types/event.ts`):
 * - Routes (`server.py`): POST /prompt `{ prompt, client_id }` → `{ prompt_id, number, node_errors }`, or 400
 *   `{ error, node_errors }`; "no prompt" when the key is missing. GET /queue → `{ queue_running, queue_pending }`
 *   of `[number, prompt_id, prompt, extra_data, outputs]`; POST /queue `{ delete: [ids] }` removes pending items;
 *   POST /interrupt stops the running prompt; GET /history/{id} → `{ id: { prompt, outputs, status } }` or `{}`;
 *   GET /history?max_items=N; GET /view?filename&subfolder&type → the file (400 on `..` or a leading `/`, 404
 *   when absent); POST /upload/image (multipart `image`, `type`, `subfolder`, `overwrite`) → `{ name, subfolder,
 *   type }`, 400 without a file; GET /object_info[/{class}] → node definitions; GET /system_stats. SDK: same paths,
 *   `uploadImage` form fields, `getHistory` reads `history[promptId]`.
 * - Validation (`execution.py` validate_prompt / validate_inputs): an unknown class_type is refused
 *   (`invalid_prompt`), a prompt without an output node is `prompt_no_outputs`; per node reached from an output:
 *   `required_input_missing`, `bad_linked_input`, `return_type_mismatch`, `invalid_input_type` (INT/FLOAT
 *   conversion), `value_smaller_than_min`, `value_bigger_than_max`, `value_not_in_list`; all under
 *   `prompt_outputs_failed_validation` with `node_errors[id] = { errors, dependent_outputs, class_type }`.
 *   ComfyUI does not enforce `step`, so neither does the fake.
 * - Node definitions (`nodes.py`): CheckpointLoaderSimple, CLIPTextEncode, EmptyLatentImage, KSampler,
 *   VAEDecode, SaveImage (output node), PreviewImage, LoadImage; ranges as declared there.
 * - Websocket /ws?clientId= (`server.py` websocket_handler, `execution.py`, `main.py` hijack_progress): `status`
 *   on connect (`exec_info.queue_remaining`, `sid`); a reconnect with the same clientId replaces the old socket;
 *   messages for a prompt go to the socket of the client that queued it: `execution_start`, `execution_cached`,
 *   `executing { node, prompt_id }` (node null when done), `progress { value, max, prompt_id, node }`,
 *   `executed { node, output, prompt_id }`, `execution_success`, `execution_error`, `execution_interrupted`.
 *   Previews are binary: 4-byte big-endian event 1 (PREVIEW_IMAGE), 4-byte image type (1 JPEG, 2 PNG), then the
 *   image (`send_image`/`encode_bytes`). The SDK reads the event type the same way (it misreads the image type
 *   at offset 0, so the server source decides that detail).
 *
 * Pictures (issue 12), each node from Comfy-Org/ComfyUI `nodes.py` and `comfy_extras/nodes_upscale_model.py`, with
 * second witnesses: the SDK's example workflows (tctien342/comfyui-sdk `examples/example-img2img-workflow.json`:
 * LoadImage → VAEEncode `{ pixels, vae }` → KSampler `latent_image` with denoise < 1;
 * `examples/example-txt2img-upscaled-workflow.json`: UpscaleModelLoader `{ model_name }` → ImageUpscaleWithModel
 * `{ upscale_model, image }`) and nodetool-ai/nodetool-comfy `comfy_nodes_metadata.json` (a parse of the node
 * definitions by a third party: the same input names, types and ranges for every node below).
 * - LoadImage `{ image }` → IMAGE, MASK. Its `image` list is the input folder, but LoadImage has VALIDATE_INPUTS, so
 *   `execution.py` validate_inputs skips the list check and reports a file that is not there as
 *   `custom_validation_failed` "Custom validation failed for node", details "image - Invalid image file: <name>".
 *   (The older fake, and older servers' reading of combos, said `value_not_in_list`; the source decides.)
 * - ImageScale `{ image, upscale_method [nearest-exact, bilinear, area, bicubic, lanczos], width 0-MAX, height 0-MAX,
 *   crop [disabled, center] }`, ImageScaleBy `{ image, upscale_method, scale_by 0.01-8 }` → IMAGE.
 * - VAEEncode `{ pixels, vae }` → LATENT (crops to multiples of 8); SetLatentNoiseMask `{ samples, mask }` → LATENT;
 *   RepeatLatentBatch `{ samples, amount 1-64 }`; LatentBlend `{ samples1, samples2, blend_factor 0-1 }` (samples2 is
 *   resized to samples1); VAEEncodeForInpaint `{ pixels, vae, mask, grow_mask_by 0-64 }`.
 * - UpscaleModelLoader `{ model_name }` is a v3 node: its list comes as `["COMBO", { options }]` → UPSCALE_MODEL;
 *   ImageUpscaleWithModel → IMAGE at the model's scale (the fake's models are all 4x, as their names say).
 * - A link's type is checked against the input's (`validate_node_input`): a MASK into `pixels` is
 *   `return_type_mismatch`.
 */
const MAX_RESOLUTION = 16384;
const UPSCALE_METHODS = ['nearest-exact', 'bilinear', 'area', 'bicubic', 'lanczos'];
/** KSampler declares max 0xffffffffffffffff; as a JSON number that is 2^64. */
const U64 = 2 ** 64;
export const CHECKPOINTS = ['sd_xl_base_1.0.safetensors', 'juggernautXL_v9.safetensors'];
const SAMPLERS = ['euler', 'euler_ancestral', 'dpmpp_2m', 'dpmpp_2m_sde', 'ddim'];
const SCHEDULERS = ['normal', 'karras', 'exponential', 'simple'];

type Spec = [unknown, Record<string, unknown>?];
/** What each output node will save: how many images, at what size (worked out from the graph, as execution would). */
type Plan = Record<string, { count: number; width: number; height: number }>;
interface Shape {
  count: number;
  width: number;
  height: number;
}
interface Def {
  input: { required: Record<string, Spec>; optional?: Record<string, Spec> };
  output: string[];
  output_node: boolean;
}
const def = (required: Record<string, Spec>, output: string[], output_node = false): Def => ({ input: { required }, output, output_node });

export class ComfyFake {
  readonly server: FakeServer;
  readonly defs: Record<string, Def>;
  readonly history = new Map<string, { prompt: unknown[]; outputs: Record<string, { images: { filename: string; subfolder: string; type: string }[] }>; status: Record<string, unknown> }>();
  readonly pending: { number: number; id: string; prompt: Record<string, any>; clientId?: string; plan: Plan }[] = [];
  running: { number: number; id: string; prompt: Record<string, any>; clientId?: string; plan: Plan; step: number; steps: number; interrupted?: boolean } | undefined;
  readonly files = new Map<string, Uint8Array>();
  readonly uploads: { name: string; type: string; subfolder: string; bytes: number }[] = [];
  /** auto: runs and finishes on its own; hold: starts, reports one step and waits for `release()`; paused: nothing starts. */
  mode: 'auto' | 'hold' | 'paused' = 'auto';
  /** Makes the next run fail at KSampler with this exception message. */
  failWith: string | undefined;
  /** The files in `models/upscale_models` (UpscaleModelLoader's list); a test empties it. */
  upscaleModels = ['4x-UltraSharp.pth'];
  /** Refuse websocket upgrades (a proxy without websocket support). */
  refuseSockets = false;
  readonly sockets = new Map<string, WebSocket>();
  readonly connections: string[] = [];
  private readonly wss = new WebSocketServer({ noServer: true });
  private number = 0;
  private png: Uint8Array | undefined;
  private jpeg: Uint8Array | undefined;
  private ticking = false;

  constructor() {
    this.defs = {
      CheckpointLoaderSimple: def({ ckpt_name: [CHECKPOINTS] }, ['MODEL', 'CLIP', 'VAE']),
      CLIPTextEncode: def({ text: ['STRING', { multiline: true, dynamicPrompts: true }], clip: ['CLIP'] }, ['CONDITIONING']),
      EmptyLatentImage: def(
        {
          width: ['INT', { default: 512, min: 16, max: MAX_RESOLUTION, step: 8 }],
          height: ['INT', { default: 512, min: 16, max: MAX_RESOLUTION, step: 8 }],
          batch_size: ['INT', { default: 1, min: 1, max: 4096 }],
        },
        ['LATENT'],
      ),
      KSampler: def(
        {
          model: ['MODEL'],
          seed: ['INT', { default: 0, min: 0, max: U64 }],
          steps: ['INT', { default: 20, min: 1, max: 10000 }],
          cfg: ['FLOAT', { default: 8.0, min: 0.0, max: 100.0, step: 0.1, round: 0.01 }],
          sampler_name: [SAMPLERS],
          scheduler: [SCHEDULERS],
          positive: ['CONDITIONING'],
          negative: ['CONDITIONING'],
          latent_image: ['LATENT'],
          denoise: ['FLOAT', { default: 1.0, min: 0.0, max: 1.0, step: 0.01 }],
        },
        ['LATENT'],
      ),
      VAEDecode: def({ samples: ['LATENT'], vae: ['VAE'] }, ['IMAGE']),
      SaveImage: def({ images: ['IMAGE'], filename_prefix: ['STRING', { default: 'ComfyUI' }] }, [], true),
      PreviewImage: def({ images: ['IMAGE'] }, [], true),
      LoadImage: def({ image: [[] as string[], { image_upload: true }] }, ['IMAGE', 'MASK']),
      VAEEncode: def({ pixels: ['IMAGE'], vae: ['VAE'] }, ['LATENT']),
      VAEEncodeForInpaint: def({ pixels: ['IMAGE'], vae: ['VAE'], mask: ['MASK'], grow_mask_by: ['INT', { default: 6, min: 0, max: 64, step: 1 }] }, ['LATENT']),
      SetLatentNoiseMask: def({ samples: ['LATENT'], mask: ['MASK'] }, ['LATENT']),
      RepeatLatentBatch: def({ samples: ['LATENT'], amount: ['INT', { default: 1, min: 1, max: 64 }] }, ['LATENT']),
      LatentBlend: def({ samples1: ['LATENT'], samples2: ['LATENT'], blend_factor: ['FLOAT', { default: 0.5, min: 0, max: 1, step: 0.01 }] }, ['LATENT']),
      ImageScale: def(
        {
          image: ['IMAGE'],
          upscale_method: [UPSCALE_METHODS],
          width: ['INT', { default: 512, min: 0, max: MAX_RESOLUTION, step: 1 }],
          height: ['INT', { default: 512, min: 0, max: MAX_RESOLUTION, step: 1 }],
          crop: [['disabled', 'center']],
        },
        ['IMAGE'],
      ),
      ImageScaleBy: def({ image: ['IMAGE'], upscale_method: [UPSCALE_METHODS], scale_by: ['FLOAT', { default: 1.0, min: 0.01, max: 8.0, step: 0.01 }] }, ['IMAGE']),
      UpscaleModelLoader: def({ model_name: ['COMBO', { options: [] }] }, ['UPSCALE_MODEL']),
      ImageUpscaleWithModel: def({ upscale_model: ['UPSCALE_MODEL'], image: ['IMAGE'] }, ['IMAGE']),
    };
    this.server = new FakeServer((req) => this.route(req));
  }

  async start(): Promise<this> {
    this.png = await makePng(64, 64);
    this.jpeg = await makeJpeg(32, 32);
    await this.server.start();
    this.server.onUpgrade((req, socket, head) => this.upgrade(req, socket as Socket, head));
    return this;
  }

  get url(): string {
    return this.server.url;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets.values()) ws.terminate();
    this.wss.close();
    await this.server.close();
  }

  get submissions(): number {
    return this.server.count('POST /prompt');
  }

  /** Lets a held run finish. */
  release(): void {
    if (this.running) this.running.step = this.running.steps;
    this.mode = 'auto';
    this.tick();
  }

  /** Drops every websocket, as a proxy or a network blip would. */
  dropSockets(): void {
    for (const ws of this.sockets.values()) ws.terminate();
  }

  /** A server restart: what was queued or running is gone and never reaches history. */
  restart(): void {
    this.pending.length = 0;
    this.running = undefined;
    this.dropSockets();
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const u = new URL(req.url ?? '/', 'http://fake');
    if (u.pathname !== '/ws' || this.refuseSockets) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const sid = u.searchParams.get('clientId') || randomUUID().replace(/-/g, '');
      this.sockets.get(sid)?.terminate();
      this.sockets.set(sid, ws);
      this.connections.push(sid);
      ws.on('close', () => {
        if (this.sockets.get(sid) === ws) this.sockets.delete(sid);
      });
      ws.send(JSON.stringify({ type: 'status', data: { status: { exec_info: { queue_remaining: this.remaining() } }, sid } }));
    });
  }

  private remaining(): number {
    return this.pending.length + (this.running ? 1 : 0);
  }

  private send(clientId: string | undefined, type: string, data: Record<string, unknown>): void {
    const ws = clientId ? this.sockets.get(clientId) : undefined;
    if (ws && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type, data }));
  }

  private sendPreview(clientId: string | undefined): void {
    const ws = clientId ? this.sockets.get(clientId) : undefined;
    if (!ws || ws.readyState !== ws.OPEN) return;
    const head = Buffer.alloc(8);
    head.writeUInt32BE(1, 0);
    head.writeUInt32BE(1, 4);
    ws.send(Buffer.concat([head, Buffer.from(this.jpeg!)]), { binary: true });
  }

  private err(status: number, error: unknown, node_errors: unknown = {}): FakeReply {
    return { status, body: { error, node_errors } };
  }

  private async route(req: SeenRequest): Promise<FakeReply> {
    const key = `${req.method} ${req.path}`.replace(/^(\w+) \/api\//, '$1 /');
    if (key === 'GET /system_stats') return { status: 200, body: { system: { os: 'posix', comfyui_version: '0.3.40', python_version: '3.12', embedded_python: false }, devices: [{ name: 'fake', type: 'cpu', index: null, vram_total: 0, vram_free: 0 }] } };
    if (key === 'GET /object_info') return { status: 200, body: this.objectInfo() };
    const oi = /^GET \/object_info\/(.+)$/.exec(key);
    if (oi) {
      const cls = decodeURIComponent(oi[1]!);
      const all = this.objectInfo();
      return { status: 200, body: all[cls] ? { [cls]: all[cls] } : {} };
    }
    if (key === 'POST /prompt') return this.queuePrompt(req);
    if (key === 'GET /queue') {
      const item = (p: { number: number; id: string; prompt: unknown; clientId?: string }) => [p.number, p.id, p.prompt, p.clientId ? { client_id: p.clientId } : {}, []];
      return { status: 200, body: { queue_running: this.running ? [item(this.running)] : [], queue_pending: this.pending.map(item) } };
    }
    if (key === 'POST /queue') {
      const b = (req.body ?? {}) as { delete?: string[]; clear?: boolean };
      if (b.clear) this.pending.length = 0;
      for (const id of b.delete ?? []) {
        const i = this.pending.findIndex((p) => p.id === id);
        if (i >= 0) this.pending.splice(i, 1);
      }
      return { status: 200 };
    }
    if (key === 'POST /interrupt') {
      if (this.running) this.running.interrupted = true;
      this.tick();
      return { status: 200 };
    }
    const h = /^GET \/history\/(.+)$/.exec(key);
    if (h) {
      const e = this.history.get(decodeURIComponent(h[1]!));
      return { status: 200, body: e ? { [decodeURIComponent(h[1]!)]: e } : {} };
    }
    if (key === 'GET /history') {
      const max = Number(req.query.get('max_items') ?? Infinity);
      return { status: 200, body: Object.fromEntries([...this.history.entries()].slice(-max)) };
    }
    if (key === 'GET /view') return this.view(req);
    if (key === 'POST /upload/image') return this.upload(req);
    return { status: 404, body: { error: `no route ${key}` } };
  }

  objectInfo(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, d] of Object.entries(this.defs)) {
      const input =
        name === 'LoadImage'
          ? { required: { image: [this.uploads.map((u) => u.name), { image_upload: true }] } }
          : name === 'UpscaleModelLoader'
            ? { required: { model_name: ['COMBO', { options: this.upscaleModels }] } }
            : d.input;
      out[name] = { input, input_order: { required: Object.keys(d.input.required) }, output: d.output, output_is_list: d.output.map(() => false), output_name: d.output, name, display_name: name, description: '', python_module: 'nodes', category: 'sd', output_node: d.output_node };
    }
    return out;
  }

  /** `execution.py` validate_prompt, as derived in the header. */
  validate(prompt: Record<string, any>): { error: Record<string, unknown>; node_errors: Record<string, unknown> } | undefined {
    const bad = (type: string, message: string, details: string, extra_info: Record<string, unknown> = {}) => ({ type, message, details, extra_info });
    for (const [id, node] of Object.entries(prompt)) {
      if (!node || typeof node !== 'object' || !this.defs[node.class_type]) {
        return { error: bad('invalid_prompt', `Cannot execute because node ${String(node?.class_type)} does not exist.`, `Node ID '#${id}'`), node_errors: {} };
      }
    }
    const outputs = Object.keys(prompt).filter((id) => this.defs[prompt[id].class_type]!.output_node);
    if (outputs.length === 0) return { error: bad('prompt_no_outputs', 'Prompt has no outputs', ''), node_errors: {} };
    const node_errors: Record<string, { errors: unknown[]; dependent_outputs: string[]; class_type: string }> = {};
    const seen = new Set<string>();
    const visit = (id: string, out: string) => {
      if (seen.has(id)) return;
      seen.add(id);
      const node = prompt[id];
      const d = this.defs[node.class_type]!;
      const errors: unknown[] = [];
      for (const [name, spec] of Object.entries(d.input.required)) {
        if (!(name in (node.inputs ?? {}))) {
          errors.push(bad('required_input_missing', 'Required input is missing', name, { input_name: name }));
          continue;
        }
        let val = node.inputs[name];
        const [type, opts] = spec;
        if (Array.isArray(val)) {
          if (val.length !== 2) {
            errors.push(bad('bad_linked_input', 'Bad linked input, must be a length-2 list of [node_id, slot_index]', name, { input_name: name }));
            continue;
          }
          const src = prompt[String(val[0])];
          const srcType = src ? this.defs[src.class_type]?.output[Number(val[1])] : undefined;
          if (srcType !== type) {
            errors.push(bad('return_type_mismatch', 'Return type mismatch between linked nodes', `${name}, ${String(srcType)} != ${String(type)}`, { input_name: name }));
            continue;
          }
          visit(String(val[0]), out);
          continue;
        }
        if (type === 'INT' || type === 'FLOAT') {
          const n = type === 'INT' ? Math.trunc(Number(val)) : Number(val);
          if (typeof val === 'boolean' || val === null || Number.isNaN(n)) {
            errors.push(bad('invalid_input_type', `Failed to convert an input value to a ${type} value`, `${name}, ${String(val)}`, { input_name: name, received_value: val }));
            continue;
          }
          val = n;
          if (opts && typeof opts.min === 'number' && val < opts.min) {
            errors.push(bad('value_smaller_than_min', `Value ${val} smaller than min of ${opts.min}`, name, { input_name: name, received_value: val }));
            continue;
          }
          if (opts && typeof opts.max === 'number' && val > opts.max) {
            errors.push(bad('value_bigger_than_max', `Value ${val} bigger than max of ${opts.max}`, name, { input_name: name, received_value: val }));
            continue;
          }
        }
        if (node.class_type === 'LoadImage' && name === 'image') {
          // VALIDATE_INPUTS(image) takes the place of the list check.
          if (!this.uploads.some((u) => (u.subfolder ? `${u.subfolder}/${u.name}` : u.name) === val)) {
            errors.push(bad('custom_validation_failed', 'Custom validation failed for node', `image - Invalid image file: ${String(val)}`, { input_name: 'image' }));
          }
          continue;
        }
        const choices = Array.isArray(type) ? (type as string[]) : type === 'COMBO' ? (node.class_type === 'UpscaleModelLoader' ? this.upscaleModels : ((opts?.options as string[] | undefined) ?? [])) : undefined;
        if (choices && !choices.includes(val)) {
          errors.push(bad('value_not_in_list', 'Value not in list', `${name}: '${String(val)}' not in ${choices.length > 20 ? `(list of length ${choices.length})` : JSON.stringify(choices)}`, { input_name: name, received_value: val }));
        }
      }
      if (errors.length) node_errors[id] = { errors, dependent_outputs: [...(node_errors[id]?.dependent_outputs ?? []), out], class_type: node.class_type };
    };
    for (const o of outputs) visit(o, o);
    if (Object.keys(node_errors).length === 0) return undefined;
    const details = Object.values(node_errors)
      .flatMap((n) => n.errors as { message: string; details: string }[])
      .map((e) => `${e.message}: ${e.details}`)
      .join('\n');
    return { error: bad('prompt_outputs_failed_validation', 'Prompt outputs failed validation', details), node_errors };
  }

  private async queuePrompt(req: SeenRequest): Promise<FakeReply> {
    const b = req.body as Record<string, any> | undefined;
    if (!b || isInvalidJson(b) || typeof b !== 'object') return { status: 400, body: { error: 'invalid json', node_errors: [] } };
    if (!('prompt' in b)) return this.err(400, 'no prompt', []);
    if (!b.prompt || typeof b.prompt !== 'object' || Array.isArray(b.prompt)) return this.err(400, { type: 'invalid_prompt', message: 'Invalid prompt', details: 'prompt must be an object', extra_info: {} });
    const invalid = this.validate(b.prompt);
    if (invalid) return this.err(400, invalid.error, invalid.node_errors);
    const plan = await this.plan(b.prompt);
    const id = randomUUID();
    // Graphs that start from a picture save images of the size the graph makes (an upscale doubles); text-to-image
    // keeps answering with the small stock PNG, so the suites that share this fake stay light.
    const fromPicture = Object.values(b.prompt).some((n: any) => n?.class_type === 'LoadImage');
    for (const [node, shape] of Object.entries(plan)) {
      const bytes = fromPicture ? await sharp({ create: { width: shape.width, height: shape.height, channels: 3, background: { r: 90, g: 60, b: 160 } } }).png().toBuffer() : this.png!;
      this.rendered.set(`${id}/${node}`, new Uint8Array(bytes));
    }
    const number = this.number++;
    this.pending.push({ number, id, prompt: b.prompt, clientId: typeof b.client_id === 'string' ? b.client_id : undefined, plan });
    setImmediate(() => this.tick());
    return { status: 200, body: { prompt_id: id, number, node_errors: {} } };
  }

  /** Runs the queue one prompt at a time, as ComfyUI's single worker does. */
  private tick(): void {
    if (this.ticking) return;
    this.ticking = true;
    setImmediate(() => {
      this.ticking = false;
      void this.advance();
    });
  }

  private async advance(): Promise<void> {
    if (!this.running) {
      if (this.mode === 'paused' || this.pending.length === 0) return;
      this.pending.sort((a, b) => a.number - b.number);
      const next = this.pending.shift()!;
      const sampler = Object.entries(next.prompt).find(([, n]) => n.class_type === 'KSampler');
      this.running = { ...next, step: 0, steps: Math.min(4, Number(sampler?.[1].inputs.steps ?? 4)) };
      this.send(next.clientId, 'execution_start', { prompt_id: next.id, timestamp: Date.now() });
      this.send(next.clientId, 'execution_cached', { nodes: [], prompt_id: next.id, timestamp: Date.now() });
    }
    const r = this.running;
    // The node that reports progress: the sampler, or in an upscale-only graph the upscaler (its tiles), or the save.
    const samplerId = ['KSampler', 'ImageUpscaleWithModel', 'SaveImage'].map((c) => Object.keys(r.prompt).find((id) => r.prompt[id].class_type === c)).find(Boolean);
    if (r.interrupted) return this.finish(r, 'interrupted', samplerId);
    if (this.failWith) {
      const message = this.failWith;
      this.failWith = undefined;
      return this.finish(r, 'error', samplerId, message);
    }
    if (r.step < r.steps) {
      if (r.step === 0) this.send(r.clientId, 'executing', { node: samplerId ?? null, display_node: samplerId, prompt_id: r.id });
      r.step++;
      this.send(r.clientId, 'progress', { value: r.step, max: r.steps, prompt_id: r.id, node: samplerId });
      this.sendPreview(r.clientId);
      if (this.mode === 'hold') return;
      setTimeout(() => this.tick(), 2);
      return;
    }
    return this.finish(r, 'success', samplerId);
  }

  private finish(r: NonNullable<ComfyFake['running']>, how: 'success' | 'error' | 'interrupted', samplerId: string | undefined, message?: string): void {
    this.running = undefined;
    const promptTuple = [r.number, r.id, r.prompt, r.clientId ? { client_id: r.clientId } : {}, []];
    const outputs: Record<string, { images: { filename: string; subfolder: string; type: string }[] }> = {};
    const messages: unknown[] = [['execution_start', { prompt_id: r.id }]];
    if (how === 'success') {
      for (const [id, node] of Object.entries(r.prompt)) {
        if (node.class_type !== 'SaveImage' && node.class_type !== 'PreviewImage') continue;
        const { count, bytes } = r.plan[id] ? { count: r.plan[id].count, bytes: this.rendered.get(`${r.id}/${id}`)! } : { count: 1, bytes: this.png! };
        const type = node.class_type === 'SaveImage' ? 'output' : 'temp';
        const images = Array.from({ length: count }, (_, i) => {
          const filename = `${String(node.inputs.filename_prefix ?? 'ComfyUI')}_${String(r.number).padStart(5, '0')}_${i}_.png`;
          this.files.set(`${type}//${filename}`, bytes);
          return { filename, subfolder: '', type };
        });
        outputs[id] = { images };
        this.send(r.clientId, 'executing', { node: id, display_node: id, prompt_id: r.id });
        this.send(r.clientId, 'executed', { node: id, display_node: id, output: { images }, prompt_id: r.id });
      }
      messages.push(['execution_success', { prompt_id: r.id }]);
      this.send(r.clientId, 'execution_success', { prompt_id: r.id, timestamp: Date.now() });
      this.send(r.clientId, 'executing', { node: null, prompt_id: r.id });
    } else if (how === 'error') {
      const data = { prompt_id: r.id, node_id: samplerId, node_type: 'KSampler', executed: [], exception_message: message, exception_type: 'RuntimeError', traceback: [], current_inputs: {}, current_outputs: {} };
      messages.push(['execution_error', data]);
      this.send(r.clientId, 'execution_error', data);
    } else {
      const data = { prompt_id: r.id, node_id: samplerId, node_type: 'KSampler', executed: [] };
      messages.push(['execution_interrupted', data]);
      this.send(r.clientId, 'execution_interrupted', data);
    }
    this.history.set(r.id, { prompt: promptTuple, outputs, status: { status_str: how === 'success' ? 'success' : 'error', completed: how === 'success', messages } });
    this.tick();
  }

  /** The PNG each planned output saves, made when the prompt is queued (keyed by prompt id and node id). */
  private readonly rendered = new Map<string, Uint8Array>();

  /**
   * How many images each output saves and at what size, walking the graph as execution would: sizes come from
   * EmptyLatentImage, LoadImage's file, ImageScale / ImageScaleBy, an upscale model (4x); batches from
   * EmptyLatentImage and RepeatLatentBatch. Other nodes pass on the shape of their first linked input.
   */
  private async plan(prompt: Record<string, any>): Promise<Plan> {
    const memo = new Map<string, Promise<Shape>>();
    const shapeOf = (id: string): Promise<Shape> => {
      if (!memo.has(id)) memo.set(id, this.shape(prompt, id, shapeOf));
      return memo.get(id)!;
    };
    const plan: Plan = {};
    for (const [id, node] of Object.entries(prompt)) {
      if (node.class_type !== 'SaveImage' && node.class_type !== 'PreviewImage') continue;
      plan[id] = await shapeOf(id);
    }
    return plan;
  }

  private async shape(prompt: Record<string, any>, id: string, shapeOf: (id: string) => Promise<Shape>): Promise<Shape> {
    const n = prompt[id];
    const input = (name: string) => {
      const v = n.inputs[name];
      return Array.isArray(v) ? shapeOf(String(v[0])) : undefined;
    };
    const firstLink = () => {
      const link = Object.values(n.inputs).find((v) => Array.isArray(v)) as [string, number] | undefined;
      return link ? shapeOf(String(link[0])) : Promise.resolve({ count: 1, width: 64, height: 64 });
    };
    switch (n.class_type) {
      case 'EmptyLatentImage':
        return { count: Number(n.inputs.batch_size), width: Number(n.inputs.width), height: Number(n.inputs.height) };
      case 'LoadImage': {
        const u = this.uploads.find((f) => (f.subfolder ? `${f.subfolder}/${f.name}` : f.name) === n.inputs.image);
        const meta = u ? await sharp(this.files.get(`${u.type}/${u.subfolder}/${u.name}`)!).metadata() : undefined;
        return { count: 1, width: meta?.width ?? 64, height: meta?.height ?? 64 };
      }
      case 'ImageScale': {
        const s = (await input('image'))!;
        const w = Number(n.inputs.width);
        const h = Number(n.inputs.height);
        return { count: s.count, width: w || Math.round((s.width * h) / s.height), height: h || Math.round((s.height * w) / s.width) };
      }
      case 'ImageScaleBy': {
        const s = (await input('image'))!;
        return { count: s.count, width: Math.round(s.width * Number(n.inputs.scale_by)), height: Math.round(s.height * Number(n.inputs.scale_by)) };
      }
      case 'ImageUpscaleWithModel': {
        const s = (await input('image'))!;
        return { ...s, width: s.width * 4, height: s.height * 4 };
      }
      case 'VAEEncode':
      case 'VAEEncodeForInpaint': {
        const s = (await input('pixels'))!;
        return { ...s, width: Math.floor(s.width / 8) * 8, height: Math.floor(s.height / 8) * 8 };
      }
      case 'RepeatLatentBatch': {
        const s = (await input('samples'))!;
        return { ...s, count: s.count * Number(n.inputs.amount) };
      }
      case 'LatentBlend':
        return (await input('samples1'))!;
      case 'KSampler':
        return (await input('latent_image'))!;
      default:
        return firstLink();
    }
  }

  private view(req: SeenRequest): FakeReply {
    const filename = req.query.get('filename');
    if (!filename) return { status: 404 };
    if (filename.startsWith('/') || filename.includes('..')) return { status: 400 };
    const type = req.query.get('type') ?? 'output';
    const bytes = this.files.get(`${type}/${req.query.get('subfolder') ?? ''}/${filename}`);
    if (!bytes) return { status: 404 };
    return { status: 200, bytes, headers: { 'content-type': 'image/png', 'content-disposition': `filename="${filename}"` } };
  }

  private async upload(req: SeenRequest): Promise<FakeReply> {
    const type = String(req.headers['content-type'] ?? '');
    if (!type.startsWith('multipart/form-data')) return { status: 400 };
    const form = await new Response(new Uint8Array(req.rawBytes), { headers: { 'content-type': type } }).formData();
    const image = form.get('image');
    if (!image || typeof image === 'string' || !image.name) return { status: 400 };
    const dirType = String(form.get('type') ?? 'input');
    const subfolder = String(form.get('subfolder') ?? '');
    let name = image.name;
    const overwrite = form.get('overwrite') === 'true' || form.get('overwrite') === '1';
    for (let i = 1; !overwrite && this.uploads.some((u) => u.name === name && u.subfolder === subfolder); i++) name = image.name.replace(/(\.[^.]*)?$/, ` (${i})$1`);
    const bytes = new Uint8Array(await image.arrayBuffer());
    this.files.set(`${dirType}/${subfolder}/${name}`, bytes);
    this.uploads.push({ name, type: dirType, subfolder, bytes: bytes.length });
    return { status: 200, body: { name, subfolder, type: dirType } };
  }
}
