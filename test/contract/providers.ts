import type { ImageProvider, ProviderCapabilities, ProviderRunContext } from '../../src/core/provider.ts';
import { UserError } from '../../src/core/errors.ts';

/**
 * Providers the contract suite adds beside `local`: one that always fails (the failure scenario) and
 * one that runs until canceled (the cancel scenario). Every driver registers both.
 */
const caps: ProviderCapabilities = {
  modes: ['simple'],
  fields: ['aspectRatio', 'count', 'seed'],
  aspectRatios: 'any',
  maxCount: 4,
  upscale: false,
  variations: false,
  progressPercent: true,
  previews: false,
  webhooks: false,
};

export const failingProvider: ImageProvider = {
  id: 'failing',
  displayName: 'Always Failing',
  capabilities: caps,
  async generate() {
    throw new UserError('PROVIDER_UNAVAILABLE', 'Always Failing is down (test provider).', { retryable: true });
  },
};

/** Reports 10 % and then waits for its AbortSignal (or 60 s, then fails). */
export const slowProvider: ImageProvider = {
  id: 'slow',
  displayName: 'Slow',
  capabilities: caps,
  generate(_req, ctx: ProviderRunContext) {
    ctx.progress({ percent: 10, stage: 'Drawing' });
    return new Promise((_resolve, reject) => {
      const timer = setTimeout(() => reject(new UserError('PROVIDER_TIMEOUT', 'Slow gave up (test provider).')), 60_000);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new UserError('CANCELED', 'Canceled.'));
      });
    });
  },
};

export const contractProviders: readonly ImageProvider[] = [failingProvider, slowProvider];
