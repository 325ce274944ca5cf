import { z } from 'zod';
import type { VendorError } from '../http.ts';

export const createResponseSchema = z.object({
  sdGenerationJob: z.object({ generationId: z.string().min(1) }).passthrough(),
});

export const generationResponseSchema = z.object({
  generations_by_pk: z
    .object({
      id: z.string(),
      status: z.string(),
      seed: z.union([z.number(), z.string()]).nullish(),
      generated_images: z
        .array(z.object({ id: z.string(), url: z.string(), nsfw: z.boolean().nullish() }).passthrough())
        .nullish()
        .transform((v) => v ?? []),
    })
    .passthrough()
    .nullable(),
});
export type LeonardoGeneration = NonNullable<z.output<typeof generationResponseSchema>['generations_by_pk']>;

export const upscaleResponseSchema = z.object({ sdUpscaleJob: z.object({ id: z.string().min(1) }).passthrough() });

export const variationResponseSchema = z.object({
  generated_image_variation_generic: z
    .array(z.object({ id: z.string(), status: z.string(), url: z.string().nullish(), transformType: z.string().nullish() }).passthrough())
    .nullish()
    .transform((v) => v ?? []),
});

export const webhookSchema = z.object({
  type: z.string(),
  data: z.object({ object: z.object({ id: z.string().min(1) }).passthrough() }).passthrough(),
});

const MODERATION_TEXT = /moderat|nsfw|content polic|inappropriate|not allowed content/i;

/** Errors come Hasura-style `{ error, path, code }` or as the SDK's `{ message, path[], extensions }`. */
export function readLeonardoError(_status: number, body: unknown, text: string): VendorError {
  const b = (body ?? {}) as { error?: unknown; message?: unknown; code?: unknown };
  const message = typeof b.error === 'string' ? b.error : typeof b.message === 'string' ? b.message : text.slice(0, 200);
  const code = typeof b.code === 'string' ? ` [${b.code}]` : '';
  return { message: message + code, moderation: MODERATION_TEXT.test(message) };
}
