import { fmt, percentile } from './stats.ts';
import type { ImageProvider } from '../src/core/provider.ts';
import { LOCAL_CAPABILITIES } from '../src/providers/local/index.ts';
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
