import { randomUUID } from 'node:crypto';
import { makeJpeg } from './images.ts';
import { FakeServer, isInvalidJson, type FakeReply, type SeenRequest } from './fake-server.ts';

/**
 * A loopback all-images.ai, written from the documentation collected in PROVIDERS.md §1: `api-key`
 * header, the create body's required fields, enums and ranges, NestJS-style error bodies
 * `{ statusCode, error, message[] }`, the numeric lifecycle 0–4, list-by-name and webhooks.
 */
export const PARAM_NAMES = ['sujetMode', 'templatePrompt', 'angle', 'photographe', 'time', 'Time', 'weather', 'format', 'camera', 'interdiction', 'version', 'chaos', 'stylize', 'fromImageUrl'];
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
export type Lifecycle = 'auto' | 'manual' | 'error' | 'never' | 'unknown-status';

export class AllImagesFake {
  readonly server: FakeServer;
  readonly generations = new Map<string, FakeGeneration>();
  readonly webhooks = new Map<string, { url: string; events: string[] }>();
  lifecycle: Lifecycle = 'auto';
  dedicated = false;
  /** Where image URLs point; tests aim it elsewhere to attack the downloader. */
  imageUrl: (kind: 'preview' | 'full', id: string) => string = (kind, id) => `${this.server.url}/v1/images/${kind}/${id}.jpg`;
  private preview: Uint8Array | undefined;
  private full: Uint8Array | undefined;

  constructor(readonly apiKey = 'ai-test-key') {
    this.server = new FakeServer((req) => this.route(req));
  }

  async start(): Promise<this> {
    this.preview = await makeJpeg(128, 128);
    this.full = await makeJpeg(512, 512);
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
      g.images.push({ id, url: this.imageUrl('preview', id), urlFull: this.imageUrl('full', id), validate: false, free: false, titles: {} });
    }
    g.nbImages = g.images.length;
  }

  private async route(req: SeenRequest): Promise<FakeReply> {
    const image = /^\/v1\/images\/(preview|full)\/([\w-]+)\.jpg$/.exec(req.path);
    if (image && req.method === 'GET') {
      // The display endpoint's api-key header is optional.
      return { status: 200, bytes: image[1] === 'full' ? this.full! : this.preview!, headers: { 'content-type': 'image/jpeg' } };
    }
    // Not vendor behaviour: lets tests put a redirect on the provider's own origin, as a hostile answer could.
    const to = req.query.get('to');
    if (req.method === 'GET' && req.path === '/attack/redirect' && to) return { status: 302, headers: { location: to } };
    if (req.headers['api-key'] !== this.apiKey) return this.error(401, 'Unauthorized', 'Invalid API key');
    if (req.method === 'GET' && req.path === '/v1/api-keys/check') return { status: 200, body: { email: 'bot@example.org', name: 'Atelier test' } };
    if (req.method === 'GET' && req.path === '/v1/credit') return { status: 200, body: { credits: [{ type: 'f_images_print', credit: 42, creditTotal: 100 }] } };
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

  private create(req: SeenRequest): FakeReply {
    const problems = this.validateCreate(req.body);
    if (problems.length) return this.error(400, 'Bad Request', ...problems);
    const b = req.body as Record<string, unknown>;
    const script = { auto: [1, 2, 2, 2, 3], manual: [], error: [1, 2, 4], never: [], 'unknown-status': [1, 5, 2, 3] }[this.lifecycle];
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
    case 'Time':
    case 'time':
      return oneOf(TIMES);
    case 'templatePrompt':
      return oneOf(TEMPLATES);
    case 'chaos':
      return intIn(0, 100);
    case 'stylize':
      return intIn(0, 1000);
    default:
      return v ? [] : [`params ${name}: value should not be empty`];
  }
}
