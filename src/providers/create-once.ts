import { UserError } from '../core/errors.ts';
import type { ProviderIntent, ProviderRunContext } from '../core/provider.ts';
import { ProviderHttpError } from './provider-error.ts';

/**
 * Where a provider gives us no way to find a lost create, an unknown outcome fails the job visibly
 * (retryable by the user) instead of risking a second bill.
 */
export function unknownOutcome(provider: string, what: string, cause?: unknown): UserError {
  const why = cause instanceof Error ? ` (${cause.message.replace(/\s*Try again.*$/, '')})` : '';
  return new UserError(
    'UNKNOWN_OUTCOME',
    `${provider} may or may not have started ${what}${why}; Atelier will not send it twice on its own. Press 🔄 to try again.`,
    { retryable: true },
  );
}

/** Records the intent, sends the create, records the provider's id: the create-at-most-once sequence. */
export async function createOnce(
  ctx: ProviderRunContext,
  intent: ProviderIntent,
  send: () => Promise<string>,
  onUnknown: (err: ProviderHttpError) => Promise<string>,
): Promise<string> {
  await ctx.recordIntent(intent);
  let id: string;
  try {
    id = await send();
  } catch (err) {
    if (err instanceof ProviderHttpError && err.outcomeUnknown) id = await onUnknown(err);
    else throw err;
  }
  await ctx.recordSubmitted(id);
  return id;
}

/** A resumed job with an intent but no provider id, for providers that cannot look a create up. */
export function refuseBlindResume(provider: string, ctx: ProviderRunContext, what: string): void {
  if (ctx.resume?.intent && !ctx.resume.providerJobId) {
    throw unknownOutcome(provider, what, new Error('Atelier restarted while the request was being sent'));
  }
}
