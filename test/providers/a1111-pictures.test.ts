import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editFor } from '../../src/core/edits.ts';
import type { ProviderRunContext, SourceImage } from '../../src/core/provider.ts';
import type { A1111Provider } from '../../src/providers/a1111/adapter.ts';
import { denoiseForWeight } from '../../src/providers/strengths.ts';
import { A1111Fake } from '../fakes/providers/a1111-fake.ts';
import { makePng } from '../fakes/providers/images.ts';
import { caught, makeCtx, providersFor, req } from './helpers.ts';

let fake: A1111Fake;
let configured: ReturnType<typeof providersFor>;
let a1111: A1111Provider;

beforeEach(async () => {
  fake = await new A1111Fake().start();
  configured = providersFor({ A1111_URL: fake.url }, { tuning: { previewIntervalMs: 0, progressIntervalMs: 5, syncHeadersTimeoutMs: 5_000 } });
  a1111 = configured.providers.find((p) => p.id === 'a1111') as A1111Provider;
});
afterEach(async () => {
  await configured.close();
  await fake.close();
});

type Picture = { bytes: Uint8Array; mime: string; width: number; height: number };
const picture = async (width: number, height: number, rgb: [number, number, number] = [200, 80, 40]): Promise<Picture> => ({ bytes: await makePng(width, height, rgb), mime: 'image/png', width, height });
/** A run context whose stored pictures are `pictures`, read by id as the runner would. */
const withPictures = (pictures: Record<string, Picture>, over: Partial<ProviderRunContext> = {}) =>
  makeCtx({
    async readImage(id) {
      const p = pictures[id];
      if (!p) throw new Error(`no picture ${id}`);
      return p;
    },
    ...over,
  });
const sent = (path: string) => fake.server.requests.filter((r) => r.method === 'POST' && r.path === path).map((r) => r.body as Record<string, any>);
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
/** The grey level of one pixel of a base64 mask. */
const maskAt = async (mask: string, x: number, y: number) => {
  const { data, info } = await sharp(Buffer.from(mask, 'base64')).greyscale().raw().toBuffer({ resolveWithObject: true });
  return data[(y * info.width + x) * info.channels]!;
};
const source = async (over: Partial<SourceImage> = {}): Promise<SourceImage> => ({ ...(await picture(512, 384)), index: 1, seed: 77, request: req({ prompt: 'a harbour at dawn', count: 2, seed: 5 }), ...over });

describe('A1111 capabilities', () => {
  it('declares one image prompt with --iw, outpaint, inpaint, vary strengths and both upscalers; no blend, no --sref / --cref', () => {
    expect(a1111.capabilities).toMatchObject({
      upscale: true,
      variations: true,
      imageInput: { maxImages: 1, roles: ['prompt'], weight: true },
      outpaint: true,
      inpaint: true,
      varyStrength: true,
      upscaleModes: ['subtle', 'creative'],
      size: { min: 64, max: 2048, multipleOf: 8 },
    });
    expect(a1111.capabilities.imageInput?.blend).toBeFalsy();
  });
});

describe('A1111 image prompt: img2img from the picture', () => {
  it('sends the picture as the init image, --iw as denoising strength, at the picture own shape; the recorded intent holds no image bytes', async () => {
    const pic = await picture(600, 400);
    const ctx = withPictures({ in1: pic });
    const result = await a1111.generate(req({ prompt: 'the same street in watercolour', images: [{ imageId: 'in1', role: 'prompt' }], imageWeight: 2, count: 2 }), ctx);
    const body = sent('/sdapi/v1/img2img')[0]!;
    expect(body).toMatchObject({ prompt: 'the same street in watercolour', init_images: [b64(pic.bytes)], denoising_strength: 0.55, resize_mode: 1, width: 1024, height: 680, batch_size: 2 });
    expect(sent('/sdapi/v1/txt2img')).toHaveLength(0);
    // The server decoded exactly the picture we stored.
    expect(fake.decoded.map((d) => [d.field, d.width, d.height])).toEqual([['init_images', 600, 400]]);
    expect(JSON.stringify(ctx.intents[0]!.body)).not.toContain(b64(pic.bytes).slice(0, 100));
    expect(ctx.intents[0]!.body).toMatchObject({ init_images: [expect.stringMatching(/^<picture, \d+ base64 characters>$/)], force_task_id: ctx.intents[0]!.key });
    expect(result.images).toHaveLength(2);
  });

  it('an aspect ratio asked for wins: the picture is cropped to it (resize_mode 1)', async () => {
    await a1111.generate(req({ prompt: 'x', images: [{ imageId: 'in1', role: 'prompt' }], aspectRatio: '16:9', count: 1 }), withPictures({ in1: await picture(300, 300) }));
    expect(sent('/sdapi/v1/img2img')[0]).toMatchObject({ width: 1024, height: 576, resize_mode: 1, denoising_strength: 0.75 });
  });

  it('--iw maps to strength: more weight, less denoising (1 is the webui default 0.75)', () => {
    expect([0, 0.5, 1, 2, 3].map(denoiseForWeight)).toEqual([0.95, 0.85, 0.75, 0.55, 0.35]);
    expect(denoiseForWeight(undefined)).toBe(0.75);
  });

  it('what img2img cannot do is refused before anything is sent: a blend, two pictures, a style or character reference', async () => {
    const ctx = withPictures({ a: await picture(64, 64), b: await picture(64, 64) });
    const cases: [Parameters<typeof req>[0], RegExp][] = [
      [{ prompt: 'x', images: [{ imageId: 'a', role: 'prompt' }, { imageId: 'b', role: 'prompt' }], blend: true }, /cannot blend pictures/],
      [{ prompt: 'x', images: [{ imageId: 'a', role: 'prompt' }, { imageId: 'b', role: 'prompt' }] }, /one picture at a time; you gave 2/],
      [{ prompt: 'x', images: [{ imageId: 'a', role: 'style' }] }, /no style \(--sref\) references/],
      [{ prompt: 'x', images: [{ imageId: 'a', role: 'character' }] }, /no character \(--cref\) references/],
    ];
    for (const [input, says] of cases) expect((await caught(() => a1111.generate(req(input), ctx))).message).toMatch(says);
    expect(fake.renders).toBe(0);
  });
});

describe('A1111 Vary (Subtle / Strong): img2img from the image at its own size', () => {
  it.each([
    ['subtle', 0.3],
    ['strong', 0.7],
    [undefined, 0.55],
  ] as const)('strength %s is denoising %s', async (strength, denoise) => {
    const src = await source(strength ? { strength } : {});
    const ctx = makeCtx();
    const result = await a1111.vary!(src, ctx);
    expect(sent('/sdapi/v1/img2img')[0]).toMatchObject({ prompt: 'a harbour at dawn', init_images: [b64(src.bytes)], denoising_strength: denoise, resize_mode: 0, width: 512, height: 384, batch_size: 2, seed: -1 });
    expect(ctx.intents[0]!.operation).toBe('vary');
    expect(result.images).toHaveLength(2);
  });

  it('a source bigger than the render size is varied at the render size, in steps of 8', async () => {
    await a1111.vary!(await source({ ...(await picture(2048, 1365)), strength: 'subtle' }), makeCtx());
    expect(sent('/sdapi/v1/img2img')[0]).toMatchObject({ width: 1024, height: 680 });
  });
});

describe('A1111 zoom, pan, square and Vary (Region): img2img with the canvas and a mask', () => {
  it('Zoom Out 2x: the filled canvas, a mask white around the picture and black on it, the whole picture painted', async () => {
    const src = await picture(512, 512, [20, 120, 220]);
    const edit = editFor({ kind: 'zoom', index: 1, factor: 2 }, 'src1', src);
    const ctx = withPictures({ src1: src });
    await a1111.generate(req({ prompt: 'a lighthouse', count: 1, edit }), ctx);
    const body = sent('/sdapi/v1/img2img')[0]!;
    expect(body).toMatchObject({ width: 1024, height: 1024, denoising_strength: 0.9, inpainting_fill: 1, inpaint_full_res: false, inpainting_mask_invert: 0, resize_mode: 0, batch_size: 1 });
    expect(fake.decoded.map((d) => [d.field, d.width, d.height])).toEqual([
      ['init_images', 1024, 1024],
      ['mask', 1024, 1024],
    ]);
    expect(await maskAt(body.mask, 512, 512)).toBe(0);
    expect(await maskAt(body.mask, 5, 5)).toBe(255);
    expect(await maskAt(body.mask, 1018, 512)).toBe(255);
    // Where the picture stays, the init image is the picture.
    const { data } = await sharp(Buffer.from(body.init_images[0], 'base64')).extract({ left: 500, top: 500, width: 1, height: 1 }).raw().toBuffer({ resolveWithObject: true });
    expect([...data.subarray(0, 3)]).toEqual([20, 120, 220]);
  });

  it('Pan Left: the new strip on the left is white in the mask', async () => {
    const src = await picture(512, 512);
    await a1111.generate(req({ prompt: 'x', count: 1, edit: editFor({ kind: 'pan', index: 1, direction: 'left' }, 's', src) }), withPictures({ s: src }));
    const body = sent('/sdapi/v1/img2img')[0]!;
    expect(body).toMatchObject({ width: 768, height: 512 });
    expect(await maskAt(body.mask, 10, 256)).toBe(255);
    expect(await maskAt(body.mask, 700, 256)).toBe(0);
  });

  it('Vary (Region): white only in the region, painted "only masked" at full resolution', async () => {
    const src = await picture(512, 512);
    const edit = editFor({ kind: 'region', index: 1, region: { x: 0.5, y: 0.5, width: 0.25, height: 0.25 } }, 's', src);
    await a1111.generate(req({ prompt: 'a red door', count: 1, edit }), withPictures({ s: src }));
    const body = sent('/sdapi/v1/img2img')[0]!;
    expect(body).toMatchObject({ width: 512, height: 512, denoising_strength: 0.75, inpainting_fill: 1, inpaint_full_res: true, inpaint_full_res_padding: 32 });
    expect(await maskAt(body.mask, 300, 300)).toBe(255);
    expect(await maskAt(body.mask, 100, 100)).toBe(0);
  });
});

describe('A1111 upscales', () => {
  it('U and Upscale (Subtle): extra-single-image at 2x with the model upscaler the webui lists', async () => {
    for (const upscaleMode of [undefined, 'subtle'] as const) {
      const src = await source(upscaleMode ? { upscaleMode } : {});
      const ctx = makeCtx();
      const result = await a1111.upscale!(src, ctx);
      expect(sent('/sdapi/v1/extra-single-image').at(-1)).toMatchObject({ image: b64(src.bytes), resize_mode: 0, upscaling_resize: 2, upscaler_1: 'R-ESRGAN 4x+', upscaler_2: 'None' });
      expect(result.images.map((i) => [i.width, i.height, i.seed])).toEqual([[1024, 768, 77]]);
      expect(result.note).toMatch(/R-ESRGAN 4x\+/);
      expect(ctx.intents[0]).toMatchObject({ operation: 'upscale', body: { image: expect.stringMatching(/^<picture/) } });
    }
    expect(fake.renders).toBe(0);
  });

  it('without a model upscaler installed it uses Lanczos, which every webui has', async () => {
    fake.upscalers = fake.upscalers.filter((u) => u.name !== 'R-ESRGAN 4x+');
    await a1111.upscale!(await source({ upscaleMode: 'subtle' }), makeCtx());
    expect(sent('/sdapi/v1/extra-single-image')[0]).toMatchObject({ upscaler_1: 'Lanczos' });
  });

  it('Upscale (Creative): img2img of the image at twice its size, lightly re-rendered, one image', async () => {
    const src = await source({ upscaleMode: 'creative' });
    const ctx = makeCtx();
    const result = await a1111.upscale!(src, ctx);
    expect(sent('/sdapi/v1/img2img')[0]).toMatchObject({ init_images: [b64(src.bytes)], width: 1024, height: 768, denoising_strength: 0.35, resize_mode: 0, batch_size: 1, seed: 77 });
    expect(sent('/sdapi/v1/extra-single-image')).toHaveLength(0);
    expect(ctx.intents[0]!.operation).toBe('upscale');
    expect(result.images).toHaveLength(1);
  });

  it('a picture already at the ceiling is refused with its size, nothing sent', async () => {
    const big = await source({ ...(await picture(4096, 2048)), upscaleMode: 'subtle' });
    expect((await caught(() => a1111.upscale!(big, makeCtx()))).message).toMatch(/4096×2048; AUTOMATIC1111 upscales up to 4096 pixels a side/);
    const wide = await source({ ...(await picture(2048, 1024)), upscaleMode: 'creative' });
    expect((await caught(() => a1111.upscale!(wide, makeCtx()))).message).toMatch(/up to 2048 pixels a side/);
    expect(sent('/sdapi/v1/extra-single-image')).toHaveLength(0);
    expect(fake.renders).toBe(0);
  });
});

/** The webui's own refusals of malformed picture requests, as the fake derives them; the adapter never sends these. */
describe('A1111 documented picture rules', () => {
  const raw = (path: string, body: unknown) => fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const base = { prompt: 'x', width: 64, height: 64, batch_size: 1, n_iter: 1 };

  it('init_images must be a list (422), each a decodable picture (500 "Invalid encoded image"); so must the mask', async () => {
    const png = b64(await makePng(32, 32));
    expect((await raw('/sdapi/v1/img2img', { ...base, init_images: png })).status).toBe(422);
    const bad = await raw('/sdapi/v1/img2img', { ...base, init_images: ['bm90IGFuIGltYWdl'] });
    expect(bad.status).toBe(500);
    expect(await bad.json()).toEqual({ error: 'HTTPException', detail: 'Invalid encoded image', body: '', errors: '500: Invalid encoded image' });
    expect((await raw('/sdapi/v1/img2img', { ...base, init_images: [png], mask: 'bm90IGFuIGltYWdl' })).status).toBe(500);
    // A data: URL, as webuiapi sends, decodes like plain base64.
    expect((await raw('/sdapi/v1/img2img', { ...base, init_images: [`data:image/png;base64,${png}`], mask: png })).status).toBe(200);
  });

  it('more init images than the batch: RuntimeError from processing', async () => {
    const png = b64(await makePng(32, 32));
    const res = await raw('/sdapi/v1/img2img', { ...base, init_images: [png, png] });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: 'RuntimeError', errors: expect.stringMatching(/bad number of images passed: 2; expecting 1 or less/) });
  });

  it('extras: an upscaler the webui does not list fails its assert; "None" leaves the picture as it was; resize_mode is 0 or 1', async () => {
    const image = b64(await makePng(40, 30));
    const unknown = await raw('/sdapi/v1/extra-single-image', { image, upscaler_1: '4x-Imaginary', upscaling_resize: 2 });
    expect(unknown.status).toBe(500);
    expect(await unknown.json()).toMatchObject({ error: 'AssertionError', errors: 'could not find upscaler named 4x-Imaginary' });
    const none = (await (await raw('/sdapi/v1/extra-single-image', { image, upscaling_resize: 2 })).json()) as { image: string };
    expect(await sharp(Buffer.from(none.image, 'base64')).metadata()).toMatchObject({ width: 40, height: 30 });
    expect((await raw('/sdapi/v1/extra-single-image', { image, resize_mode: 2 })).status).toBe(422);
  });

  it('a failed upscale reaches the user with the webui own words (it is free to repeat, so it was tried again first)', async () => {
    fake.server.inject({ route: 'POST /sdapi/v1/extra-single-image', kind: 'status', status: 500, body: { error: 'OutOfMemoryError', detail: '', body: '', errors: 'CUDA out of memory' }, times: 10 });
    const src = await source();
    const err = await caught(() => a1111.upscale!(src, makeCtx()));
    expect(err.message).toMatch(/OutOfMemoryError: CUDA out of memory/);
  });
});
