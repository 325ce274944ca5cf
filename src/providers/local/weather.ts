import { disc, glow, stroke, type Canvas } from './canvas.ts';
import { mixRgb, type Rgb } from './colour.ts';
import { graded } from './palette.ts';
import { createRng, mix } from './random.ts';
import type { Scene } from './scene.ts';

/**
 * Weather that lives in the distance, painted with the far shapes so nothing near is hidden by it:
 * cloud cover, lightning, and in clear air a few faint high wisps.
 */
export function paintSkyWeather(canvas: Canvas, scene: Scene): void {
  const { width, height } = canvas;
  const { palette } = scene;
  const rng = createRng(mix(scene.weatherSeed, 1));
  const m = Math.min(width, height);
  const weather = palette.weather;
  if (!weather || weather === 'sunny' || weather === 'foggy' || weather === 'snowy') {
    paintWisps(canvas, scene, rng, false);
    return;
  }
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
  if (weather === 'thunderstorm') paintLightning(canvas, scene, rng);
}

/** Elongated soft puffs: faint wisps high in a clear sky, or, `low`, mist banks lying along the horizon. */
function paintWisps(canvas: Canvas, scene: Scene, rng: () => number, low: boolean): void {
  const { width, height } = canvas;
  const m = Math.min(width, height);
  const wisp = graded(mixRgb(scene.palette.skyHorizon, [1, 1, 1], 0.5), scene.palette);
  const wisps = 3 + Math.floor(rng() * 3);
  for (let w = 0; w < wisps; w++) {
    const cx = rng() * width;
    const cy = (low ? 0.85 + rng() * 0.3 : 0.1 + rng() * 0.4) * scene.horizon * height;
    for (let p = 0; p < 5; p++) {
      const r = (0.03 + rng() * 0.04) * m * (low ? 2 : 1);
      disc(canvas, cx + (p - 2) * r * 1.4, cy + (rng() - 0.5) * r * 0.4, r, wisp, low ? 0.3 : 0.16, r * 0.9);
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

/** Mist banks lying along the horizon, in front of everything: part of developing a foggy picture. */
export function paintMist(canvas: Canvas, scene: Scene): void {
  if (scene.palette.weather === 'foggy') paintWisps(canvas, scene, createRng(mix(scene.weatherSeed, 3)), true);
}

/** What falls in front of everything: rain and snow. */
export function paintFalling(canvas: Canvas, scene: Scene): void {
  const { width, height } = canvas;
  const weather = scene.palette.weather;
  const rng = createRng(mix(scene.weatherSeed, 2));
  const m = Math.min(width, height);
  const scale = m / 512;
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
