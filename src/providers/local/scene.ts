import type { TimeOfDay, Weather } from '../../core/request.ts';
import { hsl, saturate, type Rgb } from './colour.ts';
import { litColour, paletteFor, type Palette } from './palette.ts';
import { detailSeedFor, drawsFor, type SeedChain } from './random.ts';
import type { Motif, Shape } from './words.ts';

/** One thing to paint: a motif's copy, placed. Coordinates are fractions of the image. */
export interface Item {
  shape: Shape;
  colour: Rgb;
  x: number;
  y: number;
  /** Fraction of the shorter side. */
  size: number;
  /** 0 far (sky) … 1 near: painting order and aerial perspective. */
  depth: number;
  /** Free parameter for the painter (peak pattern, tree count, …). */
  variant: number;
  /** Seeds the painter's own small details. */
  detailSeed: number;
}

/** Everything needed to paint one image, decided before the first pixel. */
export interface Scene {
  width: number;
  height: number;
  palette: Palette;
  /** Horizon row as a fraction of the height. */
  horizon: number;
  /** Stylize as 0..1. */
  style: number;
  items: Item[];
  texture: { seed: number; cells: number; amount: number };
  warp: { amount: number; fx: number; fy: number; phase: number };
  weatherSeed: number;
  starSeed: number;
}

export interface SceneInput {
  motifs: readonly Motif[];
  width: number;
  height: number;
  /** Midjourney's 0..1000; 100 is its default. */
  stylize: number;
  timeOfDay?: TimeOfDay;
  weather?: Weather;
  chain: SeedChain;
}

/** Where each shape lives: its depth range and its vertical band relative to the horizon. */
const PLACEMENT: Record<Shape, { depth: [number, number]; above: [number, number]; size: [number, number] }> = {
  cloud: { depth: [0.05, 0.2], above: [0.25, 0.85], size: [0.12, 0.28] },
  disc: { depth: [0.1, 0.25], above: [0.2, 0.8], size: [0.05, 0.13] },
  ridge: { depth: [0.3, 0.7], above: [-0.05, 0.25], size: [0.08, 0.3] },
  water: { depth: [0.5, 0.6], above: [-0.04, 0], size: [0.2, 0.5] },
  towers: { depth: [0.6, 0.85], above: [-0.3, -0.02], size: [0.2, 0.45] },
  foliage: { depth: [0.7, 1], above: [-0.45, -0.08], size: [0.12, 0.3] },
};

const between = (range: readonly [number, number], t: number): number => range[0] + (range[1] - range[0]) * t;

/**
 * Lays out one image. Every number comes from `input.chain`, keyed by what it is for, so the same
 * input gives the same scene, and chaos decides how far each image of a job strays from the shared one.
 */
export function planScene(input: SceneInput): Scene {
  const { motifs, width, height } = input;
  const style = Math.min(1, Math.max(0, input.stylize / 1000));
  const d = drawsFor(input.chain, 'scene');
  const hueJitter = (d() - 0.5) * 70;
  const palette = paletteFor(motifs, input.timeOfDay, input.weather, hueJitter);
  // Low stylize keeps a calm, centred composition; high stylize scatters more copies and lets the horizon roam.
  const horizon = 0.6 + (d() - 0.5) * (0.16 + 0.34 * style);
  const spread = 0.25 + 0.45 * style;
  const copies = 1 + Math.round(style * 2);
  const saturation = 0.85 + 0.5 * style;

  const items: Item[] = [];
  for (const motif of motifs) {
    for (let copy = 0; copy < copies; copy++) {
      const m = drawsFor(input.chain, `${motif.word}#${copy}`);
      const place = PLACEMENT[motif.shape];
      // Further copies turn round the colour wheel, so a stylized picture is also a more colourful one.
      const hue = motif.hue + hueJitter + copy * 35 * style + (m() - 0.5) * 20;
      const base = saturate(hsl(hue, motif.saturation, motif.lightness), saturation);
      const above = between(place.above, m());
      items.push({
        shape: motif.shape,
        colour: litColour(base, palette),
        x: 0.5 + (m() - 0.5) * 2 * spread,
        y: horizon - above * horizon,
        size: between(place.size, m()) * (copy === 0 ? 1 : 0.7),
        depth: between(place.depth, m()),
        variant: m(),
        detailSeed: detailSeedFor(input.chain, `${motif.word}#${copy}`),
      });
    }
  }
  const celestial = celestialItem(input, palette, horizon);
  if (celestial && !motifs.some((m) => m.shape === 'disc')) items.push(celestial);
  items.sort((a, b) => a.depth - b.depth);

  return {
    width,
    height,
    palette,
    horizon,
    style,
    items,
    texture: { seed: detailSeedFor(input.chain, 'texture'), cells: 5 + d() * 6, amount: 0.03 + 0.09 * style },
    // The swirl starts above Midjourney's default stylize (100): a default picture keeps straight lines.
    warp: { amount: Math.max(0, style - 0.1) * 0.05 * Math.min(width, height), fx: 1 + d() * 2.5, fy: 1 + d() * 2.5, phase: d() * Math.PI * 2 },
    weatherSeed: detailSeedFor(input.chain, 'weather'),
    starSeed: detailSeedFor(input.chain, 'stars'),
  };
}

/** A sun or moon that the light itself implies, when the prompt has none. */
function celestialItem(input: SceneInput, palette: Palette, horizon: number): Item | undefined {
  const t = input.timeOfDay;
  const night = t === 'night' || t === 'midnight' || t === 'evening';
  const low = t === 'sunrise' || t === 'sunset' || t === 'golden hour';
  if (!night && !low && input.weather !== 'sunny') return undefined;
  if (input.weather && input.weather !== 'sunny') return undefined;
  const d = drawsFor(input.chain, 'celestial');
  const colour: Rgb = night ? [0.92, 0.93, 0.86] : low ? [1, 0.78, 0.45] : [1, 0.97, 0.85];
  return {
    shape: 'disc',
    colour,
    x: 0.2 + d() * 0.6,
    y: horizon * (low ? 0.82 + d() * 0.1 : 0.2 + d() * 0.35),
    size: night ? 0.05 + d() * 0.03 : 0.07 + d() * 0.04,
    depth: 0.15,
    variant: 1,
    detailSeed: detailSeedFor(input.chain, 'celestial'),
  };
}
