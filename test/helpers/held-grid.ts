import type { ImageTools } from '../../src/core/ports.ts';
import { createImageTools } from '../../src/images/index.ts';

/** Real image tools whose grids wait until `open()`: a job stays composing its result for as long as a test needs. */
export function heldGrid(): { images: ImageTools; open: () => void; grids: () => number } {
  const real = createImageTools();
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let grids = 0;
  return { images: { ...real, grid: async (b) => (grids++, await gate, real.grid(b)) }, open, grids: () => grids };
}
