import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.ts';
import { extractImageRefs } from '../../src/core/image-input.ts';
import { detailsText } from '../../src/core/present.ts';
import type { ImageFetcher } from '../../src/core/ports.ts';
import { alice, bob, createHarness, here, type Harness } from '../helpers/harness.ts';
import { pictureProvider, plainProvider, sketchProvider } from '../helpers/capability-providers.ts';
import { noisyPng, solidPng } from '../images/helpers.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const caught = async (f: () => Promise<unknown>) => {
  try {
    await f();
  } catch (err) {
    return err as UserError;
  }
  throw new Error('expected a failure');
};

/** A fetcher over a fixed map of URLs, so the core's reading and checking is tested without a network. */
const mapFetcher = (files: Record<string, Uint8Array>): ImageFetcher & { asked: string[] } => {
  const asked: string[] = [];
  return {
    asked,
    fetch: async (url) => {
      asked.push(url);
      const f = files[url];
      if (!f) throw new UserError('INVALID_IMAGE', `nothing at ${url}`);
      return f;
    },
  };
};

describe('image input through the core', () => {
  it('reads Midjourney image prompts, --sref, --cref and --iw from a prompt', () => {
    const r = extractImageRefs('https://a.example/1.png <https://b.example/2.jpg> a red fox --sref https://c.example/s.png --iw 1.5 --ar 16:9 --cref https://d.example/c.webp');
    expect(r.prompt).toBe('a red fox --ar 16:9');
    expect(r.refs.map((x) => [x.role, 'url' in x.source && x.source.url])).toEqual([
      ['prompt', 'https://a.example/1.png'],
      ['prompt', 'https://b.example/2.jpg'],
      ['style', 'https://c.example/s.png'],
      ['character', 'https://d.example/c.webp'],
    ]);
    expect(r.weight).toBe(1.5);
    // A Midjourney style code is not a picture: it stays for Midjourney.
    expect(extractImageRefs('a fox --sref 12345').prompt).toBe('a fox --sref 12345');
    expect(() => extractImageRefs('https://a.example/1.png a fox --iw 9')).toThrow(/--iw takes an image weight from 0 to 3/);
  });

  it('stores attached and linked pictures with the job and hands them to the provider; 🔄 reuses copies', async () => {
    const pics = pictureProvider();
    const linked = await solidPng(40, 30, { r: 0, g: 0, b: 255 });
    const fetcher = mapFetcher({ 'https://pics.example/blue.png': linked });
    h = await createHarness({ providers: [pics], imageInput: { fetcher } });
    const job = await h.atelier.imagine({ prompt: 'https://pics.example/blue.png a lighthouse --iw 2', provider: 'pictures', images: [{ bytes: await noisyPng(64, 48), name: 'photo.png' }] }, alice, here);
    expect(job.request.prompt).toBe('a lighthouse');
    expect(job.request.imageWeight).toBe(2);
    expect(job.request.images).toEqual([
      { imageId: `${job.id}-in1`, role: 'prompt' },
      { imageId: `${job.id}-in2`, role: 'prompt' },
    ]);
    expect(job.inputs?.map((i) => i.source)).toEqual(['photo.png', 'https://pics.example/blue.png']);
    expect((await h.settle(job.id)).state).toBe('succeeded');
    expect(pics.seen[0]!.pictures.map((p) => [p.width, p.height])).toEqual([
      [64, 48],
      [40, 30],
    ]);
    // Results and inputs are kept apart.
    expect((await h.atelier.images(job.id)).every((i) => i.meta.kind !== 'input')).toBe(true);
    expect((await h.atelier.inputs(job.id)).map((i) => [i.meta.width, i.meta.height])).toEqual([
      [64, 48],
      [40, 30],
    ]);

    const details = detailsText(job);
    expect(details).toContain('Picture: photo.png (image prompt)');
    expect(details).toContain('Picture: https://pics.example/blue.png (image prompt)');
    expect(details).toContain('Image weight: 2');

    const reroll = await h.atelier.act(job.id, { kind: 'reroll' }, alice, here);
    expect(reroll.request.images?.map((i) => i.imageId)).toEqual([`${reroll.id}-in1`, `${reroll.id}-in2`]);
    // Deleting the parent leaves the child's own copies.
    await h.atelier.delete(job.id, alice, here);
    expect((await h.settle(reroll.id)).state).toBe('succeeded');
    expect(pics.seen[1]!.pictures.map((p) => p.size)).toEqual(pics.seen[0]!.pictures.map((p) => p.size));
  });

  it('a platform file given by URL with its name (a Slack file, a Discord attachment) is labelled by its name, not its private URL', async () => {
    const pics = pictureProvider();
    const url = 'https://files.slack.com/files-pri/T1-F1/download/harbour.png';
    h = await createHarness({ providers: [pics], imageInput: { fetcher: mapFetcher({ [url]: await noisyPng(32, 32) }) } });
    const job = await h.atelier.imagine({ prompt: 'a harbour', provider: 'pictures', images: [{ url, name: 'harbour.png' }] }, alice, here);
    expect(job.inputs?.map((i) => i.source)).toEqual(['harbour.png']);
  });

  it('refuses pictures a provider cannot take, bad pictures and --iw without pictures, and queues nothing', async () => {
    const fetcher = mapFetcher({ 'https://pics.example/text.png': new TextEncoder().encode('not a picture at all') });
    h = await createHarness({ providers: [pictureProvider(), sketchProvider], imageInput: { fetcher, limits: { maxBytes: 50_000 } } });
    const png = await noisyPng(32, 32);
    const cases: [Parameters<Harness['atelier']['imagine']>[0], RegExp][] = [
      [{ prompt: 'a fox', provider: 'sketch', images: [{ bytes: png }] }, /Sketch cannot start from your pictures\. Choose a provider that can \(provider option\): local \(Local renderer\), pictures \(Pictures\)/],
      [{ prompt: 'a fox', provider: 'pictures', images: [{ bytes: await noisyPng(400, 400) }] }, /is 0\.\d+ MiB; pictures may be at most 0\.05 MiB/],
      [{ prompt: 'https://pics.example/text.png a fox', provider: 'pictures' }, /is not a picture we can read: send a PNG, JPEG, WebP or GIF/],
      [{ prompt: 'a fox --iw 2', provider: 'pictures' }, /--iw weighs image prompts, and this prompt has none/],
      [{ prompt: 'https://pics.example/nothing.png a fox', provider: 'pictures' }, /nothing at/],
      [{ prompt: 'https://pics.example/text.png', provider: 'pictures' }, /Add a description after the picture URLs/],
    ];
    for (const [options, message] of cases) {
      const err = await caught(() => h!.atelier.imagine(options, alice, here));
      expect(err.message).toMatch(message);
    }
    expect(await h.atelier.store.listJobs({})).toEqual([]);
  });

  it('a provider that takes one picture per role refuses two image prompts before fetching or queueing (Leonardo)', async () => {
    const base = pictureProvider();
    const onePerRole = { ...base, id: 'one', displayName: 'One Each', capabilities: { ...base.capabilities, imageInput: { ...base.capabilities.imageInput!, perRole: 1 } } };
    const fetcher = mapFetcher({});
    h = await createHarness({ providers: [onePerRole], imageInput: { fetcher } });
    const err = await caught(() => h!.atelier.imagine({ prompt: 'https://pics.example/a.png https://pics.example/b.png a fox --sref https://pics.example/s.png', provider: 'one' }, alice, here));
    expect(err.message).toBe('One Each takes 1 of its image prompts at a time, and you gave 2. Remove some.');
    expect(fetcher.asked).toEqual([]);
    expect(await h.atelier.store.listJobs({})).toEqual([]);
  });

  it('/blend combines 2-5 pictures with Midjourney dimensions, only where the provider blends', async () => {
    const pics = pictureProvider();
    h = await createHarness({ providers: [pics, sketchProvider] });
    const a = { bytes: await solidPng(32, 32, { r: 255, g: 0, b: 0 }) };
    const b = { bytes: await solidPng(32, 32, { r: 0, g: 255, b: 0 }) };
    expect((await caught(() => h!.atelier.blend([a], { provider: 'pictures' }, alice, here))).message).toMatch(/combines 2 to 5 pictures/);
    expect((await caught(() => h!.atelier.blend([a, b], { provider: 'sketch' }, alice, here))).message).toMatch(/Sketch cannot start from your pictures/);
    const job = await h.atelier.blend([a, b], { provider: 'pictures', dimensions: 'landscape' }, alice, here);
    expect(job.request).toMatchObject({ blend: true, aspectRatio: '3:2' });
    expect(job.request.images).toHaveLength(2);
    expect((await h.settle(job.id)).state).toBe('succeeded');
  });

  it('after U: zoom, pan, square and region become edits of a copy of the upscaled picture; strengths reach the provider', async () => {
    const pics = pictureProvider();
    h = await createHarness({ providers: [pics] });
    const grid = await h.atelier.imagine({ prompt: 'a harbour --ar 3:2', provider: 'pictures' }, alice, here);
    await h.settle(grid.id);
    const up = await h.atelier.act(grid.id, { kind: 'upscale', index: 2 }, alice, here);
    await h.settle(up.id);
    const [img] = await h.atelier.images(up.id);
    const { width: w, height: ht } = img!.meta;

    const zoom = await h.atelier.act(up.id, { kind: 'zoom', index: 1, factor: 2 }, alice, here);
    expect(zoom.request.edit).toEqual({ kind: 'outpaint', imageId: `${zoom.id}-in1`, canvas: { width: w * 2, height: ht * 2 }, left: Math.floor(w / 2), top: Math.floor(ht / 2) });
    expect(zoom.request.seed).toBeUndefined();
    const pan = await h.atelier.act(up.id, { kind: 'pan', index: 1, direction: 'left', prompt: 'a harbour at dusk' }, alice, here);
    expect(pan.request).toMatchObject({ prompt: 'a harbour at dusk', edit: { kind: 'outpaint', canvas: { width: w + Math.round(w / 2), height: ht }, left: Math.round(w / 2), top: 0 } });
    const square = await h.atelier.act(up.id, { kind: 'square', index: 1 }, alice, here);
    expect(square.request.edit).toMatchObject({ canvas: { width: Math.max(w, ht), height: Math.max(w, ht) } });
    const region = await h.atelier.act(up.id, { kind: 'region', index: 1, region: { x: 0.1, y: 0.1, width: 0.5, height: 0.5 } }, bob, here);
    expect(region.request.edit).toMatchObject({ kind: 'inpaint', region: { x: 0.1, y: 0.1, width: 0.5, height: 0.5 } });
    expect((await caught(() => h!.atelier.act(up.id, { kind: 'region', index: 1, region: { x: 0.9, y: 0.1, width: 0.5, height: 0.5 } }, alice, here))).message).toMatch(/must lie inside the picture/);
    for (const j of [zoom, pan, square, region]) expect((await h.settle(j.id)).state).toBe('succeeded');
    expect(pics.seen.filter((s) => s.request.edit).map((s) => s.pictures[0]!.width)).toEqual([w, w, w, w]);

    const subtle = await h.atelier.act(up.id, { kind: 'vary', index: 1, strength: 'subtle' }, alice, here);
    const creative = await h.atelier.act(up.id, { kind: 'upscale', index: 1, mode: 'creative' }, alice, here);
    await h.settle(subtle.id);
    await h.settle(creative.id);
    expect(pics.sources.map((s) => [s.strength, s.upscaleMode])).toEqual([
      [undefined, undefined],
      ['subtle', undefined],
      [undefined, 'creative'],
    ]);
  });

  it('edits and strengths are refused where the provider lacks them, before anything is queued', async () => {
    h = await createHarness({ providers: [plainProvider] });
    const grid = await h.atelier.imagine({ prompt: 'a harbour', provider: 'plain' }, alice, here);
    await h.settle(grid.id);
    const before = (await h.atelier.store.listJobs({})).length;
    for (const action of [{ kind: 'zoom', index: 1, factor: 2 }, { kind: 'region', index: 1, region: { x: 0, y: 0, width: 0.5, height: 0.5 } }, { kind: 'vary', index: 1, strength: 'strong' }, { kind: 'upscale', index: 1, mode: 'subtle' }] as const) {
      expect((await caught(() => h!.atelier.act(grid.id, action, alice, here))).code).toBe('UNSUPPORTED');
    }
    expect((await h.atelier.store.listJobs({})).length).toBe(before);
  });
});
