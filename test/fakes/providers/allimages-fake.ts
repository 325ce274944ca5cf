import { randomUUID } from 'node:crypto';
import { makeJpeg } from './images.ts';
import { FakeServer, isInvalidJson, type FakeReply, type SeenRequest } from './fake-server.ts';
import { midjourneyPictures } from './midjourney-prompt.ts';
import { fetchPicture, type FetchedPicture } from './fetch-picture.ts';

/**
 * A loopback all-images.ai. Each rule names its sources: [ref] the API reference at developer.all-images.ai
 * (api-reference/images-generation, images, api-keys-webhook, errors, lifecycle; its OpenAPI document
 * https://api.all-images.ai/doc-json), [corsair] the types corsairdev/corsair transcribed from that OpenAPI
 * document (packages/allimagesai/endpoints/types.ts @6344c276), [wp] the vendor's WordPress plugin
 * common-repository/all-images-ai (admin/class-all-images-ai-admin.php,
 * includes/AllImagesAIGenerations_List_Table.php), [pd] PipedreamHQ/pipedream components/all_images_ai,
 * [guide] the integration guide (create-image-generation). Where they disagree the fake follows [ref].
 *
 * - auth: the `api-key` header only [ref authentication; corsair client.ts live probe; wp _send_request].
 * - create body fields, `name`/`mode`/`prompt` required, prompt ≤ 4096, additionalPrompt ≤ 1024,
 *   processMode relax|fast for Dedicated users only [ref images-generation]; `tags` string[] and `metaData`
 *   object [ref; pd generate-images-advanced].
 * - `params[].name` is one of the OpenAPI ApiPrintParam enum, `time` lowercase [ref doc-json; corsair
 *   PrintParamNameSchema]. The guide writes `Time`; the reference wins, so `Time` is refused.
 * - simple-mode values: format list, weather, time of day, templatePrompt, chaos 0–100, stylize 0–1000,
 *   "the prompt must not contain a Midjourney parameter" [guide; format default 3:2 also in wp settings].
 * - lifecycle 0 Create, 1 Pending, 2 Processing, 3 Done, 4 Error ("description not accepted") [ref lifecycle];
 *   5 is allowed by the enum without a name [corsair PrintStatusSchema].
 * - images `{ id, url (preview), urlFull, free, validate, titles }` [ref; corsair "Preview-resolution"];
 *   display at GET /v1/images/{preview|full}/{id}.jpg, api-key optional [ref images].
 * - POST /v1/images/download `{ id }` answers the image bytes, POST /v1/images/buy `{ id }` answers
 *   `{ id, url, urlFull, urlUpscale, urlUpscaleUHD, downloadedAt }`; both cost credits "debited only once"
 *   per image [ref images; pd buy-image; corsair DownloadedImageSchema]; a generated image's id is what
 *   is bought [wp print.completed -> _download_and_insert_image]; 402 when credits run out [wp
 *   _get_image_buffer_by_id: "No more credits on your account"]; a `free` image is fetched by URL with no
 *   purchase [wp select_image_for_library].
 * - image URLs may come back as `…all-images.aiv1/…` [wp get_gen_table_images_html repairs them]:
 *   `malformedUrls` makes this fake answer that form on its own host.
 * - error bodies `{ statusCode, error, message: string[] }` [ref errors]; webhooks subscribe/unsubscribe and
 *   the `print.*` events [ref api-keys-webhook; corsair webhooks; wp validate_api_key].
 * - pictures: `fromImageUrl` is an ApiPrintParam name [ref doc-json; corsair]; its value must be an absolute
 *   http(s) URL (read from its name: no source describes the value, and all-images.ai fetches it itself).
 *   Advanced mode is a raw Midjourney prompt [guide], read as Midjourney reads one (midjourney-prompt.ts: docs.midjourney.com
 *   "Image Prompts", "Style Reference", "Image Weight"; a second witness, imaginepro.ai "Imagine", documents
 *   the same prompt form for its gateway): image URLs lead; one image URL alone, without text, is refused ("two
 *   or more images, or an image and text"); `--iw` 0–3 (V7); `--sref` takes URLs. Midjourney refuses such a prompt
 *   after the create, so the fake ends that generation in status 4 (Error: "description not accepted").
 *   `pictureUrls` records every picture URL the fake would fetch.
 */
export const PARAM_NAMES = ['sujetMode', 'templatePrompt', 'angle', 'photographe', 'time', 'weather', 'format', 'camera', 'interdiction', 'version', 'chaos', 'stylize', 'fromImageUrl'];
const FORMATS = ['1:1', '3:2', '2:3', '4:7', '7:4', '5:4', '4:5', '16:9', '9:16'];
const WEATHERS = ['sunny', 'cloudy', 'foggy', 'rainy', 'thunderstorm', 'snowy'];
const TIMES = ['sunrise', 'morning', 'afternoon', 'sunset', 'evening', 'golden hour', 'night', 'midnight'];
const TEMPLATES = ['realisticQuality', 'realisticManuel'];
const EVENTS = ['print.created', 'print.active', 'print.progress', 'print.failed', 'print.completed', 'test'];
const BODY_FIELDS = ['name', 'mode', 'prompt', 'additionalPrompt', 'optimizePrompt', 'processMode', 'params', 'tags', 'metaData'];

export interface FakeGeneration {
  id: string;
  name: string;
  prompt: string;
  mode: string;
  status: number;
  processMode: string;
  params: { name: string; value: string }[];
  images: { id: string; url: string; urlFull: string; validate: boolean; free: boolean; titles: Record<string, string> }[];
  nbImages: number;
  tags: string[];
  metaData: Record<string, unknown>;
  createdAt: string;
  /** Statuses still to come, one per GET. */
  script: number[];
}

/** How new generations move: 'auto' advances one step per GET; 'manual' waits for finish(). */
export type Lifecycle = 'auto' | 'instant' | 'manual' | 'error' | 'never' | 'unknown-status' | 'stuck-unknown';
/** A prompt containing this word ends in status 4, as a description all-images.ai does not accept. */
export const REFUSED_WORD = 'forbiddenthing';

export class AllImagesFake {
  readonly server: FakeServer;
  readonly generations = new Map<string, FakeGeneration>();
  readonly webhooks = new Map<string, { url: string; events: string[] }>();
  lifecycle: Lifecycle = 'auto';
  dedicated = false;
  /** Credits left for downloads and purchases; each image is debited once. */
  credits = 10;
  /** Whether new images are `free` (fetched by URL without a purchase). */
  freeImages = false;
  /** Answer image URLs with the slash before `v1` missing, as the real API sometimes does. */
  malformedUrls = false;
  readonly bought = new Set<string>();
  /** Picture URLs given in creates (fromImageUrl, image prompts, --sref), which all-images.ai would fetch. */
  readonly pictureUrls: string[] = [];
  /** When set, the fake fetches each picture URL as all-images.ai would; one it cannot read ends the generation in status 4. */
  fetchPictures = false;
  readonly fetched: FetchedPicture[] = [];
  /** Where image URLs point; tests aim it elsewhere to attack the downloader. */
  imageUrl: (kind: 'preview' | 'full' | 'upscale', id: string) => string = (kind, id) => `${this.server.url}${this.malformedUrls ? '' : '/'}v1/images/${kind}/${id}.jpg`;
  private preview: Uint8Array | undefined;
  private full: Uint8Array | undefined;
  private upscaled: Uint8Array | undefined;

  constructor(readonly apiKey = 'ai-test-key') {
    this.server = new FakeServer((req) => this.route(req));
  }

  async start(): Promise<this> {
    this.preview = await makeJpeg(128, 128);
    this.full = await makeJpeg(512, 512);
    this.upscaled = await makeJpeg(768, 768);
    await this.server.start();
    return this;
  }

  get url(): string {
    return this.server.url;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** Creates that reached the fake, whether or not their answer got back. */
  get creates(): number {
    return this.server.count('POST /v1/image-generations');
  }

  /** Completes a generation and tells every subscribed webhook, as all-images.ai does. */
  async finish(id: string): Promise<void> {
    const g = this.generations.get(id)!;
    this.setStatus(g, 3, 4);
    g.script = [];
    await this.deliver('print.completed', g);
  }

  async deliver(type: string, g: FakeGeneration): Promise<number[]> {
    const statuses: number[] = [];
    for (const [, hook] of this.webhooks) {
      if (!hook.events.includes(type)) continue;
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: randomUUID(), api_version: 1, created: Math.floor(Date.now() / 1000), type, data: this.view(g) }),
      });
      statuses.push(res.status);
    }
    return statuses;
  }

  view(g: FakeGeneration): Omit<FakeGeneration, 'script' | 'mode'> {
    const { script: _s, mode: _m, ...rest } = g;
    return rest;
  }

  private error(status: number, error: string, ...message: string[]): FakeReply {
    return { status, body: { statusCode: status, error, message } };
  }

  private setStatus(g: FakeGeneration, status: number, images: number): void {
    g.status = status;
    while (g.images.length < images) {
      const id = randomUUID();
      g.images.push({ id, url: this.imageUrl('preview', id), urlFull: this.imageUrl('full', id), validate: false, free: this.freeImages, titles: {} });
    }
    g.nbImages = g.images.length;
  }

  private async route(req: SeenRequest): Promise<FakeReply> {
    const image = /^\/v1\/images\/(preview|full|upscale)\/([\w-]+)\.jpg$/.exec(req.path);
    if (image && req.method === 'GET') {
      // The display endpoint's api-key header is optional. `upscale` is where this fake's purchases point.
      const bytes = { preview: this.preview!, full: this.full!, upscale: this.upscaled! }[image[1] as 'preview' | 'full' | 'upscale'];
      return { status: 200, bytes, headers: { 'content-type': 'image/jpeg' } };
    }
    // Not vendor behaviour: lets tests put a redirect on the provider's own origin, as a hostile answer could.
    const to = req.query.get('to');
    if (req.method === 'GET' && req.path === '/attack/redirect' && to) return { status: 302, headers: { location: to } };
    if (req.headers['api-key'] !== this.apiKey) return this.error(401, 'Unauthorized', 'Invalid API key');
    if (req.method === 'GET' && req.path === '/v1/api-keys/check') return { status: 200, body: { email: 'bot@example.org', name: 'Atelier test' } };
    if (req.method === 'GET' && req.path === '/v1/credit') return { status: 200, body: { credits: [{ type: 'f_images_print', credit: 42, creditTotal: 100 }, { type: 'f_images', credit: this.credits, creditTotal: 100 }] } };
    if (req.method === 'POST' && (req.path === '/v1/images/buy' || req.path === '/v1/images/download')) return this.purchase(req);
    if (req.method === 'POST' && req.path === '/v1/api-keys/webhook/subscribe') return this.subscribe(req);
    const unsub = /^\/v1\/api-keys\/webhook\/unsubscribe\/(.+)$/.exec(req.path);
    if (req.method === 'DELETE' && unsub) {
      return this.webhooks.delete(unsub[1]!) ? { status: 200, body: {} } : this.error(404, 'Not Found', 'Webhook not found');
    }
    if (req.method === 'POST' && req.path === '/v1/image-generations') return this.create(req);
    if (req.method === 'GET' && req.path === '/v1/image-generations') return this.list(req);
    const one = /^\/v1\/image-generations\/([^/]+)$/.exec(req.path);
    if (req.method === 'GET' && one) return this.get(one[1]!);
    return this.error(404, 'Not Found', `Cannot ${req.method} ${req.path}`);
  }

  /** Image ids this fake made, whichever generation holds them. */
  private findImage(id: string) {
    for (const g of this.generations.values()) for (const img of g.images) if (img.id === id) return img;
    return undefined;
  }

  private purchase(req: SeenRequest): FakeReply {
    const b = req.body as { id?: unknown } | undefined;
    if (!b || typeof b !== 'object' || isInvalidJson(b) || typeof b.id !== 'string' || !b.id) return this.error(400, 'Bad Request', 'id must be a string');
    const img = this.findImage(b.id);
    if (!img) return this.error(404, 'Not Found', `Image ${b.id} not found`);
    if (!this.bought.has(img.id)) {
      if (this.credits <= 0) return this.error(402, 'Payment Required', 'No more credits on your account');
      this.credits--;
      this.bought.add(img.id);
    }
    if (req.path === '/v1/images/download') return { status: 200, bytes: this.full!, headers: { 'content-type': 'image/jpeg' } };
    return {
      status: 200,
      body: { id: img.id, url: img.url, urlFull: img.urlFull, urlUpscale: this.imageUrl('upscale', img.id), urlUpscaleUHD: this.imageUrl('upscale', img.id), downloadedAt: new Date().toISOString() },
    };
  }

  private subscribe(req: SeenRequest): FakeReply {
    const b = req.body as { url?: unknown; events?: unknown } | undefined;
    if (!b || typeof b !== 'object' || isInvalidJson(b)) return this.error(400, 'Bad Request', 'body must be JSON');
    const problems: string[] = [];
    if (typeof b.url !== 'string' || !/^https?:\/\/.+/.test(b.url)) problems.push('url must be a URL address');
    const events = b.events === undefined ? ['print.failed', 'print.completed'] : b.events;
    if (!Array.isArray(events) || events.some((e) => !EVENTS.includes(String(e)))) problems.push(`each value in events must be one of the following values: ${EVENTS.join(', ')}`);
    if (problems.length) return this.error(400, 'Bad Request', ...problems);
    const webhookId = randomUUID();
    this.webhooks.set(webhookId, { url: b.url as string, events: events as string[] });
    return { status: 201, body: { webhookId } };
  }

  /** Every documented rule of POST /v1/image-generations. */
  validateCreate(b: unknown): string[] {
    if (!b || typeof b !== 'object' || Array.isArray(b) || isInvalidJson(b)) return ['body must be a JSON object'];
    const o = b as Record<string, unknown>;
    const p: string[] = [];
    for (const k of Object.keys(o)) if (!BODY_FIELDS.includes(k)) p.push(`property ${k} should not exist`);
    if (typeof o.name !== 'string' || !o.name) p.push('name should not be empty', 'name must be a string');
    if (o.mode !== 'simple' && o.mode !== 'advanced') p.push('mode must be one of the following values: simple, advanced');
    if (typeof o.prompt !== 'string' || !o.prompt.trim()) p.push('prompt should not be empty');
    else if (o.prompt.length > 4096) p.push('prompt must be shorter than or equal to 4096 characters');
    else if (o.mode === 'simple' && /(^|\s)--[a-zA-Z]/.test(o.prompt)) p.push('The prompt must not contain a Midjourney parameter, only a text description');
    if (o.additionalPrompt !== undefined && (typeof o.additionalPrompt !== 'string' || o.additionalPrompt.length > 1024)) p.push('additionalPrompt must be shorter than or equal to 1024 characters');
    if (o.optimizePrompt !== undefined && typeof o.optimizePrompt !== 'boolean') p.push('optimizePrompt must be a boolean value');
    if (o.processMode !== undefined) {
      if (o.processMode !== 'fast' && o.processMode !== 'relax') p.push('processMode must be one of the following values: relax, fast');
      else if (!this.dedicated) p.push('processMode is only available for Dedicated users');
    }
    if (o.tags !== undefined && (!Array.isArray(o.tags) || o.tags.some((t) => typeof t !== 'string'))) p.push('each value in tags must be a string');
    if (o.metaData !== undefined && (typeof o.metaData !== 'object' || o.metaData === null || Array.isArray(o.metaData))) p.push('metaData must be an object');
    if (o.params !== undefined) {
      if (!Array.isArray(o.params)) p.push('params must be an array');
      else for (const param of o.params as { name?: unknown; value?: unknown }[]) p.push(...validateParam(param));
    }
    return p;
  }

  private async create(req: SeenRequest): Promise<FakeReply> {
    const problems = this.validateCreate(req.body);
    if (problems.length) return this.error(400, 'Bad Request', ...problems);
    const b = req.body as Record<string, unknown>;
    const script = { auto: [1, 2, 2, 2, 3], instant: [3], manual: [], error: [1, 2, 4], never: [], 'unknown-status': [1, 5, 2, 3], 'stuck-unknown': [1, ...Array<number>(50).fill(5)] }[this.lifecycle];
    if (String(b.prompt).toLowerCase().includes(REFUSED_WORD)) script.splice(0, script.length, 1, 4);
    const pictures = b.mode === 'advanced' ? midjourneyPictures(String(b.prompt)) : { urls: [], problems: [] };
    if (pictures.problems.length) script.splice(0, script.length, 1, 4);
    const urls = [...pictures.urls, ...((b.params as { name: string; value: string }[] | undefined) ?? []).filter((x) => x.name === 'fromImageUrl').map((x) => x.value)];
    this.pictureUrls.push(...urls);
    if (this.fetchPictures) {
      for (const url of urls) {
        const got = await fetchPicture(url);
        this.fetched.push(got);
        if (!got.ok) script.splice(0, script.length, 1, 4);
      }
    }
    const g: FakeGeneration = {
      id: randomUUID(),
      name: b.name as string,
      prompt: b.prompt as string,
      mode: b.mode as string,
      status: 0,
      processMode: (b.processMode as string) ?? 'fast',
      params: (b.params as FakeGeneration['params']) ?? [],
      images: [],
      nbImages: 0,
      tags: (b.tags as string[]) ?? [],
      metaData: (b.metaData as Record<string, unknown>) ?? {},
      createdAt: new Date().toISOString(),
      script: [...script],
    };
    this.generations.set(g.id, g);
    return { status: 201, body: this.view(g) };
  }

  private get(id: string): FakeReply {
    const g = this.generations.get(id);
    if (!g) return this.error(404, 'Not Found', `ImageGeneration ${id} not found`);
    const next = g.script.shift();
    if (next !== undefined) {
      const processing = g.status === 2 ? g.images.length + 1 : 1;
      this.setStatus(g, next, next === 3 ? 4 : next === 2 ? Math.min(3, processing) : g.images.length);
    }
    return { status: 200, body: this.view(g) };
  }

  private list(req: SeenRequest): FakeReply {
    const limit = Number(req.query.get('limit') ?? 20);
    const offset = Number(req.query.get('offset') ?? 0);
    if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0) return this.error(400, 'Bad Request', 'limit and offset must be positive integers');
    const name = req.query.get('name');
    const tag = req.query.get('tag');
    const all = [...this.generations.values()].filter((g) => (!name || g.name.includes(name)) && (!tag || g.tags.includes(tag)));
    return { status: 200, body: { filteredResults: all.length, prints: all.slice(offset, offset + limit).map((g) => this.view(g)) } };
  }
}

function validateParam(param: { name?: unknown; value?: unknown }): string[] {
  if (!param || typeof param !== 'object') return ['each value in params must be an object'];
  const name = String(param.name);
  if (!PARAM_NAMES.includes(name)) return [`params.name must be one of the following values: ${PARAM_NAMES.join(', ')}`];
  if (typeof param.value !== 'string') return [`params ${name}: value must be a string`];
  const v = param.value;
  const oneOf = (list: string[]) => (list.includes(v) ? [] : [`params ${name}: value must be one of ${list.join(', ')}`]);
  const intIn = (min: number, max: number) => (/^\d+$/.test(v) && Number(v) >= min && Number(v) <= max ? [] : [`params ${name}: value must be a number from ${min} to ${max}`]);
  switch (name) {
    case 'format':
      return oneOf(FORMATS);
    case 'weather':
      return oneOf(WEATHERS);
    case 'time':
      return oneOf(TIMES);
    case 'templatePrompt':
      return oneOf(TEMPLATES);
    case 'chaos':
      return intIn(0, 100);
    case 'stylize':
      return intIn(0, 1000);
    case 'fromImageUrl':
      return /^https?:\/\/\S+$/.test(v) && URL.canParse(v) ? [] : [`params ${name}: value must be a URL address`];
    default:
      return v ? [] : [`params ${name}: value should not be empty`];
  }
}
