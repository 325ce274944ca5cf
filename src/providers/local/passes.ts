import { disc, fillRows, glow, stroke, type Canvas } from './canvas.ts';
import { develop } from './develop.ts';
import { mixRgb, scaleRgb, type Rgb } from './colour.ts';
import { paintItem } from './paint.ts';
import { graded } from './palette.ts';
import { createRng } from './random.ts';
import type { Scene } from './scene.ts';

/**
 * One refinement pass: coarse to fine, each painting over what the previous ones left. The content
 * passes paint; the last one develops (texture, swirl, fog, tone), which previews apply to the
 * unfinished canvas too, so every preview looks like the picture would if it stopped there.
 */
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
  { stage: 'light', paint: paintLight },
  { stage: 'weather', paint: paintWeather },
  { stage: 'finish', paint: develop },
];

/** The last pass: the one after which the canvas needs no developing for a preview. */
export const FINISH = PASSES.length - 1;

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

/** Halos around suns, moons and lamps. */
function paintLight(canvas: Canvas, scene: Scene): void {
  const { width, height } = canvas;
  const m = Math.min(width, height);
  for (const item of scene.items) {
    if (item.shape === 'disc') glow(canvas, item.x * width, item.y * height, item.size * m * 3.2, item.colour, 0.22);
  }
}

/** Weather you can see falling or drifting: cloud cover, rain, lightning, snow. (Fog is developed, see develop.ts.) */
function paintWeather(canvas: Canvas, scene: Scene): void {
  const { width, height } = canvas;
  const { palette } = scene;
  const rng = createRng(scene.weatherSeed);
  const m = Math.min(width, height);
  const scale = m / 512;
  const weather = palette.weather;
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
