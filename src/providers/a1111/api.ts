import { z } from 'zod';
import type { VendorError } from '../http.ts';

/** POST /sdapi/v1/txt2img and /img2img → `{ images: [base64…], parameters, info: "<json>" }` (`modules/api/models.py` TextToImageResponse). */
export const imagesResponseSchema = z.object({ images: z.array(z.string()).nullish(), parameters: z.record(z.string(), z.unknown()).optional(), info: z.string().optional() }).passthrough();

/** The `info` string of a result: the seeds used, per image (`processing.py` Processed.js). */
export const infoSchema = z.object({ seed: z.number().optional(), all_seeds: z.array(z.number()).optional(), sd_model_name: z.string().nullish() }).passthrough();

/** GET /sdapi/v1/progress (`models.py` ProgressResponse): progress 0–1, eta_relative s, state, current_image base64. */
export const progressSchema = z
  .object({
    progress: z.number(),
    eta_relative: z.number().nullish(),
    state: z.record(z.string(), z.unknown()).optional(),
    current_image: z.string().nullish(),
    textinfo: z.string().nullish(),
  })
  .passthrough();

/** POST /internal/progress `{ id_task }` (`modules/progress.py`): whether a task id is the running one, queued, or done. */
export const taskProgressSchema = z.object({ active: z.boolean(), queued: z.boolean(), completed: z.boolean() }).passthrough();

/** GET /sdapi/v1/sd-models (`models.py` SDModelItem) and /samplers (SamplerItem). */
export const sdModelsSchema = z.array(z.object({ title: z.string(), model_name: z.string(), filename: z.string().optional(), hash: z.string().nullish() }).passthrough());
/** GET /sdapi/v1/upscalers (`models.py` UpscalerItem): every upscaler by the name extras and img2img take. */
export const upscalersSchema = z.array(z.object({ name: z.string(), scale: z.number().nullish() }).passthrough());

/** POST /sdapi/v1/extra-single-image → ExtrasSingleImageResponse `{ html_info, image }` (image base64). */
export const extrasResponseSchema = z.object({ image: z.string().nullish(), html_info: z.string().nullish() }).passthrough();

export const samplersSchema = z.array(z.object({ name: z.string(), aliases: z.array(z.string()).optional() }).passthrough());

/**
 * Errors come as FastAPI `{ detail: "…" }` (HTTPException, e.g. "Sampler not found"), FastAPI validation
 * `{ detail: [{ loc, msg, type }] }` (422), or the webui's own `{ error, detail, body, errors }` (`api.py` api_middleware).
 */
export function readA1111Error(_status: number, body: unknown, text: string): VendorError {
  const b = (body ?? {}) as { detail?: unknown; error?: unknown; errors?: unknown };
  if (typeof b.detail === 'string' && b.detail) return { message: b.detail };
  if (Array.isArray(b.detail)) {
    return { message: b.detail.map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).filter((x) => x !== 'body').join('.')}: ${d.msg ?? 'invalid'}`).join('; ') };
  }
  if (typeof b.errors === 'string' && b.errors) return { message: `${typeof b.error === 'string' ? `${b.error}: ` : ''}${b.errors}`.slice(0, 300) };
  return { message: text.replace(/\s+/g, ' ').trim().slice(0, 200) };
}
