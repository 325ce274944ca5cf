import sharp from 'sharp';
import { sniffImageType, type ImageMime } from './sniff.ts';

/** Bytes that are not a PNG / JPEG / WebP / GIF image, or one that does not decode. */
export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
}

export interface ProbedImage {
  mime: ImageMime;
  /** Upright size: EXIF orientation applied, as a viewer shows it. */
  width: number;
  height: number;
  hasAlpha: boolean;
}

/**
 * Checks that the bytes are an image of an accepted type and that it decodes to the end,
 * so a truncated download is caught here and not when a platform rejects the upload.
 */
export async function probeImage(bytes: Uint8Array, opts: { header?: boolean } = {}): Promise<ProbedImage> {
  const mime = sniffImageType(bytes);
  if (!mime) throw new ImageDecodeError('not an image: expected PNG, JPEG, WebP or GIF bytes');
  try {
    const meta = await sharp(bytes, { failOn: 'truncated' }).metadata();
    const width = meta.autoOrient?.width ?? meta.width;
    const height = meta.autoOrient?.height ?? meta.height;
    if (!width || !height) throw new ImageDecodeError(`${mime} without dimensions`);
    // Decoding a tiny thumbnail reads the whole stream (JPEG shrink-on-load keeps it cheap). `header`: the
    // caller decoded these bytes already (the grid did) or made them itself, so the header is enough.
    if (!opts.header) await sharp(bytes, { failOn: 'truncated' }).resize(8, 8, { fit: 'fill' }).raw().toBuffer();
    return { mime, width, height, hasAlpha: meta.hasAlpha ?? false };
  } catch (err) {
    if (err instanceof ImageDecodeError) throw err;
    throw new ImageDecodeError(`${mime} does not decode: ${(err as Error).message}`, { cause: err });
  }
}
