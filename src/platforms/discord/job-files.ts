import type { Atelier } from '../../core/atelier.ts';
import type { Job } from '../../core/job.ts';
import type { ImageTools } from '../../core/ports.ts';
import { sniffImageType } from '../../images/sniff.ts';
import type { RenderFile } from './render.ts';

/** Discord: at most 10 attachments a message and 25 MiB a request, whatever the per-file cap. */
export const MAX_FILES = 10;
export const MAX_REQUEST_BYTES = 25 * 1024 * 1024;
/** Room for payload_json and multipart framing inside the request cap. */
const OVERHEAD = 64 * 1024;

const EXT: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif' };
const ext = (mime: string) => EXT[mime] ?? 'bin';

/** The same file name with the extension of its (new) type: `grid.png` re-encoded as JPEG is `grid.jpg`. */
export const renamed = (name: string, mime: string): string => `${name.replace(/\.[a-z0-9]+$/i, '')}.${ext(mime)}`;

/**
 * The files a finished job's message carries: the grid re-encoded to fit the channel's per-file cap,
 * then the full-size images in order while each fits the cap and the request stays under 25 MiB.
 * A single-image job (an upscale) carries that image, fitted.
 */
export async function resultFiles(atelier: Atelier, images: ImageTools, job: Job, limit: number, maxFiles = MAX_FILES): Promise<RenderFile[]> {
  const handles = await atelier.images(job.id);
  const grid = handles.find((h) => h.meta.kind === 'grid');
  const singles = handles.filter((h) => h.meta.kind === 'image').sort((a, b) => a.meta.index - b.meta.index);
  const files: RenderFile[] = [];
  let total = OVERHEAD;
  const main = grid ?? (singles.length === 1 ? singles[0] : undefined);
  if (main) {
    // Stored bytes that fit go as they are: the grid was made for this and the store knows its type and size.
    const stored = await main.bytes();
    const fitted = stored.length <= limit ? { bytes: stored, mime: main.meta.mime } : await images.fit(stored, limit);
    files.push({ name: `${main === grid ? 'grid' : `image-${main.meta.index}`}.${ext(fitted.mime)}`, data: fitted.bytes, contentType: fitted.mime, description: main === grid ? 'Grid of the results' : `Image ${main.meta.index}` });
    total += fitted.bytes.length;
  }
  if (main === grid) {
    for (const h of singles) {
      if (files.length >= maxFiles || h.meta.size > limit || total + h.meta.size > MAX_REQUEST_BYTES) continue;
      const data = await h.bytes();
      if (data.length > limit || total + data.length > MAX_REQUEST_BYTES) continue;
      files.push({ name: `image-${h.meta.index}.${ext(h.meta.mime)}`, data, contentType: h.meta.mime, description: `Image ${h.meta.index}, full size` });
      total += data.length;
    }
  }
  return files;
}

/**
 * The newest progress preview, when the provider gave one and it fits. The runner stored it already
 * made small (images.preview), so it goes as stored: no second decode and encode per edit.
 */
export async function previewFile(atelier: Atelier, job: Job, limit: number): Promise<RenderFile | undefined> {
  const key = job.progress.previewKey;
  if (!key) return undefined;
  const bytes = await atelier.blobs.get(key);
  const mime = bytes && sniffImageType(bytes);
  if (!bytes || !mime || bytes.length > limit) return undefined;
  return { name: `preview.${ext(mime)}`, data: bytes, contentType: mime, description: 'Preview' };
}

/** A thumbnail's longest side: small beside the results, and a few KiB to upload with every edit. */
export const THUMBNAIL_SIDE = 160;

/**
 * The user's own pictures the job started from, as small thumbnails (never the originals: they may be many MiB
 * and would be uploaded again with every edit). Named `input-N` so the embeds can point at them.
 */
export async function inputThumbnails(atelier: Atelier, images: ImageTools, job: Job, limit: number): Promise<RenderFile[]> {
  if (!job.inputs?.length) return [];
  const out: RenderFile[] = [];
  for (const [k, h] of (await atelier.inputs(job.id)).entries()) {
    const small = await images.preview(await h.bytes(), THUMBNAIL_SIDE);
    if (small.bytes.length > limit) continue;
    const label = job.inputs.find((i) => i.imageId === h.meta.id)?.source ?? `picture ${k + 1}`;
    out.push({ name: `input-${k + 1}.${ext(small.mime)}`, data: small.bytes, contentType: small.mime, description: `Started from: ${label}`.slice(0, 200) });
  }
  return out;
}
