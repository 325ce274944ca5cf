import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack signs every request it sends; requests older or newer than this are refused as replays. */
export const MAX_SKEW_SECONDS = 5 * 60;

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'future' | 'mismatch' };

/** `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>`: Slack's request signature. */
export function signSlackRequest(secret: string, timestamp: number | string, body: Buffer | string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex')}`;
}

/** Why the signature headers alone cannot be genuine ('missing' / 'malformed'), read before any body byte. */
export function signatureHeadersProblem(headers: { signature?: string | string[]; timestamp?: string | string[] }): 'missing' | 'malformed' | undefined {
  const signature = single(headers.signature);
  const timestamp = single(headers.timestamp);
  if (!signature || !timestamp) return 'missing';
  if (!/^\d{1,12}$/.test(timestamp) || !/^v0=[0-9a-f]{64}$/.test(signature)) return 'malformed';
  return undefined;
}

/**
 * Verifies a request as Slack documents it, on the exact raw bytes. Unlike Bolt's own check, a
 * timestamp too far in the future is refused as well: a captured request must not be replayable later.
 */
export function verifySlackSignature(
  secret: string,
  headers: { signature?: string | string[]; timestamp?: string | string[] },
  body: Buffer,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): SignatureCheck {
  const signature = single(headers.signature);
  const timestamp = single(headers.timestamp);
  const problem = signatureHeadersProblem(headers);
  if (problem || !signature || !timestamp) return { ok: false, reason: problem ?? 'missing' };
  const ts = Number(timestamp);
  if (nowSeconds - ts > MAX_SKEW_SECONDS) return { ok: false, reason: 'stale' };
  if (ts - nowSeconds > MAX_SKEW_SECONDS) return { ok: false, reason: 'future' };
  const expected = Buffer.from(signSlackRequest(secret, timestamp, body));
  const given = Buffer.from(signature);
  // Equal lengths are guaranteed by the format check above; timingSafeEqual needs them.
  return expected.length === given.length && timingSafeEqual(expected, given) ? { ok: true } : { ok: false, reason: 'mismatch' };
}

const single = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
