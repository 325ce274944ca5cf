import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editFor } from '../../src/core/edits.ts';
import type { ProviderRunContext, SourceImage } from '../../src/core/provider.ts';
import type { ComfyUiProvider } from '../../src/providers/comfyui/adapter.ts';
import { defaultWorkflow } from '../../src/providers/comfyui/workflow.ts';
import { ComfyFake } from '../fakes/providers/comfyui-fake.ts';
import { makePng } from '../fakes/providers/images.ts';
import { caught, makeCtx, providersFor, req } from './helpers.ts';

let fake: ComfyFake;
let configured: ReturnType<typeof providersFor>;
let comfy: ComfyUiProvider;
const dir = mkdtempSync(join(tmpdir(), 'atelier-comfy-pictures-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const reconfigure = async (env: Record<string, string> = {}) => {
  await configured?.close();
  configured = providersFor({ COMFYUI_URL: fake.url, ...env }, { tuning: { previewIntervalMs: 0, socketHandshakeTimeoutMs: 2_000 } });
  comfy = configured.providers.find((p) => p.id === 'comfyui') as ComfyUiProvider;
};
beforeEach(async () => {
  fake = await new ComfyFake().start();
  await reconfigure();
});
afterEach(async () => {
  await configured.close();
  await fake.close();
});

type Node = { class_type: string; inputs: Record<string, any> };
type Picture = { bytes: Uint8Array; mime: string; width: number; height: number };
const picture = async (width: number, height: number, rgb: [number, number, number] = [200, 80, 40]): Promise<Picture> => ({ bytes: await makePng(width, height, rgb), mime: 'image/png', width, height });
const withPictures = (pictures: Record<string, Picture>, over: Partial<ProviderRunContext> = {}) =>
  makeCtx({
    async readImage(id) {
      const p = pictures[id];
      if (!p) throw new Error(`no picture ${id}`);
      return p;
    },
    ...over,
  });
const prompts = () => fake.server.requests.filter((r) => r.method === 'POST' && r.path === '/prompt').map((r) => (r.body as { prompt: Record<string, Node> }).prompt);
const nodes = (prompt: Record<string, Node>, cls: string) => Object.entries(prompt).filter(([, n]) => n.class_type === cls);
const one = (prompt: Record<string, Node>, cls: string) => {
  const found = nodes(prompt, cls);
  expect(found, cls).toHaveLength(1);
  return found[0]!;
};
/** The node a link points at. */
const at = (prompt: Record<string, Node>, link: unknown) => {
  expect(Array.isArray(link), `${JSON.stringify(link)} is a link`).toBe(true);
  return prompt[String((link as [string, number])[0])]!;
};
/** The alpha of one pixel of an uploaded file. */
const alphaAt = async (name: string, x: number, y: number) => {
  const bytes = fake.files.get(`input//${name}`)!;
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return data[(y * info.width + x) * info.channels + 3]!;
};
const source = async (over: Partial<SourceImage> = {}): Promise<SourceImage> => ({ ...(await picture(512, 384)), index: 2, seed: 77, request: req({ prompt: 'a harbour at dawn', count: 2, seed: 5 }), ...over });

describe('ComfyUI capabilities come from the workflow', () => {
  it('the default workflow takes pictures: up to five image prompts with --iw, /blend, outpaint, inpaint, vary strengths, both upscalers', () => {
    expect(comfy.capabilities).toMatchObject({
      upscale: true,
      variations: true,
      imageInput: { maxImages: 5, roles: ['prompt'], weight: true, blend: true },
      outpaint: true,
      inpaint: true,
      varyStrength: true,
      upscaleModes: ['subtle', 'creative'],
    });
  });

  it('a workflow whose sampler does not start from an EmptyLatentImage takes no pictures and says why; U still works', async () => {
    const { workflow, map } = defaultWorkflow('sd_xl_base_1.0.safetensors');
    workflow['4'] = { class_type: 'EmptySD3LatentImage', inputs: { width: 1024, height: 1024, batch_size: 1 } };
    const wf = join(dir, 'sd3.json');
    const mp = join(dir, 'sd3-map.json');
    writeFileSync(wf, JSON.stringify(workflow));
    writeFileSync(mp, JSON.stringify(Object.fromEntries(Object.entries(map).map(([k, v]) => [k, `${v!.node}.${v!.input}`]))));
    await reconfigure({ COMFYUI_WORKFLOW: wf, COMFYUI_WORKFLOW_MAP: mp });
    const caps = comfy.capabilities;
    expect(caps.imageInput).toBeUndefined();
    expect(caps.outpaint).toBeFalsy();
    expect(caps.inpaint).toBeFalsy();
    expect(caps.variations).toBe(false);
    expect(caps.upscaleModes).toEqual(['subtle']);
    expect(caps.notes?.[0]).toMatch(/COMFYUI_WORKFLOW takes no pictures: no KSampler in it starts from an EmptyLatentImage/);
    const ctx = withPictures({ a: await picture(64, 64) });
    const err = await caught(() => comfy.generate(req({ prompt: 'x', images: [{ imageId: 'a', role: 'prompt' }] }), ctx));
    expect(err.message).toMatch(/ComfyUI \(COMFYUI_WORKFLOW\) cannot start from pictures: no KSampler in it starts from an EmptyLatentImage/);
    expect(fake.uploads).toHaveLength(0);
  });
});

describe('ComfyUI image prompts and /blend', () => {
  it('uploads the picture, loads it, scales and encodes it where the empty latent was, with --iw as denoise', async () => {
    const pic = await picture(600, 400);
    const ctx = withPictures({ in1: pic });
    const result = await comfy.generate(req({ prompt: 'the same street in watercolour', images: [{ imageId: 'in1', role: 'prompt' }], imageWeight: 2, count: 2, seed: 9 }), ctx);
    expect(fake.uploads.map((u) => [u.name, u.bytes])).toEqual([['atelier-job1-picture1.png', pic.bytes.length]]);
    const p = prompts()[0]!;
    expect(nodes(p, 'EmptyLatentImage')).toHaveLength(0);
    const [, sampler] = one(p, 'KSampler');
    expect(sampler.inputs).toMatchObject({ seed: 9, denoise: 0.55 });
    const repeat = at(p, sampler.inputs.latent_image);
    expect(repeat).toMatchObject({ class_type: 'RepeatLatentBatch', inputs: { amount: 2 } });
    const encode = at(p, repeat.inputs.samples);
    expect(encode).toMatchObject({ class_type: 'VAEEncode', inputs: { vae: ['1', 2] } });
    const scale = at(p, encode.inputs.pixels);
    expect(scale).toMatchObject({ class_type: 'ImageScale', inputs: { upscale_method: 'lanczos', width: 1024, height: 680, crop: 'center' } });
    expect(at(p, scale.inputs.image)).toEqual({ class_type: 'LoadImage', inputs: { image: 'atelier-job1-picture1.png' } });
    expect(one(p, 'SaveImage')[1].inputs.images).toEqual(['6', 0]);
    expect(result.images.map((i) => [i.width, i.height, i.seed])).toEqual([
      [1024, 680, 9],
      [1024, 680, 9],
    ]);
  });

  it('/blend: every picture loaded and encoded at the blend shape, the latents averaged in equal parts, mostly repainted', async () => {
    const ctx = withPictures({ a: await picture(300, 300, [255, 0, 0]), b: await picture(200, 400, [0, 255, 0]), c: await picture(640, 480, [0, 0, 255]) });
    await comfy.generate(req({ prompt: 'one new picture that blends the given pictures', images: ['a', 'b', 'c'].map((imageId) => ({ imageId, role: 'prompt' as const })), blend: true, aspectRatio: '3:2' }), ctx);
    const p = prompts()[0]!;
    expect(nodes(p, 'LoadImage').map(([, n]) => n.inputs.image)).toEqual(['atelier-job1-picture1.png', 'atelier-job1-picture2.png', 'atelier-job1-picture3.png']);
    expect(nodes(p, 'ImageScale').map(([, n]) => [n.inputs.width, n.inputs.height])).toEqual([
      [1024, 680],
      [1024, 680],
      [1024, 680],
    ]);
    const [, sampler] = one(p, 'KSampler');
    expect(sampler.inputs.denoise).toBe(0.8);
    const repeat = at(p, sampler.inputs.latent_image);
    expect(repeat.inputs.amount).toBe(4);
    const last = at(p, repeat.inputs.samples);
    expect(last).toMatchObject({ class_type: 'LatentBlend', inputs: { blend_factor: 0.667 } });
    const first = at(p, last.inputs.samples1);
    expect(first).toMatchObject({ class_type: 'LatentBlend', inputs: { blend_factor: 0.5 } });
    expect([at(p, first.inputs.samples1), at(p, first.inputs.samples2), at(p, last.inputs.samples2)].map((n) => n.class_type)).toEqual(['VAEEncode', 'VAEEncode', 'VAEEncode']);
  });

  it('a style reference is refused before anything is uploaded or queued', async () => {
    const ctx = withPictures({ a: await picture(64, 64) });
    const err = await caught(() => comfy.generate(req({ prompt: 'x', images: [{ imageId: 'a', role: 'style' }] }), ctx));
    expect(err.message).toMatch(/no style \(--sref\) references/);
    expect(fake.uploads).toHaveLength(0);
    expect(prompts()).toHaveLength(0);
  });
});

describe('ComfyUI zoom, pan, square and Vary (Region)', () => {
  it('Zoom Out 2x: one RGBA upload (transparent where to paint), encoded, masked by its own alpha, painted at 0.9', async () => {
    const src = await picture(512, 512, [20, 120, 220]);
    const result = await comfy.generate(req({ prompt: 'a lighthouse', count: 1, edit: editFor({ kind: 'zoom', index: 1, factor: 2 }, 's', src) }), withPictures({ s: src }));
    expect(fake.uploads.map((u) => u.name)).toEqual(['atelier-job1-edit.png']);
    expect(await alphaAt('atelier-job1-edit.png', 512, 512)).toBe(255);
    expect(await alphaAt('atelier-job1-edit.png', 4, 4)).toBe(0);
    const uploaded = fake.files.get('input//atelier-job1-edit.png')!;
    const meta = await sharp(uploaded).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([1024, 1024, 4]);
    // Where the picture stays, LoadImage's IMAGE is the picture itself.
    const { data } = await sharp(uploaded).extract({ left: 500, top: 500, width: 1, height: 1 }).raw().toBuffer({ resolveWithObject: true });
    expect([...data.subarray(0, 3)]).toEqual([20, 120, 220]);
    const p = prompts()[0]!;
    const [, sampler] = one(p, 'KSampler');
    expect(sampler.inputs.denoise).toBe(0.9);
    const masked = at(p, sampler.inputs.latent_image);
    expect(masked.class_type).toBe('SetLatentNoiseMask');
    const [loadId, load] = one(p, 'LoadImage');
    expect(load.inputs.image).toBe('atelier-job1-edit.png');
    expect(masked.inputs.mask).toEqual([loadId, 1]);
    expect(at(p, masked.inputs.samples)).toEqual({ class_type: 'VAEEncode', inputs: { pixels: [loadId, 0], vae: ['1', 2] } });
    expect(result.images.map((i) => [i.width, i.height])).toEqual([[1024, 1024]]);
  });

  it('Vary (Region): transparent only in the region, repainted at 0.75, the request count kept', async () => {
    const src = await picture(512, 512);
    const edit = editFor({ kind: 'region', index: 1, region: { x: 0.5, y: 0.5, width: 0.25, height: 0.25 } }, 's', src);
    const result = await comfy.generate(req({ prompt: 'a red door', count: 3, edit }), withPictures({ s: src }));
    expect(await alphaAt('atelier-job1-edit.png', 300, 300)).toBe(0);
    expect(await alphaAt('atelier-job1-edit.png', 100, 100)).toBe(255);
    const p = prompts()[0]!;
    const [, sampler] = one(p, 'KSampler');
    expect(sampler.inputs.denoise).toBe(0.75);
    expect(at(p, sampler.inputs.latent_image)).toMatchObject({ class_type: 'RepeatLatentBatch', inputs: { amount: 3 } });
    expect(result.images).toHaveLength(3);
  });

  it('a server without SetLatentNoiseMask: refused naming the node, nothing uploaded or queued', async () => {
    delete (fake.defs as Record<string, unknown>).SetLatentNoiseMask;
    const src = await picture(512, 512);
    const err = await caught(() => comfy.generate(req({ prompt: 'x', edit: editFor({ kind: 'pan', index: 1, direction: 'up' }, 's', src) }), withPictures({ s: src })));
    expect(err).toMatchObject({ code: 'NOT_CONFIGURED' });
    expect(err.message).toMatch(/cannot zoom, pan or square pictures: node "\d+" uses SetLatentNoiseMask, which this ComfyUI server does not have/);
    expect(fake.uploads).toHaveLength(0);
    expect(prompts()).toHaveLength(0);
  });

  it('after a restart the recorded workflow is followed again: no second upload, no second prompt', async () => {
    const src = await picture(256, 256);
    const request = req({ prompt: 'x', count: 1, edit: editFor({ kind: 'square', index: 1 }, 's', { width: 256, height: 200 }) });
    const ctx = withPictures({ s: src });
    await comfy.generate(request, ctx);
    const again = await comfy.generate(request, withPictures({ s: src }, { resume: { intent: ctx.intents[0]! } }));
    expect(again.images).toHaveLength(1);
    expect(fake.uploads).toHaveLength(1);
    expect(prompts()).toHaveLength(1);
  });
});

describe('ComfyUI Vary (Subtle / Strong)', () => {
  it.each([
    ['subtle', 0.3],
    ['strong', 0.7],
    [undefined, 0.55],
  ] as const)('strength %s: the image scaled to its own size starts the sampler at denoise %s, with new noise', async (strength, denoise) => {
    const src = await source(strength ? { strength } : {});
    const ctx = makeCtx();
    const result = await comfy.vary!(src, ctx);
    expect(fake.uploads.map((u) => u.name)).toEqual(['atelier-job1-vary2.png']);
    const p = prompts()[0]!;
    const [, sampler] = one(p, 'KSampler');
    expect(sampler.inputs.denoise).toBe(denoise);
    expect(sampler.inputs.seed).not.toBe(5);
    expect(one(p, 'ImageScale')[1].inputs).toMatchObject({ width: 512, height: 384 });
    expect(one(p, 'RepeatLatentBatch')[1].inputs.amount).toBe(2);
    expect(ctx.intents[0]!.operation).toBe('vary');
    expect(result.images.map((i) => [i.width, i.height])).toEqual([
      [512, 384],
      [512, 384],
    ]);
  });
});

describe('ComfyUI upscales', () => {
  it('U and Upscale (Subtle): the installed upscale model, then exactly twice the size; no sampler', async () => {
    const ctx = makeCtx();
    const result = await comfy.upscale!(await source({ upscaleMode: 'subtle' }), ctx);
    const p = prompts()[0]!;
    expect(nodes(p, 'KSampler')).toHaveLength(0);
    const [, save] = one(p, 'SaveImage');
    const scale = at(p, save.inputs.images);
    expect(scale).toMatchObject({ class_type: 'ImageScale', inputs: { width: 1024, height: 768, crop: 'disabled', upscale_method: 'lanczos' } });
    const model = at(p, scale.inputs.image);
    expect(model.class_type).toBe('ImageUpscaleWithModel');
    expect(at(p, model.inputs.upscale_model)).toEqual({ class_type: 'UpscaleModelLoader', inputs: { model_name: '4x-UltraSharp.pth' } });
    expect(at(p, model.inputs.image)).toEqual({ class_type: 'LoadImage', inputs: { image: 'atelier-job1-upscale2.png' } });
    expect(result.images.map((i) => [i.width, i.height, i.seed])).toEqual([[1024, 768, 77]]);
    expect(result.note).toBe('Upscaled with 4x-UltraSharp.pth.');
    expect(ctx.intents[0]!.operation).toBe('upscale');
  });

  it('with no upscale model installed: Lanczos resampling alone, and the note says so', async () => {
    fake.upscaleModels = [];
    const result = await comfy.upscale!(await source(), makeCtx());
    const p = prompts()[0]!;
    expect(nodes(p, 'UpscaleModelLoader')).toHaveLength(0);
    expect(at(p, one(p, 'ImageScale')[1].inputs.image).class_type).toBe('LoadImage');
    expect(result.note).toMatch(/Lanczos resampling \(no upscale model/);
    expect(result.images.map((i) => [i.width, i.height])).toEqual([[1024, 768]]);
  });

  it('Upscale (Creative): upscaled, scaled to twice the size and re-rendered at 0.35 with the image seed, one image', async () => {
    const result = await comfy.upscale!(await source({ upscaleMode: 'creative' }), makeCtx());
    const p = prompts()[0]!;
    const [, sampler] = one(p, 'KSampler');
    expect(sampler.inputs).toMatchObject({ denoise: 0.35, seed: 77 });
    const encode = at(p, sampler.inputs.latent_image);
    expect(encode.class_type).toBe('VAEEncode');
    expect(at(p, encode.inputs.pixels)).toMatchObject({ class_type: 'ImageScale', inputs: { width: 1024, height: 768 } });
    expect(result.images.map((i) => [i.width, i.height])).toEqual([[1024, 768]]);
  });

  it('a picture at the ceiling is refused with its size before anything is sent', async () => {
    const err = await caught(async () => comfy.upscale!(await source({ ...(await picture(2048, 1024)), upscaleMode: 'creative' }), makeCtx()));
    expect(err.message).toMatch(/2048×1024; ComfyUI upscales up to 2048 pixels a side/);
    expect(fake.uploads).toHaveLength(0);
  });

  it('doctor names the upscale model, or that U resizes with Lanczos', async () => {
    expect((await comfy.check!(AbortSignal.timeout(5_000))).detail).toMatch(/; upscale model 4x-UltraSharp\.pth$/);
    fake.upscaleModels = [];
    await reconfigure();
    expect((await comfy.check!(AbortSignal.timeout(5_000))).detail).toMatch(/no upscale model, so U resizes with Lanczos$/);
  });
});

/** ComfyUI's own refusals of malformed picture graphs (`execution.py` validate_prompt), as the fake derives them. */
describe('ComfyUI documented picture rules', () => {
  const raw = async (prompt: unknown) => {
    const res = await fetch(`${fake.url}/prompt`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt, client_id: 'raw' }) });
    return { status: res.status, body: (await res.json()) as { error: { type: string; message: string }; node_errors: Record<string, { errors: { type: string; details: string }[] }> } };
  };
  const { workflow } = defaultWorkflow('sd_xl_base_1.0.safetensors');
  const withLoad = (image: string, extra: Record<string, Node> = {}) => {
    const wf: Record<string, Node> = structuredClone(workflow);
    wf['20'] = { class_type: 'LoadImage', inputs: { image } };
    wf['21'] = { class_type: 'VAEEncode', inputs: { pixels: ['20', 0], vae: ['1', 2] } };
    wf['5']!.inputs.latent_image = ['21', 0];
    delete wf['4'];
    return { ...wf, ...extra };
  };
  const errorsOf = (r: Awaited<ReturnType<typeof raw>>) => Object.entries(r.body.node_errors).flatMap(([id, e]) => e.errors.map((x) => [id, x.type, x.details]));

  // Sources disagree on how this is reported: older servers (and this fake before) listed it as `value_not_in_list`;
  // current execution.py skips the list check for inputs a VALIDATE_INPUTS takes, and LoadImage's says "Invalid image file".
  it('a LoadImage of a file never uploaded fails its custom validation; after the upload the same graph is queued', async () => {
    const refused = await raw(withLoad('never-uploaded.png'));
    expect(refused.status).toBe(400);
    expect(refused.body.error.type).toBe('prompt_outputs_failed_validation');
    expect(errorsOf(refused)).toEqual([['20', 'custom_validation_failed', 'image - Invalid image file: never-uploaded.png']]);
    const name = (await comfy.uploadImage(await makePng(64, 64), 'never-uploaded.png', AbortSignal.timeout(5_000))).name;
    expect((await raw(withLoad(name))).status).toBe(200);
  });

  it('missing inputs, wrong link types, unknown classes and out-of-range values are refused, naming the node', async () => {
    await comfy.uploadImage(await makePng(64, 64), 'p.png', AbortSignal.timeout(5_000));
    const missing = withLoad('p.png');
    delete missing['21']!.inputs.vae;
    expect(errorsOf(await raw(missing))).toEqual([['21', 'required_input_missing', 'vae']]);
    const maskAsPixels = withLoad('p.png');
    maskAsPixels['21']!.inputs.pixels = ['20', 1];
    expect(errorsOf(await raw(maskAsPixels))).toEqual([['21', 'return_type_mismatch', 'pixels, MASK != IMAGE']]);
    const tooMany = withLoad('p.png', { '22': { class_type: 'RepeatLatentBatch', inputs: { samples: ['21', 0], amount: 65 } } });
    tooMany['5']!.inputs.latent_image = ['22', 0];
    expect(errorsOf(await raw(tooMany))).toEqual([['22', 'value_bigger_than_max', 'amount']]);
    const unknownModel = withLoad('p.png', {
      '30': { class_type: 'UpscaleModelLoader', inputs: { model_name: '8x-Imaginary.pth' } },
      '31': { class_type: 'ImageUpscaleWithModel', inputs: { upscale_model: ['30', 0], image: ['20', 0] } },
      '32': { class_type: 'SaveImage', inputs: { images: ['31', 0], filename_prefix: 'x' } },
    });
    expect(errorsOf(await raw(unknownModel))).toEqual([['30', 'value_not_in_list', "model_name: '8x-Imaginary.pth' not in [\"4x-UltraSharp.pth\"]"]]);
    const unknownClass = withLoad('p.png', { '40': { class_type: 'InpaintCropImproved', inputs: {} } });
    expect((await raw(unknownClass)).body.error.type).toBe('invalid_prompt');
  });
});
