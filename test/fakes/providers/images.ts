import sharp from 'sharp';

/** A real PNG of the given size and colour, so downloads pass the decode check honestly. */
export async function makePng(width = 64, height = 64, rgb: [number, number, number] = [200, 80, 40]): Promise<Uint8Array> {
  const buf = await sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();
  return new Uint8Array(buf);
}

export async function makeJpeg(width = 64, height = 64): Promise<Uint8Array> {
  const buf = await sharp({ create: { width, height, channels: 3, background: { r: 10, g: 120, b: 200 } } }).jpeg().toBuffer();
  return new Uint8Array(buf);
}
