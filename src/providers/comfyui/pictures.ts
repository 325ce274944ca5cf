import sharp from 'sharp';
import type { ApiWorkflow, WorkflowMap } from './workflow.ts';

/**
 * Workflows for pictures, built from the text-to-image workflow the operator runs (so its checkpoint, prompts,
 * sampler settings and outputs stay theirs) with ComfyUI's core nodes, as `nodes.py` defines them:
 * - LoadImage `{ image }` → IMAGE, MASK (the mask is 1 − alpha: transparent pixels are the ones to paint);
 * - ImageScale `{ image, upscale_method, width, height, crop }` → IMAGE; VAEEncode `{ pixels, vae }` → LATENT;
 * - SetLatentNoiseMask `{ samples, mask }` → LATENT (the sampler then changes only the masked area);
 * - LatentBlend `{ samples1, samples2, blend_factor }` → samples1 × f + samples2 × (1 − f);
 * - RepeatLatentBatch `{ samples, amount 1-64 }` → the batch repeated (the sampler gives each copy its own noise);
 * - UpscaleModelLoader `{ model_name }` → UPSCALE_MODEL and ImageUpscaleWithModel `{ upscale_model, image }` → IMAGE
 *   (`comfy_extras/nodes_upscale_model.py`).
 */

/** Where a text-to-image workflow takes its start latent, so a picture can be put there instead. */
export interface PictureGraph {
  /** The KSampler whose `latent_image` comes from an EmptyLatentImage. */
  sampler: string;
  /** That EmptyLatentImage. */
  latent: string;
  /** The VAE the workflow decodes with, as a link: pictures are encoded with the same one. */
  vae: [string, number];
}

const isLink = (v: unknown): v is [string, number] => Array.isArray(v) && v.length === 2 && typeof v[1] === 'number';

/** The sampler, start latent and VAE of a workflow, or why pictures cannot be put into it. */
export function findPictureGraph(workflow: ApiWorkflow, map: WorkflowMap): PictureGraph | { problem: string } {
  const fromEmpty = Object.entries(workflow).filter(([, n]) => {
    const link = n.inputs.latent_image;
    return n.class_type === 'KSampler' && isLink(link) && workflow[String(link[0])]?.class_type === 'EmptyLatentImage';
  });
  const mapped = map.seed && fromEmpty.find(([id]) => id === map.seed!.node);
  const chosen = mapped || (fromEmpty.length === 1 ? fromEmpty[0] : undefined);
  if (!chosen) {
    return { problem: fromEmpty.length ? 'it has several KSamplers fed by an EmptyLatentImage; map "seed" to the one pictures should start' : 'no KSampler in it starts from an EmptyLatentImage' };
  }
  const [sampler, node] = chosen;
  const decoders = Object.values(workflow).filter((n) => n.class_type === 'VAEDecode' && isLink(n.inputs.vae));
  const decoder = decoders.find((n) => isLink(n.inputs.samples) && String(n.inputs.samples[0]) === sampler) ?? decoders[0];
  if (!decoder) return { problem: 'it has no VAEDecode whose VAE pictures could be encoded with' };
  const vae = decoder.inputs.vae as [string, number];
  return { sampler, latent: String((node.inputs.latent_image as [string, number])[0]), vae: [String(vae[0]), vae[1]] };
}

/** Adds nodes under fresh numeric ids after the workflow's own. */
function builder(base: ApiWorkflow) {
  const workflow = structuredClone(base);
  let last = Math.max(0, ...Object.keys(workflow).map(Number).filter(Number.isFinite));
  const add = (class_type: string, inputs: Record<string, unknown>): [string, number] => {
    const id = String(++last);
    workflow[id] = { class_type, inputs };
    return [id, 0];
  };
  return { workflow, add };
}

/** Puts `latent` where the sampler's empty latent was, at `denoise`, and drops the empty latent when nothing else uses it. */
function startFrom(workflow: ApiWorkflow, g: PictureGraph, latent: [string, number], denoise: number): ApiWorkflow {
  const sampler = workflow[g.sampler]!;
  sampler.inputs.latent_image = latent;
  sampler.inputs.denoise = denoise;
  const used = Object.values(workflow).some((n) => Object.values(n.inputs).some((v) => isLink(v) && String(v[0]) === g.latent));
  if (!used) delete workflow[g.latent];
  return workflow;
}

const repeat = (add: ReturnType<typeof builder>['add'], latent: [string, number], count: number) => (count > 1 ? add('RepeatLatentBatch', { samples: latent, amount: count }) : latent);

/**
 * Image prompts and /blend: each picture scaled and cropped to `width × height`, encoded, and the latents averaged
 * (LatentBlend chained with factors (k−1)/k, so every picture weighs the same); the sampler starts there.
 */
export function imagePromptWorkflow(base: ApiWorkflow, g: PictureGraph, o: { files: string[]; width: number; height: number; denoise: number; count: number; upscaleModel?: string }): ApiWorkflow {
  const { workflow, add } = builder(base);
  const latents = o.files.map((image) => {
    let pixels = add('LoadImage', { image });
    if (o.upscaleModel) pixels = add('ImageUpscaleWithModel', { upscale_model: add('UpscaleModelLoader', { model_name: o.upscaleModel }), image: pixels });
    const scaled = add('ImageScale', { image: pixels, upscale_method: 'lanczos', width: o.width, height: o.height, crop: 'center' });
    return add('VAEEncode', { pixels: scaled, vae: g.vae });
  });
  let latent = latents[0]!;
  for (const [i, next] of latents.slice(1).entries()) latent = add('LatentBlend', { samples1: latent, samples2: next, blend_factor: round3((i + 1) / (i + 2)) });
  return startFrom(workflow, g, repeat(add, latent, o.count), o.denoise);
}

/**
 * Zoom, pan, square and Vary (Region): one uploaded RGBA picture whose colours are the canvas and whose alpha is
 * the mask (transparent = paint); it is encoded and the sampler may change only the masked area.
 */
export function maskedWorkflow(base: ApiWorkflow, g: PictureGraph, o: { file: string; denoise: number; count: number }): ApiWorkflow {
  const { workflow, add } = builder(base);
  const load = add('LoadImage', { image: o.file });
  const encoded = add('VAEEncode', { pixels: load, vae: g.vae });
  const masked = add('SetLatentNoiseMask', { samples: encoded, mask: [load[0], 1] });
  return startFrom(workflow, g, repeat(add, masked, o.count), o.denoise);
}

/** U and Upscale (Subtle): the picture through an upscale model when one is installed, then resized to exactly `width × height`. */
export function upscaleWorkflow(o: { file: string; width: number; height: number; upscaleModel?: string; prefix: string }): ApiWorkflow {
  const { workflow, add } = builder({});
  let pixels = add('LoadImage', { image: o.file });
  if (o.upscaleModel) pixels = add('ImageUpscaleWithModel', { upscale_model: add('UpscaleModelLoader', { model_name: o.upscaleModel }), image: pixels });
  const sized = add('ImageScale', { image: pixels, upscale_method: 'lanczos', width: o.width, height: o.height, crop: 'disabled' });
  add('SaveImage', { images: sized, filename_prefix: o.prefix });
  return workflow;
}

/** The canvas with the mask as its alpha: what LoadImage reads as IMAGE (the colours) and MASK (1 − alpha). */
export async function canvasWithMaskAlpha(filled: Uint8Array, mask: Uint8Array): Promise<Uint8Array> {
  // Raw buffers on both sides: sharp applies removeAlpha after joins, so the channels are settled first.
  const rgb = await sharp(filled).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const keep = await sharp(mask).removeAlpha().greyscale().negate({ alpha: false }).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  const joined = sharp(rgb.data, { raw: { width: rgb.info.width, height: rgb.info.height, channels: rgb.info.channels } }).joinChannel(keep.data, { raw: { width: keep.info.width, height: keep.info.height, channels: 1 } });
  return new Uint8Array(await joined.png().toBuffer());
}

/** A file name ComfyUI's LoadImage takes for an upload: `subfolder/name`, or the name alone. */
export const loadImageName = (u: { name: string; subfolder: string }) => (u.subfolder ? `${u.subfolder}/${u.name}` : u.name);

const round3 = (n: number) => Math.round(n * 1000) / 1000;
