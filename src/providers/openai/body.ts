import { z } from 'zod';
import { UserError } from '../../core/errors.ts';
import type { GenerationRequest, RequestField } from '../../core/request.ts';

/**
 * OpenAI Images, as its OpenAPI document (test/fixtures/openai/openapi.json, `CreateImageRequest`)
 * and the official `openai` package's types (`ImageGenerateParamsBase`) define it. Only the GPT image
 * models: they are the ones that stream partial images, which is how the user sees progress.
 */
export const GPT_IMAGE_MODELS = ['gpt-image-1', 'gpt-image-1-mini', 'gpt-image-1.5', 'gpt-image-2', 'gpt-image-2-2026-04-21'] as const;
export const DEFAULT_OPENAI_MODEL = 'gpt-image-2';

/** The three sizes every GPT image model accepts, by the aspect ratio they are. */
const STANDARD_SIZES: Record<string, string> = { '1:1': '1024x1024', '3:2': '1536x1024', '2:3': '1024x1536' };
export const STANDARD_RATIOS = Object.keys(STANDARD_SIZES);

export const OPENAI_FIELDS: readonly RequestField[] = ['aspectRatio', 'count', 'model', 'transparency'];
/** Whether a model takes any size (within bounds) rather than the three standard ones. */
export const isFlexibleModel = (model: string): boolean => model.startsWith('gpt-image-2');
/** `n` may be up to 10; four fill the grid like every other provider. */
export const OPENAI_MAX_COUNT = 4;
/** The images stream as base64: a 1536×1024 PNG is a few MB, four with their partials well under this. */
export const OPENAI_MAX_RESPONSE_BYTES = 96 * 1024 * 1024;

/** Deployment settings with no typed option (`OPENAI_OPTIONS`), each as the API names and bounds it. */
export const openaiExtrasSchema = z
  .object({
    quality: z.enum(['low', 'medium', 'high', 'auto']).optional(),
    output_format: z.enum(['png', 'jpeg', 'webp']).optional(),
    output_compression: z.number().int().min(0).max(100).optional(),
    moderation: z.enum(['low', 'auto']).optional(),
    partial_images: z.number().int().min(0).max(3).optional(),
    /** Edits only: how closely the model keeps faces and details of the pictures; sent to the models that take it. */
    input_fidelity: z.enum(['high', 'low']).optional(),
  })
  .strict()
  .refine((o) => o.output_compression === undefined || (o.output_format !== undefined && o.output_format !== 'png'), {
    message: 'output_compression applies only to output_format jpeg or webp',
  });
export type OpenAIExtras = z.output<typeof openaiExtrasSchema>;

/** gpt-image-2 takes any WIDTHxHEIGHT with both sides divisible by 16, a ratio within 1:3 to 3:1, at most 3840 px a side. */
const isFlexible = isFlexibleModel;

function sizeFor(model: string, aspectRatio: string | undefined): string {
  if (!aspectRatio) return 'auto';
  const standard = STANDARD_SIZES[aspectRatio];
  if (standard) return standard;
  const [w, h] = aspectRatio.split(':').map(Number) as [number, number];
  if (!isFlexible(model)) {
    throw new UserError('UNSUPPORTED', `OpenAI's ${model} draws 1:1, 3:2 or 2:3 only, not ${aspectRatio}. Choose one of those.`);
  }
  if (w / h > 3 || h / w > 3) throw new UserError('UNSUPPORTED', `OpenAI's ${model} draws aspect ratios from 1:3 to 3:1, not ${aspectRatio}.`);
  const long = 1536;
  const r16 = (v: number) => Math.max(16, Math.round(v / 16) * 16);
  return w >= h ? `${r16(long)}x${r16((long * h) / w)}` : `${r16((long * w) / h)}x${r16(long)}`;
}

export function modelFor(req: GenerationRequest, configured: string): string {
  if (!req.model || req.model === configured) return configured;
  if ((GPT_IMAGE_MODELS as readonly string[]).includes(req.model)) return req.model;
  throw new UserError('UNSUPPORTED', `OpenAI model "${req.model}" is not one Atelier can stream from. Choose one of: ${GPT_IMAGE_MODELS.join(', ')}.`);
}

/**
 * Models that take `input_fidelity` on edits. The spec and the openai package say "gpt-image-1 and gpt-image-1.5
 * and later models, unsupported for gpt-image-1-mini"; users report gpt-image-2 refusing it
 * (`invalid_input_fidelity_model`, vulca-org/vulca-visual-control-sdk#12; the cookbook's gpt-image-2 notes say it is
 * disabled). We send it only where every source agrees it is taken.
 */
export const supportsInputFidelity = (model: string): boolean => model === 'gpt-image-1' || model === 'gpt-image-1.5';

export interface OpenAIGenerationBody {
  model: string;
  prompt: string;
  n: number;
  size: string;
  stream: true;
  partial_images: number;
  background?: 'transparent';
  output_format?: 'png' | 'jpeg' | 'webp';
  output_compression?: number;
  quality?: string;
  moderation?: string;
  user?: string;
}

/** The body of `POST /images/generations`, streamed; refuses what the API would refuse, before sending. */
export function buildGenerationBody(req: GenerationRequest, configuredModel: string, extras: OpenAIExtras, user?: string): OpenAIGenerationBody {
  const model = modelFor(req, configuredModel);
  if (req.prompt.length > 32_000) throw new UserError('INVALID_OPTIONS', 'OpenAI takes prompts of up to 32,000 characters.');
  const body: OpenAIGenerationBody = {
    model,
    prompt: req.prompt,
    n: req.count ?? 1,
    size: sizeFor(model, req.aspectRatio),
    stream: true,
    partial_images: extras.partial_images ?? 2,
    ...(extras.quality ? { quality: extras.quality } : {}),
    ...(extras.output_format ? { output_format: extras.output_format } : {}),
    ...(extras.output_compression !== undefined ? { output_compression: extras.output_compression } : {}),
    ...(extras.moderation ? { moderation: extras.moderation } : {}),
    // An opaque per-user id OpenAI asks for to tell abusers apart; never a name.
    ...(user ? { user } : {}),
  };
  if (req.transparency) {
    if (body.output_format === 'jpeg') throw new UserError('UNSUPPORTED', 'A transparent background needs PNG or WebP output: this deployment asks OpenAI for JPEG (OPENAI_OPTIONS output_format).');
    // The openai package's types say gpt-image-2 refuses transparent backgrounds; the OpenAPI document
    // calls it "in preview". We do not send what may be refused.
    if (isFlexible(model)) throw new UserError('UNSUPPORTED', `OpenAI's ${model} does not draw transparent backgrounds; use gpt-image-1.5 (--model gpt-image-1.5) or turn transparency off.`);
    body.background = 'transparent';
  }
  return body;
}
