import { UserError } from '../core/errors.ts';
import { ProviderHttpError } from './provider-error.ts';

/**
 * Whether a failure is the provider's fault (5xx, timeout, unreachable, open circuit, its own rate limit),
 * so the job may move to a channel's fallback provider. A user-side failure (validation, moderation,
 * a refused request) never moves, and neither does an unknown outcome: the first provider may have billed.
 */
export function isProviderSideFailure(err: unknown): boolean {
  if (err instanceof ProviderHttpError && err.info.circuitOpen) return true;
  if (!(err instanceof UserError)) return false;
  return err.code === 'PROVIDER_TIMEOUT' || err.code === 'PROVIDER_UNAVAILABLE' || err.code === 'RATE_LIMITED';
}
