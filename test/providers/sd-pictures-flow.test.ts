import { afterEach, describe, expect, it } from 'vitest';
import type { ImageProvider } from '../../src/core/provider.ts';
import { A1111Fake } from '../fakes/providers/a1111-fake.ts';
import { ComfyFake } from '../fakes/providers/comfyui-fake.ts';
import { makePng } from '../fakes/providers/images.ts';
import { alice, createHarness, here, type Harness } from '../helpers/harness.ts';
import { providersFor } from './helpers.ts';

/**
 * The whole toolbox through the real core (SQLite, blobs, queue, runner) against each self-hosted fake: what the
 * core hands the adapters (stored pictures, edit canvases, strengths) is what the servers receive.
 */
let h: Harness | undefined;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const c of closers.splice(0)) await c();
});

async function harnessWith(env: Record<string, string>, id: string): Promise<ImageProvider> {
  const configured = providersFor(env, { tuning: { previewIntervalMs: 0, progressIntervalMs: 5, syncHeadersTimeoutMs: 5_000, socketHandshakeTimeoutMs: 2_000 } });
  closers.push(() => configured.close());
  const provider = configured.providers.find((p) => p.id === id)!;
  h = await createHarness({ providers: [provider] });
  return provider;
}

async function done(jobId: string) {
  const job = await h!.settle(jobId);
  expect(job.error?.message, `job ${job.action.kind}`).toBeUndefined();
  expect(job.state).toBe('succeeded');
  return job;
}

describe('the toolbox on the self-hosted servers, through the core', () => {
  it('AUTOMATIC1111: image prompt, U, zoom, region, Vary (Subtle), Upscale (Creative)', async () => {
    const fake = await new A1111Fake().start();
    closers.push(() => fake.close());
    await harnessWith({ A1111_URL: fake.url }, 'a1111');
    const photo = await makePng(96, 64, [10, 200, 90]);
    const first = await h!.atelier.imagine({ prompt: 'a lighthouse --iw 1.5', provider: 'a1111', count: 1, images: [{ bytes: photo, name: 'photo.png' }] }, alice, here);
    await done(first.id);
    const up = await h!.atelier.act(first.id, { kind: 'upscale', index: 1 }, alice, here);
    await done(up.id);
    for (const action of [
      { kind: 'zoom', index: 1, factor: 2 },
      { kind: 'region', index: 1, region: { x: 0.25, y: 0.25, width: 0.5, height: 0.5 } },
      { kind: 'vary', index: 1, strength: 'subtle' },
      { kind: 'upscale', index: 1, mode: 'creative' },
    ] as const) {
      await done((await h!.atelier.act(up.id, action, alice, here)).id);
    }
    const img2img = fake.server.requests.filter((r) => r.path === '/sdapi/v1/img2img').map((r) => r.body as Record<string, unknown>);
    expect(img2img.map((b) => [b.denoising_strength, 'mask' in b, b.inpaint_full_res ?? null])).toEqual([
      [0.65, false, null],
      [0.9, true, false],
      [0.75, true, true],
      [0.3, false, null],
      [0.35, false, null],
    ]);
    expect(fake.server.count('POST /sdapi/v1/extra-single-image')).toBe(1);
    // The picture the user gave is what the first img2img started from.
    expect(img2img[0]!.init_images).toEqual([Buffer.from(photo).toString('base64')]);
  }, 60_000);

  it('ComfyUI: /blend, U, pan, Vary (Strong), Upscale (Subtle)', async () => {
    const fake = await new ComfyFake().start();
    closers.push(() => fake.close());
    await harnessWith({ COMFYUI_URL: fake.url }, 'comfyui');
    const a = await makePng(80, 80, [250, 20, 20]);
    const b = await makePng(80, 80, [20, 20, 250]);
    const blend = await h!.atelier.blend([{ bytes: a, name: 'a.png' }, { bytes: b, name: 'b.png' }], { dimensions: 'square', provider: 'comfyui' }, alice, here);
    await done(blend.id);
    const up = await h!.atelier.act(blend.id, { kind: 'upscale', index: 2 }, alice, here);
    await done(up.id);
    await done((await h!.atelier.act(up.id, { kind: 'pan', index: 1, direction: 'right' }, alice, here)).id);
    await done((await h!.atelier.act(up.id, { kind: 'vary', index: 1, strength: 'strong' }, alice, here)).id);
    await done((await h!.atelier.act(up.id, { kind: 'upscale', index: 1, mode: 'subtle' }, alice, here)).id);
    const graphs = fake.server.requests.filter((r) => r.method === 'POST' && r.path === '/prompt').map((r) => Object.values((r.body as { prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }> }).prompt));
    const has = (g: { class_type: string }[], cls: string) => g.filter((n) => n.class_type === cls).length;
    const denoise = (g: { class_type: string; inputs: Record<string, unknown> }[]) => g.find((n) => n.class_type === 'KSampler')?.inputs.denoise ?? null;
    expect(graphs.map((g) => [has(g, 'LoadImage'), has(g, 'LatentBlend'), has(g, 'SetLatentNoiseMask'), has(g, 'ImageUpscaleWithModel'), denoise(g)])).toEqual([
      [2, 1, 0, 0, 0.8],
      [1, 0, 0, 1, null],
      [1, 0, 1, 0, 0.9],
      [1, 0, 0, 0, 0.7],
      [1, 0, 0, 1, null],
    ]);
    // Every picture a graph loads was uploaded for it.
    expect(fake.uploads).toHaveLength(6);
  }, 60_000);
});
