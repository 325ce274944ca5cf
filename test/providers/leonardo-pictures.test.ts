import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editFor } from '../../src/core/edits.ts';
import type { ImageProvider, ProviderRunContext, SourceImage } from '../../src/core/provider.ts';
import type { GenerationRequest, GenerationRequestInput } from '../../src/core/request.ts';
import { strengthFromWeight } from '../../src/providers/leonardo/pictures.ts';
import { BASE_PATH, KINO_XL_ID, LeonardoFake, PHOENIX_ID } from '../fakes/providers/leonardo-fake.ts';
import { sdkCheckCreateGeneration } from '../fakes/providers/leonardo-sdk.ts';
import { makePng } from '../fakes/providers/images.ts';
import { alice, createHarness, here } from '../helpers/harness.ts';
import { caught, makeCtx, providersFor, req } from './helpers.ts';

/**
 * Leonardo.Ai with the user's own pictures, Vary (Subtle / Strong), Upscale (Subtle / Creative) and the canvas
 * edits, against the fake's rules (each sourced in leonardo-fake.ts): every declared capability is exercised.
 */
let fake: LeonardoFake;
let configured: ReturnType<typeof providersFor>;
let leo: ImageProvider;
const DIFFUSION_XL = '1e60896f-3c26-4296-8ecc-53e2afecc132';

beforeEach(async () => {
  fake = await new LeonardoFake().start();
  configured = providersFor({ LEONARDO_API_KEY: fake.apiKey, LEONARDO_API_URL: fake.baseUrl });
  leo = configured.providers.find((p) => p.id === 'leonardo')!;
});
afterEach(async () => {
  await configured.close();
  await fake.close();
});

const creates = () => fake.server.requests.filter((r) => r.method === 'POST' && r.path === `${BASE_PATH}/generations`).map((r) => r.body as Record<string, any>);
const count = (path: string) => fake.server.count(`POST ${BASE_PATH}${path}`);
const stored = new Map<string, { bytes: Uint8Array; mime: string; width: number; height: number }>();
async function picture(id: string, width = 64, height = 48) {
  stored.set(id, { bytes: await makePng(width, height), mime: 'image/png', width, height });
}
const pictureCtx = (over: Partial<ProviderRunContext> = {}) =>
  makeCtx({
    readImage: async (id) => {
      const p = stored.get(id);
      if (!p) throw new Error(`no picture ${id}`);
      return p;
    },
    ...over,
  });
const raw = (path: string, body: unknown) =>
  fetch(`${fake.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${fake.apiKey}` }, body: JSON.stringify(body) });
const withImages = (input: Omit<GenerationRequestInput, 'prompt'> & { prompt?: string }) => req({ prompt: 'a harbour at dusk', count: 1, ...input });

/** An image Leonardo made, with its bytes, as the runner hands it to upscale / vary. */
async function madeImage(model = 'kino-xl'): Promise<SourceImage> {
  const r = await leo.generate(req({ prompt: 'a lighthouse', count: 1, model, aspectRatio: '16:9' }), makeCtx());
  const img = r.images[0]!;
  return { ...img, index: 1, request: req({ prompt: 'a lighthouse', count: 1, model, aspectRatio: '16:9' }) };
}

describe('Leonardo pictures: image prompt, style and character references, --iw', () => {
  it('--iw maps onto init_strength 0.1–0.9 in a straight line (1 when unset)', () => {
    expect([0, 1, 2, 3, undefined].map(strengthFromWeight)).toEqual([0.1, 0.37, 0.63, 0.9, 0.37]);
  });

  it('on an SDXL model: the image prompt is init_image_id + init_strength from --iw; style 67 and character 133 are controlnets', async () => {
    await picture('in1');
    await picture('in2');
    await picture('in3');
    const images = [
      { imageId: 'in1', role: 'prompt' as const },
      { imageId: 'in2', role: 'style' as const },
      { imageId: 'in3', role: 'character' as const },
    ];
    const result = await leo.generate(withImages({ model: 'kino-xl', images, imageWeight: 2 }), pictureCtx());
    expect(result.images).toHaveLength(1);
    expect(count('/init-image')).toBe(3);
    const [a, b, c] = [...fake.initImages.values()];
    const body = creates()[0]!;
    expect(body).toMatchObject({
      modelId: KINO_XL_ID,
      init_image_id: a!.id,
      init_strength: 0.63,
      controlnets: [
        { initImageId: b!.id, initImageType: 'UPLOADED', preprocessorId: 67, strengthType: 'Mid' },
        { initImageId: c!.id, initImageType: 'UPLOADED', preprocessorId: 133, strengthType: 'Mid' },
      ],
    });
    expect(sdkCheckCreateGeneration(body)).toEqual([]);
  });

  it('on Phoenix: the image prompt is its Content Reference (364), a style picture its Style Reference (166); --iw 3 is High', async () => {
    await picture('p');
    await picture('s');
    await leo.generate(withImages({ images: [{ imageId: 'p', role: 'prompt' }, { imageId: 's', role: 'style' }], imageWeight: 3 }), pictureCtx());
    expect(creates()[0]).toMatchObject({ modelId: PHOENIX_ID, controlnets: [{ preprocessorId: 364, strengthType: 'High' }, { preprocessorId: 166, strengthType: 'High' }] });
    expect(creates()[0]!.init_image_id).toBeUndefined();
  });

  it('a GIF (which users may give) is uploaded as the PNG of its first frame, as the upload takes png, jpg or webp', async () => {
    const gif = new Uint8Array(await sharp({ create: { width: 16, height: 16, channels: 3, background: '#0a0' } }).gif().toBuffer());
    stored.set('g', { bytes: gif, mime: 'image/gif', width: 16, height: 16 });
    await leo.generate(withImages({ model: 'kino-xl', images: [{ imageId: 'g', role: 'prompt' }] }), pictureCtx());
    expect(fake.server.requests.find((r) => r.path === `${BASE_PATH}/init-image`)!.body).toEqual({ extension: 'png' });
    const [upload] = [...fake.initImages.values()];
    expect((await sharp(upload!.uploaded!.bytes).metadata()).format).toBe('png');
  });

  it('refuses, before uploading anything, a use the model lacks or a second picture in one role', async () => {
    await picture('c');
    const onPhoenix = await caught(() => leo.generate(withImages({ images: [{ imageId: 'c', role: 'character' }] }), pictureCtx()));
    expect(onPhoenix.message).toMatch(/phoenix has no character reference \(--cref\): pick an SDXL model/);
    const onLucid = await caught(() => leo.generate(withImages({ model: 'lucid-origin', images: [{ imageId: 'c', role: 'style' }] }), pictureCtx()));
    expect(onLucid.message).toMatch(/lucid-origin has no style reference/);
    const two = await caught(() => leo.generate(withImages({ model: 'kino-xl', images: [{ imageId: 'c', role: 'style' }, { imageId: 'c', role: 'style' }] }), pictureCtx()));
    expect(two.message).toMatch(/one style reference \(--sref\) per prompt/);
    expect(count('/init-image')).toBe(0);
    expect(creates()).toHaveLength(0);
  });

  it('the fake refuses what Leonardo documents it refuses: a picture never uploaded, strength out of range, a reference the model lacks', async () => {
    const base = { prompt: 'x', num_images: 1, width: 512, height: 512, alchemy: false };
    const minted = (await (await raw('/init-image', { extension: 'png' })).json()) as { uploadInitImage: { id: string } };
    const notUploaded = await raw('/generations', { ...base, modelId: KINO_XL_ID, init_image_id: minted.uploadInitImage.id, init_strength: 0.5 });
    expect(notUploaded.status).toBe(400);
    expect(await notUploaded.text()).toMatch(/never uploaded/);
    const img = (await madeImage()).providerImageId!;
    const gen = (over: object) => raw('/generations', { ...base, ...over });
    expect((await gen({ modelId: KINO_XL_ID, init_generation_image_id: img, init_strength: 0.95 })).status).toBe(400);
    expect((await gen({ modelId: KINO_XL_ID, controlnets: [{ initImageId: img, initImageType: 'GENERATED', preprocessorId: 133, strengthType: 'Max' }] })).status).toBe(400);
    expect((await gen({ modelId: KINO_XL_ID, controlnets: [{ initImageId: img, initImageType: 'GENERATED', preprocessorId: 19, strengthType: 'Low' }] })).status).toBe(400);
    expect((await gen({ modelId: KINO_XL_ID, controlnets: [{ initImageId: img, initImageType: 'GENERATED', preprocessorId: 166, strengthType: 'Low' }] })).status).toBe(400);
    expect((await gen({ modelId: PHOENIX_ID, contrast: 3.5, controlnets: [{ initImageId: img, initImageType: 'GENERATED', preprocessorId: 133, strengthType: 'Low' }] })).status).toBe(400);
    // The controls: the same shapes with what the guide allows are accepted.
    expect((await gen({ modelId: KINO_XL_ID, controlnets: [{ initImageId: img, initImageType: 'GENERATED', preprocessorId: 67, strengthType: 'Max' }] })).status).toBe(200);
    expect((await gen({ modelId: PHOENIX_ID, contrast: 3.5, controlnets: [{ initImageId: img, initImageType: 'GENERATED', preprocessorId: 166, strengthType: 'Low' }] })).status).toBe(200);
  });
});

describe('Leonardo Vary (Subtle / Strong) and Upscale (Subtle / Creative)', () => {
  it('Vary (Subtle) keeps most of the source (init_strength 0.8), Vary (Strong) little (0.3)', async () => {
    const source = await madeImage();
    await leo.vary!({ ...source, strength: 'subtle' }, makeCtx());
    await leo.vary!({ ...source, strength: 'strong' }, makeCtx());
    const [, subtle, strong] = creates();
    expect(subtle).toMatchObject({ init_generation_image_id: source.providerImageId, init_strength: 0.8 });
    expect(strong).toMatchObject({ init_generation_image_id: source.providerImageId, init_strength: 0.3 });
  });

  it('on Phoenix the strengths become the Content Reference\'s High and Low', async () => {
    const source = await madeImage('phoenix');
    await leo.vary!({ ...source, strength: 'subtle' }, makeCtx());
    await leo.vary!({ ...source, strength: 'strong' }, makeCtx());
    expect(creates()[1]!.controlnets[0]).toMatchObject({ initImageType: 'GENERATED', preprocessorId: 364, strengthType: 'High' });
    expect(creates()[2]!.controlnets[0]).toMatchObject({ strengthType: 'Low' });
  });

  it('Upscale (Subtle / Creative) go to the Universal Upscaler at 2× with creativity 2 and 8; the plain U stays the plain upscaler', async () => {
    const source = await madeImage();
    const subtle = await leo.upscale!({ ...source, upscaleMode: 'subtle' }, makeCtx());
    const creative = await leo.upscale!({ ...source, upscaleMode: 'creative' }, makeCtx());
    const bodies = [...fake.upscalers.values()];
    expect(bodies).toEqual([
      { generatedImageId: source.providerImageId, upscalerStyle: 'GENERAL', creativityStrength: 2, upscaleMultiplier: 2 },
      { generatedImageId: source.providerImageId, upscalerStyle: 'GENERAL', creativityStrength: 8, upscaleMultiplier: 2 },
    ]);
    expect(subtle.images[0]).toMatchObject({ width: source.width * 2, height: source.height * 2 });
    expect(creative.images).toHaveLength(1);
    await leo.upscale!(source, makeCtx());
    expect(count('/variations/upscale')).toBe(1);
    expect(count('/variations/universal-upscaler')).toBe(2);
  });

  it('the fake refuses the upscaler outside its documented ranges and style rules', async () => {
    const id = (await madeImage()).providerImageId!;
    const up = (over: object) => raw('/variations/universal-upscaler', { generatedImageId: id, upscalerStyle: 'GENERAL', creativityStrength: 5, upscaleMultiplier: 1.5, ...over });
    expect((await up({})).status).toBe(200);
    expect((await up({ creativityStrength: 11 })).status).toBe(400);
    expect((await up({ upscaleMultiplier: 3 })).status).toBe(400);
    expect((await up({ ultraUpscaleStyle: 'ARTISTIC' })).status).toBe(400);
    expect((await up({ detailContrast: 5 })).status).toBe(400);
    expect((await up({ upscalerStyle: 'SHINY' })).status).toBe(400);
    expect((await up({ generatedImageId: 'nope' })).status).toBe(400);
  });
});

describe('Leonardo zoom, pan, square and Vary (Region) through Canvas Inpainting', () => {
  async function editRequest(kind: 'zoom' | 'pan' | 'square' | 'region', over: Partial<GenerationRequest> = {}): Promise<GenerationRequest> {
    await picture('src', 1024, 576);
    const action =
      kind === 'zoom' ? { kind, index: 1, factor: 2 } as const
      : kind === 'pan' ? { kind, index: 1, direction: 'left' } as const
      : kind === 'square' ? { kind, index: 1 } as const
      : { kind, index: 1, region: { x: 0.25, y: 0.25, width: 0.5, height: 0.5 } } as const;
    return { ...req({ prompt: 'a lighthouse', model: 'kino-xl', count: 4 }), ...over, edit: editFor(action, 'src', { width: 1024, height: 576 }) };
  }

  it('a zoom uploads the padded picture and a same-size mask, then inpaints with only the guide\'s parameters', async () => {
    const result = await leo.generate(await editRequest('zoom'), pictureCtx());
    expect(count('/canvas-init-image')).toBe(1);
    const mint = fake.server.requests.find((r) => r.path === `${BASE_PATH}/canvas-init-image`)!;
    expect(mint.body).toEqual({ initExtension: 'png', maskExtension: 'png' });
    const body = creates()[0]!;
    expect(Object.keys(body).sort()).toEqual(['canvasInitId', 'canvasMaskId', 'canvasRequest', 'canvasRequestType', 'init_strength', 'modelId', 'num_images', 'prompt']);
    expect(body).toMatchObject({ canvasRequest: true, canvasRequestType: 'INPAINT', init_strength: 0.15, modelId: KINO_XL_ID, num_images: 4, prompt: 'a lighthouse' });
    expect(sdkCheckCreateGeneration(body)).toEqual([]);
    const init = fake.initImages.get(body.canvasInitId)!.uploaded!;
    const mask = fake.initImages.get(body.canvasMaskId)!.uploaded!;
    expect({ w: init.width, h: init.height }).toEqual({ w: 1024, h: 576 });
    expect({ w: mask.width, h: mask.height }).toEqual({ w: 1024, h: 576 });
    // The mask is white where Leonardo paints: the border a 2× zoom adds, black over the kept middle.
    const m = await sharp(mask.bytes).greyscale().raw().toBuffer({ resolveWithObject: true });
    expect(m.data[0]).toBe(255);
    expect(m.data[288 * 1024 + 512]).toBe(0);
    expect(result.images[0]).toMatchObject({ width: 1024, height: 576 });
    expect(result.note).toBeUndefined();
  });

  it('pan, square and region are inpaints of their own canvases', async () => {
    for (const kind of ['pan', 'square', 'region'] as const) await leo.generate(await editRequest(kind), pictureCtx());
    const sizes = creates().map((b) => fake.initImages.get(b.canvasInitId)!.uploaded!).map((u) => `${u.width}x${u.height}`);
    expect(sizes).toEqual(['1024x384', '1024x1024', '1024x576']);
    expect(creates().every((b) => b.canvasRequestType === 'INPAINT')).toBe(true);
  });

  it('a picture made by Phoenix is painted by Diffusion XL, and what the canvas cannot take is said', async () => {
    const result = await leo.generate({ ...(await editRequest('zoom')), model: undefined, negativePrompt: undefined, style: 'Dynamic' }, pictureCtx());
    expect(creates()[0]).toMatchObject({ modelId: DIFFUSION_XL });
    expect(result.note).toMatch(/painted by diffusion-xl.*takes no the style/);
  });

  it('reads the mask\'s form under the recipe\'s names (masks*) as well as the SDK\'s (mask*)', async () => {
    fake.canvasNames = 'recipe';
    await leo.generate(await editRequest('region'), pictureCtx());
    expect(fake.initImages.get(creates()[0]!.canvasMaskId)!.uploaded).toBeDefined();
  });

  it('the fake refuses canvas requests the guide rules out', async () => {
    const forms = (await (await raw('/canvas-init-image', { initExtension: 'png', maskExtension: 'png' })).json()) as { uploadCanvasInitImage: Record<string, string> };
    const u = forms.uploadCanvasInitImage;
    const post = async (url: string, fields: string, bytes: Uint8Array) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(JSON.parse(fields) as Record<string, string>)) form.append(k, v);
      form.append('file', new Blob([Buffer.from(bytes)], { type: 'image/png' }), 'f.png');
      return (await fetch(url, { method: 'POST', body: form })).status;
    };
    const base = { prompt: 'x', canvasRequest: true, canvasRequestType: 'INPAINT', canvasInitId: u.initImageId, canvasMaskId: u.maskImageId, init_strength: 0.15, num_images: 1, modelId: DIFFUSION_XL };
    expect((await raw('/generations', base)).status).toBe(400); // nothing uploaded yet
    expect(await post(u.initUrl!, u.initFields!, await makePng(512, 512))).toBe(204);
    expect(await post(u.maskUrl!, u.maskFields!, await makePng(512, 256))).toBe(204);
    expect(await (await raw('/generations', base)).text()).toMatch(/dimensions must match/);
    const again = (await (await raw('/canvas-init-image', { initExtension: 'png', maskExtension: 'png' })).json()) as { uploadCanvasInitImage: Record<string, string> };
    const v = again.uploadCanvasInitImage;
    await post(v.initUrl!, v.initFields!, await makePng(1024, 1024));
    await post(v.maskUrl!, v.maskFields!, await makePng(1024, 1024));
    const ok = { ...base, canvasInitId: v.initImageId, canvasMaskId: v.maskImageId };
    expect((await raw('/generations', ok)).status).toBe(200);
    expect((await raw('/generations', { ...ok, num_images: 4 })).status).toBe(400);
    expect((await raw('/generations', { ...ok, negative_prompt: 'people' })).status).toBe(400);
    expect((await raw('/generations', { ...ok, alchemy: true })).status).toBe(400);
    expect((await raw('/generations', { ...ok, modelId: PHOENIX_ID })).status).toBe(400);
    expect((await raw('/generations', { ...ok, init_strength: 0.85 })).status).toBe(400);
    expect((await raw('/canvas-init-image', { initExtension: 'gif', maskExtension: 'png' })).status).toBe(400);
  });
});

describe('Leonardo: what the capabilities declare is what runs', () => {
  it('every declared picture role, --iw, both edits, both vary strengths and both upscale modes run against the fake', async () => {
    const c = leo.capabilities;
    expect(c.imageInput).toMatchObject({ roles: ['prompt', 'style', 'character'], weight: true });
    expect(c.imageInput?.blend).toBeUndefined();
    expect(c.imageInput?.needsPublicUrl).toBeUndefined();
    await picture('r', 64, 64);
    for (const role of c.imageInput!.roles) {
      await leo.generate(withImages({ model: 'kino-xl', images: [{ imageId: 'r', role }], imageWeight: 1 }), pictureCtx());
    }
    const three = c.imageInput!.maxImages;
    await leo.generate(withImages({ model: 'kino-xl', images: c.imageInput!.roles.slice(0, three).map((role) => ({ imageId: 'r', role })) }), pictureCtx());
    expect(c.outpaint && c.inpaint).toBe(true);
    await picture('e', 512, 512);
    await leo.generate({ ...req({ prompt: 'p', model: 'kino-xl' }), edit: editFor({ kind: 'pan', index: 1, direction: 'up' }, 'e', { width: 512, height: 512 }) }, pictureCtx());
    await leo.generate({ ...req({ prompt: 'p', model: 'kino-xl' }), edit: editFor({ kind: 'region', index: 1, region: { x: 0, y: 0, width: 0.5, height: 0.5 } }, 'e', { width: 512, height: 512 }) }, pictureCtx());
    expect(c.varyStrength).toBe(true);
    const source = await madeImage();
    for (const strength of ['subtle', 'strong'] as const) await leo.vary!({ ...source, strength }, makeCtx());
    for (const upscaleMode of c.upscaleModes!) await leo.upscale!({ ...source, upscaleMode }, makeCtx());
    expect(fake.server.requests.filter((r) => r.method === 'POST' && r.path.startsWith(BASE_PATH)).every((r) => r.path !== `${BASE_PATH}/variations/unzoom`)).toBe(true);
  });
});

describe('Leonardo toolbox through the core: U, then zoom, Vary (Region), Vary (Strong) and Upscale (Creative) as child jobs', () => {
  it('each button after U runs against the fake and makes pictures of the right size', async () => {
    const h = await createHarness({ providers: [leo] });
    try {
      const grid = await h.atelier.imagine({ prompt: 'a lighthouse --ar 16:9', provider: 'leonardo', model: 'kino-xl', count: 2 }, alice, here);
      expect((await h.settle(grid.id)).state).toBe('succeeded');
      const up = await h.atelier.act(grid.id, { kind: 'upscale', index: 1 }, alice, here);
      expect((await h.settle(up.id)).state).toBe('succeeded');
      const [upImage] = await h.atelier.images(up.id);
      const children = [
        await h.atelier.act(up.id, { kind: 'zoom', index: 1, factor: 1.5 }, alice, here),
        await h.atelier.act(up.id, { kind: 'region', index: 1, region: { x: 0.25, y: 0.25, width: 0.5, height: 0.5 } }, alice, here),
        await h.atelier.act(up.id, { kind: 'vary', index: 1, strength: 'strong' }, alice, here),
        await h.atelier.act(up.id, { kind: 'upscale', index: 1, mode: 'creative' }, alice, here),
      ];
      for (const c of children) {
        const done = await h.settle(c.id);
        expect(done.state, `${c.action.kind}: ${done.error?.message ?? ''}`).toBe('succeeded');
      }
      const canvases = creates().filter((b) => b.canvasRequest);
      expect(canvases.map((b) => b.modelId)).toEqual([KINO_XL_ID, KINO_XL_ID]);
      const zoomInit = fake.initImages.get(canvases[0]!.canvasInitId)!.uploaded!;
      // 1.5× around a 16:9 picture, scaled to at most 1024 px a side, sides in multiples of 8.
      expect(zoomInit.width).toBe(1024);
      expect(Math.abs(zoomInit.height / zoomInit.width - upImage!.meta.height / upImage!.meta.width)).toBeLessThan(0.02);
      expect(creates().find((b) => b.init_strength === 0.3)).toMatchObject({ init_generation_image_id: upImage!.meta.providerImageId });
      expect([...fake.upscalers.values()]).toEqual([expect.objectContaining({ creativityStrength: 8, generatedImageId: upImage!.meta.providerImageId })]);
    } finally {
      await h.close();
    }
  });
});
