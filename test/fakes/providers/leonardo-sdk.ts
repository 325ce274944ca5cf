/**
 * Leonardo's own API definitions, as the zod schemas shipped in @leonardo-ai/sdk (a dev dependency; the
 * SDK itself is never used at run time). The fake checks every request and answer against them.
 */
import { CreateGenerationRequestBody$outboundSchema, CreateGenerationResponseBody$inboundSchema } from '@leonardo-ai/sdk/sdk/models/operations/creategeneration.js';
import { GetGenerationByIdResponseBody$inboundSchema } from '@leonardo-ai/sdk/sdk/models/operations/getgenerationbyid.js';
import { CreateVariationUpscaleRequestBody$outboundSchema, CreateVariationUpscaleResponseBody$inboundSchema } from '@leonardo-ai/sdk/sdk/models/operations/createvariationupscale.js';
import { GetVariationByIdResponseBody$inboundSchema } from '@leonardo-ai/sdk/sdk/models/operations/getvariationbyid.js';
import { GetUserSelfResponseBody$inboundSchema } from '@leonardo-ai/sdk/sdk/models/operations/getuserself.js';
import { ListPlatformModelsResponseBody$inboundSchema } from '@leonardo-ai/sdk/sdk/models/operations/listplatformmodels.js';
import { UploadInitImageRequestBody$outboundSchema, UploadInitImageResponseBody$inboundSchema } from '@leonardo-ai/sdk/sdk/models/operations/uploadinitimage.js';
import { UploadCanvasInitImageRequestBody$outboundSchema, UploadCanvasInitImageResponseBody$inboundSchema } from '@leonardo-ai/sdk/sdk/models/operations/uploadcanvasinitimage.js';
import { CreateUniversalUpscalerJobRequestBody$outboundSchema, CreateUniversalUpscalerJobResponseBody$inboundSchema } from '@leonardo-ai/sdk/sdk/models/operations/createuniversalupscalerjob.js';

/** Wire name → SDK property name, the reverse of the SDK's outbound remap. */
const WIRE_TO_SDK: Record<string, string> = {
  guidance_scale: 'guidanceScale',
  init_generation_image_id: 'initGenerationImageId',
  init_image_id: 'initImageId',
  init_strength: 'initStrength',
  negative_prompt: 'negativePrompt',
  num_images: 'numImages',
  num_inference_steps: 'numInferenceSteps',
  sd_version: 'sdVersion',
};

/**
 * Checks a wire body against the SDK's request schema: every field must be one the SDK knows, with a type
 * it accepts, and must come out of the SDK's own serialiser under the same wire name with the same value.
 * Absent alchemy / presetStyle / modelId are passed as null so the SDK's injected defaults do not apply.
 */
/** Fields every model guide documents that the SDK 4.21 schema lacks; the guides' rules check them instead. */
export const GUIDE_ONLY_FIELDS = ['styleUUID'];

export function sdkCheckCreateGeneration(input: Record<string, unknown>): string[] {
  const wire = Object.fromEntries(Object.entries(input).filter(([k]) => !GUIDE_ONLY_FIELDS.includes(k)));
  const problems = GUIDE_ONLY_FIELDS.filter((k) => k in input && typeof input[k] !== 'string').map((k) => `${k}: expected a string`);
  const sdkShape: Record<string, unknown> = { alchemy: null, presetStyle: null, modelId: null, numImages: null, width: null, height: null };
  for (const [k, v] of Object.entries(wire)) sdkShape[WIRE_TO_SDK[k] ?? k] = v;
  const parsed = CreateGenerationRequestBody$outboundSchema.safeParse(sdkShape);
  if (!parsed.success) return [...problems, ...parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)];
  const out = parsed.data as Record<string, unknown>;
  return problems.concat(Object.entries(wire)
    .filter(([k, v]) => JSON.stringify(out[k]) !== JSON.stringify(v))
    .map(([k]) => `field '${k}' not found in type: 'SDGenerationInput'`));
}

export function sdkCheckInitImage(wire: Record<string, unknown>): string[] {
  const parsed = UploadInitImageRequestBody$outboundSchema.safeParse(wire);
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  return Object.keys(wire).filter((k) => !(k in (parsed.data as object))).map((k) => `field '${k}' not found in type: 'InitImageInput'`);
}

export function sdkCheckUpscale(wire: Record<string, unknown>): string[] {
  const parsed = CreateVariationUpscaleRequestBody$outboundSchema.safeParse(wire);
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  const extra = Object.keys(wire).filter((k) => !(k in (parsed.data as object)));
  return extra.map((k) => `field '${k}' not found in type: 'SDUpscaleInput'`);
}

/** A body checked against one of the SDK's outbound schemas: known fields, accepted types, nothing extra. */
function sdkCheck(schema: { safeParse(v: unknown): { success: boolean; data?: unknown; error?: { issues: { path: (string | number)[]; message: string }[] } } }, wire: Record<string, unknown>, type: string): string[] {
  const parsed = schema.safeParse(wire);
  if (!parsed.success) return parsed.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  return Object.keys(wire).filter((k) => !(k in (parsed.data as object))).map((k) => `field '${k}' not found in type: '${type}'`);
}

export const sdkCheckCanvasInit = (wire: Record<string, unknown>) => sdkCheck(UploadCanvasInitImageRequestBody$outboundSchema, wire, 'CanvasInitImageInput');
/** The SDK's outbound type names creativityStrength, upscaleMultiplier and upscalerStyle as present (nullable). */
export const sdkCheckUniversalUpscaler = (wire: Record<string, unknown>) =>
  sdkCheck(CreateUniversalUpscalerJobRequestBody$outboundSchema, { creativityStrength: null, upscaleMultiplier: null, upscalerStyle: null, ...wire }, 'UniversalUpscalerInput');

/** Answers the fake sends must parse with the SDK's response schemas, or the fake is wrong. */
export const sdkResponses = {
  createGeneration: CreateGenerationResponseBody$inboundSchema,
  getGeneration: GetGenerationByIdResponseBody$inboundSchema,
  createUpscale: CreateVariationUpscaleResponseBody$inboundSchema,
  getVariation: GetVariationByIdResponseBody$inboundSchema,
  me: GetUserSelfResponseBody$inboundSchema,
  platformModels: ListPlatformModelsResponseBody$inboundSchema,
  uploadInitImage: UploadInitImageResponseBody$inboundSchema,
  uploadCanvasInitImage: UploadCanvasInitImageResponseBody$inboundSchema,
  universalUpscaler: CreateUniversalUpscalerJobResponseBody$inboundSchema,
};
