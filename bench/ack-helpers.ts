import { fmt, percentile } from './stats.ts';
import { Pool } from 'undici';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { ImageProvider } from '../src/core/provider.ts';
import { createLocalProvider, LOCAL_CAPABILITIES } from '../src/providers/local/index.ts';
import type { HttpServer } from '../src/server.ts';

/** Wraps the server so every answer on `path` records its time from the handler's start, in ms. */
export function timeRoute(server: HttpServer, path: string, out: number[]): void {
  const route = server.route.bind(server);
  server.route = (method, routePath, handler) =>
    route(method, routePath, async (req) => {
      if (routePath !== path) return handler(req);
      const s = performance.now();
      const answer = await handler(req);
      out.push(performance.now() - s);
      return answer;
    });
}

/** A provider that takes no CPU: it waits until canceled, so the figures are the adapter's and the core's. */
export const idleProvider: ImageProvider = {
  id: 'idle',
  displayName: 'Idle',
  capabilities: { ...LOCAL_CAPABILITIES },
  generate: (_req, ctx) => new Promise((_res, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('canceled')))),
};

/** The figures of an ack burst, printed as one line a note can quote. */
export function ackFigures(label: string, count: number, wallMs: number, failed: number, inProcess: number[], roundTrip: number[], target: string): Record<string, number> {
  const figures = {
    requests: count,
    failed,
    burstSeconds: wallMs / 1000,
    ackP50Ms: percentile(inProcess, 50),
    ackP99Ms: percentile(inProcess, 99),
    roundTripP50Ms: percentile(roundTrip, 50),
    roundTripP99Ms: percentile(roundTrip, 99),
  };
  console.log(
    `${label}: ${count} /imagine in ${fmt(wallMs / 1000)} s, ${failed} failed; receipt->answer p50 ${fmt(figures.ackP50Ms)} ms, p99 ${fmt(figures.ackP99Ms)} ms (${target}); loopback round trip p50 ${fmt(figures.roundTripP50Ms)} ms, p99 ${fmt(figures.roundTripP99Ms)} ms`,
  );
  return figures;
}

export interface BenchApp {
  app: App;
  pool: Pool;
  /** Receipt-to-answer times recorded on the route, in ms. */
  inProcess: number[];
}

/** The app with the local and idle providers, timing `path`, and a keep-alive client pool to fire at it. */
export async function startBenchApp(env: Record<string, string>, path: string): Promise<BenchApp> {
  const config = loadConfig({ PORT: '0', PLAYGROUND: 'off', MAX_QUEUED_PER_USER: '1000', ...env });
  const app = await createApp(config, { providers: [createLocalProvider({ longSide: 256, previewSide: 96 }), idleProvider] });
  const inProcess: number[] = [];
  timeRoute(app.server, path, inProcess);
  await app.start({ listen: true, platforms: true });
  const pool = new Pool(new URL(app.server.url).origin, { connections: 32, pipelining: 1 });
  return { app, pool, inProcess };
}

export interface SignedRequest {
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends the requests evenly over one second (a burst, not a flood) and times each round trip.
 * `accepted` says from the status and body whether the platform's answer was the expected ack.
 */
export async function fireBurst(pool: Pool, path: string, requests: readonly SignedRequest[], accepted: (status: number, text: string) => boolean): Promise<{ wallMs: number; failed: number; roundTrip: number[] }> {
  const roundTrip: number[] = [];
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    requests.map(async (r, n) => {
      const wait = t0 + (n * 1000) / requests.length - performance.now();
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      const s = performance.now();
      const res = await pool.request({ path, method: 'POST', headers: r.headers, body: r.body });
      const text = await res.body.text();
      roundTrip.push(performance.now() - s);
      if (!accepted(res.statusCode, text)) failed++;
    }),
  );
  return { wallMs: performance.now() - t0, failed, roundTrip };
}
