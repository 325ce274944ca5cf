import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request as a fake saw it, for assertions. */
export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
  rawBody: string;
  /** The body as sent, for multipart uploads (rawBody is its UTF-8 reading). */
  rawBytes: Buffer;
}

export interface FakeReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw bytes instead of JSON (images). */
  bytes?: Uint8Array;
  /** Writes the answer itself (a server-sent event stream, or one cut off halfway). */
  write?: (res: ServerResponse) => void;
}

/**
 * Faults a test injects, matched by "METHOD /path" (a trailing * matches a prefix), each used `times` times.
 * - status: answer with this status and body (a vendor error)
 * - garbage: 200 with a body that is not JSON
 * - truncated: announce a long body, send a little, hang up
 * - hang: never answer
 * - lose: do the work (a create is made and counted), then hang up without answering
 * - garble: do the work, then answer 200 with a body that is not JSON
 * - slow: do the work, then never answer (the caller's timeout fires)
 * - oversize: 200 with a JSON body of several megabytes
 */
export interface Fault {
  route: string;
  kind: 'status' | 'garbage' | 'garble' | 'slow' | 'truncated' | 'hang' | 'lose' | 'oversize';
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  times?: number;
}

export type FakeHandler = (req: SeenRequest) => FakeReply | Promise<FakeReply>;

/** A loopback HTTP server on 127.0.0.1, port 0, with request logging and fault injection. */
export class FakeServer {
  readonly requests: SeenRequest[] = [];
  readonly faults: Fault[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  url = '';
  port = 0;

  constructor(private readonly handler: FakeHandler) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: String(err) }));
      });
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Websocket upgrades (ComfyUI's /ws) on the same port. */
  onUpgrade(handler: (req: IncomingMessage, socket: Socket, head: Buffer) => void): void {
    this.server!.on('upgrade', handler);
  }

  count(route: string): number {
    return this.requests.filter((r) => `${r.method} ${r.path}` === route).length;
  }

  inject(fault: Fault): void {
    this.faults.push({ times: 1, ...fault });
  }

  private takeFault(key: string): Fault | undefined {
    const i = this.faults.findIndex((f) => (f.route.endsWith('*') ? key.startsWith(f.route.slice(0, -1)) : f.route === key));
    if (i < 0) return undefined;
    const f = this.faults[i]!;
    f.times = (f.times ?? 1) - 1;
    if (f.times <= 0) this.faults.splice(i, 1);
    return f;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const rawBytes = Buffer.concat(chunks);
    const rawBody = rawBytes.toString('utf8');
    let body: unknown = undefined;
    if (rawBody) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = Symbol.for('invalid-json');
      }
    }
    const u = new URL(req.url ?? '/', 'http://fake');
    const seen: SeenRequest = { method: req.method ?? 'GET', path: u.pathname, query: u.searchParams, headers: req.headers, body, rawBody, rawBytes };
    this.requests.push(seen);
    const fault = this.takeFault(`${seen.method} ${seen.path}`);
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'lose') {
      await this.handler(seen);
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'slow') {
      await this.handler(seen);
      return;
    }
    if (fault?.kind === 'garble') {
      await this.handler(seen);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id": "cut off');
      return;
    }
    if (fault?.kind === 'status') return send(res, { status: fault.status ?? 500, body: fault.body, headers: fault.headers });
    if (fault?.kind === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html><body>Bad Gateway</body>');
      return;
    }
    if (fault?.kind === 'truncated') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4000' });
      res.write('{"id":"abc","sta');
      setTimeout(() => req.socket.destroy(), 5);
      return;
    }
    if (fault?.kind === 'oversize') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ pad: 'x'.repeat(4 * 1024 * 1024) }));
      return;
    }
    send(res, await this.handler(seen));
  }
}

function send(res: ServerResponse, reply: FakeReply): void {
  if (reply.write) return reply.write(res);
  if (reply.bytes) {
    res.writeHead(reply.status, { 'content-length': String(reply.bytes.length), ...reply.headers });
    res.end(reply.bytes);
    return;
  }
  const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, { ...(text ? { 'content-type': 'application/json' } : {}), ...reply.headers });
  res.end(text);
}

export const isInvalidJson = (body: unknown): boolean => body === Symbol.for('invalid-json');
