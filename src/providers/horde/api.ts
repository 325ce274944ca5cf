import { z } from 'zod';
import type { VendorError } from '../http.ts';

/** `RequestAsync`: the id to follow, and the kudos the Horde expects to charge. */
export const asyncAnswerSchema = z.object({ id: z.string().min(1), kudos: z.number().optional(), message: z.string().optional() }).passthrough();

/** `RequestStatusCheck` (GET /v2/generate/check/{id}): cheap to poll. */
export const checkSchema = z
  .object({
    finished: z.number().optional(),
    processing: z.number().optional(),
    waiting: z.number().optional(),
    done: z.boolean().optional(),
    faulted: z.boolean().optional(),
    wait_time: z.number().optional(),
    queue_position: z.number().optional(),
    kudos: z.number().optional(),
    is_possible: z.boolean().optional(),
  })
  .passthrough();
export type HordeCheck = z.output<typeof checkSchema>;

/** `RequestStatusStable` (GET /v2/generate/status/{id}): the generations once done. */
export const statusSchema = checkSchema.extend({
  generations: z
    .array(z.object({ img: z.string().optional(), seed: z.string().optional(), id: z.string().optional(), censored: z.boolean().optional(), model: z.string().optional() }).passthrough())
    .optional(),
});

export const modelsSchema = z.array(z.object({ name: z.string(), count: z.number().optional(), type: z.string().optional() }).passthrough());

/** `RequestError` is `{message, rc}`; rc `CorruptPrompt` is the Horde's content refusal. */
export function readHordeError(_status: number, body: unknown, text: string): VendorError {
  const b = (body ?? {}) as { message?: unknown; rc?: unknown; errors?: Record<string, unknown> };
  const detail = b.errors ? ` (${Object.entries(b.errors).map(([k, v]) => `${k}: ${String(v)}`).join('; ')})` : '';
  const message = typeof b.message === 'string' ? `${b.message}${detail}` : text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return { message, moderation: b.rc === 'CorruptPrompt' };
}
