import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createImageTools } from '../../src/images/image-tools.ts';
import { ImageDecodeError, probeImage } from '../../src/images/probe.ts';
import { noisyPng, solidPng } from './helpers.ts';

describe('probe', () => {
  it('reports type and size', async () => {
    const tools = createImageTools();
    expect(await tools.probe(await solidPng(40, 30, { r: 1, g: 2, b: 3 }))).toEqual({ mime: 'image/png', width: 40, height: 30 });
    const jpeg = await sharp(await solidPng(20, 10, { r: 9, g: 9, b: 9 })).jpeg().toBuffer();
    expect(await tools.probe(jpeg)).toEqual({ mime: 'image/jpeg', width: 20, height: 10 });
  });

  it('reports the upright size of a JPEG stored sideways', async () => {
    const sideways = await sharp(await solidPng(40, 30, { r: 200, g: 0, b: 0 })).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect(await probeImage(sideways)).toMatchObject({ width: 30, height: 40 });
  });

  it('throws on bytes that are not an image', async () => {
    await expect(probeImage(new TextEncoder().encode('{"error":"rate limited"}'))).rejects.toBeInstanceOf(ImageDecodeError);
  });

  it('throws on a truncated image', async () => {
    const png = await noisyPng(64, 64);
    await expect(probeImage(png.subarray(0, Math.floor(png.length / 2)))).rejects.toBeInstanceOf(ImageDecodeError);
  });
});
