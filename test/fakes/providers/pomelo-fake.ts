import { randomUUID } from 'node:crypto';
import { makePng } from './images.ts';
import { FakeServer, isInvalidJson, type FakeReply, type SeenRequest } from './fake-server.ts';

/**
 * A loopback Midjourney / Flux.1 gateway (PROVIDERS.md §3): Bearer auth, the two synchronous endpoints
 * with their documented fields and limits. The documentation says policy violations are rejected but not
 * how; this fake answers 400 with a message naming the content policy, which is what the adapter reads.
 */
const MJ_FIELDS = ['prompt', 'style', 'width', 'height', 'model', 'num_outputs'];
const FLUX_FIELDS = ['prompt', 'negative_prompt', 'style', 'seed', 'steps', 'aspect_ratio'];
export const BLOCKED_WORD = 'gore';

export class PomeloFake {
  readonly server: FakeServer;
  imageUrl: (id: string) => string = (id) => `${this.server.url}/files/${id}.png`;
  private png: Uint8Array | undefined;

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

  private err(status: number, message: string): FakeReply {
    return { status, body: { status: 'error', error: message } };
  }

  private route(req: SeenRequest): FakeReply {
    if (req.method === 'GET' && /^\/files\/[\w-]+\.png$/.test(req.path)) return { status: 200, bytes: this.png!, headers: { 'content-type': 'image/png' } };
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) return this.err(401, 'Invalid API key');
    if (req.method === 'POST' && req.path === '/api/v1/midjourney/generate') return this.midjourney(req.body);
    if (req.method === 'POST' && req.path === '/api/v1/flux.1') return this.flux(req.body);
    return this.err(404, 'Not found');
  }

  validateMidjourney(body: unknown): string[] {
    if (!body || typeof body !== 'object' || isInvalidJson(body)) return ['body must be JSON'];
    const b = body as Record<string, unknown>;
    const p = Object.keys(b).filter((k) => !MJ_FIELDS.includes(k)).map((k) => `unknown field ${k}`);
    if (typeof b.prompt !== 'string' || !b.prompt.trim()) p.push('prompt is required');
    if (b.style !== undefined && !['raw', 'cute', 'scenic'].includes(String(b.style))) p.push('style must be raw, cute or scenic');
    for (const k of ['width', 'height']) if (b[k] !== undefined && (!Number.isInteger(b[k]) || (b[k] as number) < 1)) p.push(`${k} must be a positive integer`);
    if (b.model !== undefined && typeof b.model !== 'string') p.push('model must be a string');
    if (b.num_outputs !== undefined && (!Number.isInteger(b.num_outputs) || (b.num_outputs as number) < 1 || (b.num_outputs as number) > 4)) p.push('num_outputs must be between 1 and 4');
    return p;
  }

  validateFlux(body: unknown): string[] {
    if (!body || typeof body !== 'object' || isInvalidJson(body)) return ['body must be JSON'];
    const b = body as Record<string, unknown>;
    const p = Object.keys(b).filter((k) => !FLUX_FIELDS.includes(k)).map((k) => `unknown field ${k}`);
    if (typeof b.prompt !== 'string' || !b.prompt.trim()) p.push('prompt is required');
    for (const k of ['negative_prompt', 'style', 'aspect_ratio']) if (b[k] !== undefined && typeof b[k] !== 'string') p.push(`${k} must be a string`);
    if (b.aspect_ratio !== undefined && !/^\d+:\d+$/.test(String(b.aspect_ratio))) p.push('aspect_ratio must look like 16:9');
    if (b.seed !== undefined && !Number.isInteger(b.seed)) p.push('seed must be an integer');
    if (b.steps !== undefined && (!Number.isInteger(b.steps) || (b.steps as number) < 1 || (b.steps as number) > 50)) p.push('steps must be an integer up to 50');
    return p;
  }

  private moderated(prompt: unknown): boolean {
    return typeof prompt === 'string' && prompt.toLowerCase().includes(BLOCKED_WORD);
  }

  private midjourney(body: unknown): FakeReply {
    const p = this.validateMidjourney(body);
    if (p.length) return this.err(400, p.join('; '));
    const b = body as Record<string, unknown>;
    if (this.moderated(b.prompt)) return this.err(400, 'Request rejected: the prompt violates our content policy');
    const n = (b.num_outputs as number) ?? 1;
    const images = Array.from({ length: n }, () => {
      const id = randomUUID();
      return { url: this.imageUrl(id), id, created_at: new Date().toISOString() };
    });
    return { status: 200, body: { status: 'success', images, prompt: b.prompt, model: b.model ?? '5' } };
  }

  private flux(body: unknown): FakeReply {
    const p = this.validateFlux(body);
    if (p.length) return this.err(400, p.join('; '));
    const b = body as Record<string, unknown>;
    if (this.moderated(b.prompt)) return this.err(400, 'Request rejected: the prompt violates our content policy');
    const id = `gen_${randomUUID().slice(0, 6)}`;
    return {
      status: 200,
      body: { id, created: Math.floor(Date.now() / 1000), images: [{ url: this.imageUrl(id), width: 1024, height: 576 }], prompt: b.prompt, model: 'flux.1', seed: (b.seed as number) ?? 42105, status: 'complete' },
    };
  }
}
