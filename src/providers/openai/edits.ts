import sharp from 'sharp';
import { FormData } from 'undici';
import { UserError } from '../../core/errors.ts';
import type { ProviderRunContext } from '../../core/provider.ts';
import type { GenerationRequest, ImageEdit } from '../../core/request.ts';
import { editCanvas } from '../../images/canvas.ts';
import { buildGenerationBody, isFlexibleModel, supportsInputFidelity, type OpenAIExtras, type OpenAIGenerationBody } from './body.ts';

/**
 * `POST /images/edits` for the user's pictures (image prompts, /blend) and for zoom, pan, square and Vary (Region).
 * Rules, each from OpenAI's OpenAPI document (`CreateImageEditRequest`) and the openai package (`ImageEditParamsBase`),
 * the multipart form as the openai package's `addFormValue` and the Vercel AI SDK's `convertToFormData` both write
 * it: one picture as `image`, several as repeated `image[]`.
 */

/** Each picture must be under 50 MB (GPT image models); the mask a PNG under 4 MB. */
const MAX_IMAGE_BYTES = 50 * 1024 * 1024;
const MAX_MASK_BYTES = 4 * 1024 * 1024;
/** Everything one edit uploads: five pictures of the core's 20 MB each fit, with the canvas. */
export const OPENAI_MAX_UPLOAD_BYTES = 128 * 1024 * 1024;
/** The formats the GPT image models take; anything else (a GIF) is re-encoded as PNG first. */
const TAKEN = new Set(['image/png', 'image/jpeg', 'image/webp']);
/** The three sizes the GPT image models other than gpt-image-2 draw, as width, height. */
const STANDARD: readonly [number, number][] = [
  [1024, 1024],
  [1536, 1024],
  [1024, 1536],
];
/** gpt-image-2 sizes: sides divisible by 16, long side as the generate path draws it, ratio within 1:3..3:1. */
const FLEX_LONG = 1536;

type Part = { bytes: Uint8Array; mime: string; name: string };

export interface EditUpload {
  form: FormData;
  /** Number of images asked for (`n`). */
  n: number;
  partials: number;
  /** What was uploaded, for the intent record (never the bytes). */
  summary: { images: number; mask: boolean; size: string; bytes: number };
}

const png = (img: sharp.Sharp) => img.png({ compressionLevel: 6 }).toBuffer().then((b) => new Uint8Array(b));

/** A picture as OpenAI takes it: png, jpeg or webp as is; anything else (a GIF's first frame) as PNG. */
async function taken(p: { bytes: Uint8Array; mime: string }, name: string): Promise<Part> {
  if (TAKEN.has(p.mime)) return { bytes: p.bytes, mime: p.mime, name: `${name}.${p.mime.split('/')[1]}` };
  return { bytes: await png(sharp(p.bytes).rotate()), mime: 'image/png', name: `${name}.png` };
}

/** The size OpenAI should draw an edit of shape `w`×`h` at: exact on gpt-image-2, else the nearest standard size. */
export function editSize(model: string, w: number, h: number): { width: number; height: number } {
  if (isFlexibleModel(model)) {
    if (w / h > 3 || h / w > 3) {
      throw new UserError('UNSUPPORTED', `OpenAI's ${model} draws from 1:3 to 3:1, and this edit needs a ${w}×${h} picture. Pan the other way, or zoom out first.`);
    }
    const r16 = (v: number) => Math.max(16, Math.round(v / 16) * 16);
    return w >= h ? { width: FLEX_LONG, height: r16((FLEX_LONG * h) / w) } : { width: r16((FLEX_LONG * w) / h), height: FLEX_LONG };
  }
  const ratio = Math.log(w / h);
  const [sw, sh] = [...STANDARD].sort((a, b) => Math.abs(Math.log(a[0] / a[1]) - ratio) - Math.abs(Math.log(b[0] / b[1]) - ratio))[0]!;
  return { width: sw, height: sh };
}

/**
 * An outpaint's canvas widened or heightened to the ratio OpenAI will draw, the source kept centred in the added
 * room: on the models with three sizes a pan of a 3:2 picture (9:4) becomes 3:2 with more sky and ground to paint,
 * rather than a stretched picture.
 */
function fitOutpaint(edit: Extract<ImageEdit, { kind: 'outpaint' }>, target: { width: number; height: number }): Extract<ImageEdit, { kind: 'outpaint' }> {
  const { width: cw, height: ch } = edit.canvas;
  const want = target.width / target.height;
  if (Math.abs(cw / ch - want) < 0.01) return edit;
  if (cw / ch < want) {
    const width = Math.round(ch * want);
    return { ...edit, canvas: { width, height: ch }, left: edit.left + Math.floor((width - cw) / 2) };
  }
  const height = Math.round(cw / want);
  return { ...edit, canvas: { width: cw, height }, top: edit.top + Math.floor((height - ch) / 2) };
}

/** The mask OpenAI reads: a PNG whose fully transparent pixels are where to paint (the spec's `mask`). */
async function alphaMask(rgba: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  const alpha = await sharp(rgba).ensureAlpha().extractChannel('alpha').raw().toBuffer();
  return png(sharp({ create: { width, height, channels: 3, background: '#000' } }).joinChannel(alpha, { raw: { width, height, channels: 1 } }));
}

const resized = async (bytes: Uint8Array, width: number, height: number): Promise<Uint8Array> => {
  const meta = await sharp(bytes).metadata();
  return meta.width === width && meta.height === height ? bytes : png(sharp(bytes).resize(width, height, { fit: 'fill' }));
};

/** The picture to edit and its mask, at the size OpenAI will draw. */
async function canvasParts(edit: ImageEdit, ctx: ProviderRunContext, model: string): Promise<{ image: Part; mask: Part; size: string }> {
  const source = await ctx.readImage!(edit.imageId);
  if (edit.kind === 'outpaint') {
    const target = editSize(model, edit.canvas.width, edit.canvas.height);
    const c = await editCanvas(source.bytes, fitOutpaint(edit, target), { maxSide: Math.max(target.width, target.height) });
    // The source where it stays, transparent where OpenAI paints: the picture and the mask agree pixel for pixel.
    const image = await resized(c.image, target.width, target.height);
    const mask = await alphaMask(image, target.width, target.height);
    return { image: { bytes: image, mime: 'image/png', name: 'canvas.png' }, mask: { bytes: mask, mime: 'image/png', name: 'mask.png' }, size: `${target.width}x${target.height}` };
  }
  const target = editSize(model, source.width, source.height);
  // Standard sizes only: a source of another shape keeps it (`size: auto`) rather than being stretched.
  const exact = isFlexibleModel(model) || Math.abs(Math.log(source.width / source.height / (target.width / target.height))) < 0.01;
  const [w, h] = exact ? [target.width, target.height] : fitWithin(source.width, source.height, 1536);
  const c = await editCanvas(source.bytes, edit, { maxSide: Math.max(w, h) });
  // Vary (Region) repaints inside the picture: OpenAI sees the whole of it, and the mask says which part to change.
  const image = await resized(c.filled, w, h);
  const mask = await alphaMask(await resized(c.image, w, h), w, h);
  return { image: { bytes: image, mime: 'image/png', name: 'source.png' }, mask: { bytes: mask, mime: 'image/png', name: 'mask.png' }, size: exact ? `${w}x${h}` : 'auto' };
}

function fitWithin(w: number, h: number, side: number): [number, number] {
  const s = side / Math.max(w, h);
  return [Math.max(16, Math.round(w * s)), Math.max(16, Math.round(h * s))];
}

/**
 * The multipart body of one edit: the canvas first when there is one (the mask applies to the first picture),
 * then the user's image prompts, so a zoom of a job that started from pictures still sees them.
 */
export async function buildEditUpload(req: GenerationRequest, ctx: ProviderRunContext, configuredModel: string, extras: OpenAIExtras): Promise<EditUpload> {
  if (!ctx.readImage) throw new Error('OpenAI edits need the run context to read stored pictures');
  // The generation body gives the model, prompt bounds, n, transparency rules and streaming as generate sends them.
  const base = buildGenerationBody(req, configuredModel, extras);
  const images: Part[] = [];
  let mask: Part | undefined;
  let size = base.size;
  if (req.edit) {
    const c = await canvasParts(req.edit, ctx, base.model);
    images.push(c.image);
    mask = c.mask;
    size = c.size;
  }
  for (const [i, ref] of (req.images ?? []).entries()) images.push(await taken(await ctx.readImage(ref.imageId), `picture-${i + 1}`));
  return editUpload(images, mask, base, size, extras);
}

/** A variation (V): the chosen image edited with its own prompt. */
export async function buildVaryUpload(source: { bytes: Uint8Array; mime: string }, req: GenerationRequest, configuredModel: string, extras: OpenAIExtras): Promise<EditUpload> {
  const base = buildGenerationBody({ ...req, count: 1 }, configuredModel, extras);
  return editUpload([await taken(source, 'source')], undefined, base, base.size, extras);
}

function editUpload(images: Part[], mask: Part | undefined, base: OpenAIGenerationBody, size: string, extras: OpenAIExtras): EditUpload {
  let bytes = 0;
  for (const p of images) {
    if (p.bytes.byteLength >= MAX_IMAGE_BYTES) throw new UserError('INVALID_IMAGE', 'OpenAI takes pictures under 50 MB each; send a smaller one.');
    bytes += p.bytes.byteLength;
  }
  if (mask && mask.bytes.byteLength >= MAX_MASK_BYTES) throw new Error(`the edit mask came out at ${mask.bytes.byteLength} bytes, over OpenAI's 4 MB`);
  bytes += mask?.bytes.byteLength ?? 0;
  if (bytes > OPENAI_MAX_UPLOAD_BYTES) throw new UserError('INVALID_IMAGE', `These pictures come to ${Math.round(bytes / 1048576)} MB together; OpenAI edits here take at most ${OPENAI_MAX_UPLOAD_BYTES / 1048576} MB. Use fewer or smaller pictures.`);

  const form = new FormData();
  const key = images.length > 1 ? 'image[]' : 'image';
  for (const p of images) form.append(key, new Blob([Buffer.from(p.bytes)], { type: p.mime }), p.name);
  if (mask) form.append('mask', new Blob([Buffer.from(mask.bytes)], { type: mask.mime }), mask.name);
  const fields: Record<string, string | number | boolean | undefined> = {
    model: base.model,
    prompt: base.prompt,
    n: base.n,
    size,
    stream: true,
    partial_images: base.partial_images,
    quality: base.quality,
    output_format: base.output_format,
    output_compression: base.output_compression,
    background: base.background,
    user: base.user,
    // `moderation` is a generations parameter only: `CreateImageEditRequest` has no such field.
    input_fidelity: extras.input_fidelity && supportsInputFidelity(base.model) ? extras.input_fidelity : undefined,
  };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) form.append(k, String(v));
  return { form, n: base.n, partials: base.partial_images, summary: { images: images.length, mask: Boolean(mask), size, bytes } };
}
