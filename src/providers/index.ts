import { ConfigError, type Config } from '../config.ts';
import { formatZodIssues } from '../core/errors.ts';
import type { Logger } from '../core/ports.ts';
import { silentLogger } from '../core/ports.ts';
import type { ImageProvider } from '../core/provider.ts';
import type { RawRequest, RawResponse } from '../server.ts';
import { createAllImagesProvider } from './allimages/adapter.ts';
import { readAllImagesError } from './allimages/api.ts';
import { createAllImagesWebhook } from './allimages/webhook.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { createImageDownloader } from './download.ts';
import { createHttpClient, type HttpClientOptions } from './http.ts';
import type { KeyValue } from './kv.ts';
import { Notifier } from './notifier.ts';
import type { PollTiming } from './poll.ts';
import { createLeonardoProvider, type LeonardoLimits } from './leonardo/adapter.ts';
import { readLeonardoError } from './leonardo/api.ts';
import { leonardoExtrasSchema, type LeonardoExtras } from './leonardo/body.ts';
import { createPresignedUploader } from './leonardo/upload.ts';
import { createLeonardoWebhook } from './leonardo/webhook.ts';
import { readPomeloError } from './pomelo/api.ts';
import { createFluxProvider, createMidjourneyProvider } from './pomelo/adapter.ts';
import { GatewayGate } from './pomelo/gate.ts';
import { createHordeProvider } from './horde/adapter.ts';
import { readHordeError } from './horde/api.ts';
import { createOpenAIProvider } from './openai/adapter.ts';
import { readOpenAIError } from './openai/api.ts';
import { openaiExtrasSchema, type OpenAIExtras } from './openai/body.ts';
import { createComfyUiProvider } from './comfyui/adapter.ts';
import { readComfyError } from './comfyui/api.ts';
import { loadComfyWorkflow } from './comfyui/load.ts';
import { createA1111Provider } from './a1111/adapter.ts';
import { readA1111Error } from './a1111/api.ts';

export { isProviderSideFailure } from './failover.ts';

const COMFY = 'ComfyUI';
const A1111 = 'AUTOMATIC1111';

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
  /** Start-up check of configurations that depend on the live server (ComfyUI's workflow against its nodes). */
  prepare(): Promise<void>;
  close(): Promise<void>;
}

/** Knobs tests turn down; production uses the defaults. */
export interface ProviderTuning extends PollTiming {
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
  leonardoLimits?: Partial<LeonardoLimits>;
  /** The gateway's request window; a minute in production. */
  pomeloWindowMs?: number;
  /** Self-hosted servers: preview throttle, and how often A1111's progress is read while it renders. */
  previewIntervalMs?: number;
  progressIntervalMs?: number;
  socketHandshakeTimeoutMs?: number;
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
  /** One agent, breaker and retry policy per provider; closed with the rest. */
  const client = (provider: string, baseUrl: string, headers: Record<string, string>, keySetting: string, readError: HttpClientOptions['readError'], observe?: HttpClientOptions['observe']) => {
    const http = createHttpClient({ provider, baseUrl, headers, keySetting, readError, observe, breaker: new CircuitBreaker({ failureThreshold: t.breakerThreshold, cooldownMs: t.breakerCooldownMs }), logger, ...httpTuning });
    closers.push(() => http.close());
    return http;
  };
  const downloader = (provider: string, baseUrl: string) => {
    const d = createImageDownloader({ provider, baseUrl, maxBytes: t.maxImageBytes, timeoutMs: t.downloadTimeoutMs });
    closers.push(() => d.close());
    return d;
  };
  const uploader = (provider: string, baseUrl: string) => {
    const u = createPresignedUploader({ provider, baseUrl, timeoutMs: t.downloadTimeoutMs });
    closers.push(() => u.close());
    return u;
  };
  const poll = { pollTimeoutMs: t.pollTimeoutMs, pollInitialDelayMs: t.pollInitialDelayMs, pollMaxDelayMs: t.pollMaxDelayMs };

  if (config.ALLIMAGES_API_KEY) {
    const notifier = new Notifier();
    const http = client('all-images.ai', config.ALLIMAGES_API_URL, { 'api-key': config.ALLIMAGES_API_KEY }, 'ALLIMAGES_API_KEY', readAllImagesError);
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

  if (config.LEONARDO_API_KEY) {
    const notifier = new Notifier();
    const http = client('Leonardo.Ai', config.LEONARDO_API_URL, { authorization: `Bearer ${config.LEONARDO_API_KEY}` }, 'LEONARDO_API_KEY', readLeonardoError);
    providers.push(
      createLeonardoProvider({
        http,
        downloader: downloader('Leonardo.Ai', config.LEONARDO_API_URL),
        notifier,
        extras: parseLeonardoOptions(config.LEONARDO_OPTIONS),
        variationStrength: config.LEONARDO_VARIATION_STRENGTH,
        uploader: uploader('Leonardo.Ai', config.LEONARDO_API_URL),
        webhooks: Boolean(config.LEONARDO_WEBHOOK_TOKEN),
        limits: t.leonardoLimits,
        logger,
        ...poll,
      }),
    );
    // Without a configured token anyone could post hints; the route exists only with one.
    if (config.LEONARDO_WEBHOOK_TOKEN) {
      routes.push({ method: 'POST', path: '/webhooks/leonardo', handler: createLeonardoWebhook(notifier, config.LEONARDO_WEBHOOK_TOKEN, logger) });
    }
  }

  if (config.POMELO_API_KEY && config.POMELO_API_URL) {
    // The docs give the base as https://www.pomeloapi.com/api; our paths carry /api, so either form works.
    const base = pomeloBase(config.POMELO_API_URL);
    const gate = new GatewayGate({ concurrency: config.POMELO_MAX_CONCURRENT, perWindow: config.POMELO_REQUESTS_PER_MINUTE, windowMs: t.pomeloWindowMs });
    const http = client('the Midjourney/Flux gateway', base, { authorization: `Bearer ${config.POMELO_API_KEY}` }, 'POMELO_API_KEY', readPomeloError, (status, headers) => gate.observe(status, headers));
    const dl = downloader('the Midjourney/Flux gateway', base);
    providers.push(
      createMidjourneyProvider({ http, downloader: dl, gate, generateTimeoutMs: t.syncHeadersTimeoutMs }),
      createFluxProvider({ http, downloader: dl, gate, generateTimeoutMs: t.syncHeadersTimeoutMs }),
    );
  } else if (config.POMELO_API_KEY) {
    logger.warn({}, 'POMELO_API_KEY is set but POMELO_API_URL is not: the Midjourney/Flux gateway has no public default URL, so it stays off');
  }

  if (config.AI_HORDE_API_KEY) {
    // The Horde asks every client to name itself (name:version:contact) in Client-Agent.
    const headers = { apikey: config.AI_HORDE_API_KEY, 'client-agent': 'atelier:0.1.0:self-hosted' };
    const http = client('AI Horde', config.AI_HORDE_URL, headers, 'AI_HORDE_API_KEY', readHordeError);
    providers.push(createHordeProvider({ http, downloader: downloader('AI Horde', config.AI_HORDE_URL), apiKey: config.AI_HORDE_API_KEY, ...poll }));
  }

  if (config.OPENAI_API_KEY) {
    const http = client('OpenAI', config.OPENAI_BASE_URL, { authorization: `Bearer ${config.OPENAI_API_KEY}` }, 'OPENAI_API_KEY', readOpenAIError);
    providers.push(createOpenAIProvider({ http, model: config.OPENAI_IMAGE_MODEL, extras: parseJsonOption('OPENAI_OPTIONS', config.OPENAI_OPTIONS, openaiExtrasSchema, '{"quality":"high","output_format":"webp"}') as OpenAIExtras, headersTimeoutMs: t.syncHeadersTimeoutMs }));
  }

  if (config.COMFYUI_URL) {
    const loaded = loadComfyWorkflow(config);
    const http = client(COMFY, config.COMFYUI_URL, {}, 'COMFYUI_URL', readComfyError);
    providers.push(
      createComfyUiProvider({
        http,
        downloader: downloader(COMFY, config.COMFYUI_URL),
        ...loaded,
        logger,
        previewIntervalMs: t.previewIntervalMs,
        socketHandshakeTimeoutMs: t.socketHandshakeTimeoutMs,
        ...poll,
      }),
    );
  }

  if (config.A1111_URL) {
    const auth: Record<string, string> = config.A1111_AUTH ? { authorization: `Basic ${Buffer.from(config.A1111_AUTH).toString('base64')}` } : {};
    const http = client(A1111, config.A1111_URL, auth, 'A1111_AUTH', readA1111Error);
    providers.push(
      createA1111Provider({
        http,
        model: config.A1111_MODEL,
        sampler: config.A1111_SAMPLER,
        logger,
        generateTimeoutMs: t.syncHeadersTimeoutMs,
        progressIntervalMs: t.progressIntervalMs,
        previewIntervalMs: t.previewIntervalMs,
      }),
    );
  }

  return {
    providers,
    routes,
    async doctor() {
      const lines: DoctorLine[] = [];
      for (const p of providers) {
        if (!p.check) {
          lines.push({ provider: p.id, ok: true, detail: 'configured; this API documents no key check, so the key is tried on the first job' });
          continue;
        }
        try {
          const r = await p.check(AbortSignal.timeout(20_000));
          lines.push({ provider: p.id, ...r });
        } catch (err) {
          lines.push({ provider: p.id, ok: false, detail: err instanceof Error ? err.message : String(err) });
        }
      }
      return lines;
    },
    async prepare() {
      for (const p of providers) await p.prepare?.(AbortSignal.timeout(20_000));
    },
    async close() {
      await Promise.allSettled(closers.map((c) => c()));
    },
  };
}

/** The gateway's origin (and any path before `/api`), whether the configured URL ends in `/api` or not. */
export function pomeloBase(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/api$/i, '');
}

/** A JSON setting checked against its schema; a bad value stops startup with a message naming the setting. */
function parseJsonOption<T>(setting: string, raw: string | undefined, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: Parameters<typeof formatZodIssues>[0] } } }, example: string): T | Record<string, never> {
  if (!raw) return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${setting}: expects JSON such as ${example}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ConfigError(`${setting}: ${formatZodIssues(parsed.error.issues)}`);
  return parsed.data;
}

/** LEONARDO_OPTIONS is JSON; a bad value stops startup with a message naming the setting. */
export function parseLeonardoOptions(raw: string | undefined): LeonardoExtras {
  if (!raw) return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError('LEONARDO_OPTIONS: expects JSON such as {"alchemy":true,"presetStyle":"DYNAMIC"}');
  }
  const parsed = leonardoExtrasSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError(`LEONARDO_OPTIONS: ${formatZodIssues(parsed.error.issues)}`);
  return parsed.data;
}
