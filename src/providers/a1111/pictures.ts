import sharp from 'sharp';
import { UserError } from '../../core/errors.ts';
import type { UpscaleMode } from '../../core/job.ts';
import type { GenerationRequest, ImageEdit } from '../../core/request.ts';
import { editCanvas } from '../../images/canvas.ts';
import { denoiseForWeight, INPAINT_DENOISE, OUTPAINT_DENOISE, RENDER_SIDE } from '../strengths.ts';

/**
 * How the webui's img2img takes pictures (fields of `StableDiffusionProcessingImg2Img` in `modules/processing.py`,
 * exposed by `modules/api/models.py`): the choices below are ours, the field meanings the webui's.
 */

/** The webui's own size bounds: its width / height sliders run 64-2048 in steps of 8, the latent grid. */
export const A1111_SIZE = { min: 64, max: 2048, multipleOf: 8 } as const;
/** Plain upscales stop here, as the local renderer's do: a 4096 picture is already 16 megapixels. */
export const MAX_UPSCALED_SIDE = 4096;

/** `inpainting_fill`: 0 fill, 1 original, 2 latent noise, 3 latent nothing (`processing.py` init). */
const FILL_ORIGINAL = 1;

/** The img2img fields a picture adds to a txt2img body. */
export interface Img2ImgFields {
  init_images: string[];
  denoising_strength: number;
  /** 0 "Just resize", 1 "Crop and resize" (`images.resize_image`). */
  resize_mode: 0 | 1;
  width: number;
  height: number;
  mask?: string;
  mask_blur?: number;
  inpainting_fill?: number;
  /** true: "Only masked", the region is cut out, painted at width × height and pasted back; false: the whole picture. */
  inpaint_full_res?: boolean;
  inpaint_full_res_padding?: number;
  inpainting_mask_invert?: 0 | 1;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** `width × height` scaled so the long side is `side` (down only unless `grow`), each side a multiple of 8 and at least 64. */
export function fitSize(width: number, height: number, side: number, grow = false): { width: number; height: number } {
  const scale = grow ? side / Math.max(width, height) : Math.min(1, side / Math.max(width, height));
  const round = (v: number) => Math.max(A1111_SIZE.min, Math.floor((v * scale) / A1111_SIZE.multipleOf) * A1111_SIZE.multipleOf);
  return { width: round(width), height: round(height) };
}

/** What the webui can do with an image prompt; anything else is refused here, before the GPU is touched. */
export function checkPictures(req: GenerationRequest, name: string): void {
  const images = req.images ?? [];
  if (req.blend) throw new UserError('UNSUPPORTED', `${name} cannot blend pictures: its img2img starts from one picture. Pick a provider that offers /blend.`);
  if (images.length > 1) throw new UserError('UNSUPPORTED', `${name} starts from one picture at a time; you gave ${images.length}. Keep one.`);
  const other = images.find((i) => i.role !== 'prompt');
  if (other) throw new UserError('UNSUPPORTED', `${name} has no ${other.role === 'style' ? 'style (--sref)' : 'character (--cref)'} references, only image prompts: put the picture's URL at the start of the prompt instead.`);
}

/** An image prompt: the picture as the img2img start, at the request's shape (cropped to it) or its own. */
export function imagePromptFields(picture: { bytes: Uint8Array; width: number; height: number }, req: GenerationRequest, shape: { width: number; height: number } | undefined): Img2ImgFields {
  const size = shape ?? fitSize(picture.width, picture.height, RENDER_SIDE, true);
  return { init_images: [b64(picture.bytes)], denoising_strength: denoiseForWeight(req.imageWeight), resize_mode: 1, ...size };
}

/** A variation, or Upscale (Creative), of one of our images: the image itself at `size`, `denoise` apart. */
export function redrawFields(bytes: Uint8Array, size: { width: number; height: number }, denoise: number): Img2ImgFields {
  return { init_images: [b64(bytes)], denoising_strength: denoise, resize_mode: 0, ...size };
}

/**
 * Zoom, pan, square (outpaint) and Vary (Region) (inpaint): the canvas with the source where it stays and its
 * edge colours where the new area is, and the webui's mask: white is painted, black kept (`create_binary_mask`).
 */
export async function editFields(source: Uint8Array, edit: ImageEdit): Promise<Img2ImgFields> {
  const c = await editCanvas(source, edit, { maxSide: Math.min(RENDER_SIDE, A1111_SIZE.max), multipleOf: A1111_SIZE.multipleOf });
  const common = { init_images: [b64(c.filled)], mask: b64(c.mask), resize_mode: 0 as const, width: c.width, height: c.height, inpainting_fill: FILL_ORIGINAL, inpainting_mask_invert: 0 as const };
  if (edit.kind === 'outpaint') {
    // The whole canvas is painted at once so the new area sees the picture it continues.
    return { ...common, denoising_strength: OUTPAINT_DENOISE, mask_blur: 8, inpaint_full_res: false };
  }
  // Only the region (and a margin of context) is painted, at full resolution, and pasted back.
  return { ...common, denoising_strength: INPAINT_DENOISE, mask_blur: 4, inpaint_full_res: true, inpaint_full_res_padding: 32 };
}

/** The upscaler names the webui lists (GET /sdapi/v1/upscalers) we prefer for Upscale (Subtle): faithful model upscalers first. */
const PREFERRED_UPSCALERS = ['R-ESRGAN 4x+', 'ESRGAN_4x', '4x-UltraSharp', 'SwinIR_4x', 'ScuNET GAN'];
/** Built into every webui (`modules/upscaler.py` UpscalerLanczos / UpscalerNearest / UpscalerNone). */
const PLAIN_UPSCALERS = new Set(['None', 'Lanczos', 'Nearest']);

/** The upscaler for the plain U and Upscale (Subtle): a model upscaler when one is installed, else Lanczos resampling. */
export function pickUpscaler(names: readonly string[]): string | undefined {
  return PREFERRED_UPSCALERS.find((n) => names.includes(n)) ?? names.find((n) => !PLAIN_UPSCALERS.has(n) && !/^LDSR$/i.test(n)) ?? (names.includes('Lanczos') ? 'Lanczos' : undefined);
}

/** How much an upscale of `source` grows it: twice, or as far as the mode's ceiling allows; undefined when it cannot grow. */
export function upscaleFactor(source: { width: number; height: number }, mode: UpscaleMode | undefined): number | undefined {
  const ceiling = mode === 'creative' ? A1111_SIZE.max : MAX_UPSCALED_SIDE;
  const factor = Math.min(2, ceiling / Math.max(source.width, source.height));
  return factor > 1.05 ? factor : undefined;
}

/** Width and height of an encoded picture, upright. */
export async function pictureSize(bytes: Uint8Array): Promise<{ width: number; height: number }> {
  const meta = await sharp(bytes).rotate().metadata();
  return { width: meta.autoOrient?.width ?? meta.width ?? 0, height: meta.autoOrient?.height ?? meta.height ?? 0 };
}
