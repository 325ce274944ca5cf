import type { VaryStrength } from '../core/job.ts';

/**
 * How far from a picture Stable Diffusion servers (AUTOMATIC1111's img2img, ComfyUI's KSampler) may stray, as one
 * denoising strength per use: 0 returns the picture, 1 ignores it. The numbers are Atelier's choices, shared so the
 * two servers answer the same button the same way.
 */

/** Pictures are painted at this long side, the size txt2img uses by default (an SDXL checkpoint's native size). */
export const RENDER_SIDE = 1024;

/**
 * --iw as denoising strength: a higher weight keeps more of the picture, so it denoises less. --iw 1 (the default)
 * is 0.75, AUTOMATIC1111's own default strength; each unit of weight keeps a fifth more; the ends stay usable (0.35-0.95).
 */
export function denoiseForWeight(weight: number | undefined): number {
  return Math.round(Math.min(0.95, Math.max(0.35, 0.95 - 0.2 * (weight ?? 1))) * 100) / 100;
}

/** Vary (Subtle / Strong); a plain V sits between them. */
export const VARY_DENOISE: Record<VaryStrength | 'plain', number> = { subtle: 0.3, plain: 0.55, strong: 0.7 };
export const varyDenoise = (strength: VaryStrength | undefined): number => VARY_DENOISE[strength ?? 'plain'];
/** Upscale (Creative): a re-render at twice the size, light enough that the picture stays the same one. */
export const CREATIVE_DENOISE = 0.35;
/**
 * Zoom / pan / square: the new area starts from the source's edge colours stretched outward (editCanvas `filled`)
 * and is almost fully repainted. Vary (Region): the region is repainted from what was there, a little less strongly.
 */
export const OUTPAINT_DENOISE = 0.9;
export const INPAINT_DENOISE = 0.75;
/** /blend: the pictures averaged are only a start; most of the new picture is painted. */
export const BLEND_DENOISE = 0.8;
