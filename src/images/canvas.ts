import sharp from 'sharp';
import type { ImageEdit } from '../core/request.ts';

/**
 * What an edit gives a provider to paint on: the picture on its new canvas, and a mask of where to paint.
 * Providers differ in how they read a mask (OpenAI and ComfyUI: transparent pixels of the picture; A1111 and
 * most inpaint models: white on black), so both are here.
 */
export interface EditCanvas {
  /** PNG, RGBA: the source where it stays, fully transparent where the provider paints. */
  image: Uint8Array;
  /** PNG, greyscale: white where the provider paints, black where the source stays. */
  mask: Uint8Array;
  /** The source on an opaque canvas (the outpaint area filled with the source's edge colours), for img2img-style providers. */
  filled: Uint8Array;
  width: number;
  height: number;
}

export interface CanvasOptions {
  /** Scale the canvas so its long side is at most this (providers paint up to a size). */
  maxSide?: number;
  /** Round both sides down to a multiple of this (Stable Diffusion needs 8, some 64). */
  multipleOf?: number;
}

const png = (img: sharp.Sharp) => img.png({ compressionLevel: 3 }).toBuffer().then((b) => new Uint8Array(b));

/** The canvas and mask for an outpaint (zoom, pan, square) or an inpaint (Vary (Region)) of `source`. */
export async function editCanvas(source: Uint8Array, edit: ImageEdit, options: CanvasOptions = {}): Promise<EditCanvas> {
  const meta = await sharp(source).rotate().metadata();
  const sw = meta.autoOrient?.width ?? meta.width ?? 0;
  const sh = meta.autoOrient?.height ?? meta.height ?? 0;
  const canvasW = edit.kind === 'outpaint' ? edit.canvas.width : sw;
  const canvasH = edit.kind === 'outpaint' ? edit.canvas.height : sh;
  const multiple = options.multipleOf ?? 1;
  const scale = Math.min(1, (options.maxSide ?? Infinity) / Math.max(canvasW, canvasH));
  const W = Math.max(multiple, Math.floor((canvasW * scale) / multiple) * multiple);
  const H = Math.max(multiple, Math.floor((canvasH * scale) / multiple) * multiple);
  const fx = W / canvasW;
  const fy = H / canvasH;
  const upright = await sharp(source).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const raw = { width: upright.info.width, height: upright.info.height, channels: 4 as const };

  if (edit.kind === 'outpaint') {
    const left = Math.round(edit.left * fx);
    const top = Math.round(edit.top * fy);
    const w = Math.min(W - left, Math.max(1, Math.round(sw * fx)));
    const h = Math.min(H - top, Math.max(1, Math.round(sh * fy)));
    const placed = await sharp(upright.data, { raw }).resize(w, h, { fit: 'fill' }).raw().toBuffer();
    const image = await png(sharp({ create: { width: W, height: H, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).composite([{ input: placed, raw: { width: w, height: h, channels: 4 }, left, top }]));
    const keep = await sharp({ create: { width: w, height: h, channels: 3, background: '#000' } }).png().toBuffer();
    const mask = await png(sharp({ create: { width: W, height: H, channels: 3, background: '#fff' } }).composite([{ input: keep, left, top }]).greyscale());
    // Outside the source: its edge colours stretched outward, so img2img providers start from something plausible.
    const filled = await png(sharp(placed, { raw: { width: w, height: h, channels: 4 } }).extend({ top, left, bottom: H - top - h, right: W - left - w, extendWith: 'copy' }).flatten({ background: '#808080' }));
    return { image, mask, filled, width: W, height: H };
  }

  const base = await sharp(upright.data, { raw }).resize(W, H, { fit: 'fill' }).raw().toBuffer();
  const rx = Math.floor(edit.region.x * W);
  const ry = Math.floor(edit.region.y * H);
  const rw = Math.max(1, Math.min(W - rx, Math.round(edit.region.width * W)));
  const rh = Math.max(1, Math.min(H - ry, Math.round(edit.region.height * H)));
  // dest-out removes the picture where the overlay is opaque.
  const clear = await sharp({ create: { width: rw, height: rh, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 1 } } }).png().toBuffer();
  const image = await png(sharp(base, { raw: { width: W, height: H, channels: 4 } }).composite([{ input: clear, left: rx, top: ry, blend: 'dest-out' }]));
  const hole = await sharp({ create: { width: rw, height: rh, channels: 3, background: '#fff' } }).png().toBuffer();
  const mask = await png(sharp({ create: { width: W, height: H, channels: 3, background: '#000' } }).composite([{ input: hole, left: rx, top: ry }]).greyscale());
  const filled = await png(sharp(base, { raw: { width: W, height: H, channels: 4 } }).flatten({ background: '#808080' }));
  return { image, mask, filled, width: W, height: H };
}
