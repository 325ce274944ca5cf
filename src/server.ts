import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { Logger } from './core/ports.ts';
import { silentLogger } from './core/ports.ts';

/** A request as routes see it: the raw body bytes are kept, because signature checks need them exactly. */
export interface RawRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The underlying objects, for routes that stream (server-sent events, downloads). */
  raw: { req: IncomingMessage; res: ServerResponse };
}

export interface RawResponse {
  status: number;
  headers?: Record<string, string>;
  /** A string or bytes go out as they are; anything else as JSON. */
  body?: unknown;
}

/** Return undefined when the handler wrote to `raw.res` itself. */
export type RouteHandler = (req: RawRequest) => Promise<RawResponse | undefined> | RawResponse | undefined;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface HttpServer {
  route(method: string, path: string, handler: RouteHandler): void;
  /** Matches every path under `prefix` (e.g. '/images/'). */
  routePrefix(method: string, prefix: string, handler: RouteHandler): void;
  onUpgrade(path: string, handler: UpgradeHandler): void;
  listen(): Promise<string>;
  close(): Promise<void>;
  readonly url: string;
}

export interface ServerOptions {
  host: string;
  port: number;
  logger?: Logger;
  /** Bodies larger than this are refused with 413 before they are read whole. */
  maxBodyBytes?: number;
}

/** The one HTTP server: platforms, webhooks and the playground mount routes on it. */
export function createServer(options: ServerOptions): HttpServer {
  const log = options.logger ?? silentLogger;
  const maxBody = options.maxBodyBytes ?? 5 * 1024 * 1024;
  const exact = new Map<string, RouteHandler>();
  const prefixes: { method: string; prefix: string; handler: RouteHandler }[] = [];
  const upgrades = new Map<string, UpgradeHandler>();
  let server: Server | undefined;
  let url = '';

  exact.set('GET /healthz', () => ({ status: 200, body: { ok: true } }));

  const find = (method: string, path: string): RouteHandler | undefined =>
    exact.get(`${method} ${path}`) ?? prefixes.find((p) => p.method === method && path.startsWith(p.prefix))?.handler;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = new URL(req.url ?? '/', 'http://local');
    const method = req.method ?? 'GET';
    const handler = find(method, parsed.pathname) ?? (method === 'HEAD' ? find('GET', parsed.pathname) : undefined);
    if (!handler) {
      const otherMethod = [...exact.keys()].some((k) => k.endsWith(` ${parsed.pathname}`));
      send(res, otherMethod ? { status: 405, body: { error: 'method not allowed' } } : { status: 404, body: { error: 'not found' } });
      req.resume();
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBody) {
      send(res, { status: 413, body: { error: 'request too large' } });
      req.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBody) {
        send(res, { status: 413, body: { error: 'request too large' } });
        req.destroy();
        return;
      }
      chunks.push(chunk);
    }
    const out = await handler({ method, path: parsed.pathname, query: parsed.searchParams, headers: req.headers, body: Buffer.concat(chunks), raw: { req, res } });
    if (out) send(res, out);
  }

  return {
    route(method, path, handler) {
      exact.set(`${method.toUpperCase()} ${path}`, handler);
    },
    routePrefix(method, prefix, handler) {
      prefixes.push({ method: method.toUpperCase(), prefix, handler });
    },
    onUpgrade(path, handler) {
      upgrades.set(path, handler);
    },
    async listen() {
      server = createHttpServer((req, res) => {
        handle(req, res).catch((err: unknown) => {
          log.error({ err }, 'request failed');
          if (!res.headersSent) send(res, { status: 500, body: { error: 'internal error' } });
          else res.end();
        });
      });
      server.on('upgrade', (req, socket, head) => {
        const path = new URL(req.url ?? '/', 'http://local').pathname;
        const handler = upgrades.get(path);
        if (handler) handler(req, socket, head);
        else socket.destroy();
      });
      // Keep-alive sockets must not hold shutdown hostage.
      server.keepAliveTimeout = 5_000;
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(options.port, options.host, () => resolve());
      });
      const addr = server.address() as AddressInfo;
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      url = `http://${host}:${addr.port}`;
      return url;
    },
    async close() {
      if (!server) return;
      const s = server;
      server = undefined;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    get url() {
      return url;
    },
  };
}

function send(res: ServerResponse, out: RawResponse): void {
  const headers: Record<string, string> = { ...out.headers };
  let body: string | Buffer | Uint8Array | undefined;
  if (out.body === undefined) body = undefined;
  else if (typeof out.body === 'string' || out.body instanceof Uint8Array) body = out.body;
  else {
    body = JSON.stringify(out.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  res.writeHead(out.status, headers);
  res.end(body);
}
