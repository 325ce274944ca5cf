import { belowSkyline, disc, glow, rect, stroke, type Canvas } from './canvas.ts';
import { mixRgb, scaleRgb, type Rgb } from './colour.ts';
import { graded } from './palette.ts';
import { createRng } from './random.ts';
import type { Item, Scene } from './scene.ts';

/** A triangle wave in [0, 1]: sharper peaks than a sine, for mountains. */
const tri = (t: number): number => 1 - Math.abs(((t % 1) + 1) % 1 * 2 - 1);

/** Far things fade into the horizon's colour, as air does. */
function aerial(item: Item, scene: Scene): Rgb {
  return mixRgb(item.colour, scene.palette.skyHorizon, (1 - item.depth) * 0.45);
}

function paintDisc(canvas: Canvas, item: Item, scene: Scene): void {
  const m = Math.min(canvas.width, canvas.height);
  const r = item.size * m;
  const cx = item.x * canvas.width;
  const cy = item.y * canvas.height;
  disc(canvas, cx, cy, r, aerial(item, scene), 0.95, Math.max(1.5, r * 0.04));
  // A lit crescent toward the top left makes it a body rather than a hole.
  disc(canvas, cx - r * 0.22, cy - r * 0.22, r * 0.62, mixRgb(item.colour, [1, 1, 1], 0.35), 0.35, r * 0.35);
  glow(canvas, cx, cy, r * 3.2, item.colour, 0.22);
}

function paintCloud(canvas: Canvas, item: Item, scene: Scene): void {
  const rng = createRng(item.detailSeed);
  const m = Math.min(canvas.width, canvas.height);
  const colour = mixRgb(aerial(item, scene), [1, 1, 1], 0.15);
  const puffs = 5 + Math.floor(rng() * 4);
  for (let i = 0; i < puffs; i++) {
    const r = item.size * m * (0.35 + rng() * 0.45);
    const cx = (item.x + (rng() - 0.5) * item.size * 2.2) * canvas.width;
    const cy = item.y * canvas.height + (rng() - 0.6) * item.size * m * 0.6;
    disc(canvas, cx, cy, r, colour, 0.45, r * 0.7);
  }
}

function paintRidge(canvas: Canvas, item: Item, scene: Scene): void {
  const { width, height } = canvas;
  const rng = createRng(item.detailSeed);
  const base = item.y * height;
  const amplitude = item.size * height;
  const pointy = item.variant > 0.4;
  const f = [1 + rng() * 2, 3 + rng() * 4, 9 + rng() * 8];
  const p = [rng(), rng(), rng()];
  const wave = pointy ? tri : (t: number) => 0.5 + 0.5 * Math.sin(t * Math.PI * 2);
  const skyline = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const u = x / width;
    const h = 0.6 * wave(f[0]! * u + p[0]!) + 0.28 * wave(f[1]! * u + p[1]!) + 0.12 * wave(f[2]! * u + p[2]!);
    skyline[x] = base - amplitude * h;
  }
  const top = aerial(item, scene);
  const ground = graded(scene.palette.ground, scene.palette);
  belowSkyline(canvas, skyline, mixRgb(top, scene.palette.skyHorizon, 0.1), scaleRgb(mixRgb(top, ground, 0.6), 0.8), 1, amplitude + 0.2 * height, true);
}

function paintWater(canvas: Canvas, item: Item, scene: Scene): void {
  const { width, height } = canvas;
  const rng = createRng(item.detailSeed);
  const top = item.y * height;
  const skyline = new Float32Array(width);
  const phase = rng() * Math.PI * 2;
  for (let x = 0; x < width; x++) skyline[x] = top + Math.sin(x * 0.02 + phase) * 0.6;
  const surface = mixRgb(item.colour, scene.palette.skyHorizon, 0.45);
  belowSkyline(canvas, skyline, surface, scaleRgb(item.colour, 0.55), 0.92, height - top);
  // Glints: short light strokes, denser and shorter toward the horizon.
  const m = Math.min(width, height);
  const glints = Math.round((width * (height - top)) / 900);
  for (let i = 0; i < glints; i++) {
    const t = rng();
    const y = top + 2 + t * t * (height - top);
    const len = (0.01 + 0.05 * t) * m * (0.5 + rng());
    const x = rng() * width;
    stroke(canvas, x, y, x + len, y, 1 + t, mixRgb(scene.palette.skyHorizon, [1, 1, 1], 0.3), 0.18 + 0.2 * rng());
  }
}

function paintTowers(canvas: Canvas, item: Item, scene: Scene): void {
  const { width, height } = canvas;
  const rng = createRng(item.detailSeed);
  const m = Math.min(width, height);
  const groundY = item.y * height;
  const count = 3 + Math.floor(item.variant * 6);
  const body = scaleRgb(aerial(item, scene), 0.55);
  const lamp: Rgb = scene.palette.lampChance > 0.3 ? [1, 0.82, 0.45] : mixRgb(scene.palette.skyHorizon, [1, 1, 1], 0.4);
  for (let i = 0; i < count; i++) {
    const w = (0.035 + rng() * 0.05) * m;
    const h = (0.3 + rng() * 0.7) * item.size * m;
    const cx = (item.x + (i / Math.max(1, count - 1) - 0.5) * 0.35 + (rng() - 0.5) * 0.05) * width;
    const shade = 0.85 + rng() * 0.3;
    rect(canvas, cx - w / 2, groundY - h, cx + w / 2, groundY + 2, scaleRgb(body, shade), 1);
    const cell = Math.max(3, w / 5);
    for (let wy = groundY - h + cell; wy < groundY - cell; wy += cell * 1.6) {
      for (let wx = cx - w / 2 + cell * 0.6; wx < cx + w / 2 - cell; wx += cell * 1.4) {
        if (rng() < scene.palette.lampChance) rect(canvas, wx, wy, wx + cell * 0.7, wy + cell * 0.8, lamp, 0.85);
      }
    }
  }
}

function paintFoliage(canvas: Canvas, item: Item, scene: Scene): void {
  const { width, height } = canvas;
  const rng = createRng(item.detailSeed);
  const m = Math.min(width, height);
  const groundY = item.y * height;
  const count = 3 + Math.floor(item.variant * 7);
  const leaf = aerial(item, scene);
  const trunk = scaleRgb(mixRgb(leaf, [0.3, 0.2, 0.12], 0.6), 0.6);
  for (let i = 0; i < count; i++) {
    const h = (0.5 + rng() * 0.5) * item.size * m;
    const cx = (item.x + (rng() - 0.5) * 0.4) * width;
    const r = h * (0.28 + rng() * 0.12);
    rect(canvas, cx - r * 0.09, groundY - h * 0.6, cx + r * 0.09, groundY, trunk, 1);
    for (let k = 0; k < 3; k++) {
      const shade = 0.75 + k * 0.15;
      disc(canvas, cx + (rng() - 0.5) * r * 0.6, groundY - h + r * (1.1 - k * 0.2), r * (1 - k * 0.18), scaleRgb(leaf, shade), 0.95, 1.5);
    }
  }
}

const PAINTERS: Record<Item['shape'], (canvas: Canvas, item: Item, scene: Scene) => void> = {
  disc: paintDisc,
  cloud: paintCloud,
  ridge: paintRidge,
  water: paintWater,
  towers: paintTowers,
  foliage: paintFoliage,
};

export function paintItem(canvas: Canvas, item: Item, scene: Scene): void {
  PAINTERS[item.shape](canvas, item, scene);
}
