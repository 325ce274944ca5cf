import { z } from 'zod';
import { UserError } from '../../core/errors.ts';
import { dimensionsFor, FIELD_LABELS, type GenerationRequest, type RequestField } from '../../core/request.ts';
import { DEFAULT_MODEL, FLUX_SEED_MAX, GUIDE_CONTRAST, knownModel, rulesFor, styleUuid } from './models.ts';
import { pictureFields, strengthType, type Controlnet } from './pictures.ts';

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
  styleUUID?: string;
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
  init_image_id?: string;
  init_strength?: number;
  controlnets?: Controlnet[];
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
/** [sdk] num_images: "1–8; if width or height > 768 then 1–4"; width/height "32–1536, multiple of 8". */
export const SIZE = { min: 32, max: 1536, multipleOf: 8 } as const;
export const LARGE = { overSide: 768, maxCount: 4 } as const;
export const MAX_COUNT = 8;

const FIELDS: readonly RequestField[] = ['negativePrompt', 'aspectRatio', 'width', 'height', 'count', 'seed', 'steps', 'guidance', 'style', 'model', 'tiling', 'transparency', 'optimize', 'init'];
export const LEONARDO_FIELDS = FIELDS;

const invalid = (msg: string) => new UserError('INVALID_OPTIONS', msg);

/** Where image-to-image starts: Leonardo's own image, or one we uploaded through /init-image. */
export type InitSource = { generatedImageId: string } | { uploadedImageId: string };

/**
 * Builds the create body for a resolved model id, then checks every documented rule. `init` is the
 * source image once known (the adapter uploads the user's own picture first).
 */
export function buildLeonardoBody(req: GenerationRequest, extras: LeonardoExtras = {}, chosenModelId?: string, init?: InitSource, uploads: Readonly<Record<string, string>> = {}): LeonardoCreateBody {
  const modelId = chosenModelId ?? defaultModelId(extras);
  if (req.mode !== 'simple') throw new UserError('UNSUPPORTED', 'Leonardo.Ai has no advanced (raw Midjourney prompt) mode: switch to simple mode.');
  for (const field of Object.keys(FIELD_LABELS) as RequestField[]) {
    const v = req[field];
    // The user's pictures and --iw are mapped below (pictures.ts); an edit goes through the canvas instead.
    if (v === undefined || FIELDS.includes(field) || field === 'images' || field === 'imageWeight') continue;
    if (field === 'midjourney' && Object.keys(v as object).length === 0) continue;
    throw new UserError('UNSUPPORTED', `Leonardo.Ai cannot use ${FIELD_LABELS[field]}: remove it or pick another provider.`);
  }
  if (req.aspectRatio && (req.width !== undefined || req.height !== undefined)) {
    throw new UserError('CONFLICT', 'Give either an aspect ratio or a width and height, not both.');
  }
  const count = req.count ?? 4;
  let size: { width: number; height: number };
  if (req.width !== undefined || req.height !== undefined) {
    if (req.width === undefined || req.height === undefined) throw invalid('Leonardo.Ai needs both width and height: set the other one too.');
    size = { width: req.width, height: req.height };
  } else {
    // More than four images are only made at up to 768 px a side, so a large count picks that size.
    size = dimensionsFor(req.aspectRatio, count > LARGE.maxCount ? LARGE.overSide : 1024, SIZE.multipleOf);
  }
  const flag = /(^|\s)(--[a-zA-Z][\w-]*)/.exec(req.prompt);
  if (flag) throw invalid(`Leonardo.Ai takes a plain description, without Midjourney parameters: remove "${flag[2]}" and use the typed options.`);
  const rules = rulesFor(modelId ?? '');
  const modelName = rules.model?.name ?? modelId ?? 'PhotoReal';
  const refuse = (what: string) =>
    new UserError('UNSUPPORTED', `The Leonardo.Ai model ${modelName} does not take ${what}: remove it, or pick a model that does (kino-xl, vision-xl, diffusion-xl).`);
  if (!rules.negativePrompt && req.negativePrompt) throw refuse('a negative prompt (--no)');
  if (!rules.stepsAndGuidance && req.steps !== undefined) throw refuse('steps');
  if (!rules.stepsAndGuidance && req.guidance !== undefined) throw refuse('guidance');
  const body: LeonardoCreateBody = {
    prompt: req.prompt.trim(),
    ...(modelId ? { modelId } : {}),
    num_images: count,
    width: size.width,
    height: size.height,
    alchemy: extras.alchemy ?? false,
  };
  if (req.negativePrompt) body.negative_prompt = req.negativePrompt;
  if (req.steps !== undefined) body.num_inference_steps = req.steps;
  if (req.guidance !== undefined) body.guidance_scale = req.guidance;
  if (req.seed !== undefined) body.seed = req.seed;
  const style = req.style ?? extras.presetStyle;
  if (style && rules.styles) {
    const uuid = styleUuid(rules.styles, style);
    if (!uuid) throw invalid(`The Leonardo.Ai model ${modelName} has no style "${style}"; use one of ${Object.keys(rules.styles).join(', ')}.`);
    body.styleUUID = uuid;
  } else if (style) body.presetStyle = style.trim().toUpperCase().replace(/[\s-]+/g, '_');
  if (rules.contrast) body.contrast = extras.contrast ?? rules.contrast.fallback;
  else if (extras.contrast !== undefined) body.contrast = extras.contrast;
  if (req.tiling !== undefined) body.tiling = req.tiling;
  if (req.transparency !== undefined) body.transparency = req.transparency ? 'foreground_only' : 'disabled';
  const enhance = req.optimize ?? extras.enhancePrompt;
  if (enhance !== undefined) body.enhancePrompt = enhance;
  if (extras.enhancePromptInstruction) body.enhancePromptInstruction = extras.enhancePromptInstruction;
  if (extras.photoReal !== undefined) body.photoReal = extras.photoReal;
  if (extras.photoRealVersion) body.photoRealVersion = extras.photoRealVersion;
  if (extras.photoRealStrength !== undefined) body.photoRealStrength = extras.photoRealStrength;
  if (extras.ultra !== undefined) body.ultra = extras.ultra;
  if (extras.scheduler) body.scheduler = extras.scheduler;
  if (extras.sd_version) body.sd_version = extras.sd_version;
  if (extras.public !== undefined) body.public = extras.public;
  if (req.init) {
    const source: InitSource | undefined = init ?? (req.init.providerImageId ? { generatedImageId: req.init.providerImageId } : undefined);
    if (!source) throw new UserError('UNSUPPORTED', 'Leonardo.Ai can only start from images it made itself, or from a picture uploaded to it: pick an image from a Leonardo.Ai result.');
    addInit(body, source, req.init.strength, rules.model?.contentReference, rules.contrast !== undefined, modelName);
  }
  if (req.images?.length) {
    if (req.init) throw new UserError('CONFLICT', 'Leonardo.Ai starts from one picture: give either a variation source or your own pictures, not both.');
    const p = pictureFields(req, uploads, { family: rules.model?.family ?? 'sdxl', name: modelName, ...(rules.model?.contentReference !== undefined ? { contentReference: rules.model.contentReference } : {}) });
    if (p.init_image_id) {
      body.init_image_id = p.init_image_id;
      body.init_strength = p.init_strength;
    }
    if (p.controlnets.length) body.controlnets = [...(body.controlnets ?? []), ...p.controlnets];
  } else if (req.imageWeight !== undefined) {
    throw invalid('--iw weighs image prompts, and this prompt has none: add a picture or remove --iw.');
  }
  validateLeonardoBody(body);
  return body;
}

/**
 * The deployment's model (LEONARDO_OPTIONS.modelId, by name or id), else our default; none for PhotoReal v1,
 * which picks its own model and refuses a modelId ([sdk] photoRealVersion).
 */
export function defaultModelId(extras: LeonardoExtras): string | undefined {
  if (extras.modelId) return knownModel(extras.modelId)?.id ?? extras.modelId;
  if (extras.photoReal && (extras.photoRealVersion ?? 'v1') === 'v1') return undefined;
  return DEFAULT_MODEL.id;
}

/**
 * Legacy models take init_(generation_)image_id + init_strength ([sdk]); the Phoenix / Lucid guides
 * document image input only as a Content Reference controlnet with a strength of Low, Mid or High.
 */
function addInit(body: LeonardoCreateBody, source: InitSource, strength: number, contentReference: number | undefined, guideModel: boolean, modelName: string): void {
  if (guideModel) {
    if (contentReference === undefined) {
      throw new UserError('UNSUPPORTED', `The Leonardo.Ai model ${modelName} documents no image input: use phoenix, lucid-realism or a legacy model for variations and image prompts.`);
    }
    const generated = 'generatedImageId' in source;
    body.controlnets = [
      {
        initImageId: generated ? source.generatedImageId : source.uploadedImageId,
        initImageType: generated ? 'GENERATED' : 'UPLOADED',
        preprocessorId: contentReference,
        strengthType: strengthType(strength),
      },
    ];
    return;
  }
  if ('generatedImageId' in source) body.init_generation_image_id = source.generatedImageId;
  else body.init_image_id = source.uploadedImageId;
  body.init_strength = strength;
}

const isInt = (n: number) => Number.isInteger(n);

/** The body parameters the Phoenix / Lucid / FLUX guides list (plus their Image Guidance controlnets; `public` is account-wide). */
const GUIDE_BODY_FIELDS: readonly (keyof LeonardoCreateBody)[] = [
  'alchemy', 'contrast', 'enhancePrompt', 'enhancePromptInstruction', 'height', 'modelId', 'num_images', 'prompt', 'seed', 'styleUUID', 'ultra', 'width', 'controlnets', 'public',
];
/** How a refused wire field is named to the user. */
const OPTION_NAMES: Record<string, string> = {
  negative_prompt: 'a negative prompt (--no)',
  num_inference_steps: 'steps',
  guidance_scale: 'guidance',
  tiling: 'tiling (--tile)',
  transparency: 'transparency',
  init_image_id: 'init_image_id',
};

/** Every rule Leonardo documents for POST /generations, checked on the body we are about to send. */
export function validateLeonardoBody(b: LeonardoCreateBody): void {
  if (!b.prompt) throw invalid('prompt is empty: describe what to draw.');
  for (const side of ['width', 'height'] as const) {
    const v = b[side];
    if (!isInt(v) || v < SIZE.min || v > SIZE.max || v % SIZE.multipleOf !== 0) {
      throw invalid(`${side} must be a multiple of 8 from 32 to 1536 for Leonardo.Ai, not ${v}.`);
    }
  }
  const large = b.width > LARGE.overSide || b.height > LARGE.overSide;
  const maxImages = large ? LARGE.maxCount : MAX_COUNT;
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
  const rules = rulesFor(b.modelId ?? '');
  const name = rules.model?.name ?? b.modelId ?? 'the default model';
  const version = b.sd_version?.toUpperCase();
  const seedMax = version === 'FLUX' || version === 'FLUX_DEV' ? FLUX_SEED_MAX : rules.seedMax;
  if (b.seed !== undefined) {
    if (!isInt(b.seed) || b.seed < 0 || b.seed > seedMax) throw invalid(`seed (--seed) must be a whole number from 0 to ${seedMax}${seedMax === FLUX_SEED_MAX ? ' for Flux models' : ''}, not ${b.seed}.`);
  }
  if (rules.contrast) {
    if (b.contrast === undefined) throw invalid(`The Leonardo.Ai model ${name} needs contrast (3 low, 3.5 medium, 4 high): set "contrast" in LEONARDO_OPTIONS.`);
    if (!(GUIDE_CONTRAST as readonly number[]).includes(b.contrast)) throw invalid(`contrast for ${name} must be 3 (low), 3.5 (medium) or 4 (high), not ${b.contrast}.`);
    if (b.presetStyle !== undefined) throw invalid(`${name} takes styles as styleUUID, not presetStyle: pick a style by name with the style option.`);
    if (b.alchemy && !rules.alchemy) throw invalid(`${name} does not take alchemy: set "alchemy": false in LEONARDO_OPTIONS.`);
    const extra = Object.keys(b).filter((k) => !GUIDE_BODY_FIELDS.includes(k as keyof LeonardoCreateBody));
    if (extra.length) {
      const said = extra.map((k) => OPTION_NAMES[k] ?? k).join(', ');
      throw new UserError('UNSUPPORTED', `The Leonardo.Ai model ${name} does not take ${said}: remove it, or pick a model that does (kino-xl, vision-xl, diffusion-xl).`);
    }
  } else if (b.contrast !== undefined) {
    if (!(CONTRAST_VALUES as readonly number[]).includes(b.contrast)) throw invalid(`contrast must be one of ${CONTRAST_VALUES.join(', ')}, not ${b.contrast}.`);
  }
  if (b.styleUUID !== undefined && !(rules.styles && Object.values(rules.styles).includes(b.styleUUID))) {
    throw invalid(`style ${b.styleUUID} is not one ${name} documents.`);
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
