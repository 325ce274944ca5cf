import { z } from 'zod';
import type { VendorError } from '../http.ts';

export const createResponseSchema = z.object({
  sdGenerationJob: z.object({ generationId: z.string().min(1) }).passthrough(),
});

export const generationResponseSchema = z.object({
  generations_by_pk: z
    .object({
      id: z.string(),
      // [sdk] status is optional and an image's id nullable; a missing status reads as still pending.
      status: z.string().nullish(),
      seed: z.union([z.number(), z.string()]).nullish(),
      generated_images: z
        .array(z.object({ id: z.string().nullish(), url: z.string().nullish(), nsfw: z.boolean().nullish() }).passthrough())
        .nullish()
        .transform((v) => v ?? []),
    })
    .passthrough()
    .nullable(),
});
export type LeonardoGeneration = NonNullable<z.output<typeof generationResponseSchema>['generations_by_pk']>;

export const upscaleResponseSchema = z.object({ sdUpscaleJob: z.object({ id: z.string().min(1) }).passthrough() });

// The SDK marks a variation's id nullable and its status optional: an entry without them is "not yet".
export const variationResponseSchema = z.object({
  generated_image_variation_generic: z
    .array(z.object({ id: z.string().nullish(), status: z.string().nullish(), url: z.string().nullish(), transformType: z.string().nullish() }).passthrough())
    .nullish()
    .transform((v) => v ?? []),
});

export const platformModelsSchema = z.object({
  custom_models: z
    .array(z.object({ id: z.string().nullish(), name: z.string().nullish() }).passthrough())
    .nullish()
    .transform((v) => (v ?? []).flatMap((m) => (m.id && m.name ? [{ id: m.id, name: m.name }] : []))),
});

/** [sdk] uploadinitimage: `fields` is a JSON string of the presigned form's fields. */
export const initImageResponseSchema = z.object({
  uploadInitImage: z.object({ id: z.string().min(1), url: z.string().min(1), fields: z.string().min(2), key: z.string().nullish() }).passthrough(),
});

/** [sdk] createuniversalupscalerjob: the job id to poll with GET /variations/{id} (docs "Upscale with Universal Upscaler"). */
export const universalUpscalerResponseSchema = z.object({ universalUpscaler: z.object({ id: z.string().min(1) }).passthrough() });

/**
 * POST /canvas-init-image answers two presigned forms, one for the picture and one for its mask. The SDK names
 * them `mask*`; the docs recipe "Generate Images with Canvas Inpainting" reads `masks*`: either is taken.
 */
export const canvasInitImageResponseSchema = z
  .object({
    uploadCanvasInitImage: z
      .object({
        initImageId: z.string().min(1),
        initUrl: z.string().min(1),
        initFields: z.string().min(2),
        maskImageId: z.string().nullish(),
        maskUrl: z.string().nullish(),
        maskFields: z.string().nullish(),
        masksImageId: z.string().nullish(),
        masksUrl: z.string().nullish(),
        masksFields: z.string().nullish(),
      })
      .passthrough(),
  })
  .transform(({ uploadCanvasInitImage: u }) => ({
    init: { id: u.initImageId, url: u.initUrl, fields: u.initFields },
    mask: { id: u.maskImageId ?? u.masksImageId, url: u.maskUrl ?? u.masksUrl, fields: u.maskFields ?? u.masksFields },
  }))
  .refine((v) => Boolean(v.mask.id && v.mask.url && v.mask.fields));

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
