import { UserError } from '../../core/errors.ts';
import type { GenerationRequest, ImageRole } from '../../core/request.ts';
import type { UpscaleMode, VaryStrength } from '../../core/job.ts';
import type { ModelFamily } from './models.ts';

/**
 * How a user's pictures, strengths and edits map to what Leonardo has. Sources:
 * - [guide] docs.leonardo.ai "Generate Images Using Image Guidance": controlnets `{ initImageId, initImageType
 *   GENERATED|UPLOADED, preprocessorId, strengthType }`; preprocessor ids by base model (Style Reference SDXL 67,
 *   Phoenix 166; Character Reference SDXL 133; Content Reference SDXL 100); strengthType Low|Mid|High for Content
 *   and Character Reference, Low to Max for Style Reference; init_image_id + init_strength may go with 67 / 133.
 * - [phoenix] the Phoenix and Lucid Realism guides: Content Reference 364 / 430 (the [guide] table marks Phoenix
 *   Content Reference "x"; the model guides are newer and are followed).
 * - [sdk] @leonardo-ai/sdk: init_strength 0.1–0.9; ControlnetInput (no `influence`, so one style picture only);
 *   StrengthType Low|Mid|High|Ultra|Max.
 * - [canvas] docs "Generate Images Using Canvas Inpainting" and its recipe: the picture and a white-on-black
 *   mask of the same size, sides multiples of 8, at most 1536; only prompt, canvasRequest, canvasRequestType,
 *   canvasInitId, canvasMaskId, init_strength, num_images, guidance_scale and modelId; every model but
 *   Lightning XL, Anime XL and Phoenix; images per size 512² 8, 768² 8, 512×1024 4, 768×1024 4, 1024² 2.
 * - [upscaler] docs "Upscale with Universal Upscaler" and [sdk] createuniversalupscalerjob: creativityStrength
 *   1–10, upscaleMultiplier 1.0–2.0, upscalerStyle, result through GET /variations/{id}.
 */

/** Preprocessor ids of [guide]'s table for the two base models we reach with references. */
export const STYLE_REFERENCE: Partial<Record<ModelFamily, number>> = { sdxl: 67, phoenix: 166 };
export const CHARACTER_REFERENCE: Partial<Record<ModelFamily, number>> = { sdxl: 133 };

/**
 * Midjourney's --iw (0–3, 1 when unset) as Leonardo's init_strength (0.1–0.9, higher keeps more of the picture):
 * a straight line, so --iw 0 is 0.1 (the least the API takes), --iw 1 about 0.37 and --iw 3 is 0.9.
 */
export function strengthFromWeight(weight: number | undefined): number {
  const w = Math.min(3, Math.max(0, weight ?? 1));
  return Math.round((0.1 + (0.8 * w) / 3) * 100) / 100;
}

/** A strength as the Low / Mid / High that reference controlnets take ([guide]). */
export const strengthType = (strength: number): 'Low' | 'Mid' | 'High' => (strength <= 0.35 ? 'Low' : strength <= 0.65 ? 'Mid' : 'High');

/** Vary (Subtle) keeps most of the source (init_strength 0.8); Vary (Strong) keeps its outline only (0.3). */
export const VARY_INIT_STRENGTH: Record<VaryStrength, number> = { subtle: 0.8, strong: 0.3 };

/** Upscale (Subtle) adds little (creativity 2 of 10); Upscale (Creative) adds detail (8 of 10); both twice the size. */
export const UPSCALER: Record<UpscaleMode, { creativityStrength: number; upscaleMultiplier: number }> = {
  subtle: { creativityStrength: 2, upscaleMultiplier: 2 },
  creative: { creativityStrength: 8, upscaleMultiplier: 2 },
};

export type Controlnet = { initImageId: string; initImageType: 'GENERATED' | 'UPLOADED'; preprocessorId: number; strengthType: 'Low' | 'Mid' | 'High' };

/** What the pictures add to a create body: an init image, reference controlnets. */
export interface PictureFields {
  init_image_id?: string;
  init_strength?: number;
  controlnets: Controlnet[];
}

const ROLE_NAMES: Record<ImageRole, string> = { prompt: 'image prompt', style: 'style reference (--sref)', character: 'character reference (--cref)' };

/**
 * The create fields for `req.images`, uploaded to Leonardo as `uploads[imageId]`. One picture per role: a second
 * image prompt has nowhere to go, and several style references need `influence`, which the SDK does not have.
 */
export function pictureFields(req: GenerationRequest, uploads: Readonly<Record<string, string>>, model: { family: ModelFamily; name: string; contentReference?: number }): PictureFields {
  const out: PictureFields = { controlnets: [] };
  const strength = strengthFromWeight(req.imageWeight);
  const seen = new Set<ImageRole>();
  for (const picture of req.images ?? []) {
    if (seen.has(picture.role)) throw new UserError('UNSUPPORTED', `Leonardo.Ai takes one ${ROLE_NAMES[picture.role]} per prompt: remove the others.`);
    seen.add(picture.role);
    const id = uploads[picture.imageId];
    if (!id) throw new Error(`picture ${picture.imageId} was not uploaded`);
    const reference = (preprocessorId: number): Controlnet => ({ initImageId: id, initImageType: 'UPLOADED', preprocessorId, strengthType: strengthType(strength) });
    const refuse = (able: string) =>
      new UserError('UNSUPPORTED', `The Leonardo.Ai model ${model.name} has no ${ROLE_NAMES[picture.role]}: pick ${able} with the model option, or remove the picture.`);
    switch (picture.role) {
      case 'prompt':
        if (model.family === 'sdxl') {
          out.init_image_id = id;
          out.init_strength = strength;
        } else if (model.contentReference !== undefined) out.controlnets.push(reference(model.contentReference));
        else throw refuse('phoenix, lucid-realism or an SDXL model (kino-xl, vision-xl, diffusion-xl)');
        break;
      case 'style': {
        const pre = STYLE_REFERENCE[model.family];
        if (pre === undefined) throw refuse('phoenix or an SDXL model (kino-xl, vision-xl, diffusion-xl)');
        out.controlnets.push(reference(pre));
        break;
      }
      case 'character': {
        const pre = CHARACTER_REFERENCE[model.family];
        if (pre === undefined) throw refuse('an SDXL model (kino-xl, vision-xl, diffusion-xl)');
        out.controlnets.push(reference(pre));
        break;
      }
    }
  }
  return out;
}
