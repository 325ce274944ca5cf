import { UserError, type UserErrorCode } from '../core/errors.ts';

/** Where a failed call stopped: before the request left us, or after it may have reached the provider. */
export type CallPhase = 'not-sent' | 'maybe-sent' | 'answered';

/**
 * A UserError from a provider call, with what the failover and create-at-most-once logic need:
 * the HTTP status, whether the provider may have acted on the request, and whether the circuit was open.
 */
export class ProviderHttpError extends UserError {
  constructor(
    code: UserErrorCode,
    message: string,
    readonly provider: string,
    readonly info: { status?: number; phase: CallPhase; circuitOpen?: boolean; unreadable?: boolean; retryAfterMs?: number; blockedBy?: string },
  ) {
    super(code, message, {
      ...(info.retryAfterMs !== undefined ? { retryAfterMs: info.retryAfterMs } : {}),
      ...(info.blockedBy !== undefined ? { blockedBy: info.blockedBy } : {}),
    });
  }

  /** True when a create may have been billed although we have no usable answer (timeout, lost or garbled response, 5xx). */
  get outcomeUnknown(): boolean {
    return this.info.phase === 'maybe-sent' || this.info.unreadable === true || (this.info.phase === 'answered' && (this.info.status ?? 0) >= 500);
  }
}
