import sharp from 'sharp';
import type { ProviderImage, ProviderRunContext } from '../../core/provider.ts';
import type { GenerationRequest } from '../../core/request.ts';
import { editCanvas } from '../../images/canvas.ts';

/**
 * What the local renderer does with a user's pictures, honestly: it is not a model, so it takes their layout
 * (a soft copy laid over the drawing) and palette (a tint), and extends or repaints with its own drawing.
 */

type Picture = { bytes: Uint8Array; mime: string; width: number; height: number };

const png = (img: sharp.Sharp) => img.png({ compressionLevel: 6 }).toBuffer().then((b) => new Uint8Array(b));

/** How strongly an image prompt shows through: --iw 1 is about a third, --iw 3 nearly all of it. */
export const layoutShare = (weight: number | undefined): number => Math.min(0.9, 0.3 * (weight ?? 1));

/** A soft, blurred copy of `picture` at `size`, as a layer with `opacity`. */
async function layer(picture: Picture, size: { width: number; height: number }, opacity: number): Promise<Buffer> {
  const rgb = await sharp(picture.bytes).rotate().resize(size.width, size.height, { fit: 'cover' }).blur(Math.max(0.3, Math.min(size.width, size.height) / 96)).removeAlpha().raw().toBuffer();
  const alpha = Math.round(255 * opacity);
  const rgba = Buffer.alloc(size.width * size.height * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgba[j] = rgb[i]!;
    rgba[j + 1] = rgb[i + 1]!;
    rgba[j + 2] = rgb[i + 2]!;
    rgba[j + 3] = alpha;
  }
  return sharp(rgba, { raw: { ...size, channels: 4 } }).png().toBuffer();
}

/** The drawings, each with the image prompts laid over it (a blend: all of them in equal parts) and the style pictures' average colour as a tint. */
export async function applyPictures(images: ProviderImage[], request: GenerationRequest, ctx: ProviderRunContext): Promise<ProviderImage[]> {
  const refs = request.images ?? [];
  if (!refs.length) return images;
  const read = await Promise.all(refs.map(async (r) => ({ role: r.role, picture: await ctx.readImage!(r.imageId) })));
  const layout = read.filter((r) => r.role !== 'style');
  const style = read.filter((r) => r.role === 'style');
  const tints = await Promise.all(style.map(async (s) => (await sharp(s.picture.bytes).stats()).dominant));
  const out: ProviderImage[] = [];
  for (const img of images) {
    const size = { width: img.width, height: img.height };
    // A blend is the pictures themselves, mostly; an image prompt is the drawing with the picture showing through.
    const share = request.blend ? 0.8 : layoutShare(request.imageWeight);
    const layers = await Promise.all(layout.map((l, i) => layer(l.picture, size, request.blend ? share / (i + 1) : share / layout.length)));
    let canvas = sharp(img.bytes).composite(layers.map((input) => ({ input })));
    if (tints.length) {
      const r = avg(tints.map((t) => t.r));
      const g = avg(tints.map((t) => t.g));
      const b = avg(tints.map((t) => t.b));
      canvas = sharp(await canvas.png().toBuffer()).tint({ r, g, b });
    }
    out.push({ ...img, bytes: await png(canvas), mime: 'image/png' });
  }
  return out;
}

const avg = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);

/**
 * Zoom, pan, square (outpaint) and Vary (Region) (inpaint): the source stays pixel for pixel where it is kept;
 * the renderer's drawing, mixed with the source's edge colours, fills what is new.
 */
export async function applyEdit(drawing: ProviderImage, request: GenerationRequest, ctx: ProviderRunContext, maxSide: number): Promise<ProviderImage> {
  const edit = request.edit!;
  const source: Picture = await ctx.readImage!(edit.imageId);
  const c = await editCanvas(source.bytes, edit, { maxSide });
  const size = { width: c.width, height: c.height };
  const drawn = await sharp(drawing.bytes).resize(size.width, size.height, { fit: 'cover' }).toBuffer();
  // The new area: half drawing, half the source's own colours stretched outward, so the seam is soft.
  const fill = await sharp(c.filled).composite([{ input: await sharp(drawn).ensureAlpha(0.5).png().toBuffer() }]).png().toBuffer();
  // The picture (transparent where new) on top: kept pixels stay as they were.
  const bytes = await png(sharp(fill).composite([{ input: Buffer.from(c.image) }]));
  return { ...drawing, bytes, mime: 'image/png', ...size };
}
