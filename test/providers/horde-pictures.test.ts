import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImageProvider } from '../../src/core/provider.ts';
import { pictureRefusal } from '../../src/core/resolve.ts';
import { HordeFake, type HordeFakeOptions } from '../fakes/providers/horde-fake.ts';
import { caught, makeCtx, providersFor, req } from './helpers.ts';

/**
 * AI Horde img2img (image prompts, --iw, V / Vary (Subtle / Strong)) and outpainting / inpainting (zoom, pan,
 * square, Vary (Region)) against the fake, which names the source of each rule (test/fakes/providers/horde-fake.ts).
 */
let fake: HordeFake;
let configured: ReturnType<typeof providersFor>;

async function setup(opts: HordeFakeOptions = {}): Promise<ImageProvider> {
  fake = await new HordeFake({ checksToDone: 2, ...opts }).start();
  configured = providersFor({ AI_HORDE_API_KEY: '0000000000', AI_HORDE_URL: fake.url });
  return configured.providers.find((p) => p.id === 'horde')!;
}
afterEach(async () => {
  await configured?.close();
  await fake?.close();
});

type Stored = { bytes: Uint8Array; mime: string; width: number; height: number };
const solid = async (width: number, height: number, colour: string): Promise<Stored> => ({
  bytes: new Uint8Array(await sharp({ create: { width, height, channels: 3, background: colour } }).png().toBuffer()),
  mime: 'image/png',
  width,
  height,
});
const ctxWith = (pictures: Record<string, Stored>) =>
  makeCtx({
    async readImage(id: string) {
      return pictures[id]!;
    },
  });
const sent = () => fake.server.requests.filter((r) => r.method === 'POST' && r.path === '/api/v2/generate/async' && r.headers['client-agent']);
const lastBody = () => sent().at(-1)!.body as Record<string, any>;
const lastSource = () => [...fake.sources.values()].at(-1)!;
const raw = (body: unknown) => fetch(`${fake.url}/v2/generate/async`, { method: 'POST', headers: { 'content-type': 'application/json', apikey: '0000000000' }, body: JSON.stringify(body) });
const b64 = async (img: sharp.Sharp) => (await img.toBuffer()).toString('base64');

describe('AI Horde pictures', () => {
  it('declares one picture as img2img with --iw, V with strengths, outpaint and inpaint; no /blend, no --sref', async () => {
    const horde = await setup();
    expect(horde.capabilities).toMatchObject({ imageInput: { maxImages: 1, roles: ['prompt'], weight: true }, variations: true, varyStrength: true, outpaint: true, inpaint: true });
    expect(horde.capabilities.imageInput?.blend).toBeUndefined();
    const two = req({ prompt: 'x', images: [{ imageId: 'a' }, { imageId: 'b' }], blend: true });
    expect(pictureRefusal(two, horde.capabilities)).toBeDefined();
    expect(pictureRefusal(req({ prompt: 'x', images: [{ imageId: 'a', role: 'character' }] }), horde.capabilities)).toMatch(/--cref/);
    expect(pictureRefusal(req({ prompt: 'x', images: [{ imageId: 'a' }], imageWeight: 2 }), horde.capabilities)).toBeUndefined();
  });

  it('an image prompt is img2img: WebP at the request size, --iw as denoising strength', async () => {
    const horde = await setup();
    const pictures = { a: await solid(300, 200, '#c04020') };
    const ctx = ctxWith(pictures);
    const result = await horde.generate(req({ prompt: 'in watercolour', aspectRatio: '16:9', count: 2, images: [{ imageId: 'a' }], imageWeight: 2 }), ctx);
    expect(result.images).toHaveLength(2);
    expect(lastBody()).toMatchObject({ source_processing: 'img2img', params: { width: 1024, height: 576, n: 2, denoising_strength: 0.45 } });
    expect(lastBody()).not.toHaveProperty('source_mask');
    // Cropped to the request's shape, since workers stretch a source to the request's size.
    expect(lastSource().image).toMatchObject({ format: 'webp', width: 1024, height: 576 });
    // The recorded intent names the picture by size, never its bytes.
    expect(String((ctx.intents[0]!.body as { source_image: string }).source_image)).toMatch(/^<webp, \d+ bytes>$/);
    // --iw 0, the default 1 and 3.
    for (const [iw, denoise] of [[0, 0.95], [undefined, 0.7], [3, 0.2]] as const) {
      await horde.generate(req({ prompt: 'x', count: 1, images: [{ imageId: 'a' }], ...(iw !== undefined ? { imageWeight: iw } : {}) }), ctxWith(pictures));
      expect(lastBody().params.denoising_strength, `iw ${iw}`).toBe(denoise);
    }
    // Without --ar the picture keeps its shape.
    expect(lastBody().params).toMatchObject({ width: 1024, height: 704 });
    expect(fake.rejected).toEqual([]);
  });

  it('V, Vary (Subtle) and Vary (Strong) are img2img of the chosen image at 0.55, 0.35 and 0.75, without its seed', async () => {
    const horde = await setup();
    const src = await solid(128, 64, '#2040c0');
    const request = req({ prompt: 'a blue field', seed: 9, count: 2, steps: 20, model: 'Deliberate' });
    for (const [strength, denoise] of [[undefined, 0.55], ['subtle', 0.35], ['strong', 0.75]] as const) {
      const r = await horde.vary!({ ...src, index: 1, request, ...(strength ? { strength } : {}) }, makeCtx());
      expect(r.images).toHaveLength(2);
      expect(lastBody(), String(strength)).toMatchObject({ prompt: 'a blue field', models: ['Deliberate'], source_processing: 'img2img', params: { width: 1024, height: 512, n: 2, steps: 20, denoising_strength: denoise } });
      expect(lastBody().params).not.toHaveProperty('seed');
    }
  });

  it('zoom out is outpainting on an inpainting model: the source filled out to the canvas, a mask white where to paint, sizes in 64s', async () => {
    const horde = await setup();
    const pictures = { src: await solid(512, 512, '#c04020') };
    const r = await horde.generate(req({ prompt: 'a red square', model: 'AlbedoBase XL (SDXL)', edit: { kind: 'outpaint', imageId: 'src', canvas: { width: 1024, height: 1024 }, left: 256, top: 256 } }), ctxWith(pictures));
    expect(lastBody()).toMatchObject({ source_processing: 'outpainting', models: ['Deliberate Inpainting'], params: { width: 576, height: 576, denoising_strength: 1 } });
    const s = lastSource();
    expect(s.image).toMatchObject({ format: 'webp', width: 576, height: 576 });
    expect(s.mask).toMatchObject({ format: 'webp', width: 576, height: 576 });
    const maskAt = async (x: number, y: number) => (await sharp(s.mask!.data).greyscale().raw().toBuffer({ resolveWithObject: true })).data[y * 576 + x]!;
    expect(await maskAt(10, 10)).toBeGreaterThan(200);
    expect(await maskAt(288, 288)).toBeLessThan(50);
    // The job's SDXL model cannot paint a mask: said with the result, not dropped silently.
    expect(r.note).toMatch(/painted by AI Horde's inpainting models, not AlbedoBase XL \(SDXL\)/);
  });

  it('Vary (Region) is inpainting with the region white in the mask; a pan keeps the canvas shape in multiples of 64', async () => {
    const horde = await setup();
    const pictures = { src: await solid(640, 640, '#808000') };
    await horde.generate(req({ prompt: 'a hat', edit: { kind: 'inpaint', imageId: 'src', region: { x: 0.5, y: 0, width: 0.5, height: 0.5 } } }), ctxWith(pictures));
    const s = lastSource();
    expect(lastBody()).toMatchObject({ source_processing: 'inpainting', params: { width: 576, height: 576 } });
    const mask = await sharp(s.mask!.data).greyscale().raw().toBuffer();
    expect(mask[100 * 576 + 500]!).toBeGreaterThan(200);
    expect(mask[500 * 576 + 100]!).toBeLessThan(50);
    await horde.generate(req({ prompt: 'more field', edit: { kind: 'outpaint', imageId: 'src', canvas: { width: 960, height: 640 }, left: 320, top: 0 } }), ctxWith(pictures));
    expect(lastBody().params).toMatchObject({ width: 576, height: 384 });
  });

  it('no worker serving an inpainting model: zoom is refused before anything is sent, with what to do', async () => {
    const horde = await setup({ models: ['AlbedoBase XL (SDXL)'] });
    const pictures = { src: await solid(64, 64, '#000') };
    const err = await caught(() => horde.generate(req({ prompt: 'x', edit: { kind: 'outpaint', imageId: 'src', canvas: { width: 128, height: 64 }, left: 64, top: 0 } }), ctxWith(pictures)));
    expect(err).toMatchObject({ code: 'UNSUPPORTED' });
    expect(err.message).toMatch(/No AI Horde worker serves an inpainting model now/);
    expect(fake.creates).toBe(0);
  });

  it('the fake refuses what the Horde would: a mask without a picture, an unreadable or oversized picture, inpainting with no mask or alpha, denoising out of range, remix outside Stable Cascade; and never finishes a painting no worker can take', async () => {
    await setup();
    const webp = await b64(sharp({ create: { width: 64, height: 64, channels: 3, background: '#000' } }).webp());
    expect((await raw({ prompt: 'x', source_mask: webp })).status).toBe(400);
    expect((await raw({ prompt: 'x', source_image: 'not an image' })).status).toBe(400);
    expect((await raw({ prompt: 'x', source_image: await b64(sharp({ create: { width: 3100, height: 3100, channels: 3, background: '#000' } }).webp({ quality: 1 })) })).status).toBe(400);
    expect((await raw({ prompt: 'x', source_image: webp, source_processing: 'inpainting' })).status).toBe(400);
    expect((await raw({ prompt: 'x', source_image: webp, source_processing: 'sideways' })).status).toBe(400);
    expect((await raw({ prompt: 'x', source_image: webp, source_processing: 'remix' })).status).toBe(400);
    expect((await raw({ prompt: 'x', source_image: webp, params: { denoising_strength: 0 } })).status).toBe(400);
    expect((await raw({ prompt: 'x', source_image: webp, params: { denoising_strength: 1.2 } })).status).toBe(400);
    expect((await raw({ prompt: 'x', source_image: webp, params: { denoising_strength: 0.01 } })).status).toBe(202);
    // An alpha channel is a mask too ([horde]: "the inpainting/outpainting mask has to be embedded as alpha channel").
    const alpha = await b64(sharp({ create: { width: 64, height: 64, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0.5 } } }).webp());
    expect((await raw({ prompt: 'x', source_image: alpha, source_processing: 'inpainting', models: ['Deliberate Inpainting'] })).status).toBe(202);
    // The docs say WebP; the server opens any image PIL can. The fake follows the server; the adapter sends WebP.
    const png = await b64(sharp({ create: { width: 64, height: 64, channels: 3, background: '#000' } }).png());
    expect((await raw({ prompt: 'x', source_image: png })).status).toBe(202);
    // Painting with no inpainting model among the request's: accepted, then no worker can take it.
    const res = await raw({ prompt: 'x', source_image: webp, source_mask: webp, source_processing: 'outpainting', models: ['AlbedoBase XL (SDXL)'] });
    const { id } = (await res.json()) as { id: string };
    const check = (await (await fetch(`${fake.url}/v2/generate/check/${id}`)).json()) as { is_possible: boolean };
    expect(check.is_possible).toBe(false);
  });
});
