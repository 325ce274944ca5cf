import { z } from 'zod';
import type { VendorError } from '../http.ts';

/** all-images.ai's generation object, read leniently: unknown fields pass, the ones we rely on are checked. */
export const generationSchema = z.object({
  id: z.string().min(1),
  name: z.string().optional(),
  status: z.number(),
  images: z
    .array(z.object({ id: z.string(), url: z.string().nullish(), urlFull: z.string().nullish(), free: z.boolean().nullish() }).passthrough())
    .nullish()
    .transform((v) => v ?? []),
  nbImages: z.number().nullish(),
  metaData: z.record(z.string(), z.unknown()).nullish(),
});
export type Generation = z.output<typeof generationSchema>;

export const listSchema = z.object({ filteredResults: z.unknown().optional(), prints: z.array(generationSchema) });

export const webhookSchema = z.object({
  id: z.string().optional(),
  type: z.string(),
  data: z.object({ id: z.string().min(1) }).passthrough(),
});

/** POST /v1/images/buy answers the purchased image's links (API reference, images). */
export const boughtSchema = z
  .object({ id: z.string().optional(), url: z.string().nullish(), urlFull: z.string().nullish(), urlUpscale: z.string().nullish(), urlUpscaleUHD: z.string().nullish() })
  .passthrough();

/**
 * all-images.ai sometimes answers image URLs with the slash before `v1` missing
 * (`https://api.all-images.aiv1/images/...`); its own WordPress plugin repairs that form. Only a URL on the
 * configured API host is repaired, so an answer cannot steer the repair at another host.
 */
export function repairImageUrl(raw: string, baseUrl: string): string {
  const host = new URL(baseUrl).host;
  const m = /^(https?:)\/\/([^/]+?)v1\//i.exec(raw);
  if (!m || m[2]!.toLowerCase() !== host.toLowerCase()) return raw;
  return `${m[1]}//${m[2]}/v1/${raw.slice(m[0].length)}`;
}

/** Documented lifecycle (0 Create, 1 Pending, 2 Processing, 3 Done, 4 Error); anything else is unknown. */
export const STATUS = { create: 0, pending: 1, processing: 2, done: 3, error: 4 } as const;

/**
 * Refusals of the description: the lifecycle page's "description not accepted" and the wording a content
 * filter uses. A 4xx saying so is a moderation refusal, not a bad request.
 */
const REFUSAL_TEXT = /not accepted|banned|forbidden|inappropriate|nsfw|moderat|content policy/i;

/** Error bodies are `{ statusCode, error, message: string[] }`. */
export function readAllImagesError(status: number, body: unknown, text: string): VendorError {
  const b = (body ?? {}) as { error?: unknown; message?: unknown };
  const messages = Array.isArray(b.message) ? b.message.map(String) : typeof b.message === 'string' ? [b.message] : [];
  const message = messages.length ? messages.join('; ') : typeof b.error === 'string' ? b.error : text.slice(0, 200);
  const refusal = status >= 400 && status < 500 && status !== 401 && status !== 402 && status !== 429 && REFUSAL_TEXT.test(message);
  return { message, moderation: refusal };
}
