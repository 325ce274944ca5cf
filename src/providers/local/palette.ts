import type { TimeOfDay, Weather } from '../../core/request.ts';
import { hsl, mixRgb, saturate, type Rgb } from './colour.ts';
import type { Motif } from './words.ts';

/** The light of a scene: sky, ground and how everything standing in it is lit. */
export interface Palette {
  skyTop: Rgb;
  skyHorizon: Rgb;
  ground: Rgb;
  /** Multiplies every motif's colour: dim and blue at night, warm at sunset. */
  light: Rgb;
  /** Windows and lanterns: lit at night, barely visible by day. */
  lampChance: number;
  stars: boolean;
  weather?: Weather;
  /** Weather applied to every colour after lighting. */
  grade: Grade;
}

interface Grade {
  saturation: number;
  brightness: number;
  tint: Rgb;
  tintAmount: number;
  /** 0..1: how far the distance fades into fog. */
  fog: number;
}

type Sky = Omit<Palette, 'weather' | 'grade'>;

const SKIES: Record<TimeOfDay, Sky> = {
  sunrise: { skyTop: [0.25, 0.3, 0.55], skyHorizon: [0.98, 0.68, 0.5], ground: [0.32, 0.27, 0.3], light: [1, 0.86, 0.78], lampChance: 0.15, stars: false },
  morning: { skyTop: [0.38, 0.62, 0.88], skyHorizon: [0.85, 0.92, 0.96], ground: [0.42, 0.5, 0.35], light: [1, 1, 1], lampChance: 0.05, stars: false },
  afternoon: { skyTop: [0.2, 0.48, 0.82], skyHorizon: [0.7, 0.85, 0.95], ground: [0.45, 0.55, 0.3], light: [1.08, 1.06, 1], lampChance: 0.03, stars: false },
  sunset: { skyTop: [0.2, 0.15, 0.38], skyHorizon: [1, 0.52, 0.25], ground: [0.28, 0.18, 0.22], light: [1, 0.72, 0.55], lampChance: 0.3, stars: false },
  evening: { skyTop: [0.1, 0.12, 0.28], skyHorizon: [0.5, 0.36, 0.52], ground: [0.15, 0.14, 0.2], light: [0.6, 0.58, 0.72], lampChance: 0.45, stars: true },
  'golden hour': { skyTop: [0.45, 0.5, 0.62], skyHorizon: [1, 0.8, 0.45], ground: [0.5, 0.4, 0.22], light: [1.1, 0.92, 0.65], lampChance: 0.1, stars: false },
  night: { skyTop: [0.02, 0.03, 0.1], skyHorizon: [0.1, 0.14, 0.28], ground: [0.05, 0.06, 0.1], light: [0.32, 0.36, 0.5], lampChance: 0.55, stars: true },
  midnight: { skyTop: [0.01, 0.01, 0.04], skyHorizon: [0.04, 0.06, 0.14], ground: [0.02, 0.03, 0.05], light: [0.22, 0.24, 0.36], lampChance: 0.5, stars: true },
};

const GRADES: Record<Weather | 'clear', Grade> = {
  clear: { saturation: 1, brightness: 1, tint: [1, 1, 1], tintAmount: 0, fog: 0 },
  sunny: { saturation: 1.15, brightness: 1.06, tint: [1, 0.95, 0.8], tintAmount: 0.05, fog: 0 },
  cloudy: { saturation: 0.65, brightness: 0.85, tint: [0.7, 0.72, 0.75], tintAmount: 0.25, fog: 0.1 },
  foggy: { saturation: 0.5, brightness: 0.95, tint: [0.78, 0.8, 0.82], tintAmount: 0.3, fog: 0.8 },
  rainy: { saturation: 0.55, brightness: 0.68, tint: [0.35, 0.42, 0.5], tintAmount: 0.3, fog: 0.2 },
  thunderstorm: { saturation: 0.5, brightness: 0.5, tint: [0.3, 0.28, 0.4], tintAmount: 0.35, fog: 0.15 },
  snowy: { saturation: 0.55, brightness: 1.12, tint: [0.93, 0.96, 1], tintAmount: 0.45, fog: 0.25 },
};

/**
 * Without a time of day the sky takes the prompt's own colours: the first motif's hue overhead and a
 * lighter neighbour at the horizon, so "blue whale" and "red fox" already differ before any shape.
 */
function skyFromMotifs(motifs: readonly Motif[], hueJitter: number): Sky {
  const hue = (motifs[0]?.hue ?? 220) + hueJitter;
  return {
    skyTop: hsl(hue + 200, 0.35, 0.2),
    skyHorizon: hsl(hue + 160, 0.45, 0.72),
    ground: hsl(hue + 180, 0.25, 0.3),
    light: [1, 1, 1],
    lampChance: 0.1,
    stars: false,
  };
}

export function paletteFor(motifs: readonly Motif[], timeOfDay: TimeOfDay | undefined, weather: Weather | undefined, hueJitter: number): Palette {
  const sky = timeOfDay ? SKIES[timeOfDay] : skyFromMotifs(motifs, hueJitter);
  const grade = GRADES[weather ?? 'clear'];
  // Snow covers the ground whatever the hour: white, still lit by the sky.
  const ground = weather === 'snowy' ? mixRgb(sky.ground, [0.92, 0.94, 0.98], 0.75) : sky.ground;
  const covered = weather === 'cloudy' || weather === 'rainy' || weather === 'thunderstorm' || weather === 'foggy';
  return { ...sky, ground, stars: sky.stars && !covered, weather, grade };
}

/** Weather over a colour: less saturated under clouds, tinted, darker in a storm, brighter in snow. */
export function graded(c: Rgb, palette: Palette): Rgb {
  const g = palette.grade;
  const s = saturate(c, g.saturation);
  const t = mixRgb(s, g.tint, g.tintAmount);
  return [t[0] * g.brightness, t[1] * g.brightness, t[2] * g.brightness];
}

/** A motif's colour as it stands in this light and weather. */
export function litColour(base: Rgb, palette: Palette): Rgb {
  const lit: Rgb = [base[0] * palette.light[0], base[1] * palette.light[1], base[2] * palette.light[2]];
  return graded(lit, palette);
}

