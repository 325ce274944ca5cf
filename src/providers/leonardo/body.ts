import { z } from 'zod';
import { UserError } from '../../core/errors.ts';
import { dimensionsFor, FIELD_LABELS, type GenerationRequest, type RequestField } from '../../core/request.ts';

/** Leonardo settings with no GenerationRequest field: set per deployment with LEONARDO_OPTIONS (JSON). */
export const leonardoExtrasSchema = z
  .object({
    alchemy: z.boolean().optional(),
    photoReal: z.boolean().optional(),
    photoRealVersion: z.enum(['v1', 'v2']).optional(),
    photoRealStrength: z.number().optional(),
    contrast: z.number().optional(),
    ultra: z.boolean().optional(),
    enhancePrompt: z.boolean().optional(),
    enhancePromptInstruction: z.string().max(1000).optional(),
    presetStyle: z.string().optional(),
    modelId: z.string().optional(),
    sd_version: z.string().optional(),
    scheduler: z.enum(['KLMS', 'EULER_ANCESTRAL_DISCRETE', 'EULER_DISCRETE', 'DDIM', 'DPM_SOLVER', 'PNDM', 'LEONARDO']).optional(),
    public: z.boolean().optional(),
  })
  .strict();
export type LeonardoExtras = z.output<typeof leonardoExtrasSchema>;

/** The wire body of POST /generations, with the names Leonardo uses. */
export interface LeonardoCreateBody {
  prompt: string;
  modelId?: string;
  negative_prompt?: string;
  num_images: number;
  width: number;
  height: number;
  num_inference_steps?: number;
  guidance_scale?: number;
  seed?: number;
  scheduler?: string;
  sd_version?: string;
  presetStyle?: string;
  alchemy: boolean;
  photoReal?: boolean;
  photoRealVersion?: string;
  photoRealStrength?: number;
  contrast?: number;
  ultra?: boolean;
  enhancePrompt?: boolean;
  enhancePromptInstruction?: string;
  tiling?: boolean;
  transparency?: 'disabled' | 'foreground_only';
  public?: boolean;
  init_generation_image_id?: string;
  init_strength?: number;
}

/** From the SDK's field documentation (creategeneration / sdgenerationstyle). */
export const CONTRAST_VALUES = [1.0, 1.3, 1.8, 2.5, 3, 3.5, 4, 4.5] as const;
export const ALCHEMY_STYLES = ['ANIME', 'CREATIVE', 'DYNAMIC', 'ENVIRONMENT', 'GENERAL', 'ILLUSTRATION', 'PHOTOGRAPHY', 'RAYTRACED', 'RENDER_3D', 'SKETCH_BW', 'SKETCH_COLOR', 'NONE'] as const;
export const NON_ALCHEMY_STYLES = ['LEONARDO', 'NONE'] as const;
/** With photoReal the guide lists more styles; the SDK enum is the full set. */
export const ALL_STYLES = [
  'ANIME', 'BOKEH', 'CINEMATIC', 'CINEMATIC_CLOSEUP', 'CREATIVE', 'DYNAMIC', 'ENVIRONMENT', 'FASHION', 'FILM', 'FOOD', 'GENERAL', 'HDR',
  'ILLUSTRATION', 'LEONARDO', 'LONG_EXPOSURE', 'MACRO', 'MINIMALISTIC', 'MONOCHROME', 'MOODY', 'NONE', 'NEUTRAL', 'PHOTOGRAPHY', 'PORTRAIT',
  'RAYTRACED', 'RENDER_3D', 'RETRO', 'SKETCH_BW', 'SKETCH_COLOR', 'STOCK_PHOTO', 'VIBRANT', 'UNPROCESSED',
] as const;
export const PHOTOREAL_STRENGTHS = [0.55, 0.5, 0.45] as const;
export const SEED_MAX = 9_999_999_998;
export const FLUX_SEED_MAX = 2_147_483_637;

/** Model families some rules depend on; recognised by sd_version, or by these platform model ids. */
export interface ModelFamilies {
  phoenixModelIds: readonly string[];
  fluxModelIds: readonly string[];
}
export const DEFAULT_FAMILIES: ModelFamilies = {
  // Commonly published ids of Phoenix 1.0 / 0.9 and Flux Dev / Schnell; not verified here against GET /platformModels.
  phoenixModelIds: ['de7d3faf-762f-48e0-b3b7-9d0ac3a3fcf3', '6b645e3a-d64f-4341-a6d8-7a3690fbf042'],
  fluxModelIds: ['b2614463-296c-462a-9586-aafdb8f00e36', '1dd50843-d653-4516-a8e3-f0238ee453ff'],
};

const FIELDS: readonly RequestField[] = ['negativePrompt', 'aspectRatio', 'width', 'height', 'count', 'seed', 'steps', 'guidance', 'style', 'model', 'tiling', 'transparency', 'optimize', 'init'];
export const LEONARDO_FIELDS = FIELDS;

const invalid = (msg: string) => new UserError('INVALID_OPTIONS', msg);

/** Builds the create body from a request and deployment extras, then checks every documented rule. */
export function buildLeonardoBody(req: GenerationRequest, extras: LeonardoExtras = {}, families: ModelFamilies = DEFAULT_FAMILIES): LeonardoCreateBody {
  if (req.mode !== 'simple') throw new UserError('UNSUPPORTED', 'Leonardo.Ai has no advanced (raw Midjourney prompt) mode: switch to simple mode.');
  for (const field of Object.keys(FIELD_LABELS) as RequestField[]) {
    const v = req[field];
    if (v === undefined || FIELDS.includes(field)) continue;
    if (field === 'midjourney' && Object.keys(v as object).length === 0) continue;
    throw new UserError('UNSUPPORTED', `Leonardo.Ai cannot use ${FIELD_LABELS[field]}: remove it or pick another provider.`);
  }
  if (req.aspectRatio && (req.width !== undefined || req.height !== undefined)) {
    throw new UserError('CONFLICT', 'Give either an aspect ratio or a width and height, not both.');
  }
  let size: { width: number; height: number };
  if (req.width !== undefined || req.height !== undefined) {
    if (req.width === undefined || req.height === undefined) throw invalid('Leonardo.Ai needs both width and height: set the other one too.');
    size = { width: req.width, height: req.height };
  } else {
    size = dimensionsFor(req.aspectRatio, 1024, 8);
  }
  const flag = /(^|\s)(--[a-zA-Z][\w-]*)/.exec(req.prompt);
  if (flag) throw invalid(`Leonardo.Ai takes a plain description, without Midjourney parameters: remove "${flag[2]}" and use the typed options.`);
  const body: LeonardoCreateBody = {
    prompt: req.prompt.trim(),
    num_images: req.count ?? 4,
    width: size.width,
    height: size.height,
    alchemy: extras.alchemy ?? false,
  };
  const modelId = req.model ?? extras.modelId;
  if (modelId) body.modelId = modelId;
  if (req.negativePrompt) body.negative_prompt = req.negativePrompt;
  if (req.steps !== undefined) body.num_inference_steps = req.steps;
  if (req.guidance !== undefined) body.guidance_scale = req.guidance;
  if (req.seed !== undefined) body.seed = req.seed;
  const style = req.style ?? extras.presetStyle;
  if (style) body.presetStyle = style.trim().toUpperCase().replace(/[\s-]+/g, '_');
  if (req.tiling !== undefined) body.tiling = req.tiling;
  if (req.transparency !== undefined) body.transparency = req.transparency ? 'foreground_only' : 'disabled';
  const enhance = req.optimize ?? extras.enhancePrompt;
  if (enhance !== undefined) body.enhancePrompt = enhance;
  if (extras.enhancePromptInstruction) body.enhancePromptInstruction = extras.enhancePromptInstruction;
  if (extras.photoReal !== undefined) body.photoReal = extras.photoReal;
  if (extras.photoRealVersion) body.photoRealVersion = extras.photoRealVersion;
  if (extras.photoRealStrength !== undefined) body.photoRealStrength = extras.photoRealStrength;
  if (extras.contrast !== undefined) body.contrast = extras.contrast;
  if (extras.ultra !== undefined) body.ultra = extras.ultra;
  if (extras.scheduler) body.scheduler = extras.scheduler;
  if (extras.sd_version) body.sd_version = extras.sd_version;
  if (extras.public !== undefined) body.public = extras.public;
  if (req.init) {
    if (!req.init.providerImageId) {
      throw new UserError('UNSUPPORTED', 'Leonardo.Ai can only vary images it made itself: pick an image from a Leonardo.Ai result.');
    }
    body.init_generation_image_id = req.init.providerImageId;
    body.init_strength = req.init.strength;
  }
  validateLeonardoBody(body, families);
  return body;
}

const isInt = (n: number) => Number.isInteger(n);

/** Every rule Leonardo documents for POST /generations, checked on the body we are about to send. */
export function validateLeonardoBody(b: LeonardoCreateBody, families: ModelFamilies = DEFAULT_FAMILIES): void {
  if (!b.prompt) throw invalid('prompt is empty: describe what to draw.');
  for (const side of ['width', 'height'] as const) {
    const v = b[side];
    if (!isInt(v) || v < 32 || v > 1536 || v % 8 !== 0) {
      throw invalid(`${side} must be a multiple of 8 from 32 to 1536 for Leonardo.Ai, not ${v}.`);
    }
  }
  const large = b.width > 768 || b.height > 768;
  const maxImages = large ? 4 : 8;
  if (!isInt(b.num_images) || b.num_images < 1 || b.num_images > maxImages) {
    throw invalid(
      large
        ? `image count (count) must be 1–4 when a side is over 768 px (this is ${b.width}×${b.height}); ask for fewer images or a smaller size.`
        : `image count (count) must be from 1 to 8, not ${b.num_images}.`,
    );
  }
  if (b.num_inference_steps !== undefined && (!isInt(b.num_inference_steps) || b.num_inference_steps < 10 || b.num_inference_steps > 60)) {
    throw invalid(`steps must be a whole number from 10 to 60 for Leonardo.Ai, not ${b.num_inference_steps}.`);
  }
  if (b.guidance_scale !== undefined && (b.guidance_scale < 1 || b.guidance_scale > 20)) {
    throw invalid(`guidance must be from 1 to 20 for Leonardo.Ai (7 is recommended), not ${b.guidance_scale}.`);
  }
  const version = b.sd_version?.toUpperCase();
  const isFlux = version === 'FLUX' || version === 'FLUX_DEV' || (b.modelId !== undefined && families.fluxModelIds.includes(b.modelId));
  const isPhoenix = version === 'PHOENIX' || (b.modelId !== undefined && families.phoenixModelIds.includes(b.modelId));
  if (b.seed !== undefined) {
    const max = isFlux ? FLUX_SEED_MAX : SEED_MAX;
    if (!isInt(b.seed) || b.seed < 0 || b.seed > max) throw invalid(`seed (--seed) must be a whole number from 0 to ${max}${isFlux ? ' for Flux models' : ''}, not ${b.seed}.`);
  }
  if (b.contrast !== undefined) {
    if (!(CONTRAST_VALUES as readonly number[]).includes(b.contrast)) throw invalid(`contrast must be one of ${CONTRAST_VALUES.join(', ')}, not ${b.contrast}.`);
    if (isPhoenix && b.alchemy && b.contrast < 2.5) throw invalid(`With Phoenix and Alchemy, contrast must be 2.5 or higher, not ${b.contrast}.`);
  }
  if (b.ultra && b.alchemy) throw new UserError('CONFLICT', 'Leonardo.Ai Ultra mode cannot be used with Alchemy: turn one of them off.');
  if (b.photoReal) {
    if (!b.alchemy) throw invalid('Leonardo.Ai PhotoReal requires Alchemy: turn Alchemy on or PhotoReal off.');
    const v = b.photoRealVersion ?? 'v1';
    if (v !== 'v1' && v !== 'v2') throw invalid(`photoRealVersion must be v1 or v2, not ${v}.`);
    if (v === 'v1' && b.modelId) throw invalid('PhotoReal v1 chooses its own model: remove the model, or use photoRealVersion v2.');
    if (v === 'v2' && !b.modelId) throw invalid('PhotoReal v2 needs a model (Leonardo Kino XL, Diffusion XL or Vision XL): set one.');
    if (b.photoRealStrength !== undefined && !(PHOTOREAL_STRENGTHS as readonly number[]).includes(b.photoRealStrength)) {
      throw invalid(`photoRealStrength must be 0.55 (low), 0.5 (medium) or 0.45 (high), not ${b.photoRealStrength}.`);
    }
  } else if (b.photoRealVersion !== undefined || b.photoRealStrength !== undefined) {
    throw invalid('photoRealVersion and photoRealStrength only apply with PhotoReal on: remove them or turn PhotoReal on.');
  }
  if (b.presetStyle !== undefined) {
    const allowed: readonly string[] = b.photoReal ? ALL_STYLES : b.alchemy ? ALCHEMY_STYLES : NON_ALCHEMY_STYLES;
    if (!allowed.includes(b.presetStyle)) {
      const when = b.photoReal ? 'with PhotoReal' : b.alchemy ? 'with Alchemy' : 'without Alchemy';
      throw invalid(`style "${b.presetStyle}" is not available ${when} on Leonardo.Ai; use one of ${allowed.join(', ')}.`);
    }
  }
  if (b.init_strength !== undefined && (b.init_strength < 0.1 || b.init_strength > 0.9)) {
    throw invalid(`image-to-image strength must be from 0.1 to 0.9, not ${b.init_strength}.`);
  }
  if (b.transparency !== undefined && b.transparency !== 'disabled' && b.transparency !== 'foreground_only') {
    throw invalid('transparency must be disabled or foreground_only.');
  }
}
