import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.ts';
import { isProviderSideFailure } from '../../src/providers/failover.ts';
import { ProviderHttpError } from '../../src/providers/provider-error.ts';

describe('isProviderSideFailure', () => {
  it('moves provider-side failures: 5xx, timeouts, unreachable, open circuit, provider rate limit', () => {
    expect(isProviderSideFailure(new ProviderHttpError('PROVIDER_UNAVAILABLE', '502', 'X', { status: 502, phase: 'answered' }))).toBe(true);
    expect(isProviderSideFailure(new ProviderHttpError('PROVIDER_TIMEOUT', 't', 'X', { phase: 'maybe-sent' }))).toBe(true);
    expect(isProviderSideFailure(new ProviderHttpError('PROVIDER_UNAVAILABLE', 'open', 'X', { phase: 'not-sent', circuitOpen: true }))).toBe(true);
    expect(isProviderSideFailure(new UserError('PROVIDER_TIMEOUT', 'poll timed out'))).toBe(true);
    expect(isProviderSideFailure(new UserError('RATE_LIMITED', 'slow', { retryAfterMs: 1000 }))).toBe(true);
  });

  it('keeps user-side failures and unknown outcomes where they are', () => {
    for (const code of ['INVALID_OPTIONS', 'UNSUPPORTED', 'MODERATION', 'PROVIDER_REJECTED', 'CONFLICT', 'UNKNOWN_OUTCOME', 'CANCELED'] as const) {
      expect(isProviderSideFailure(new UserError(code, code)), code).toBe(false);
    }
    expect(isProviderSideFailure(new Error('bug'))).toBe(false);
    expect(isProviderSideFailure(undefined)).toBe(false);
  });
});
