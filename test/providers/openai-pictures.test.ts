import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImageProvider, ProviderRunContext } from '../../src/core/provider.ts';
import { pictureRefusal } from '../../src/core/resolve.ts';
import { BLEND_PROMPT } from '../../src/core/service.ts';
import { OpenAIFake, type SeenEdit } from '../fakes/providers/openai-fake.ts';
import { caught, makeCtx, providersFor, req } from './helpers.ts';

/**
 * OpenAI edits for the user's pictures, /blend, zoom / pan / square and Vary (Region), against the spec-checked fake
 * (test/fakes/providers/openai-fake.ts names the source of each rule it enforces).
 */
let fake: OpenAIFake;
let configured: ReturnType<typeof providersFor>;

async function setup(env: Record<string, string> = {}): Promise<ImageProvider> {
  fake = await new OpenAIFake({ apiKey: 'sk-test' }).start();
  configured = providersFor({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.url, ...env });
  return configured.providers.find((p) => p.id === 'openai')!;
}
afterEach(async () => {
  await configured?.close();
  await fake?.close();
});

type Stored = { bytes: Uint8Array; mime: string; width: number; height: number };
const solid = async (width: number, height: number, colour: string, format: 'png' | 'jpeg' | 'gif' = 'png'): Promise<Stored> => {
  const img = sharp({ create: { width, height, channels: 3, background: colour } });
  const bytes = new Uint8Array(await (format === 'png' ? img.png() : format === 'jpeg' ? img.jpeg() : img.gif()).toBuffer());
  return { bytes, mime: `image/${format}`, width, height };
};
/** A run context that reads pictures from a map, as the runner reads them from the store. */
const ctxWith = (pictures: Record<string, Stored>): ReturnType<typeof makeCtx> =>
  makeCtx({
    async readImage(id: string) {
      const p = pictures[id];
      if (!p) throw new Error(`no picture ${id}`);
      return p;
    },
  } satisfies Partial<ProviderRunContext>);

const lastEdit = (): SeenEdit => fake.edits.at(-1)!;
const pixel = async (data: Buffer, x: number, y: number) => {
  const { data: raw, info } = await sharp(data).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * 4;
  return { r: raw[i]!, g: raw[i + 1]!, b: raw[i + 2]!, a: raw[i + 3]! };
};

/** A raw multipart edit, for the rules the fake enforces on what Atelier never sends. */
async function rawEdit(parts: { images?: { key?: string; bytes: Uint8Array; type: string }[]; mask?: { bytes: Uint8Array; type: string }; fields?: Record<string, string> }) {
  const form = new FormData();
  for (const i of parts.images ?? []) form.append(i.key ?? 'image', new Blob([Buffer.from(i.bytes)], { type: i.type }), 'x');
  if (parts.mask) form.append('mask', new Blob([Buffer.from(parts.mask.bytes)], { type: parts.mask.type }), 'mask.png');
  for (const [k, v] of Object.entries(parts.fields ?? {})) form.append(k, v);
  return fetch(`${fake.url}/images/edits`, { method: 'POST', headers: { authorization: 'Bearer sk-test' }, body: form });
}

describe('OpenAI pictures', () => {
  it('declares what the API has: image prompts and /blend, outpaint and inpaint; no --iw, no --sref/--cref, no vary strength', async () => {
    const openai = await setup();
    const caps = openai.capabilities;
    expect(caps.imageInput).toEqual({ maxImages: 5, roles: ['prompt'], blend: true });
    expect(caps).toMatchObject({ outpaint: true, inpaint: true });
    expect(caps.varyStrength).toBeUndefined();
    // So the core refuses, before anything is billed, what OpenAI has no parameter for.
    expect(pictureRefusal(req({ prompt: 'x', images: [{ imageId: 'a' }], imageWeight: 2 }), caps)).toMatch(/--iw/);
    expect(pictureRefusal(req({ prompt: 'x', images: [{ imageId: 'a', role: 'style' }] }), caps)).toMatch(/--sref/);
    expect(pictureRefusal(req({ prompt: 'x', images: [{ imageId: 'a' }] }), caps)).toBeUndefined();
  });

  it('one image prompt is an edit with `image`; several are `image[]` (as the openai package and the AI SDK send them); a GIF goes as PNG', async () => {
    const openai = await setup();
    const pictures = { a: await solid(300, 200, '#c04020'), b: await solid(64, 64, '#2040c0', 'gif'), c: await solid(80, 120, '#20c040', 'jpeg') };
    const one = await openai.generate(req({ prompt: 'in watercolour', aspectRatio: '3:2', images: [{ imageId: 'a' }] }), ctxWith(pictures));
    expect(one.images).toHaveLength(1);
    expect(lastEdit().images.map((i) => [i.key, i.format, i.width, i.height])).toEqual([['image', 'png', 300, 200]]);
    expect(lastEdit().fields).toEqual({ model: 'gpt-image-2', prompt: 'in watercolour', n: '1', size: '1536x1024', stream: 'true', partial_images: '2' });
    expect(lastEdit().mask).toBeUndefined();

    const ctx = ctxWith(pictures);
    const many = await openai.generate(req({ prompt: 'the three of them', count: 2, images: [{ imageId: 'a' }, { imageId: 'b' }, { imageId: 'c' }] }), ctx);
    expect(many.images).toHaveLength(2);
    expect(lastEdit().images.map((i) => [i.key, i.format])).toEqual([
      ['image[]', 'png'],
      ['image[]', 'png'],
      ['image[]', 'jpeg'],
    ]);
    expect(lastEdit().fields).toMatchObject({ n: '2', size: 'auto' });
    // Streamed like a generation: previews before the images.
    expect(ctx.progressLog.some((p) => p.preview)).toBe(true);
    // The intent names what was uploaded, never the bytes.
    expect(ctx.intents[0]!.body).toEqual({ path: '/images/edits', fields: ['image[]', 'model', 'prompt', 'n', 'size', 'stream', 'partial_images'], images: 3, mask: false, size: 'auto', bytes: expect.any(Number) });
    expect(fake.rejected).toEqual([]);
  });

  it('/blend sends every picture with the blend prompt', async () => {
    const openai = await setup();
    const pictures = { a: await solid(64, 64, '#ff0000'), b: await solid(64, 64, '#00ff00'), c: await solid(64, 64, '#0000ff') };
    await openai.generate(req({ prompt: BLEND_PROMPT, aspectRatio: '2:3', blend: true, images: [{ imageId: 'a' }, { imageId: 'b' }, { imageId: 'c' }] }), ctxWith(pictures));
    expect(lastEdit().images).toHaveLength(3);
    expect(lastEdit().fields).toMatchObject({ prompt: BLEND_PROMPT, size: '1024x1536' });
  });

  it('zoom out on gpt-image-2: the source in the middle of a transparent canvas at the exact size, and a mask of the same size, transparent where to paint', async () => {
    const openai = await setup();
    const pictures = { src: await solid(400, 400, '#c04020') };
    await openai.generate(req({ prompt: 'a red square', edit: { kind: 'outpaint', imageId: 'src', canvas: { width: 600, height: 600 }, left: 100, top: 100 } }), ctxWith(pictures));
    const e = lastEdit();
    expect(e.fields.size).toBe('1536x1536');
    expect(e.images.map((i) => [i.key, i.format, i.width, i.height, i.hasAlpha])).toEqual([['image', 'png', 1536, 1536, true]]);
    expect(e.mask).toMatchObject({ format: 'png', width: 1536, height: 1536, hasAlpha: true });
    expect(await pixel(e.images[0]!.data, 768, 768)).toMatchObject({ r: 0xc0, g: 0x40, b: 0x20, a: 255 });
    expect((await pixel(e.images[0]!.data, 10, 10)).a).toBe(0);
    expect((await pixel(e.mask!.data, 10, 10)).a).toBe(0);
    expect((await pixel(e.mask!.data, 768, 768)).a).toBe(255);
  });

  it('a pan on a model with three sizes: the 9:4 canvas gets more room above and below to become 3:2, not a stretched picture', async () => {
    const openai = await setup({ OPENAI_IMAGE_MODEL: 'gpt-image-1.5' });
    const pictures = { src: await solid(300, 200, '#2040c0') };
    await openai.generate(req({ prompt: 'a blue field', aspectRatio: '3:2', edit: { kind: 'outpaint', imageId: 'src', canvas: { width: 450, height: 200 }, left: 150, top: 0 } }), ctxWith(pictures));
    const e = lastEdit();
    expect(e.fields).toMatchObject({ model: 'gpt-image-1.5', size: '1536x1024' });
    expect(e.images[0]).toMatchObject({ width: 1536, height: 1024 });
    // The source spans the right two thirds (1024 px of 1536 wide), its height 200 of the padded 300.
    expect((await pixel(e.images[0]!.data, 1200, 512)).a).toBe(255);
    expect((await pixel(e.images[0]!.data, 200, 512)).a).toBe(0);
    expect((await pixel(e.images[0]!.data, 1200, 40)).a).toBe(0);
  });

  it('gpt-image-2 cannot draw past 3:1: a pan that would is refused before anything is sent', async () => {
    const openai = await setup();
    const pictures = { src: await solid(600, 200, '#2040c0') };
    const err = await caught(() => openai.generate(req({ prompt: 'x', edit: { kind: 'outpaint', imageId: 'src', canvas: { width: 900, height: 200 }, left: 300, top: 0 } }), ctxWith(pictures)));
    expect(err.message).toMatch(/1:3 to 3:1/);
    expect(fake.creates).toBe(0);
  });

  it('Vary (Region): the whole picture, opaque, and a mask transparent only inside the region; image prompts follow the canvas', async () => {
    const openai = await setup();
    const pictures = { src: await solid(512, 512, '#808000'), ref: await solid(32, 32, '#ffffff') };
    await openai.generate(req({ prompt: 'a hat', images: [{ imageId: 'ref' }], edit: { kind: 'inpaint', imageId: 'src', region: { x: 0.5, y: 0.5, width: 0.25, height: 0.25 } } }), ctxWith(pictures));
    const e = lastEdit();
    expect(e.images.map((i) => [i.key, i.width, i.height])).toEqual([
      ['image[]', 1536, 1536],
      ['image[]', 32, 32],
    ]);
    expect((await pixel(e.images[0]!.data, 900, 900)).a).toBe(255);
    expect((await pixel(e.mask!.data, 900, 900)).a).toBe(0);
    expect((await pixel(e.mask!.data, 300, 300)).a).toBe(255);
    expect(e.mask).toMatchObject({ width: 1536, height: 1536 });
  });

  it('input_fidelity (OPENAI_OPTIONS) goes with edits to gpt-image-1 and gpt-image-1.5 only; the sources disagree on gpt-image-2 and the fake follows the live reports', async () => {
    let openai = await setup({ OPENAI_IMAGE_MODEL: 'gpt-image-1.5', OPENAI_OPTIONS: '{"input_fidelity":"high"}' });
    const pictures = { a: await solid(64, 64, '#123456') };
    await openai.generate(req({ prompt: 'keep the face', images: [{ imageId: 'a' }] }), ctxWith(pictures));
    expect(lastEdit().fields.input_fidelity).toBe('high');
    await openai.generate(req({ prompt: 'keep the face', model: 'gpt-image-2', images: [{ imageId: 'a' }] }), ctxWith(pictures));
    expect(lastEdit().fields).not.toHaveProperty('input_fidelity');
    expect(fake.rejected).toEqual([]);
    // The spec says "gpt-image-1.5 and later models"; users report gpt-image-2 answering invalid_input_fidelity_model.
    const png = (await solid(64, 64, '#000')).bytes;
    expect((await rawEdit({ images: [{ bytes: png, type: 'image/png' }], fields: { model: 'gpt-image-2', prompt: 'x', input_fidelity: 'high' } })).status).toBe(400);
    expect((await rawEdit({ images: [{ bytes: png, type: 'image/png' }], fields: { model: 'gpt-image-1-mini', prompt: 'x', input_fidelity: 'high' } })).status).toBe(400);
    expect((await rawEdit({ images: [{ bytes: png, type: 'image/png' }], fields: { model: 'gpt-image-1', prompt: 'x', input_fidelity: 'high' } })).status).toBe(200);
    await configured.close();
    await fake.close();
    openai = await setup({ OPENAI_OPTIONS: '{"input_fidelity":"high"}' });
    expect(openai.capabilities.notes?.join(' ')).toMatch(/input_fidelity high is sent with edits on gpt-image-1 and gpt-image-1.5 only/);
  });

  it('a V with OPENAI_OPTIONS moderation set is accepted: moderation is a generations parameter, not an edit one', async () => {
    const openai = await setup({ OPENAI_OPTIONS: '{"moderation":"low"}' });
    const src = await solid(64, 64, '#c04020');
    const result = await openai.vary!({ ...src, index: 1, request: req({ prompt: 'a red square' }) }, makeCtx());
    expect(result.images).toHaveLength(1);
    expect(fake.rejected).toEqual([]);
    expect(lastEdit().fields).not.toHaveProperty('moderation');
  });

  it('the upload is bounded: a picture of 50 MB or more is refused before anything is sent', async () => {
    const openai = await setup();
    const huge = { bytes: new Uint8Array(50 * 1024 * 1024), mime: 'image/png', width: 64, height: 64 };
    const err = await caught(() => openai.generate(req({ prompt: 'x', images: [{ imageId: 'a' }] }), ctxWith({ a: huge })));
    expect(err).toMatchObject({ code: 'INVALID_IMAGE', message: expect.stringMatching(/under 50 MB/) });
    expect(fake.server.requests.filter((r) => r.path === '/images/edits')).toHaveLength(0);
  });

  it('the fake refuses what OpenAI would: a mask of another size, without alpha or not PNG; 17 images; a GIF; no prompt; no image; two images for dall-e-2', async () => {
    await setup();
    const png64 = (await solid(64, 64, '#000')).bytes;
    const image = { bytes: png64, type: 'image/png' };
    const maskOf = async (w: number, h: number, alpha = true, format: 'png' | 'jpeg' = 'png') => {
      const img = sharp({ create: { width: w, height: h, channels: alpha ? 4 : 3, background: alpha ? { r: 0, g: 0, b: 0, alpha: 0 } : '#000' } });
      return { bytes: new Uint8Array(await (format === 'png' ? img.png() : img.jpeg()).toBuffer()), type: `image/${format}` };
    };
    const fields = { model: 'gpt-image-1.5', prompt: 'x' };
    expect((await rawEdit({ images: [image], mask: await maskOf(64, 64), fields })).status).toBe(200);
    expect((await rawEdit({ images: [image], mask: await maskOf(32, 64), fields })).status).toBe(400);
    expect(fake.rejected.at(-1)).toMatch(/must match the image's \(64x64\)/);
    expect((await rawEdit({ images: [image], mask: await maskOf(64, 64, false), fields })).status).toBe(400);
    expect((await rawEdit({ images: [image], mask: await maskOf(64, 64, true, 'jpeg'), fields })).status).toBe(400);
    expect((await rawEdit({ images: Array.from({ length: 17 }, () => ({ ...image, key: 'image[]' })), fields })).status).toBe(400);
    expect((await rawEdit({ images: Array.from({ length: 16 }, () => ({ ...image, key: 'image[]' })), fields })).status).toBe(200);
    expect((await rawEdit({ images: [{ bytes: (await solid(8, 8, '#000', 'gif')).bytes, type: 'image/gif' }], fields })).status).toBe(400);
    expect((await rawEdit({ images: [image], fields: { model: 'gpt-image-1.5' } })).status).toBe(400);
    expect((await rawEdit({ images: [image], fields: { model: 'gpt-image-1.5', prompt: '' } })).status).toBe(400);
    expect((await rawEdit({ fields })).status).toBe(400);
    expect((await rawEdit({ images: [image, image].map((i) => ({ ...i, key: 'image[]' })), fields: { model: 'dall-e-2', prompt: 'x' } })).status).toBe(400);
    expect((await rawEdit({ images: [image], fields: { ...fields, moderation: 'low' } })).status).toBe(400);
  });
});
