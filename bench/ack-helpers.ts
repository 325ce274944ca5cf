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
