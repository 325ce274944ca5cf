import { z } from 'zod';
import type { VendorError } from '../http.ts';

/** all-images.ai's generation object, read leniently: unknown fields pass, the ones we rely on are checked. */
export const generationSchema = z.object({
  id: z.string().min(1),
  name: z.string().optional(),
  status: z.number(),
  images: z
    .array(z.object({ id: z.string(), url: z.string().nullish(), urlFull: z.string().nullish() }).passthrough())
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

/** Documented lifecycle (0 Create, 1 Pending, 2 Processing, 3 Done, 4 Error); anything else is unknown. */
export const STATUS = { create: 0, pending: 1, processing: 2, done: 3, error: 4 } as const;

/** Error bodies are `{ statusCode, error, message: string[] }`. */
export function readAllImagesError(_status: number, body: unknown, text: string): VendorError {
  const b = (body ?? {}) as { error?: unknown; message?: unknown };
  const messages = Array.isArray(b.message) ? b.message.map(String) : typeof b.message === 'string' ? [b.message] : [];
  const message = messages.length ? messages.join('; ') : typeof b.error === 'string' ? b.error : text.slice(0, 200);
  return { message };
}
