import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { editCanvas } from '../../src/images/canvas.ts';

const red = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: '#f00' } }).png().toBuffer().then((b) => new Uint8Array(b));
const alphaAt = async (png: Uint8Array, x: number, y: number) => {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return data[(y * info.width + x) * 4 + 3];
};
const greyAt = async (png: Uint8Array, x: number, y: number) => {
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  return data[(y * info.width + x) * info.channels];
};

describe('edit canvas', () => {
  it('outpaint: the source keeps its place on the scaled canvas; the rest is transparent and white in the mask', async () => {
    const out = await editCanvas(await red(200, 100), { kind: 'outpaint', imageId: 'x', canvas: { width: 400, height: 200 }, left: 100, top: 50 }, { maxSide: 200, multipleOf: 8 });
    expect([out.width, out.height]).toEqual([200, 96]);
    expect(await alphaAt(out.image, 2, 2)).toBe(0);
    expect(await alphaAt(out.image, 100, 48)).toBe(255);
    expect(await greyAt(out.mask, 2, 2)).toBe(255);
    expect(await greyAt(out.mask, 100, 48)).toBe(0);
    const filled = await sharp(out.filled).metadata();
    expect([filled.width, filled.height, filled.hasAlpha]).toEqual([200, 96, false]);
  });

  it('inpaint: only the region is cleared and masked', async () => {
    const out = await editCanvas(await red(200, 100), { kind: 'inpaint', imageId: 'x', region: { x: 0.25, y: 0.25, width: 0.5, height: 0.5 } });
    expect([out.width, out.height]).toEqual([200, 100]);
    expect(await alphaAt(out.image, 100, 50)).toBe(0);
    expect(await alphaAt(out.image, 5, 5)).toBe(255);
    expect(await greyAt(out.mask, 100, 50)).toBe(255);
    expect(await greyAt(out.mask, 5, 5)).toBe(0);
  });
});
