import { existsSync } from 'node:fs';
import { z } from 'zod';

const empty = (v: unknown) => (v === '' ? undefined : v);
const str = () => z.preprocess(empty, z.string().optional());
const url = (what: string) => z.preprocess(empty, z.url({ message: `expects a URL (${what})` }).optional());
const int = (def: number, min: number, max: number) => z.preprocess(empty, z.coerce.number().int().min(min).max(max).default(def));
const bool = (def: boolean) =>
  z.preprocess(empty, z.enum(['true', 'false', '1', '0', 'yes', 'no']).default(def ? 'true' : 'false').transform((v) => ['true', '1', 'yes'].includes(v)));

/**
 * Every setting, read once from the environment. Documented in the README's configuration table;
 * nothing else in the project reads process.env.
 */
export const configSchema = z.object({
  PORT: int(8787, 0, 65535),
  HOST: z.preprocess(empty, z.string().default('127.0.0.1')),
  /** A worker's own port for /healthz, /readyz and /metrics; unset, a worker listens on nothing. */
  METRICS_PORT: z.preprocess(empty, z.coerce.number().int().min(0).max(65535).optional()),
  /** Headers, then the whole request body, must arrive within this: slow clients hold nothing for long. */
  HTTP_TIMEOUT_SECONDS: int(10, 1, 300),
  HTTP_MAX_CONNECTIONS: int(256, 8, 100_000),
  DATA_DIR: z.preprocess(empty, z.string().default('./data')),
  DATABASE_URL: url('postgres://user@host/db, or unset for SQLite in DATA_DIR'),
  REDIS_URL: url('redis://host:6379, or unset for the in-process queue'),
  /** BullMQ key prefix: deployments (or test runs) sharing one Redis keep apart by it. */
  REDIS_PREFIX: z.preprocess(empty, z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expects letters, digits, - and _').default('atelier')),
  DEFAULT_PROVIDER: z.preprocess(empty, z.string().default('local')),
  LOG_LEVEL: z.preprocess(empty, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  PUBLIC_URL: url('the public https URL of this server, for provider webhooks'),
  DISCORD_TOKEN: str(),
  DISCORD_APPLICATION_ID: str(),
  DISCORD_PUBLIC_KEY: z.preprocess(empty, z.string().regex(/^[0-9a-f]{64}$/i, 'expects the 64-hex-digit public key from the Developer Portal').optional()),
  DISCORD_API_URL: z.preprocess(empty, z.url().default('https://discord.com/api')),
  DISCORD_SHARDS: z.preprocess(empty, z.string().regex(/^(auto|\d+(-\d+)?\/[1-9]\d*)$/, 'expects auto, or this process\'s shard ids and the total like 0-3/8').default('auto')),
  SLACK_BOT_TOKEN: str(),
  SLACK_SIGNING_SECRET: str(),
  SLACK_APP_TOKEN: str(),
  SLACK_API_URL: z.preprocess(empty, z.url().default('https://slack.com/api/')),
  ALLIMAGES_API_KEY: str(),
  ALLIMAGES_API_URL: z.preprocess(empty, z.url().default('https://api.all-images.ai')),
  LEONARDO_API_KEY: str(),
  LEONARDO_API_URL: z.preprocess(empty, z.url().default('https://cloud.leonardo.ai/api/rest/v1')),
  LEONARDO_WEBHOOK_TOKEN: str(),
  /** Leonardo settings with no typed option (alchemy, photoReal, contrast, ultra, presetStyle, modelId, ...), as JSON. */
  LEONARDO_OPTIONS: str(),
  /** init_strength of a Leonardo variation (V): how closely it follows its source, 0.1 (loosely) to 0.9. */
  LEONARDO_VARIATION_STRENGTH: z.preprocess(empty, z.coerce.number().min(0.1).max(0.9).default(0.5)),
  POMELO_API_KEY: str(),
  POMELO_API_URL: url('the Midjourney/Flux gateway base URL, with or without /api'),
  /** Concurrent requests the gateway allows this key: 2 Free, 5 Pro, 25 Business (its rate-limits page). */
  POMELO_MAX_CONCURRENT: int(2, 1, 1000),
  /** Requests per minute the gateway allows this key: 10 Free, 60 Pro, 300 Business. */
  POMELO_REQUESTS_PER_MINUTE: int(10, 1, 100_000),
  /** An AI Horde key, or 0000000000 for the Horde's anonymous access (no sign-up, back of the queue). */
  AI_HORDE_API_KEY: str(),
  AI_HORDE_URL: z.preprocess(empty, z.url().default('https://aihorde.net/api')),
  OPENAI_API_KEY: str(),
  /** OpenAI or a server that speaks its Images API. */
  OPENAI_BASE_URL: z.preprocess(empty, z.url().default('https://api.openai.com/v1')),
  OPENAI_IMAGE_MODEL: z.preprocess(empty, z.string().default('gpt-image-2')),
  /** OpenAI settings with no typed option (quality, output_format, output_compression, moderation, partial_images), as JSON. */
  OPENAI_OPTIONS: str(),
  COMFYUI_URL: url('the ComfyUI server, e.g. http://127.0.0.1:8188'),
  /** An API-format workflow file (ComfyUI: "Export (API)"); unset uses the shipped SDXL text-to-image workflow. */
  COMFYUI_WORKFLOW: str(),
  /** With COMFYUI_WORKFLOW: a JSON file saying which node input takes which value, e.g. {"prompt":"6.text","seed":"3.seed"}. */
  COMFYUI_WORKFLOW_MAP: str(),
  /** The checkpoint file the workflow loads, as ComfyUI lists it. */
  COMFYUI_CHECKPOINT: str(),
  A1111_URL: url('the AUTOMATIC1111 / Forge / SD.Next server started with --api, e.g. http://127.0.0.1:7860'),
  /** The server's --api-auth credentials. */
  A1111_AUTH: z.preprocess(empty, z.string().regex(/^[^:]+:.+$/, 'expects user:password (the server\'s --api-auth)').optional()),
  /** Checkpoint for Atelier's jobs (sent per request in override_settings); unset uses whatever the server has loaded. */
  A1111_MODEL: str(),
  A1111_SAMPLER: str(),
  PLAYGROUND: z.preprocess(empty, z.enum(['auto', 'on', 'off']).default('auto')),
  PLAYGROUND_TOKEN: str(),
  IMAGE_RETENTION_DAYS: int(0, 0, 36500),
  /** Largest picture a user may give (image prompts, /blend, attachments), in MiB. */
  IMAGE_INPUT_MAX_MB: int(20, 1, 200),
  /**
   * Exact origins (`http://127.0.0.1:9000,https://pics.lan`) whose pictures may be fetched although they are on a
   * private network (or plain http): an operator's own image host, a test's loopback server. Nothing else private is reached.
   */
  IMAGE_FETCH_ALLOW_ORIGINS: z.preprocess(
    empty,
    z
      .string()
      .optional()
      .transform((v, ctx) => {
        const out: string[] = [];
        for (const part of (v ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
          const origin = URL.canParse(part) ? new URL(part).origin : 'null';
          if (origin === 'null' || !/^https?:$/.test(new URL(part).protocol)) ctx.addIssue({ code: 'custom', message: `expects comma-separated http(s) origins like http://127.0.0.1:9000, not "${part}"` });
          else out.push(origin);
        }
        return out;
      }),
  ),
  /** Discord's attachment CDN (media.discordapp.net is always one too): a 404 there means the link expired. Tests point it at a fake. */
  DISCORD_CDN_URL: z.preprocess(empty, z.url().default('https://cdn.discordapp.com')),
  /** Slack's file host: files the platform hands us there are fetched with SLACK_BOT_TOKEN, and no other host gets it. */
  SLACK_FILES_URL: z.preprocess(empty, z.url().default('https://files.slack.com')),
  /** Secret behind the expiring PUBLIC_URL/files/… links of stored pictures (for providers that fetch pictures); unset, one is generated and kept in the store. */
  FILES_SECRET: z.preprocess(empty, z.string().min(16, 'expects at least 16 characters').optional()),
  /**
   * Jobs mostly wait on their provider, so the limits follow the providers' own concurrency, not the CPU:
   * `npm run bench busy` (40 jobs from ten people in one channel, a provider running 10 at once, as
   * Leonardo does) took 4.4× the provider's own time at the old 4 / 3 per channel, 1.5× at 16 / 12: a
   * channel must be able to fill a provider's slots. Per user and per channel count jobs at the provider
   * only (a job composing its result has left it); the global limit counts those too, so it bounds the
   * results in memory and must leave room for a round of them beside a full provider: at 16 the provider's
   * last job finished at 19.7 s of an ideal 16.0 (its slots idled while ten grids were composed), at 24 at
   * 16.5 s. Per user stays 2: the round-robin shares the slots fairly.
   */
  MAX_CONCURRENT_JOBS: int(24, 1, 256),
  MAX_CONCURRENT_PER_USER: int(2, 1, 64),
  MAX_CONCURRENT_PER_CHANNEL: int(12, 1, 256),
  MAX_QUEUED_PER_USER: int(10, 1, 1000),
  MAX_QUEUED_TOTAL: int(1000, 1, 1_000_000),
  DAILY_QUOTA_PER_USER: int(0, 0, 1_000_000),
  JOB_TIMEOUT_SECONDS: int(600, 5, 86_400),
  WORKER: bool(false),
  /** With REDIS_URL: whether `start` also runs jobs; false for web processes that only take commands (workers run them). */
  RUN_JOBS: bool(true),
});

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment; the error is one line per bad variable, naming it and what it expects. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(source);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `${String(i.path[0] ?? '?')}: ${i.message}`);
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

/**
 * Reads `.env` from the working directory when there is one, as docker compose does, so the guides'
 * "copy .env.example to .env" works for `npm start` too. A variable already in the environment wins.
 */
export function loadDotEnv(file = '.env'): boolean {
  if (!existsSync(file)) return false;
  process.loadEnvFile(file);
  return true;
}

/** Names of every setting, for `doctor` and the docker-compose / README consistency tests. */
export const CONFIG_NAMES = Object.keys(configSchema.shape) as (keyof Config)[];

export const platformsConfigured = (c: Config) => ({
  discordHttp: Boolean(c.DISCORD_PUBLIC_KEY && c.DISCORD_APPLICATION_ID),
  discordGateway: Boolean(!c.DISCORD_PUBLIC_KEY && c.DISCORD_TOKEN),
  slack: Boolean(c.SLACK_BOT_TOKEN && (c.SLACK_SIGNING_SECRET || c.SLACK_APP_TOKEN)),
});
