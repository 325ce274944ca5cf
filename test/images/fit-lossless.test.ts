import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fitToBytes } from '../../src/images/fit.ts';
import { ImageDecodeError, probeImage } from '../../src/images/probe.ts';

describe('fit: lossless before lossy', () => {
  it('keeps PNG, pixel for pixel, when a tighter PNG encoding fits', async () => {
    const loose = await sharp({ create: { width: 400, height: 300, channels: 3, background: { r: 1, g: 2, b: 3 } } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    const fitted = await fitToBytes(loose, loose.length - 1);
    expect(fitted).toMatchObject({ mime: 'image/png', width: 400, height: 300 });
    expect(fitted.bytes.length).toBeLessThan(loose.length);
    const [a, b] = await Promise.all([loose, fitted.bytes].map((bytes) => sharp(bytes).raw().toBuffer()));
    expect(Buffer.compare(a!, b!)).toBe(0);
  });
});

describe('probe: truncated JPEG', () => {
  it('throws on a JPEG cut in half, as a broken download would be', async () => {
    const jpeg = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 50 } } })
      .jpeg()
      .toBuffer();
    await expect(probeImage(jpeg.subarray(0, Math.floor(jpeg.length / 2)))).rejects.toBeInstanceOf(ImageDecodeError);
  });
});
