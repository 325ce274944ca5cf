import { disc, fillRows, glow, stroke, veilRows, type Canvas } from './canvas.ts';
import { mixRgb, scaleRgb, type Rgb } from './colour.ts';
import { paintItem } from './paint.ts';
import { graded } from './palette.ts';
import { createRng } from './random.ts';
import type { Scene } from './scene.ts';

/** One refinement pass: coarse to fine, each painting over what the previous ones left. */
export interface Pass {
  stage: string;
  paint(canvas: Canvas, scene: Scene): void;
}

/** Shapes at or beyond this depth wait for the structures pass. */
const NEAR = 0.5;

export const PASSES: readonly Pass[] = [
  { stage: 'composition', paint: paintComposition },
  { stage: 'forms', paint: (canvas, scene) => scene.items.filter((i) => i.depth < NEAR).forEach((i) => paintItem(canvas, i, scene)) },
  { stage: 'structures', paint: (canvas, scene) => scene.items.filter((i) => i.depth >= NEAR).forEach((i) => paintItem(canvas, i, scene)) },
  { stage: 'light and texture', paint: paintLightAndTexture },
  { stage: 'atmosphere', paint: paintAtmosphere },
  { stage: 'finish', paint: paintFinish },
];

/** Sky, ground and, on a clear night, stars. */
function paintComposition(canvas: Canvas, scene: Scene): void {
  const { palette } = scene;
  const horizonY = scene.horizon * canvas.height;
  fillRows(canvas, 0, horizonY, graded(palette.skyTop, palette), graded(palette.skyHorizon, palette));
  const ground = graded(palette.ground, palette);
  fillRows(canvas, horizonY, canvas.height, mixRgb(ground, graded(palette.skyHorizon, palette), 0.35), scaleRgb(ground, 0.75));
  if (!palette.stars) return;
  const rng = createRng(scene.starSeed);
  const scale = Math.min(canvas.width, canvas.height) / 512;
  const stars = Math.round((canvas.width * canvas.height) / 1500);
  for (let i = 0; i < stars; i++) {
    const y = rng() * horizonY * 0.92;
    disc(canvas, rng() * canvas.width, y, (0.3 + rng() * 0.9) * scale, [0.95, 0.95, 1], 0.4 + rng() * 0.6, 0.6);
  }
}

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

/** Halos around lights, a swirl that grows with stylize, and brush texture. */
function paintLightAndTexture(canvas: Canvas, scene: Scene): void {
  const { width, height, data } = canvas;
  const m = Math.min(width, height);
  for (const item of scene.items) {
    if (item.shape === 'disc') glow(canvas, item.x * width, item.y * height, item.size * m * 3.2, item.colour, 0.22);
  }
  if (scene.warp.amount >= 0.5) warp(canvas, scene.warp.amount, scene.warp.fx, scene.warp.fy, scene.warp.phase);
  const coarse = valueNoise(width, height, scene.texture.cells, scene.texture.seed);
  const fine = valueNoise(width, height, scene.texture.cells * 5, scene.texture.seed ^ 0x5bd1e995);
  const k = scene.texture.amount * 2;
  for (let p = 0, i = 0; p < coarse.length; p++, i += 3) {
    const f = 1 + k * (0.7 * (coarse[p]! - 0.5) + 0.3 * (fine[p]! - 0.5));
    data[i] = data[i]! * f;
    data[i + 1] = data[i + 1]! * f;
    data[i + 2] = data[i + 2]! * f;
  }
}

/** Weather: fog toward the horizon, cloud cover, rain, lightning, snow. */
function paintAtmosphere(canvas: Canvas, scene: Scene): void {
  const { width, height } = canvas;
  const { palette } = scene;
  const rng = createRng(scene.weatherSeed);
  const m = Math.min(width, height);
  const scale = m / 512;
  const weather = palette.weather;
  const fog = palette.grade.fog;
  if (fog > 0) {
    const colour = graded(mixRgb(palette.skyHorizon, [1, 1, 1], 0.3), palette);
    veilRows(canvas, colour, (y) => fog * (0.35 + 0.65 * (1 - Math.min(1, Math.abs(y / height - scene.horizon) * 2.2))));
  }
  if (weather === 'cloudy' || weather === 'rainy' || weather === 'thunderstorm') {
    const grey = graded(weather === 'cloudy' ? [0.82, 0.84, 0.88] : [0.45, 0.47, 0.55], palette);
    const banks = 4 + Math.floor(rng() * 4);
    for (let b = 0; b < banks; b++) {
      const cx = rng() * width;
      const cy = rng() * scene.horizon * height * 0.55;
      for (let p = 0; p < 6; p++) {
        const r = (0.08 + rng() * 0.12) * m;
        disc(canvas, cx + (rng() - 0.5) * r * 3, cy + (rng() - 0.5) * r * 0.8, r, grey, 0.35, r * 0.8);
      }
    }
  }
  if (weather === 'thunderstorm') paintLightning(canvas, scene, rng);
  if (weather === 'rainy' || weather === 'thunderstorm') {
    const drops = Math.round((width * height) / 900);
    const colour: Rgb = [0.75, 0.8, 0.9];
    for (let i = 0; i < drops; i++) {
      const x = rng() * width;
      const y = rng() * height;
      const len = (0.025 + rng() * 0.035) * m;
      stroke(canvas, x, y, x - len * 0.25, y + len, Math.max(1, scale), colour, 0.2 + rng() * 0.15);
    }
  }
  if (weather === 'snowy') {
    const flakes = Math.round((width * height) / 700);
    for (let i = 0; i < flakes; i++) {
      const r = (0.6 + rng() * rng() * 2.4) * scale;
      disc(canvas, rng() * width, rng() * height, r, [0.98, 0.98, 1], 0.55 + rng() * 0.4, Math.max(0.6, r * 0.5));
    }
  }
}

function paintLightning(canvas: Canvas, scene: Scene, rng: () => number): void {
  const { width, height } = canvas;
  const scale = Math.min(width, height) / 512;
  const bolt: Rgb = [0.95, 0.92, 1];
  let x = (0.2 + rng() * 0.6) * width;
  let y = 0;
  const bottom = scene.horizon * height;
  const step = bottom / 9;
  while (y < bottom) {
    const nx = x + (rng() - 0.5) * step * 1.2;
    const ny = y + step * (0.7 + rng() * 0.6);
    stroke(canvas, x, y, nx, ny, 2.2 * scale, bolt, 1);
    glow(canvas, nx, ny, step * 1.4, [0.5, 0.45, 0.8], 0.25);
    x = nx;
    y = ny;
  }
}

/** Vignette and a final contrast and saturation, stronger the more stylized. */
function paintFinish(canvas: Canvas, scene: Scene): void {
  const { width, height, data } = canvas;
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
