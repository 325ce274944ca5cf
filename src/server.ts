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

/**
 * Limits a route applies before its handler sees anything. Routes open to the internet (platform
 * callbacks) are checked before anyone is trusted: their signature headers must be well-formed before a
 * byte of the body is read, and their bodies are capped to what the platform can send.
 */
export interface RouteLimits {
  /** Bodies larger than this are refused with 413 (declared or read). */
  maxBodyBytes?: number;
  /** A reason to refuse from the headers alone (e.g. missing signature headers), or undefined to read the body. */
  precheck?: (headers: IncomingMessage['headers']) => string | undefined;
  /** What a person reads when the body is over the cap (an upload page shows it); without it, a terse error for machines. */
  tooLarge?: string;
}

export interface HttpServer {
  route(method: string, path: string, handler: RouteHandler, limits?: RouteLimits): void;
  /** Matches every path under `prefix` (e.g. '/images/'). */
  routePrefix(method: string, prefix: string, handler: RouteHandler): void;
  onUpgrade(path: string, handler: UpgradeHandler): void;
  listen(): Promise<string>;
  /** Refuses new connections; open ones finish their requests until close(). */
  stopAccepting(): void;
  close(): Promise<void>;
  readonly url: string;
}

export interface ServerOptions {
  host: string;
  port: number;
  logger?: Logger;
  /** Default body cap for routes that set none; bodies larger are refused with 413 before they are read whole. */
  maxBodyBytes?: number;
  /** Headers, then the whole request, must arrive within this; a trickled body is cut (default 10 s). */
  requestTimeoutMs?: number;
  /** Open connections at most; more are closed at once (default 256). */
  maxConnections?: number;
  /** Bodies being read at once (none of them verified yet); more get 503 with Retry-After (default 32). */
  maxBodiesInFlight?: number;
}

/** Default cap for routes that name none: the playground's JSON commands and provider webhook hints are small. */
const DEFAULT_MAX_BODY = 1024 * 1024;

/** The one HTTP server: platforms, webhooks and the playground mount routes on it. */
export function createServer(options: ServerOptions): HttpServer {
  const log = options.logger ?? silentLogger;
  const defaultMaxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const maxBodiesInFlight = options.maxBodiesInFlight ?? 32;
  const exact = new Map<string, RouteHandler>();
  const limitsOf = new Map<string, RouteLimits>();
  const prefixes: { method: string; prefix: string; handler: RouteHandler }[] = [];
  let bodiesInFlight = 0;
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
      // Nothing here will read the body: answer and close rather than drain it.
      return otherMethod ? refuse(req, res, 405, 'method not allowed') : refuse(req, res, 404, 'not found');
    }
    const limits = limitsOf.get(`${method} ${parsed.pathname}`) ?? {};
    const maxBody = limits.maxBodyBytes ?? defaultMaxBody;
    const refused = limits.precheck?.(req.headers);
    if (refused) return refuse(req, res, 401, refused);
    const declared = Number(req.headers['content-length'] ?? 0);
    const tooLarge = limits.tooLarge ? { error: { code: 'TOO_LARGE', message: limits.tooLarge } } : 'request too large';
    if (declared > maxBody) return refuse(req, res, 413, tooLarge);
    const hasBody = declared > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && bodiesInFlight >= maxBodiesInFlight) return refuse(req, res, 503, 'busy, try again', { 'retry-after': '1' });
    let body: Buffer | undefined;
    if (hasBody) bodiesInFlight++;
    try {
      body = await readBody(req, maxBody);
    } finally {
      if (hasBody) bodiesInFlight--;
    }
    if (!body) return refuse(req, res, 413, tooLarge);
    const out = await handler({ method, path: parsed.pathname, query: parsed.searchParams, headers: req.headers, body, raw: { req, res } });
    if (out) send(res, out);
  }

  return {
    route(method, path, handler, limits) {
      exact.set(`${method.toUpperCase()} ${path}`, handler);
      if (limits) limitsOf.set(`${method.toUpperCase()} ${path}`, limits);
    },
    routePrefix(method, prefix, handler) {
      prefixes.push({ method: method.toUpperCase(), prefix, handler });
    },
    onUpgrade(path, handler) {
      upgrades.set(path, handler);
    },
    async listen() {
      // Node checks the request timeouts on this interval (30 s by default): seconds, not minutes.
      server = createHttpServer({ connectionsCheckingInterval: 1_000, headersTimeout: requestTimeoutMs, requestTimeout: requestTimeoutMs }, (req, res) => {
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
      // Keep-alive sockets must not hold shutdown hostage, nor idle connections a slot.
      server.keepAliveTimeout = 5_000;
      server.maxConnections = options.maxConnections ?? 256;
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(options.port, options.host, () => resolve());
      });
      const addr = server.address() as AddressInfo;
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      url = `http://${host}:${addr.port}`;
      return url;
    },
    stopAccepting() {
      if (!server?.listening) return;
      server.close();
      server.closeIdleConnections();
    },
    async close() {
      if (!server) return;
      const s = server;
      server = undefined;
      s.closeAllConnections();
      if (s.listening) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    get url() {
      return url;
    },
  };
}

/** The body, or undefined when it grows past `max`. A client that stops sending is cut by the request timeout. */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** How long a refused client may keep sending (discarded) after its answer, so the answer is not lost to a reset. */
const LINGER_MS = 1_000;

/**
 * Answers from the headers alone and hangs up, so an unread body costs nothing. What the client still
 * sends is discarded for a moment rather than left unread: closing a socket with unread data resets it,
 * and a reset can destroy the answer before the client has read it.
 */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, error: string | { error: unknown }, headers: Record<string, string> = {}): void {
  send(res, { status, headers, body: typeof error === 'string' ? { error } : error });
  res.once('finish', () => {
    const socket = req.socket;
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
    socket.once('close', () => clearTimeout(timer));
  });
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
