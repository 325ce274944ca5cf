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

/**
 * Multiplies every pixel by 1 + depth × (noise − ½), where the noise is smooth value noise measured in
 * fractions of the width, so the pattern looks the same at any size.
 */
function modulate(canvas: Canvas, shape: NoiseShape, depth: number): void {
  const { width, height, data } = canvas;
  const k = shape.cells / width;
  const cos = Math.cos(shape.angle) * k;
  const sin = Math.sin(shape.angle) * k;
  const along = 1 / shape.stretch;
  // Neighbouring pixels mostly share a lattice cell: hash its corners only when the cell changes.
  let cu = NaN;
  let cv = NaN;
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0, i = y * width * 3; x < width; x++, i += 3) {
      const u = (x * cos + y * sin) * along + 1000;
      const v = y * cos - x * sin + 1000;
      const iu = Math.floor(u);
      const iv = Math.floor(v);
      if (iu !== cu || iv !== cv) {
        cu = iu;
        cv = iv;
        a = latticeValue(iu, iv, shape.seed);
        b = latticeValue(iu + 1, iv, shape.seed);
        c = latticeValue(iu, iv + 1, shape.seed);
        d = latticeValue(iu + 1, iv + 1, shape.seed);
      }
      const fu = u - iu;
      const fv = v - iv;
      const tu = fu * fu * (3 - 2 * fu);
      const tv = fv * fv * (3 - 2 * fv);
      const f = 1 + depth * (a + (b - a) * tu + (c - a + (a - b - c + d) * tu) * tv - 0.5);
      data[i] = data[i]! * f;
      data[i + 1] = data[i + 1]! * f;
      data[i + 2] = data[i + 2]! * f;
    }
  }
}

/**
 * Moves every pixel along a slow sine field: the painterly swirl that grows with stylize. Rows shift
 * sideways by an amount that depends on the row, then columns up and down by one that depends on the
 * column, so each half is a one-dimensional resampling.
 */
function warp(canvas: Canvas, amount: number, fx: number, fy: number, phase: number): void {
  const { width, height, data } = canvas;
  const line = new Float32Array(width * 3 + 3);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    line.set(data.subarray(row, row + width * 3));
    const shift = amount * Math.sin((fy * y * Math.PI * 2) / height + phase);
    for (let x = 0, o = row; x < width; x++, o += 3) {
      const s = Math.min(width - 1.001, Math.max(0, x + shift));
      const p = (s | 0) * 3;
      const t = s - (s | 0);
      data[o] = line[p]! + (line[p + 3]! - line[p]!) * t;
      data[o + 1] = line[p + 1]! + (line[p + 4]! - line[p + 1]!) * t;
      data[o + 2] = line[p + 2]! + (line[p + 5]! - line[p + 2]!) * t;
    }
  }
  // Columns: each has its own whole and fractional shift; walking row by row keeps memory access sequential.
  const whole = new Int32Array(width);
  const frac = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const shift = amount * 0.6 * Math.cos((fx * x * Math.PI * 2) / width + phase);
    whole[x] = Math.floor(shift);
    frac[x] = shift - Math.floor(shift);
  }
  const src = data.slice();
  const stride = width * 3;
  for (let y = 0; y < height; y++) {
    for (let x = 0, o = y * stride; x < width; x++, o += 3) {
      const y0 = Math.min(height - 1, Math.max(0, y + whole[x]!));
      const y1 = Math.min(height - 1, y0 + 1);
      const t = frac[x]!;
      const p0 = y0 * stride + x * 3;
      const p1 = y1 * stride + x * 3;
      data[o] = src[p0]! + (src[p1]! - src[p0]!) * t;
      data[o + 1] = src[p0 + 1]! + (src[p1 + 1]! - src[p0 + 1]!) * t;
      data[o + 2] = src[p0 + 2]! + (src[p1 + 2]! - src[p0 + 2]!) * t;
    }
  }
}

/** Cells of the fine brush strokes across the picture. */
const FINE_CELLS = 60;

/** Brush texture: blotches of light and shade. */
export function paintBrushwork(canvas: Canvas, scene: Scene): void {
  modulate(canvas, { cells: scene.texture.cells, angle: 0.6, stretch: 1.6, seed: scene.texture.seed }, scene.texture.amount * 2);
}

/**
 * The painterly swirl that grows with stylize, fog and mist, and the final tone, plus fine brush strokes
 * when `detail`. Everything is measured in fractions of the picture, so the same call develops the full
 * canvas and, for a preview, a small copy of an unfinished one.
 */
export function develop(canvas: Canvas, scene: Scene, detail: boolean): void {
  const { width, height, data } = canvas;
  if (detail) modulate(canvas, { cells: FINE_CELLS, angle: -0.45, stretch: 5, seed: scene.texture.seed ^ 0x5bd1e995 }, 0.1);

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
