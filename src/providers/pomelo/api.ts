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

export function readPomeloError(status: number, body: unknown, text: string): VendorError {
  const b = (body ?? {}) as Record<string, unknown>;
  const pick = [b.error, b.message, b.detail].find((v) => typeof v === 'string' && v) as string | undefined;
  const nested = b.error && typeof b.error === 'object' ? (b.error as { message?: unknown }).message : undefined;
  const message = pick ?? (typeof nested === 'string' ? nested : text.replace(/\s+/g, ' ').trim().slice(0, 200));
  return { message, moderation: status >= 400 && status < 500 && status !== 401 && status !== 429 && POLICY_TEXT.test(message) };
}
