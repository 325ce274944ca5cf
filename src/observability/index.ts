import type { HttpServer } from '../server.ts';
import type { Metrics } from './metrics.ts';
import { checkReadiness, type ReadinessChecks } from './readiness.ts';

export { countRateLimited, createMetrics, type Metrics, type MetricsSources } from './metrics.ts';
export { checkReadiness, type Readiness, type ReadinessChecks } from './readiness.ts';

/** `GET /metrics` (Prometheus text) and `GET /readyz` (200 when the database and Redis answer, else 503). */
export function mountObservability(server: HttpServer, metrics: Metrics, readiness: ReadinessChecks): void {
  server.route('GET', '/metrics', async () => {
    const { contentType, body } = await metrics.render();
    return { status: 200, headers: { 'content-type': contentType }, body };
  });
  server.route('GET', '/readyz', async () => {
    const r = await checkReadiness(readiness);
    return { status: r.ok ? 200 : 503, body: r };
  });
}
