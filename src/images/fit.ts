import sharp from 'sharp';
import { probeImage } from './probe.ts';

/** No rendition of the image fits the byte cap: the cap is unreasonably small for an image. */
export class ImageFitError extends Error {
  override readonly name = 'ImageFitError';
}

export interface FittedImage {
  bytes: Uint8Array;
  mime: string;
  width: number;
  height: number;
}

/** Lossy steps tried at each size, best first: JPEG before WebP at equal quality because every client shows it. */
const QUALITIES = [90, 80, 70] as const;
/** Below this the picture is no longer worth sending. */
const MIN_SIDE = 16;

/**
 * The best rendition under `maxBytes`: the original if it fits, else lossless PNG, else high-quality
 * JPEG / WebP at full size, and only then smaller sizes, stepwise. Throws ImageFitError when even a
 * thumbnail does not fit.
 */
export async function fitToBytes(bytes: Uint8Array, maxBytes: number): Promise<FittedImage> {
  // What fits goes as it is, byte for byte: its header is read, its pixels are not decoded again.
  if (bytes.length <= maxBytes) {
    const head = await probeImage(bytes, { header: true });
    return { bytes, mime: head.mime, width: head.width, height: head.height };
  }
  const info = await probeImage(bytes);

  const upright = sharp(bytes).autoOrient();
  const png = await upright.clone().png({ compressionLevel: 9 }).toBuffer();
  if (png.length <= maxBytes) return { bytes: png, mime: 'image/png', width: info.width, height: info.height };

  let { width, height } = info;
  let smallest = png.length;
  for (;;) {
    const resized = width === info.width ? upright.clone() : upright.clone().resize(width, height, { kernel: 'lanczos3' });
    for (const quality of QUALITIES) {
      // JPEG has no alpha: a transparent image goes to WebP only rather than gaining a black background.
      if (!info.hasAlpha) {
        const jpeg = await resized.clone().jpeg({ quality }).toBuffer();
        if (jpeg.length <= maxBytes) return { bytes: jpeg, mime: 'image/jpeg', width, height };
        smallest = Math.min(smallest, jpeg.length);
      }
      const webp = await resized.clone().webp({ quality }).toBuffer();
      if (webp.length <= maxBytes) return { bytes: webp, mime: 'image/webp', width, height };
      smallest = Math.min(smallest, webp.length);
    }
    // Bytes grow roughly with pixel count, so aim at the cap in one step, but never shrink by more than half.
    const scale = Math.min(0.9, Math.max(0.5, Math.sqrt(maxBytes / smallest) * 0.95));
    const next = { width: Math.round(width * scale), height: Math.round(height * scale) };
    if (Math.min(next.width, next.height) < MIN_SIDE) {
      throw new ImageFitError(`no PNG, JPEG or WebP rendition of this ${info.width}×${info.height} image fits in ${maxBytes} bytes (smallest: ${smallest} bytes at ${width}×${height})`);
    }
    ({ width, height } = next);
  }
}
