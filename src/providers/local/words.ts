import { hashString } from './random.ts';

/** The kinds of shape a word can become. */
export const SHAPES = ['disc', 'ridge', 'water', 'foliage', 'towers', 'cloud'] as const;
export type Shape = (typeof SHAPES)[number];

/** One drawable word: what it looks like, decided by the word alone so a prompt always draws the same. */
export interface Motif {
  word: string;
  shape: Shape;
  hue: number;
  saturation: number;
  lightness: number;
}

const STOPWORDS = new Set(
  'a an the of in on at to and or with without by for from into over under above below near beside behind through this that these those is are was were be very its it his her their my our your as like some any'.split(' '),
);

/** Colour words tint the word after them ("red fox"); alone they become a cloud of that colour. */
const COLOURS: Record<string, { hue: number; saturation: number; lightness: number }> = {
  red: { hue: 2, saturation: 0.75, lightness: 0.48 },
  crimson: { hue: 348, saturation: 0.75, lightness: 0.42 },
  orange: { hue: 28, saturation: 0.85, lightness: 0.55 },
  yellow: { hue: 52, saturation: 0.85, lightness: 0.6 },
  gold: { hue: 44, saturation: 0.75, lightness: 0.55 },
  golden: { hue: 44, saturation: 0.75, lightness: 0.55 },
  green: { hue: 125, saturation: 0.5, lightness: 0.4 },
  emerald: { hue: 145, saturation: 0.6, lightness: 0.38 },
  teal: { hue: 178, saturation: 0.55, lightness: 0.38 },
  cyan: { hue: 188, saturation: 0.7, lightness: 0.5 },
  blue: { hue: 218, saturation: 0.65, lightness: 0.48 },
  navy: { hue: 228, saturation: 0.55, lightness: 0.25 },
  purple: { hue: 275, saturation: 0.5, lightness: 0.42 },
  violet: { hue: 268, saturation: 0.55, lightness: 0.52 },
  pink: { hue: 335, saturation: 0.7, lightness: 0.72 },
  magenta: { hue: 305, saturation: 0.65, lightness: 0.5 },
  brown: { hue: 26, saturation: 0.45, lightness: 0.3 },
  white: { hue: 210, saturation: 0.1, lightness: 0.93 },
  black: { hue: 230, saturation: 0.12, lightness: 0.08 },
  grey: { hue: 215, saturation: 0.06, lightness: 0.5 },
  gray: { hue: 215, saturation: 0.06, lightness: 0.5 },
  silver: { hue: 210, saturation: 0.1, lightness: 0.72 },
};

const SHAPE_WORDS: Record<Shape, string> = {
  disc: 'sun moon star planet orb eye ball circle bubble balloon coin lantern lamp light jewel pearl',
  ridge: 'mountain hill dune peak range valley cliff rock canyon volcano island glacier desert',
  water: 'sea ocean wave river lake water pond beach shore bay harbor harbour reef waterfall',
  foliage: 'tree forest grass flower garden jungle wood woods park leaf field meadow bush pine palm',
  towers: 'city tower building lighthouse castle house skyscraper street town village temple church bridge ruin',
  cloud: 'cloud smoke dream ghost spirit mist fire flame nebula galaxy sky aurora storm',
};
const SHAPE_OF = new Map<string, Shape>(
  (Object.entries(SHAPE_WORDS) as [Shape, string][]).flatMap(([shape, words]) => words.split(' ').map((w) => [w, shape] as const)),
);

/** "forests" and "forest" are the same word for drawing and for `--no`. */
export function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/** Lower-case word stems of a text, in order, without stop words. */
export function wordsOf(text: string | undefined): string[] {
  return (text?.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length > 1 && !STOPWORDS.has(w)).map(stem);
}

/** At most this many motifs: more would only be noise. */
const MAX_MOTIFS = 10;

/**
 * The motifs of a prompt, minus every word of the negative prompt. A word's shape comes from a small
 * vocabulary (mountain → ridge) or, for any other word, from its hash; its colour likewise.
 */
export function motifsOf(prompt: string, negativePrompt?: string): Motif[] {
  const banned = new Set(wordsOf(negativePrompt));
  const words = [...new Set(wordsOf(prompt))].filter((w) => !banned.has(w));
  const motifs: Motif[] = [];
  let tint: (typeof COLOURS)[string] | undefined;
  for (const [i, word] of words.entries()) {
    const colour = COLOURS[word];
    if (colour && i < words.length - 1) {
      tint = colour;
      continue;
    }
    const h = hashString(word);
    const shape = SHAPE_OF.get(word) ?? (colour ? 'cloud' : SHAPES[h % SHAPES.length]!);
    motifs.push({
      word,
      shape,
      hue: colour?.hue ?? tint?.hue ?? ((h >>> 8) % 360),
      saturation: colour?.saturation ?? tint?.saturation ?? 0.4 + ((h >>> 17) % 40) / 100,
      lightness: colour?.lightness ?? tint?.lightness ?? 0.35 + ((h >>> 24) % 30) / 100,
    });
    tint = undefined;
    if (motifs.length === MAX_MOTIFS) break;
  }
  return motifs;
}
