import { randomBytes } from 'node:crypto';

/** Stable codes for what a user can fix or needs to know; platforms map them to wording, tests to assertions. */
export type UserErrorCode =
  | 'INVALID_OPTIONS'
  | 'UNKNOWN_FLAG'
  | 'CONFLICT'
  | 'UNSUPPORTED'
  | 'MODERATION'
  | 'PROVIDER_REJECTED'
  | 'QUEUE_FULL'
  | 'QUOTA_EXCEEDED'
  /** The same press again while its job is queued or running: the answer names that job. */
  | 'ALREADY_RUNNING'
  | 'NOT_ALLOWED'
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'PROVIDER_TIMEOUT'
  | 'PROVIDER_UNAVAILABLE'
  | 'UNKNOWN_OUTCOME'
  | 'CANCELED'
  | 'NOT_CONFIGURED'
  /** A user's picture that cannot be used: too large, not an image, unreachable or at a private address. */
  | 'INVALID_IMAGE';

/** An error whose message is written for the person who caused it: it says what to change. */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    readonly code: UserErrorCode,
    message: string,
    readonly details: { retryAfterMs?: number; blockedBy?: string; retryable?: boolean; jobId?: string } = {},
  ) {
    super(message);
  }
}

/** What a chat message may show about any failure: never a stack trace. */
export interface ShownError {
  code: UserErrorCode | 'INTERNAL';
  message: string;
  incidentId?: string;
  retryable: boolean;
}

export const newIncidentId = (): string => randomBytes(4).toString('hex');

const RETRYABLE: ReadonlySet<string> = new Set(['PROVIDER_TIMEOUT', 'PROVIDER_UNAVAILABLE', 'RATE_LIMITED', 'UNKNOWN_OUTCOME']);

/**
 * Sorts any thrown value into "tell the user" or "incident": the one classifier every platform funnel uses.
 * `log` receives incidents with their id so an operator can find the stack.
 */
export function classifyError(err: unknown, log?: (incidentId: string, err: unknown) => void): ShownError {
  if (err instanceof UserError) {
    return { code: err.code, message: err.message, retryable: err.details.retryable ?? RETRYABLE.has(err.code) };
  }
  if (isZodError(err)) {
    return { code: 'INVALID_OPTIONS', message: formatZodIssues(err.issues), retryable: false };
  }
  const incidentId = newIncidentId();
  log?.(incidentId, err);
  return { code: 'INTERNAL', message: `Something went wrong (incident ${incidentId}).`, incidentId, retryable: true };
}

interface ZodLikeIssue {
  path: readonly PropertyKey[];
  message: string;
}
function isZodError(err: unknown): err is { issues: ZodLikeIssue[] } {
  return typeof err === 'object' && err !== null && (err as { name?: string }).name === 'ZodError' && Array.isArray((err as { issues?: unknown }).issues);
}

/** One line per problem, naming the option: "count: must be at most 8". */
export function formatZodIssues(issues: readonly ZodLikeIssue[]): string {
  return issues
    .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('\n');
}
