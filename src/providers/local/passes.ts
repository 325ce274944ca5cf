import { disc, fillRows, glowRows, type Canvas } from './canvas.ts';
import { mixRgb, scaleRgb } from './colour.ts';
import { develop, paintBrushwork } from './develop.ts';
import { paintItem } from './paint.ts';
import { graded } from './palette.ts';
import { createRng } from './random.ts';
import type { Scene } from './scene.ts';
import { paintFalling, paintSkyWeather } from './weather.ts';

/**
 * One refinement pass: coarse to fine, back to front, each painting over what the previous ones left.
 * The last one develops the picture (fog, tone, fine grain); previews develop an unfinished canvas the
 * same way (without the grain), so each preview looks like the picture would if it stopped there.
 */
export interface Pass {
  stage: string;
  paint(canvas: Canvas, scene: Scene): void;
}

/** Shapes at or beyond this depth wait for the structures pass. */
const NEAR = 0.5;

export const PASSES: readonly Pass[] = [
  { stage: 'composition', paint: paintComposition },
  { stage: 'forms', paint: paintForms },
  { stage: 'structures', paint: (canvas, scene) => scene.items.filter((i) => i.depth >= NEAR).forEach((i) => paintItem(canvas, i, scene)) },
  {
    stage: 'atmosphere',
    paint(canvas, scene) {
      paintBrushwork(canvas, scene);
      paintFalling(canvas, scene);
    },
  },
  { stage: 'finish', paint: (canvas, scene) => develop(canvas, scene, true) },
];

/** The last pass: the one after which the canvas needs no developing for a preview. */
export const FINISH = PASSES.length - 1;

/** Sky, ground, the glow at the horizon and, on a clear night, stars. */
function paintComposition(canvas: Canvas, scene: Scene): void {
  const { palette } = scene;
  const horizonY = scene.horizon * canvas.height;
  fillRows(canvas, 0, horizonY, graded(palette.skyTop, palette), graded(palette.skyHorizon, palette));
  const ground = graded(palette.ground, palette);
  fillRows(canvas, horizonY, canvas.height, mixRgb(ground, graded(palette.skyHorizon, palette), 0.35), scaleRgb(ground, 0.75));
  // The light the sky leaves along the horizon.
  const band = scaleRgb(graded(palette.skyHorizon, palette), 0.22);
  glowRows(canvas, band, (y) => {
    const t = (y / canvas.height - scene.horizon) / 0.12;
    return Math.exp(-t * t);
  });
  if (!palette.stars) return;
  const rng = createRng(scene.starSeed);
  const scale = Math.min(canvas.width, canvas.height) / 512;
  const stars = Math.round((canvas.width * canvas.height) / 1500);
  for (let i = 0; i < stars; i++) {
    const y = rng() * horizonY * 0.92;
    disc(canvas, rng() * canvas.width, y, (0.3 + rng() * 0.9) * scale, [0.95, 0.95, 1], 0.4 + rng() * 0.6, 0.6);
  }
}

/** Back to front: clouds and suns, the sky's own weather in front of them, then the far ranges. */
function paintForms(canvas: Canvas, scene: Scene): void {
  const far = scene.items.filter((i) => i.depth < NEAR);
  const clouds = far.filter((i) => i.depth < 0.3);
  clouds.forEach((i) => paintItem(canvas, i, scene));
  paintSkyWeather(canvas, scene);
  far.filter((i) => i.depth >= 0.3).forEach((i) => paintItem(canvas, i, scene));
}
