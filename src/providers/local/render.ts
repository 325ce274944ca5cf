import { setImmediate as nextTurn } from 'node:timers/promises';
import sharp from 'sharp';
import type { ProviderProgress } from '../../core/provider.ts';
import { GRID_DEFAULTS, gridLayout, type GridLayout } from '../../images/grid.ts';
import { createCanvas, type Canvas } from './canvas.ts';
import { develop } from './develop.ts';
import { FINISH, PASSES } from './passes.ts';
import type { Scene } from './scene.ts';

export interface RenderOptions {
  signal: AbortSignal;
  progress(update: ProviderProgress): void;
  /** Longest side of the preview grid sent with each pass. */
  previewSide: number;
}

/** Thrown between passes when the job is canceled. */
function aborted(signal: AbortSignal): Error {
  const err = new Error('the render was canceled', { cause: signal.reason });
  err.name = 'AbortError';
  return err;
}

/** The preview grid: the final grid's layout, scaled so its longer side is `side`. */
export function previewLayout(count: number, width: number, height: number, side: number): GridLayout {
  const full = gridLayout(count, width, height);
  const scale = Math.min(1, side / Math.max(full.width, full.height));
  return gridLayout(count, Math.max(1, Math.floor(width * scale)), Math.max(1, Math.floor(height * scale)));
}

/** Downsampling for previews: the mean of up to 2×2 evenly spread samples per output pixel, cheap and good enough. */
function downsample(canvas: Canvas, w: number, h: number): Canvas {
  const { width, height, data } = canvas;
  const out = createCanvas(w, h);
  const sx = width / w;
  const sy = height / h;
  const n = sx >= 2 && sy >= 2 ? 2 : 1;
  const xs = Array.from({ length: w * n }, (_, k) => Math.min(width - 1, Math.floor((Math.floor(k / n) + (k % n + 0.5) / n) * sx)) * 3);
  for (let oy = 0; oy < h; oy++) {
    for (let ox = 0, o = oy * w * 3; ox < w; ox++, o += 3) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let j = 0; j < n; j++) {
        const row = Math.min(height - 1, Math.floor((oy + (j + 0.5) / n) * sy)) * width * 3;
        for (let i = 0; i < n; i++) {
          const p = row + xs[ox * n + i]!;
          r += data[p]!;
          g += data[p + 1]!;
          b += data[p + 2]!;
        }
      }
      const inv = 1 / (n * n);
      out.data[o] = r * inv;
      out.data[o + 1] = g * inv;
      out.data[o + 2] = b * inv;
    }
  }
  return out;
}

/** A preview grid of the canvases as they are; unfinished ones are developed at preview size first. */
async function previewOf(canvases: readonly Canvas[], scenes: readonly Scene[], finished: boolean, side: number): Promise<{ bytes: Uint8Array; mime: string }> {
  const first = canvases[0]!;
  const layout = previewLayout(canvases.length, first.width, first.height, side);
  const out = new Uint8ClampedArray(layout.width * layout.height * 3);
  const { r, g, b } = GRID_DEFAULTS.background;
  for (let i = 0; i < out.length; i += 3) {
    out[i] = r;
    out[i + 1] = g;
    out[i + 2] = b;
  }
  for (const [i, canvas] of canvases.entries()) {
    const small = downsample(canvas, layout.cellWidth, layout.cellHeight);
    if (!finished) develop(small, scenes[i]!, false);
    const { left, top } = layout.cells[i]!;
    for (let y = 0; y < small.height; y++) {
      for (let x = 0, s = y * small.width * 3, o = ((top + y) * layout.width + left) * 3; x < small.width; x++, s += 3, o += 3) {
        out[o] = small.data[s]! * 255;
        out[o + 1] = small.data[s + 1]! * 255;
        out[o + 2] = small.data[s + 2]! * 255;
      }
    }
  }
  const bytes = await sharp(out, { raw: { width: layout.width, height: layout.height, channels: 3 } }).jpeg({ quality: 75 }).toBuffer();
  return { bytes, mime: 'image/jpeg' };
}

/** Rounds the float canvas once, at the very end, to 8-bit RGB. */
function toBytes(canvas: Canvas): Uint8Array {
  const { data } = canvas;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < out.length; i++) {
    const v = data[i]! * 255 + 0.5;
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : v;
  }
  return out;
}

/**
 * Paints every scene pass by pass, reporting a preview grid after each pass, and returns one PNG per
 * scene. Control returns to the event loop between every image of every pass, so a render never holds
 * it for more than one image's pass; cancellation is honoured at those points.
 */
export async function renderScenes(scenes: readonly Scene[], options: RenderOptions): Promise<Uint8Array[]> {
  const canvases = scenes.map((s) => createCanvas(s.width, s.height));
  for (const [k, pass] of PASSES.entries()) {
    for (const [i, canvas] of canvases.entries()) {
      await nextTurn();
      if (options.signal.aborted) throw aborted(options.signal);
      pass.paint(canvas, scenes[i]!);
    }
    const preview = await previewOf(canvases, scenes, k === FINISH, options.previewSide);
    // Encoding is the last step, so the last pass reports 95 rather than 100.
    options.progress({ percent: Math.round(((k + 1) / PASSES.length) * 95), stage: pass.stage, preview });
  }
  if (options.signal.aborted) throw aborted(options.signal);
  return Promise.all(
    canvases.map((canvas) =>
      sharp(toBytes(canvas), { raw: { width: canvas.width, height: canvas.height, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer(),
    ),
  );
}
