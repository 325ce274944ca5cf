import { z } from 'zod';
import type { VendorError } from '../http.ts';

export const midjourneyResponseSchema = z.object({
  status: z.string().optional(),
  images: z.array(z.object({ url: z.string(), id: z.string().optional() }).passthrough()).min(1),
  prompt: z.string().optional(),
  model: z.string().optional(),
});

export const fluxResponseSchema = z.object({
  id: z.string().optional(),
  images: z.array(z.object({ url: z.string(), width: z.number().optional(), height: z.number().optional() }).passthrough()).min(1),
  seed: z.number().nullish(),
  status: z.string().optional(),
});

/**
 * The gateway documents that policy violations are rejected but not how: a 4xx whose text mentions
 * policy or moderation is read as a moderation refusal.
 */
const POLICY_TEXT = /polic|moderat|nsfw|inappropriate|prohibited|safety|violat/i;

/**
 * Error bodies are `{ "error": { type, message, code, param, status } }` (docs/errors). `quota_exceeded`
 * ("You have exceeded your monthly quota") is the account's, not a burst: no retry or failover fixes it.
 */
export function readPomeloError(status: number, body: unknown, text: string): VendorError {
  const b = (body ?? {}) as Record<string, unknown>;
  const e = b.error && typeof b.error === 'object' ? (b.error as Record<string, unknown>) : undefined;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const base = str(e?.message) ?? str(b.error) ?? str(b.message) ?? str(b.detail) ?? text.replace(/\s+/g, ' ').trim().slice(0, 200);
  const param = str(e?.param);
  const message = param && !base.includes(param) ? `${base} (parameter ${param})` : base;
  const code = str(e?.code);
  if (code === 'quota_exceeded') return { message: `${base} (quota_exceeded)`, outOfCredits: true };
  return { message, moderation: status >= 400 && status < 500 && status !== 401 && status !== 429 && POLICY_TEXT.test(base) };
}
