import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fitToBytes, ImageFitError } from '../../src/images/fit.ts';
import { createImageTools } from '../../src/images/image-tools.ts';
import { probeImage } from '../../src/images/probe.ts';
import { noisyPng, solidPng } from './helpers.ts';

describe('fit', () => {
  it('keeps an image that already fits, bytes untouched', async () => {
    const png = await solidPng(300, 200, { r: 10, g: 200, b: 30 });
    const fitted = await createImageTools().fit(png, png.length);
    expect(fitted).toEqual({ bytes: png, mime: 'image/png', width: 300, height: 200 });
  });

  it('keeps a GIF that fits, so an animation stays one', async () => {
    const gif = await sharp(await solidPng(40, 40, { r: 200, g: 10, b: 10 })).gif().toBuffer();
    expect(await fitToBytes(gif, gif.length)).toEqual({ bytes: gif, mime: 'image/gif', width: 40, height: 40 });
  });

  it('re-encodes lossy at full size when PNG is too big', async () => {
    const png = await noisyPng(512, 512);
    const cap = Math.floor(png.length / 3);
    const fitted = await fitToBytes(png, cap);
    expect(fitted.bytes.length).toBeLessThanOrEqual(cap);
    expect(['image/jpeg', 'image/webp']).toContain(fitted.mime);
    expect(fitted).toMatchObject({ width: 512, height: 512 });
    expect(await probeImage(fitted.bytes)).toMatchObject({ mime: fitted.mime, width: 512, height: 512 });
  });

  it('downscales, keeping the aspect ratio, when no full-size encoding fits', async () => {
    const png = await noisyPng(640, 360);
    const cap = 15_000;
    const fitted = await fitToBytes(png, cap);
    expect(fitted.bytes.length).toBeLessThanOrEqual(cap);
    expect(fitted.width).toBeLessThan(640);
    expect(fitted.width / fitted.height).toBeCloseTo(640 / 360, 1);
    expect(await probeImage(fitted.bytes)).toMatchObject({ width: fitted.width, height: fitted.height });
  });

  it('keeps transparency: never JPEG for an image with alpha', async () => {
    const png = await noisyPng(256, 256, 4);
    const fitted = await fitToBytes(png, Math.floor(png.length / 4));
    expect(fitted.mime).toBe('image/webp');
    expect((await sharp(fitted.bytes).metadata()).hasAlpha).toBe(true);
  });

  it('says so when nothing fits', async () => {
    const png = await noisyPng(128, 128);
    await expect(fitToBytes(png, 20)).rejects.toBeInstanceOf(ImageFitError);
    await expect(fitToBytes(png, 20)).rejects.toThrow(/fits in 20 bytes/);
  });
});
