import sharp from 'sharp';
import type { ImageTools } from '../core/ports.ts';
import { fitToBytes } from './fit.ts';
import { composeGrid, type GridOptions } from './grid.ts';
import { makePreview } from './preview.ts';
import { probeImage } from './probe.ts';

export interface ImageToolsOptions {
  grid?: GridOptions;
}

/** The core's ImageTools port, implemented with sharp (libvips works off the event loop). */
export function createImageTools(options: ImageToolsOptions = {}): ImageTools {
  // libvips' operation cache keeps up to 50 MB of results for reuse; every job's pictures are new, so it
  // only held memory (peak RSS, `npm run bench memory`).
  sharp.cache(false);
  return {
    grid: (images) => composeGrid(images, options.grid),
    fit: fitToBytes,
    preview: makePreview,
    async probe(bytes) {
      const { mime, width, height } = await probeImage(bytes);
      return { mime, width, height };
    },
  };
}
