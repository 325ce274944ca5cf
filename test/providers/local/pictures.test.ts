import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createLocalProvider } from '../../../src/providers/local/index.ts';
import { makeCtx, req } from '../helpers.ts';
import { solidPng } from '../../images/helpers.ts';

const local = createLocalProvider({ longSide: 96, previewSide: 32 });
const mean = async (bytes: Uint8Array) => (await sharp(bytes).stats()).channels.slice(0, 3).map((c) => c.mean);
const dist = (a: number[], b: number[]) => Math.hypot(...a.map((v, i) => v - b[i]!));

/** A context whose readImage answers from a map of pictures. */
const withPictures = (pictures: Record<string, Uint8Array>) =>
  makeCtx({
    readImage: async (id) => {
      const bytes = pictures[id]!;
      const m = await sharp(bytes).metadata();
      return { bytes, mime: 'image/png', width: m.width!, height: m.height! };
    },
  });

describe('local renderer with pictures', () => {
  it('an image prompt pulls the drawing towards the picture, more with a higher --iw', async () => {
    const magenta = await solidPng(64, 64, { r: 255, g: 0, b: 255 });
    const ctx = withPictures({ m: magenta });
    const plain = await local.generate(req({ prompt: 'a forest', seed: 7, count: 1 }), ctx);
    const light = await local.generate(req({ prompt: 'a forest', seed: 7, count: 1, images: [{ imageId: 'm' }], imageWeight: 0.5 }), ctx);
    const heavy = await local.generate(req({ prompt: 'a forest', seed: 7, count: 1, images: [{ imageId: 'm' }], imageWeight: 3 }), ctx);
    const target = [255, 0, 255];
    const d = await Promise.all([plain, light, heavy].map(async (r) => dist(await mean(r.images[0]!.bytes), target)));
    expect(d[1]).toBeLessThan(d[0]!);
    expect(d[2]).toBeLessThan(d[1]!);
  });

  it('zoom out keeps the source pixel for pixel in the middle of a canvas twice its size', async () => {
    const src = await solidPng(48, 32, { r: 10, g: 200, b: 30 });
    const ctx = withPictures({ s: src });
    const out = await local.generate(req({ prompt: 'a field', seed: 1, count: 1, edit: { kind: 'outpaint', imageId: 's', canvas: { width: 96, height: 64 }, left: 24, top: 16 } }), ctx);
    const img = out.images[0]!;
    expect([img.width, img.height]).toEqual([96, 64]);
    const { data } = await sharp(img.bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => [...data.subarray((y * 96 + x) * 3, (y * 96 + x) * 3 + 3)];
    expect(at(48, 32)).toEqual([10, 200, 30]);
    expect(at(25, 17)).toEqual([10, 200, 30]);
    expect(at(2, 2)).not.toEqual([10, 200, 30]);
  });

  it('Vary (Region) repaints inside the region only', async () => {
    const src = await solidPng(64, 64, { r: 10, g: 200, b: 30 });
    const out = await local.generate(req({ prompt: 'a field', seed: 1, count: 1, edit: { kind: 'inpaint', imageId: 's', region: { x: 0.25, y: 0.25, width: 0.5, height: 0.5 } } }), withPictures({ s: src }));
    const { data } = await sharp(out.images[0]!.bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => [...data.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3)];
    expect(at(2, 2)).toEqual([10, 200, 30]);
    expect(at(32, 32)).not.toEqual([10, 200, 30]);
  });
});
