import { veilRows, type Canvas } from './canvas.ts';
import { mixRgb } from './colour.ts';
import { graded } from './palette.ts';
import { createRng } from './random.ts';
import type { Scene } from './scene.ts';

/** Smooth interpolation weights along one axis of a `cells`-wide lattice: the cell index and the eased fraction. */
function axisWeights(size: number, cells: number): { index: Int32Array; t: Float32Array } {
  const index = new Int32Array(size);
  const t = new Float32Array(size);
  for (let p = 0; p < size; p++) {
    const f = (p * cells) / size;
    const i = Math.floor(f);
    const u = f - i;
    index[p] = i;
    t[p] = u * u * (3 - 2 * u);
  }
  return { index, t };
}

/** Value noise on a `cells`-wide lattice: smooth blotches, the brush texture of the picture. */
function valueNoise(width: number, height: number, cells: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const rowsOfCells = Math.max(1, Math.round((cells * height) / width));
  const gw = cells + 1;
  const lattice = Float32Array.from({ length: gw * (rowsOfCells + 1) }, () => rng());
  const xs = axisWeights(width, cells);
  const ys = axisWeights(height, rowsOfCells);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = ys.index[y]! * gw;
    const ty = ys.t[y]!;
    for (let x = 0, o = y * width; x < width; x++, o++) {
      const i = row + xs.index[x]!;
      const tx = xs.t[x]!;
      const a = lattice[i]!;
      const b = lattice[i + 1]!;
      const c = lattice[i + gw]!;
      const d = lattice[i + gw + 1]!;
      out[o] = a + (b - a) * tx + (c - a + (a - b - c + d) * tx) * ty;
    }
  }
  return out;
}

/** Moves every pixel along a slow sine field: the painterly swirl that grows with stylize. */
function warp(canvas: Canvas, amount: number, fx: number, fy: number, phase: number): void {
  const { width, height, data } = canvas;
  const src = data.slice();
  const shiftY = Float32Array.from({ length: width }, (_, x) => amount * 0.6 * Math.cos((fx * x * Math.PI * 2) / width + phase));
  for (let y = 0; y < height; y++) {
    const dx = amount * Math.sin((fy * y * Math.PI * 2) / height + phase);
    for (let x = 0, o = y * width * 3; x < width; x++, o += 3) {
      const sxf = Math.min(width - 1.001, Math.max(0, x + dx));
      const syf = Math.min(height - 1.001, Math.max(0, y + shiftY[x]!));
      const x0 = sxf | 0;
      const y0 = syf | 0;
      const tx = sxf - x0;
      const ty = syf - y0;
      const i00 = (y0 * width + x0) * 3;
      const i01 = i00 + width * 3;
      const w00 = (1 - tx) * (1 - ty);
      const w10 = tx * (1 - ty);
      const w01 = (1 - tx) * ty;
      const w11 = tx * ty;
      data[o] = src[i00]! * w00 + src[i00 + 3]! * w10 + src[i01]! * w01 + src[i01 + 3]! * w11;
      data[o + 1] = src[i00 + 1]! * w00 + src[i00 + 4]! * w10 + src[i01 + 1]! * w01 + src[i01 + 4]! * w11;
      data[o + 2] = src[i00 + 2]! * w00 + src[i00 + 5]! * w10 + src[i01 + 2]! * w01 + src[i01 + 5]! * w11;
    }
  }
}

/**
 * Brush texture, the stylize swirl, fog and the final tone, in that order. Everything is measured in
 * fractions of the picture, so the same call develops the full canvas and a preview-sized copy of an
 * unfinished one alike.
 */
export function develop(canvas: Canvas, scene: Scene): void {
  const { width, height, data } = canvas;
  const coarse = valueNoise(width, height, scene.texture.cells, scene.texture.seed);
  const fine = valueNoise(width, height, scene.texture.cells * 5, scene.texture.seed ^ 0x5bd1e995);
  const k = scene.texture.amount * 2;
  for (let p = 0, i = 0; p < coarse.length; p++, i += 3) {
    const f = 1 + k * (0.7 * (coarse[p]! - 0.5) + 0.3 * (fine[p]! - 0.5));
    data[i] = data[i]! * f;
    data[i + 1] = data[i + 1]! * f;
    data[i + 2] = data[i + 2]! * f;
  }

  const swirl = scene.warp.amount * (width / scene.width);
  if (swirl >= 0.25) warp(canvas, swirl, scene.warp.fx, scene.warp.fy, scene.warp.phase);

  const { palette, horizon } = scene;
  const fog = palette.grade.fog;
  if (fog > 0) {
    const colour = graded(mixRgb(palette.skyHorizon, [1, 1, 1], 0.3), palette);
    veilRows(canvas, colour, (y) => fog * (0.35 + 0.65 * (1 - Math.min(1, Math.abs(y / height - horizon) * 2.2))));
  }

  // Vignette, contrast and saturation, stronger the more stylized.
  const vignette = 0.22 + 0.18 * scene.style;
  const contrast = 1.04 + 0.12 * scene.style;
  const chroma = 1 + 0.2 * scene.style;
  for (let y = 0; y < height; y++) {
    const ny = (y / height) * 2 - 1;
    for (let x = 0, i = y * width * 3; x < width; x++, i += 3) {
      const nx = (x / width) * 2 - 1;
      const v = 1 - vignette * (nx * nx + ny * ny) * 0.5;
      const r = data[i]!;
      const g = data[i + 1]!;
      const b = data[i + 2]!;
      const l = 0.2126 * r + 0.7152 * g + 0.0722 * b;
      data[i] = (0.5 + (l + (r - l) * chroma - 0.5) * contrast) * v;
      data[i + 1] = (0.5 + (l + (g - l) * chroma - 0.5) * contrast) * v;
      data[i + 2] = (0.5 + (l + (b - l) * chroma - 0.5) * contrast) * v;
    }
  }
}
