import { z } from 'zod';
import type { VendorError } from '../http.ts';

/** `ImagesUsage` in the OpenAPI document: tokens the generation used, recorded with the job. */
export const usageSchema = z
  .object({
    total_tokens: z.number(),
    input_tokens: z.number(),
    output_tokens: z.number(),
    input_tokens_details: z.object({ text_tokens: z.number(), image_tokens: z.number() }).partial().optional(),
  })
  .passthrough();

/** `ImageGenPartialImageEvent` / `ImageEditPartialImageEvent` (only what we read). */
export const partialEventSchema = z.object({
  type: z.enum(['image_generation.partial_image', 'image_edit.partial_image']),
  b64_json: z.string().min(1),
  partial_image_index: z.number().int(),
  output_format: z.enum(['png', 'jpeg', 'webp']).optional(),
});

/** `ImageGenCompletedEvent` / `ImageEditCompletedEvent`. */
export const completedEventSchema = z.object({
  type: z.enum(['image_generation.completed', 'image_edit.completed']),
  b64_json: z.string().min(1),
  output_format: z.enum(['png', 'jpeg', 'webp']).optional(),
  usage: usageSchema.optional(),
});

/** A stream can end in an error event instead of an image (the openai package's Stream reads these). */
export const errorEventSchema = z.object({
  type: z.literal('error').optional(),
  error: z.object({ message: z.string().optional(), code: z.string().nullish(), type: z.string().optional() }).passthrough(),
});

/** OpenAI's refusals for content: `moderation_blocked` (GPT image models) and the older `content_policy_violation`. */
const MODERATION_CODES = new Set(['moderation_blocked', 'content_policy_violation']);

/** The `Error` schema: `{"error": {"message", "type", "param", "code"}}`. */
export function readOpenAIError(_status: number, body: unknown, text: string): VendorError {
  const e = (body as { error?: { message?: unknown; code?: unknown } } | undefined)?.error;
  const message = typeof e?.message === 'string' ? e.message : text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return { message, moderation: typeof e?.code === 'string' && MODERATION_CODES.has(e.code) };
}

export const isModerationCode = (code: string | null | undefined): boolean => Boolean(code && MODERATION_CODES.has(code));
