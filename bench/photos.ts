import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createRng as rng } from '../src/providers/local/random.ts';

export type PhotoFormat = 'png' | 'webp' | 'jpeg';

/**
 * A photo-like picture: smooth colour fields (coarse noise, upscaled and blurred), mid-frequency texture
 * and a little grain, lightly quantised. Flat colours would compress to nothing and flatter every codec;
 * this lands near what hosted providers return (a 1024² PNG of about 2 MB, WebP q90 ~250 KB).
 */
async function photoPixels(seed: number, side: number): Promise<Buffer> {
  const r = rng(seed);
  const noise = (n: number) => Buffer.from(Array.from({ length: n * n * 3 }, () => Math.floor(r() * 256)));
  const coarse = await sharp(noise(32), { raw: { width: 32, height: 32, channels: 3 } }).resize(side, side, { kernel: 'cubic' }).blur(6).raw().toBuffer();
  const q = side / 4;
  const mid = await sharp(noise(q), { raw: { width: q, height: q, channels: 3 } }).resize(side, side, { kernel: 'cubic' }).blur(1.2).raw().toBuffer();
  const out = Buffer.alloc(side * side * 3);
  for (let i = 0; i < out.length; i++) {
    const v = coarse[i]! * 0.75 + (mid[i]! - 128) * 0.4 + (r() - 0.5) * 6;
    out[i] = Math.max(0, Math.min(255, Math.round(v / 5) * 5));
  }
  return out;
}

/** `count` photo-likes of `side`² in `format` (PNG, WebP q90, JPEG q92 as providers send them), cached on disk. */
export async function photoLikes(format: PhotoFormat, count = 4, side = 1024): Promise<Buffer[]> {
  const dir = join(tmpdir(), 'atelier-bench-photos-v1');
  mkdirSync(dir, { recursive: true });
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const file = join(dir, `${side}-${i}.${format}`);
    if (!existsSync(file)) {
      const img = sharp(await photoPixels(1000 + i, side), { raw: { width: side, height: side, channels: 3 } });
      const bytes = format === 'png' ? await img.png().toBuffer() : format === 'webp' ? await img.webp({ quality: 90 }).toBuffer() : await img.jpeg({ quality: 92 }).toBuffer();
      writeFileSync(file, bytes);
    }
    out.push(readFileSync(file));
  }
  return out;
}

export const photoPaths = (format: PhotoFormat, count = 4, side = 1024): string[] =>
  Array.from({ length: count }, (_, i) => join(tmpdir(), 'atelier-bench-photos-v1', `${side}-${i}.${format}`));
