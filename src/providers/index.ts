import type { Config } from '../config.ts';
import type { Logger } from '../core/ports.ts';
import { silentLogger } from '../core/ports.ts';
import type { ImageProvider } from '../core/provider.ts';
import type { RawRequest, RawResponse } from '../server.ts';
import { createAllImagesProvider } from './allimages/adapter.ts';
import { readAllImagesError } from './allimages/api.ts';
import { createAllImagesWebhook } from './allimages/webhook.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { createImageDownloader } from './download.ts';
import { createHttpClient } from './http.ts';
import type { KeyValue } from './kv.ts';
import { Notifier } from './notifier.ts';

export { isProviderSideFailure } from './failover.ts';

export interface ProviderRoute {
  method: 'POST';
  path: string;
  handler: (req: RawRequest) => Promise<RawResponse>;
}

export interface DoctorLine {
  provider: string;
  ok: boolean;
  detail: string;
}

export interface ConfiguredProviders {
  providers: ImageProvider[];
  /** Webhook receivers to mount on the one HTTP server. */
  routes: ProviderRoute[];
  /** Checks each configured provider's key; never throws. */
  doctor(): Promise<DoctorLine[]>;
  close(): Promise<void>;
}

/** Knobs tests turn down; production uses the defaults. */
export interface ProviderTuning {
  pollTimeoutMs?: number;
  pollInitialDelayMs?: number;
  pollMaxDelayMs?: number;
  headersTimeoutMs?: number;
  /** Synchronous gateways hold the request open while they render. */
  syncHeadersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  connectTimeoutMs?: number;
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  maxRetryAfterMs?: number;
  maxImageBytes?: number;
  downloadTimeoutMs?: number;
  reconcileDelayMs?: number;
  breakerThreshold?: number;
  breakerCooldownMs?: number;
}

export interface ProviderDeps {
  kv: KeyValue;
  logger?: Logger;
  tuning?: ProviderTuning;
}

/** Builds every provider whose key (and, for the gateway, URL) is configured, with their webhook routes. */
export function createProvidersFromConfig(config: Config, deps: ProviderDeps): ConfiguredProviders {
  const logger = deps.logger ?? silentLogger;
  const t = deps.tuning ?? {};
  const providers: ImageProvider[] = [];
  const routes: ProviderRoute[] = [];
  const closers: (() => Promise<void>)[] = [];

  const httpTuning = {
    connectTimeoutMs: t.connectTimeoutMs,
    headersTimeoutMs: t.headersTimeoutMs,
    bodyTimeoutMs: t.bodyTimeoutMs,
    maxAttempts: t.maxAttempts,
    baseDelayMs: t.baseDelayMs,
    maxDelayMs: t.maxDelayMs,
    maxRetryAfterMs: t.maxRetryAfterMs,
  };
  const breaker = () => new CircuitBreaker({ failureThreshold: t.breakerThreshold, cooldownMs: t.breakerCooldownMs });
  const downloader = (provider: string, baseUrl: string) => {
    const d = createImageDownloader({ provider, baseUrl, maxBytes: t.maxImageBytes, timeoutMs: t.downloadTimeoutMs });
    closers.push(() => d.close());
    return d;
  };
  const poll = { pollTimeoutMs: t.pollTimeoutMs, pollInitialDelayMs: t.pollInitialDelayMs, pollMaxDelayMs: t.pollMaxDelayMs };

  if (config.ALLIMAGES_API_KEY) {
    const notifier = new Notifier();
    const http = createHttpClient({
      provider: 'all-images.ai',
      baseUrl: config.ALLIMAGES_API_URL,
      headers: { 'api-key': config.ALLIMAGES_API_KEY },
      keySetting: 'ALLIMAGES_API_KEY',
      readError: readAllImagesError,
      breaker: breaker(),
      logger,
      ...httpTuning,
    });
    closers.push(() => http.close());
    providers.push(
      createAllImagesProvider({
        http,
        downloader: downloader('all-images.ai', config.ALLIMAGES_API_URL),
        notifier,
        kv: deps.kv,
        publicUrl: config.PUBLIC_URL,
        logger,
        reconcileDelayMs: t.reconcileDelayMs,
        ...poll,
      }),
    );
    routes.push({ method: 'POST', path: '/webhooks/allimages', handler: createAllImagesWebhook(notifier, logger) });
  }

  return {
    providers,
    routes,
    async doctor() {
      const lines: DoctorLine[] = [];
      for (const p of providers) {
        if (!p.check) continue;
        try {
          const r = await p.check(AbortSignal.timeout(20_000));
          lines.push({ provider: p.id, ...r });
        } catch (err) {
          lines.push({ provider: p.id, ok: false, detail: err instanceof Error ? err.message : String(err) });
        }
      }
      return lines;
    },
    async close() {
      await Promise.allSettled(closers.map((c) => c()));
    },
  };
}
