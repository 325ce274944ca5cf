import sharp from 'sharp';
import { ImageDecodeError } from './probe.ts';
import { sniffImageType } from './sniff.ts';

export interface GridLayout {
  columns: number;
  rows: number;
  cellWidth: number;
  cellHeight: number;
  gutter: number;
  width: number;
  height: number;
  /** Top-left corner of each cell, in image order. */
  cells: { left: number; top: number }[];
}

export type GridFormat = 'auto' | 'png' | 'jpeg' | 'webp';

export interface GridOptions {
  /** The grid's longer side never exceeds this; cells shrink to fit. */
  maxSide?: number;
  /** 'auto': the sources' family (see gridFormat). */
  format?: GridFormat;
  /** Gutter and empty-cell colour. */
  background?: { r: number; g: number; b: number };
}

/**
 * The grid is an overview: the full-size images travel beside it byte-for-byte, so a 1024-px grid (what a
 * chat client shows inline, and a quarter of the pixels of the four sources) keeps a result's upload near
 * the provider's own bytes. Measured with `npm run bench image` on four photo-like 1024² sources: a
 * 2048-px grid in JPEG 4:4:4 q90 alone weighs 1.3× the four JPEG sources (2.3× per result), at 1024 px 0.33×.
 */
export const GRID_DEFAULTS = {
  maxSide: 1024,
  format: 'auto',
  background: { r: 24, g: 24, b: 27 },
} as const satisfies Required<GridOptions>;

/** Two columns up to four images (2×2 for four, like Midjourney), four columns for five to eight. */
export function gridColumns(count: number): number {
  return count <= 1 ? 1 : count <= 4 ? 2 : 4;
}

/** Where each of `count` cells of the given size goes, with a gutter of about 1% of the cell's long side. */
export function gridLayout(count: number, cellWidth: number, cellHeight: number): GridLayout {
  if (!Number.isInteger(count) || count < 1 || count > 8) throw new RangeError(`a grid holds 1 to 8 images, not ${count}`);
  const columns = gridColumns(count);
  const rows = Math.ceil(count / columns);
  const gutter = Math.max(2, Math.round(Math.max(cellWidth, cellHeight) / 128));
  const cells = Array.from({ length: count }, (_, i) => ({
    left: (i % columns) * (cellWidth + gutter),
    top: Math.floor(i / columns) * (cellHeight + gutter),
  }));
  return {
    columns,
    rows,
    cellWidth,
    cellHeight,
    gutter,
    width: columns * cellWidth + (columns - 1) * gutter,
    height: rows * cellHeight + (rows - 1) * gutter,
    cells,
  };
}

/** Under this a PNG grid costs nothing worth saving, whatever the sources weigh. */
const SMALL_PNG_BYTES = 256 * 1024;
/**
 * The encoders, chosen by measurement (bench/image.ts): WebP's fastest effort is within 3% of its default
 * size at a third of the CPU. JPEG keeps the sources' chroma: full when any source has it, 4:2:0 when
 * every source is a 4:2:0 JPEG (as cameras and most providers write them), where full chroma only added
 * bytes the sources never had: on four photo-like 1024² q92 JPEGs the grid went from 637 to 418 KiB (a
 * result's upload from 1.51× to 1.33× the provider's bytes) and its encode from 31 to 16 ms.
 */
const ENCODE = {
  png: (s: sharp.Sharp) => s.png({ compressionLevel: 6 }),
  jpeg: (s: sharp.Sharp, subsampled: boolean) => s.jpeg({ quality: 90, chromaSubsampling: subsampled ? '4:2:0' : '4:4:4' }),
  webp: (s: sharp.Sharp) => s.webp({ quality: 90, effort: 0 }),
} as const;

/**
 * The grid's encoding in its sources' family: WebP from WebP, JPEG (q90, full chroma) from JPEG or a mix of
 * lossy sources, and PNG from lossless sources only when the PNG is predicted to weigh at most half the
 * sources (their own bytes per pixel times the grid's pixels) or is small anyway; otherwise JPEG. A PNG
 * grid of photographs would weigh as much as the photographs themselves.
 */
export function gridFormat(images: readonly Uint8Array[], sourcePixels: number, gridPixels: number): Exclude<GridFormat, 'auto'> {
  const types = images.map((b) => sniffImageType(b));
  if (types.every((t) => t === 'image/webp')) return 'webp';
  if (types.some((t) => t === 'image/jpeg' || t === 'image/webp')) return 'jpeg';
  const sourceBytes = images.reduce((s, b) => s + b.length, 0);
  const predicted = (sourceBytes * gridPixels) / Math.max(1, sourcePixels);
  return predicted <= Math.max(SMALL_PNG_BYTES, sourceBytes / 2) ? 'png' : 'jpeg';
}

/** Upright size (and a JPEG's chroma subsampling) from the header alone: nothing is decoded here (the tiles' decode checks the whole stream). */
async function headerSize(bytes: Uint8Array): Promise<{ width: number; height: number; chroma?: string }> {
  const mime = sniffImageType(bytes);
  if (!mime) throw new ImageDecodeError('not an image: expected PNG, JPEG, WebP or GIF bytes');
  try {
    const meta = await sharp(bytes).metadata();
    const width = meta.autoOrient?.width ?? meta.width;
    const height = meta.autoOrient?.height ?? meta.height;
    if (!width || !height) throw new Error('no dimensions');
    return { width, height, ...(meta.format === 'jpeg' && meta.chromaSubsampling ? { chroma: meta.chromaSubsampling } : {}) };
  } catch (err) {
    throw new ImageDecodeError(`${mime} does not decode: ${(err as Error).message}`, { cause: err });
  }
}

/** Cell size: the first image's, scaled down so the whole grid fits `maxSide`. */
function cellSize(count: number, width: number, height: number, maxSide: number): { width: number; height: number } {
  const full = gridLayout(count, width, height);
  const scale = Math.min(1, maxSide / Math.max(full.width, full.height));
  return { width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)) };
}

/** Composes 1–8 images into one picture; images of another size than the first are cropped to its cell. */
export async function composeGrid(
  images: readonly Uint8Array[],
  options: GridOptions = {},
): Promise<{ bytes: Uint8Array; mime: string; width: number; height: number }> {
  const { maxSide, format, background } = { ...GRID_DEFAULTS, ...options };
  if (images.length < 1 || images.length > 8) throw new RangeError(`a grid holds 1 to 8 images, not ${images.length}`);
  const sizes = await Promise.all(images.map(headerSize));
  const first = sizes[0]!;
  const cell = cellSize(images.length, first.width, first.height, maxSide);
  const layout = gridLayout(images.length, cell.width, cell.height);
  // Copying raw rows into one buffer is far cheaper than libvips' general-purpose composite.
  // Buffer.fill repeats the 3-byte pattern natively (a JS loop over every byte cost ~10 ms a 1024² grid).
  const canvas = Buffer.alloc(layout.width * layout.height * 3, Buffer.from([background.r, background.g, background.b]));
  const rowBytes = cell.width * 3;
  // Each source is decoded once, here, straight to its cell size (JPEG and WebP shrink while decoding),
  // and its tile is copied into the canvas as soon as it is ready, so no tile outlives its copy;
  // 'truncated' makes a cut-off download fail now rather than draw a grey half.
  await Promise.all(
    images.map(async (bytes, i) => {
      const tile = await sharp(bytes, { failOn: 'truncated' })
        .autoOrient()
        .resize(cell.width, cell.height, { fit: 'cover', kernel: 'lanczos3' })
        .flatten({ background })
        .toColourspace('srgb')
        .raw()
        .toBuffer()
        .catch((err: unknown) => {
          throw new ImageDecodeError(`${sniffImageType(bytes) ?? 'image'} does not decode: ${(err as Error).message}`, { cause: err });
        });
      const { left, top } = layout.cells[i]!;
      for (let y = 0; y < cell.height; y++) tile.copy(canvas, ((top + y) * layout.width + left) * 3, y * rowBytes, (y + 1) * rowBytes);
    }),
  );
  const sourcePixels = sizes.reduce((s, z) => s + z.width * z.height, 0);
  const chosen = format === 'auto' ? gridFormat(images, sourcePixels, layout.width * layout.height) : format;
  const subsampled = sizes.every((z) => z.chroma === '4:2:0');
  const bytes = await ENCODE[chosen](sharp(canvas, { raw: { width: layout.width, height: layout.height, channels: 3 } }), subsampled).toBuffer();
  return { bytes, mime: `image/${chosen}`, width: layout.width, height: layout.height };
}
