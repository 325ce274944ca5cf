import { UserError } from '../../core/errors.ts';
import type { GenerationRequest } from '../../core/request.ts';
import { knownModel, LEONARDO_MODELS, rulesFor } from './models.ts';

/**
 * Zoom out, pan, make square and Vary (Region) through Leonardo's documented Canvas Inpainting: the picture on
 * its new canvas (the new area filled with its edge colours) and a white-on-black mask of what to paint. An
 * outpaint is an inpaint of the new area. Rules: see [canvas] in pictures.ts.
 */

/** The body of a canvas POST /generations: exactly the parameters the Canvas Inpainting guide lists. */
export interface LeonardoCanvasBody {
  prompt: string;
  canvasRequest: true;
  canvasRequestType: 'INPAINT';
  canvasInitId: string;
  canvasMaskId: string;
  init_strength: number;
  num_images: number;
  modelId: string;
  guidance_scale?: number;
}

/** We paint canvases up to 1024 px a side (the guide allows 1536, but at two images per job). */
export const CANVAS_MAX_SIDE = 1024;
export const CANVAS_MAX = 1536;
/** The guide's sample: "init_strength 0.15 // Inpaint strength 0.85", so the painted area is nearly all new. */
export const CANVAS_INIT_STRENGTH = 0.15;
/** The guide's example model, used when the picture's own model has no canvas. */
export const CANVAS_FALLBACK = LEONARDO_MODELS.find((m) => m.name === 'diffusion-xl')!;
const NO_CANVAS = new Set(['lightning-xl', 'anime-xl']);

/** Images one canvas request may make at this size ([canvas] table). */
export function canvasMaxCount(width: number, height: number): number {
  if (Math.max(width, height) <= 768) return 8;
  return width * height <= 768 * 1024 ? 4 : 2;
}

/**
 * The model that paints: the picture's own where the guide allows canvas work (legacy SDXL models except
 * Lightning XL and Anime XL, and platform models outside our table), else Leonardo Diffusion XL.
 */
export function canvasModel(modelId: string | undefined): { id: string; name: string; substituted: boolean } {
  if (modelId) {
    const known = knownModel(modelId);
    const rules = rulesFor(modelId);
    if (!known && !rules.model) return { id: modelId, name: modelId, substituted: false };
    if (known && known.family === 'sdxl' && !NO_CANVAS.has(known.name)) return { id: known.id, name: known.name, substituted: false };
  }
  return { id: CANVAS_FALLBACK.id, name: CANVAS_FALLBACK.name, substituted: true };
}

/** What of the request a canvas cannot carry: said in the result, not silently lost. */
export function canvasLeavesOut(req: GenerationRequest): string[] {
  const out: string[] = [];
  if (req.negativePrompt) out.push('the negative prompt');
  if (req.style) out.push('the style');
  if (req.steps !== undefined) out.push('steps');
  if (req.tiling !== undefined) out.push('tiling');
  if (req.transparency !== undefined) out.push('transparency');
  if (req.images?.length) out.push('the reference pictures');
  return out;
}

export function buildCanvasBody(req: GenerationRequest, modelId: string, ids: { init: string; mask: string }, size: { width: number; height: number }): LeonardoCanvasBody {
  const prompt = req.prompt.trim();
  if (!prompt) throw new UserError('INVALID_OPTIONS', 'prompt is empty: describe what to draw.');
  const body: LeonardoCanvasBody = {
    prompt,
    canvasRequest: true,
    canvasRequestType: 'INPAINT',
    canvasInitId: ids.init,
    canvasMaskId: ids.mask,
    init_strength: CANVAS_INIT_STRENGTH,
    num_images: Math.min(req.count ?? 4, canvasMaxCount(size.width, size.height)),
    modelId,
  };
  if (req.guidance !== undefined) body.guidance_scale = req.guidance;
  return body;
}
