import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { composeGrid, GRID_DEFAULTS, gridLayout } from '../../src/images/grid.ts';
import { createImageTools } from '../../src/images/image-tools.ts';
import { probeImage } from '../../src/images/probe.ts';
import { noisyPng, pixelAt, solidPng } from './helpers.ts';

/** Resampling and JPEG move a solid colour by a level or two. */
function expectColour(actual: [number, number, number], expected: [number, number, number]): void {
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(3));
}

const colours = [
  { r: 255, g: 0, b: 0 },
  { r: 0, g: 255, b: 0 },
  { r: 0, g: 0, b: 255 },
  { r: 255, g: 255, b: 0 },
  { r: 0, g: 255, b: 255 },
  { r: 255, g: 0, b: 255 },
  { r: 255, g: 255, b: 255 },
  { r: 128, g: 64, b: 0 },
];

describe('grid', () => {
  // 64² cells get a 2 px gutter.
  it.each([
    [1, 64, 64],
    [2, 130, 64],
    [3, 130, 130],
    [4, 130, 130],
    [5, 262, 130],
    [8, 262, 130],
  ])('composes %i images into %i×%i', async (count, width, height) => {
    const images = await Promise.all(colours.slice(0, count).map((c) => solidPng(64, 64, c)));
    const grid = await createImageTools().grid(images);
    expect(grid).toMatchObject({ mime: 'image/png', width, height });
    expect(await probeImage(grid.bytes)).toMatchObject({ mime: 'image/png', width, height });
    const layout = gridLayout(count, 64, 64);
    for (let i = 0; i < count; i++) {
      const { left, top } = layout.cells[i]!;
      const c = colours[i]!;
      expectColour(await pixelAt(grid.bytes, left + 32, top + 32), [c.r, c.g, c.b]);
    }
  });

  it('puts four images in a 2×2 grid', () => {
    const layout = gridLayout(4, 100, 50);
    expect([layout.columns, layout.rows]).toEqual([2, 2]);
    expect(layout.cells.map((c) => [c.left, c.top])).toEqual([
      [0, 0],
      [102, 0],
      [0, 52],
      [102, 52],
    ]);
  });

  it('shrinks cells so the grid fits its maximum side', async () => {
    const images = await Promise.all(colours.map((c) => solidPng(1024, 576, c)));
    const grid = await composeGrid(images);
    expect(Math.max(grid.width, grid.height)).toBeLessThanOrEqual(GRID_DEFAULTS.maxSide);
    expect(grid.width).toBeGreaterThan(GRID_DEFAULTS.maxSide - 8);
    expect(grid.width / grid.height).toBeCloseTo((4 * 1024) / (2 * 576), 1);
  });

  it('crops an image of another size to the first image\'s cell', async () => {
    const grid = await composeGrid([await solidPng(64, 64, colours[0]!), await solidPng(200, 100, colours[1]!)]);
    expect(grid).toMatchObject({ width: 130, height: 64 });
    expectColour(await pixelAt(grid.bytes, 66 + 32, 32), [0, 255, 0]);
  });

  it('is lossless as PNG', async () => {
    const grid = await createImageTools().grid([await solidPng(64, 64, colours[7]!), await solidPng(64, 64, colours[4]!)]);
    expect(await pixelAt(grid.bytes, 32, 32)).toEqual([128, 64, 0]);
    expect(await pixelAt(grid.bytes, 66 + 32, 32)).toEqual([0, 255, 255]);
  });

  it('writes JPEG when asked, smaller', async () => {
    const images = await Promise.all(colours.slice(0, 4).map(async (c, i) => (i % 2 ? solidPng(64, 64, c) : noisyPng(64, 64))));
    const [png, jpeg] = await Promise.all([createImageTools().grid(images), createImageTools({ grid: { format: 'jpeg' } }).grid(images)]);
    expect(jpeg.mime).toBe('image/jpeg');
    expect((await probeImage(jpeg.bytes)).mime).toBe('image/jpeg');
    expect(jpeg.bytes.length).toBeLessThan(png.bytes.length);
    expectColour(await pixelAt(jpeg.bytes, 66 + 32, 32), [0, 255, 0]);
  });

  it('takes greyscale and transparent images beside colour ones', async () => {
    const grey = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).toColourspace('b-w').png().toBuffer();
    const clear = await sharp({ create: { width: 64, height: 64, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    const grid = await composeGrid([await solidPng(64, 64, colours[2]!), grey, clear], { format: 'png' });
    expect(grid).toMatchObject({ width: 130, height: 130 });
    expect(await pixelAt(grid.bytes, 66 + 32, 32)).toEqual([128, 128, 128]);
    // Transparency shows the grid's background, not black or red.
    expect(await pixelAt(grid.bytes, 32, 66 + 32)).toEqual([24, 24, 27]);
  });

  describe('encodes in the sources\' family', () => {
    const noisy = (i: number, side = 256) => sharp({ create: { width: side, height: side, channels: 3, background: colours[i]!, noise: { type: 'gaussian', mean: 128, sigma: 30 } } });
    const webps = () => Promise.all([0, 1, 2, 3].map((i) => noisy(i).webp({ quality: 90 }).toBuffer()));
    const jpegs = () => Promise.all([0, 1, 2, 3].map((i) => noisy(i).jpeg({ quality: 90 }).toBuffer()));

    it('a grid of WebP sources is WebP', async () => {
      const grid = await createImageTools().grid(await webps());
      expect(grid.mime).toBe('image/webp');
      expect((await probeImage(grid.bytes)).mime).toBe('image/webp');
    });

    it('a grid of JPEG sources is JPEG with their chroma: subsampled from 4:2:0 sources, full from full', async () => {
      const grid = await createImageTools().grid(await jpegs());
      expect(grid.mime).toBe('image/jpeg');
      expect((await sharp(grid.bytes).metadata()).chromaSubsampling).toBe('4:2:0');
      const full = await Promise.all([0, 1, 2, 3].map((i) => noisy(i).jpeg({ quality: 90, chromaSubsampling: i === 2 ? '4:4:4' : '4:2:0' }).toBuffer()));
      expect((await sharp((await createImageTools().grid(full)).bytes).metadata()).chromaSubsampling).toBe('4:4:4');
    });

    it('a grid of lossless or mixed sources encoded as JPEG keeps full chroma', async () => {
      const pngs = await Promise.all([0, 1, 2, 3].map((i) => noisy(i).png().toBuffer()));
      const fromPng = await composeGrid(pngs, { maxSide: 1024 });
      expect((await sharp(fromPng.bytes).metadata()).chromaSubsampling).toBe('4:4:4');
      const mixed = await composeGrid([...(await jpegs()).slice(0, 2), ...(await webps()).slice(0, 2)]);
      expect(mixed.mime).toBe('image/jpeg');
      expect((await sharp(mixed.bytes).metadata()).chromaSubsampling).toBe('4:4:4');
    });

    it('a grid of photo-like PNGs that would weigh as much as its sources is JPEG, not PNG', async () => {
      const pngs = await Promise.all([0, 1, 2, 3].map((i) => noisy(i).png().toBuffer()));
      // Grid as large as the sources: a PNG would weigh what they weigh.
      const grid = await composeGrid(pngs, { maxSide: 1024 });
      expect(grid.mime).toBe('image/jpeg');
    });

    it('a grid of flat lossless sources stays PNG, pixel for pixel', async () => {
      const grid = await createImageTools().grid(await Promise.all(colours.slice(0, 4).map((c) => solidPng(256, 256, c))));
      expect(grid.mime).toBe('image/png');
    });

    it('a grid of four 1024² sources weighs at most half of them (the full-size images travel beside it)', async () => {
      const sources = await Promise.all([0, 1, 2, 3].map((i) => noisy(i, 1024).webp({ quality: 90 }).toBuffer()));
      const grid = await createImageTools().grid(sources);
      expect(grid.bytes.length).toBeLessThanOrEqual(sources.reduce((s, b) => s + b.length, 0) / 2);
    });
  });

  it('refuses zero or more than eight images', async () => {
    await expect(composeGrid([])).rejects.toThrow(/1 to 8/);
    const nine = await Promise.all(Array.from({ length: 9 }, () => solidPng(8, 8, colours[0]!)));
    await expect(composeGrid(nine)).rejects.toThrow(/1 to 8/);
  });
});
