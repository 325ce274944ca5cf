import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** Discord signs with Ed25519; node:crypto takes the raw 32-byte key once wrapped in its SPKI header. */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** How far a request's timestamp may be from our clock, either way. Discord's own `verifyKey` checks no time. */
export const MAX_SKEW_SECONDS = 5 * 60;

export type VerifyResult = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'future' | 'signature' };

type Headers = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** Why the signature headers alone cannot be genuine ('missing' / 'malformed'), read before any body byte. */
export function signatureHeadersProblem(headers: Headers): 'missing' | 'malformed' | undefined {
  const signature = one(headers['x-signature-ed25519']);
  const timestamp = one(headers['x-signature-timestamp']);
  if (!signature || !timestamp) return 'missing';
  if (!/^[0-9a-f]{128}$/i.test(signature) || !/^\d{1,12}$/.test(timestamp)) return 'malformed';
  return undefined;
}

/** Builds a verifier for one application's public key (64 hex digits from the Developer Portal). */
export function createVerifier(publicKeyHex: string): (headers: { signature?: string; timestamp?: string }, body: Buffer, nowMs?: number) => VerifyResult {
  const key: KeyObject = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(publicKeyHex, 'hex')]), format: 'der', type: 'spki' });
  return (headers, body, nowMs = Date.now()) => {
    const { signature, timestamp } = headers;
    const problem = signatureHeadersProblem({ 'x-signature-ed25519': signature, 'x-signature-timestamp': timestamp });
    if (problem || !signature || !timestamp) return { ok: false, reason: problem ?? 'missing' };
    // A genuine signature on an old (or future) timestamp is a replay; it gets the same 401 as a forgery.
    const skew = Number(timestamp) - nowMs / 1000;
    const signed = verify(null, Buffer.concat([Buffer.from(timestamp, 'utf8'), body]), key, Buffer.from(signature, 'hex'));
    if (!signed) return { ok: false, reason: 'signature' };
    if (skew < -MAX_SKEW_SECONDS) return { ok: false, reason: 'stale' };
    if (skew > MAX_SKEW_SECONDS) return { ok: false, reason: 'future' };
    return { ok: true };
  };
}
