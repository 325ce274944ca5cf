import sharp from 'sharp';

/** A solid-colour PNG: grids are checked by reading each cell's colour back. */
export async function solidPng(width: number, height: number, rgb: { r: number; g: number; b: number }): Promise<Uint8Array> {
  return sharp({ create: { width, height, channels: 3, background: rgb } }).png().toBuffer();
}

/** A noisy PNG that compresses badly, so byte caps actually bite. */
export async function noisyPng(width: number, height: number, channels: 3 | 4 = 3): Promise<Uint8Array> {
  const background = channels === 4 ? { r: 128, g: 128, b: 128, alpha: 0.5 } : { r: 128, g: 128, b: 128 };
  return sharp({ create: { width, height, channels, background, noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .png()
    .toBuffer();
}

/** The RGB value at (x, y). */
export async function pixelAt(bytes: Uint8Array, x: number, y: number): Promise<[number, number, number]> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}
