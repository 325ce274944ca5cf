import { describe, expect, it } from 'vitest';
import { createImageTools } from '../../src/images/image-tools.ts';
import { probeImage } from '../../src/images/probe.ts';
import { noisyPng, solidPng } from './helpers.ts';

describe('preview', () => {
  it('makes a small JPEG within the maximum side, same aspect', async () => {
    const preview = await createImageTools().preview(await noisyPng(800, 400), 128);
    expect(preview.mime).toBe('image/jpeg');
    expect(await probeImage(preview.bytes)).toMatchObject({ mime: 'image/jpeg', width: 128, height: 64 });
  });

  it('never enlarges a small image', async () => {
    const preview = await createImageTools().preview(await solidPng(50, 40, { r: 0, g: 0, b: 0 }), 128);
    expect(await probeImage(preview.bytes)).toMatchObject({ width: 50, height: 40 });
  });
});
