import { veilRows, type Canvas } from './canvas.ts';
import { mixRgb } from './colour.ts';
import { graded } from './palette.ts';
import type { Scene } from './scene.ts';
import { paintMist } from './weather.ts';

/** A lattice value in [0, 1) for integer coordinates: hashing instead of a table lets the lattice turn freely. */
function latticeValue(ix: number, iy: number, seed: number): number {
  let h = Math.imul(ix, 0x27d4eb2d) ^ Math.imul(iy, 0x165667b1) ^ seed;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

interface NoiseShape {
  /** Lattice cells across the picture's width. */
  cells: number;
  /** Turned off the pixel grid, so the lattice never shows as blocks. */
  angle: number;
  /** Cells this many times longer along `angle`: streaks like brush strokes. */
  stretch: number;
  seed: number;
}

/** Smooth value noise in [0, 1], measured in fractions of the width, so it looks the same at any size. */
function valueNoise(width: number, height: number, shape: NoiseShape): Float32Array {
  const k = shape.cells / width;
  const cos = Math.cos(shape.angle) * k;
  const sin = Math.sin(shape.angle) * k;
  const along = 1 / shape.stretch;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0, o = y * width; x < width; x++, o++) {
      const u = (x * cos + y * sin) * along + 1000;
      const v = y * cos - x * sin + 1000;
      const iu = Math.floor(u);
      const iv = Math.floor(v);
      const fu = u - iu;
      const fv = v - iv;
      const tu = fu * fu * (3 - 2 * fu);
      const tv = fv * fv * (3 - 2 * fv);
      const a = latticeValue(iu, iv, shape.seed);
      const b = latticeValue(iu + 1, iv, shape.seed);
      const c = latticeValue(iu, iv + 1, shape.seed);
      const d = latticeValue(iu + 1, iv + 1, shape.seed);
      out[o] = a + (b - a) * tu + (c - a + (a - b - c + d) * tu) * tv;
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

/** Cells of the fine brush strokes across the picture. */
const FINE_CELLS = 60;

/** Brush texture: blotches of light and shade. */
export function paintBrushwork(canvas: Canvas, scene: Scene): void {
  const { width, height, data } = canvas;
  const coarse = valueNoise(width, height, { cells: scene.texture.cells, angle: 0.6, stretch: 1.6, seed: scene.texture.seed });
  const k = scene.texture.amount * 2;
  for (let p = 0, i = 0; p < coarse.length; p++, i += 3) {
    const f = 1 + k * (coarse[p]! - 0.5);
    data[i] = data[i]! * f;
    data[i + 1] = data[i + 1]! * f;
    data[i + 2] = data[i + 2]! * f;
  }
}

/**
 * The painterly swirl that grows with stylize, fog and mist, and the final tone, plus fine grain when `detail`. Everything is measured in fractions of the
 * picture, so the same call develops the full canvas and, for a preview, a small copy of an unfinished one.
 */
export function develop(canvas: Canvas, scene: Scene, detail: boolean): void {
  const { width, height, data } = canvas;
  if (detail) {
    const fine = valueNoise(width, height, { cells: FINE_CELLS, angle: -0.45, stretch: 5, seed: scene.texture.seed ^ 0x5bd1e995 });
    for (let p = 0, i = 0; p < fine.length; p++, i += 3) {
      const f = 1 + 0.1 * (fine[p]! - 0.5);
      data[i] = data[i]! * f;
      data[i + 1] = data[i + 1]! * f;
      data[i + 2] = data[i + 2]! * f;
    }
  }

  const swirl = scene.warp.amount * (width / scene.width);
  if (swirl >= 0.25) warp(canvas, swirl, scene.warp.fx, scene.warp.fy, scene.warp.phase);

  const { palette, horizon } = scene;
  const fog = palette.grade.fog;
  if (fog > 0) {
    const colour = graded(mixRgb(palette.skyHorizon, [1, 1, 1], 0.3), palette);
    veilRows(canvas, colour, (y) => fog * (0.45 + 0.55 * (1 - Math.min(1, Math.abs(y / height - horizon) * 2.2))));
    paintMist(canvas, scene);
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
