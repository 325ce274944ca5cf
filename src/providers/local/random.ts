/** A uniform number in [0, 1). */
export type Rng = () => number;

/** FNV-1a over the string's UTF-16 units, then avalanched: word → stable 32-bit number. */
export function hashString(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return avalanche(h);
}

/** Murmur3's finalizer: every input bit flips about half of the output bits. */
function avalanche(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Combines two 32-bit numbers into a third; order matters. */
export function mix(a: number, b: number): number {
  return avalanche((Math.imul(a >>> 0, 0x9e3779b1) ^ (b >>> 0)) + 0x7f4a7c15);
}

/** Mulberry32: tiny, fast and good enough for drawing. */
export function createRng(seed: number): Rng {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A chain of seeds and how far each one pulls away from the one before: the first seed lays out the
 * job's shared composition, the next ones move an image (chaos) or a variation (vary) away from it.
 */
export interface SeedChain {
  seeds: readonly number[];
  /** pulls[i] in [0, 1] is how far seeds[i + 1] moves the value drawn from the seeds before it. */
  pulls: readonly number[];
}

/**
 * Draws for one named part of the picture. Each part gets its own streams (keyed by name), so removing
 * one word from a prompt leaves every other word's shapes where they were.
 */
export function drawsFor(chain: SeedChain, key: string): Rng {
  const k = hashString(key);
  const streams = chain.seeds.map((seed) => createRng(mix(seed, k)));
  return () => {
    let v = streams[0]!();
    for (let i = 1; i < streams.length; i++) v += (streams[i]!() - v) * (chain.pulls[i - 1] ?? 1);
    return v;
  };
}

/**
 * A whole seed for one part's fine details (star positions, windows, brush texture). Details cannot be
 * blended, so the part takes the last seed in the chain that pulls at least halfway: images at low chaos
 * and variations keep their source's details and differ in layout only.
 */
export function detailSeedFor(chain: SeedChain, key: string): number {
  const k = hashString(key);
  let seed = chain.seeds[0]!;
  for (let i = 1; i < chain.seeds.length; i++) if ((chain.pulls[i - 1] ?? 1) >= 0.5) seed = chain.seeds[i]!;
  return mix(seed, k);
}

/** The seed of the image at `index` (0-based) of a job. */
export const imageSeed = (jobSeed: number, index: number): number => mix(jobSeed, 0x1000 + index);
