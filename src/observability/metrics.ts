import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobEvents } from '../core/events.ts';
import { isFinal } from '../core/job.ts';
import type { Store } from '../core/ports.ts';
import { isRemoteEvent } from '../queue/event-bridge.ts';

/**
 * Process-wide metrics: platform adapters count a 429 with one call and need nothing handed to them;
 * process metrics (CPU, memory, event-loop lag) come with it.
 */
const shared = new Registry();
// Event-loop lag is sampled by a libuv timer; prom-client's default 10 ms wakes an idle process 100 times a
// second (about 6 ms of CPU per second, measured by `npm run bench idle`). Sampled once a second, every
// stall of a second or more (what threatens Discord's 3-second deadline) is still seen; shorter ones are sampled.
collectDefaultMetrics({ register: shared, prefix: 'atelier_', eventLoopMonitoringPrecision: 1_000 });
const rateLimited = new Counter({
  name: 'atelier_platform_rate_limited_total',
  help: 'Responses with HTTP 429 from a chat platform, by platform',
  labelNames: ['platform'] as const,
  registers: [shared],
});

/** Adapters call this on every 429 from their platform (Discord, Slack). */
export function countRateLimited(platform: string): void {
  rateLimited.inc({ platform });
}

export interface MetricsSources {
  store: Pick<Store, 'listJobs'>;
  events: JobEvents;
  /** Jobs waiting, by stage of the queue (e.g. queued, dispatched, active). */
  queueDepth(): Promise<Record<string, number>>;
}

export interface Metrics {
  readonly registry: Registry;
  /** The Prometheus text exposition of this app's metrics and the process-wide ones. */
  render(): Promise<{ contentType: string; body: string }>;
  stop(): void;
}

/** Run times, from a provider's few seconds to a slow queue's minutes. */
const SECONDS_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];
const SEEN_CAP = 10_000;

/**
 * One app's metrics. Finished jobs are counted where they finished: events bridged in from other
 * processes are skipped, so summing every process's counters counts each job once.
 */
export function createMetrics(src: MetricsSources): Metrics {
  const registry = new Registry();
  new Gauge({
    name: 'atelier_queue_depth',
    help: 'Jobs not yet running, by stage: queued (waiting for a fair turn), dispatched (handed to BullMQ), active',
    labelNames: ['stage'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [stage, n] of Object.entries(await src.queueDepth())) this.set({ stage }, n);
    },
  });
  new Gauge({
    name: 'atelier_jobs',
    help: 'Unfinished jobs in the store, by state',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      for (const state of ['queued', 'running'] as const) this.set({ state }, (await src.store.listJobs({ states: [state] })).length);
    },
  });
  const finished = new Counter({
    name: 'atelier_jobs_finished_total',
    help: 'Jobs that reached a final state in this process, by state and provider',
    labelNames: ['state', 'provider'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'atelier_provider_job_seconds',
    help: 'Time from a job starting to its final state, by provider and outcome',
    labelNames: ['provider', 'state'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const seen = new Set<string>();
  const unsubscribe = src.events.subscribe((event) => {
    const { job } = event;
    if (event.type !== 'job.updated' || !isFinal(job.state) || isRemoteEvent(event) || seen.has(job.id)) return;
    seen.add(job.id);
    if (seen.size > SEEN_CAP) seen.delete(seen.values().next().value!);
    finished.inc({ state: job.state, provider: job.provider });
    if (job.startedAt && job.finishedAt) latency.observe({ provider: job.provider, state: job.state }, (job.finishedAt - job.startedAt) / 1000);
  });

  return {
    registry,
    async render() {
      const merged = Registry.merge([registry, shared]);
      return { contentType: merged.contentType, body: await merged.metrics() };
    },
    stop: unsubscribe,
  };
}
