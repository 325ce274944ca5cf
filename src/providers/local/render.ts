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

/** Area-average downsampling of the float canvas. */
function downsample(canvas: Canvas, w: number, h: number): Canvas {
  const { width, height, data } = canvas;
  const out = createCanvas(w, h);
  for (let oy = 0; oy < h; oy++) {
    const y0 = Math.floor((oy * height) / h);
    const y1 = Math.max(y0 + 1, Math.floor(((oy + 1) * height) / h));
    for (let ox = 0; ox < w; ox++) {
      const x0 = Math.floor((ox * width) / w);
      const x1 = Math.max(x0 + 1, Math.floor(((ox + 1) * width) / w));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0, i = (y * width + x0) * 3; x < x1; x++, i += 3) {
          r += data[i]!;
          g += data[i + 1]!;
          b += data[i + 2]!;
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const o = (oy * w + ox) * 3;
      out.data[o] = r / n;
      out.data[o + 1] = g / n;
      out.data[o + 2] = b / n;
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
function toBytes(canvas: Canvas): Uint8ClampedArray {
  const out = new Uint8ClampedArray(canvas.data.length);
  for (let i = 0; i < out.length; i++) out[i] = canvas.data[i]! * 255;
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
