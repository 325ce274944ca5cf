import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import type { ImageTools } from '../core/ports.ts';
import { Semaphore } from '../providers/limiter.ts';
import { fitToBytes } from './fit.ts';
import { composeGrid, type GridOptions } from './grid.ts';
import { makePreview } from './preview.ts';
import { probeImage } from './probe.ts';

export interface ImageToolsOptions {
  grid?: GridOptions;
  /**
   * Image operations (grid, fit, preview, probe) running at once; the rest wait their turn holding only
   * their compressed bytes. Default: one per CPU core.
   */
  concurrency?: number;
}

/**
 * The core's ImageTools port, implemented with sharp (libvips works off the event loop).
 *
 * Operations are bounded: each holds its sources' decoded pixels (a 2×2 grid of 1024² sources: four
 * tiles and a 3 MiB canvas, plus libvips' own buffers) until it is done, and libvips already spreads one
 * operation over every core. Unbounded, jobs finishing together decoded side by side (four grids at once in
 * a heap snapshot of the 50-job memory bench) for no gain in throughput, only in peak RSS.
 */
export function createImageTools(options: ImageToolsOptions = {}): ImageTools {
  // libvips' operation cache keeps up to 50 MB of results for reuse; every job's pictures are new, so it
  // only held memory (peak RSS, `npm run bench memory`).
  sharp.cache(false);
  const slots = new Semaphore(Math.max(1, options.concurrency ?? availableParallelism()));
  const bounded =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const release = await slots.acquire();
      try {
        return await fn(...args);
      } finally {
        release();
      }
    };
  return {
    grid: bounded((images: readonly Uint8Array[]) => composeGrid(images, options.grid)),
    fit: bounded(fitToBytes),
    preview: bounded(makePreview),
    probe: bounded(async (bytes: Uint8Array) => {
      const { mime, width, height } = await probeImage(bytes);
      return { mime, width, height };
    }),
  };
}
