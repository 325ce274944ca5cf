import { loadConfig } from '../../src/config.ts';
import type { ProviderIntent, ProviderProgress, ProviderRunContext } from '../../src/core/provider.ts';
import { generationRequestSchema, type GenerationRequest, type GenerationRequestInput } from '../../src/core/request.ts';
import { createProvidersFromConfig, type ProviderTuning } from '../../src/providers/index.ts';
import type { KeyValue } from '../../src/providers/kv.ts';

export interface TestCtx extends ProviderRunContext {
  intents: ProviderIntent[];
  submitted: string[];
  progressLog: ProviderProgress[];
  /** Order of recordIntent / recordSubmitted calls, to prove intent comes first. */
  calls: string[];
}

export function makeCtx(over: Partial<ProviderRunContext> = {}): TestCtx {
  const ctx: TestCtx = {
    jobId: 'job1',
    signal: new AbortController().signal,
    allowNsfw: false,
    intents: [],
    submitted: [],
    progressLog: [],
    calls: [],
    progress(update) {
      ctx.progressLog.push(update);
    },
    async recordIntent(intent) {
      ctx.calls.push('intent');
      ctx.intents.push(intent);
    },
    async recordSubmitted(id) {
      ctx.calls.push('submitted');
      ctx.submitted.push(id);
    },
    ...over,
  };
  return ctx;
}

export const req = (input: GenerationRequestInput): GenerationRequest => generationRequestSchema.parse(input);

export function memoryKv(): KeyValue & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    async getValue(k) {
      return data.get(k);
    },
    async setValue(k, v) {
      data.set(k, v);
    },
  };
}

/** Small waits so fault tests stay fast; nothing here asserts on time. */
export const fastTuning: ProviderTuning = {
  pollTimeoutMs: 5_000,
  pollInitialDelayMs: 5,
  pollMaxDelayMs: 20,
  headersTimeoutMs: 2_000,
  bodyTimeoutMs: 2_000,
  connectTimeoutMs: 2_000,
  maxAttempts: 3,
  baseDelayMs: 5,
  maxDelayMs: 20,
  maxRetryAfterMs: 2_000,
  reconcileDelayMs: 0,
  downloadTimeoutMs: 5_000,
  breakerThreshold: 50,
};

export function providersFor(env: Record<string, string>, opts: { kv?: KeyValue; tuning?: ProviderTuning } = {}) {
  return createProvidersFromConfig(loadConfig(env), { kv: opts.kv ?? memoryKv(), tuning: { ...fastTuning, ...opts.tuning } });
}

/** Runs `fn` and returns what it threw, failing the test if it did not throw. */
export async function caught(fn: () => Promise<unknown>): Promise<any> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** Every provider Atelier ships, configured with addresses that are never called: for tests that read capabilities. */
export const everyShippedProvider = () =>
  providersFor({
  ALLIMAGES_API_KEY: 'k',
  ALLIMAGES_API_URL: 'http://127.0.0.1:9',
  LEONARDO_API_KEY: 'k',
  LEONARDO_API_URL: 'http://127.0.0.1:9/api/rest/v1',
  POMELO_API_KEY: 'k',
  POMELO_API_URL: 'http://127.0.0.1:9',
  AI_HORDE_API_KEY: 'k',
  AI_HORDE_URL: 'http://127.0.0.1:9/api',
  OPENAI_API_KEY: 'k',
  OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
  COMFYUI_URL: 'http://127.0.0.1:9',
  A1111_URL: 'http://127.0.0.1:9',
});
