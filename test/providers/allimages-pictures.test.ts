import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImageProvider } from '../../src/core/provider.ts';
import { checkImageInput } from '../../src/core/image-input.ts';
import { AllImagesFake } from '../fakes/providers/allimages-fake.ts';
import { midjourneyPictures } from '../fakes/providers/midjourney-prompt.ts';
import { caught, makeCtx, providersFor, req } from './helpers.ts';

/**
 * all-images.ai with the user's pictures: it fetches them itself, so each goes as the public URL the core hands
 * out (`ctx.publicImageUrl`); one image prompt is the reference's `fromImageUrl`, anything more a Midjourney prompt.
 */
let fake: AllImagesFake;
let configured: ReturnType<typeof providersFor>;
let provider: ImageProvider;
const url = (id: string) => `https://bot.example/p/${id}-t0k3n.png`;
const ctx = () => makeCtx({ publicImageUrl: async (id) => url(id) });
const created = () => fake.server.requests.filter((r) => r.method === 'POST' && r.path === '/v1/image-generations').map((r) => r.body as Record<string, any>);

beforeEach(async () => {
  fake = await new AllImagesFake().start();
  fake.lifecycle = 'instant';
  configured = providersFor({ ALLIMAGES_API_KEY: fake.apiKey, ALLIMAGES_API_URL: fake.url });
  provider = configured.providers.find((p) => p.id === 'allimages')!;
});
afterEach(async () => {
  await configured.close();
  await fake.close();
});

describe('all-images.ai pictures', () => {
  it('declares image prompts and style references, --iw and /blend, all through a public URL', () => {
    expect(provider.capabilities.imageInput).toEqual({ maxImages: 5, roles: ['prompt', 'style'], weight: true, blend: true, needsPublicUrl: true });
    expect(provider.capabilities.outpaint).toBeUndefined();
    expect(provider.capabilities.inpaint).toBeUndefined();
    // The core refuses before fetching anything when no PUBLIC_URL is set.
    expect(() => checkImageInput(provider, { refs: [{ source: { url: 'https://x.example/a.png' }, role: 'prompt' }] }, () => [], false)).toThrow(/PUBLIC_URL/);
  });

  it('one image prompt in simple mode is `fromImageUrl`, the simple params kept', async () => {
    await provider.generate(req({ prompt: 'a cat in a hat', weather: 'rainy', images: [{ imageId: 'in1', role: 'prompt' }] }), ctx());
    expect(created()[0]).toMatchObject({ mode: 'simple', prompt: 'a cat in a hat', params: [{ name: 'fromImageUrl', value: url('in1') }, { name: 'weather', value: 'rainy' }] });
    expect(fake.pictureUrls).toEqual([url('in1')]);
  });

  it('style references and --iw go as a Midjourney prompt: image URLs first, --sref URLs and --iw after the flags', async () => {
    await provider.generate(
      req({ prompt: 'a cat in a hat', aspectRatio: '3:2', chaos: 10, model: '7', imageWeight: 2, images: [{ imageId: 'a', role: 'prompt' }, { imageId: 's', role: 'style' }] }),
      ctx(),
    );
    const body = created()[0]!;
    expect(body.mode).toBe('advanced');
    expect(body.prompt).toBe(`${url('a')} a cat in a hat --ar 3:2 --chaos 10 --v 7 --sref ${url('s')} --iw 2`);
    expect(body.params).toBeUndefined();
    expect(fake.pictureUrls).toEqual([url('a'), url('s')]);
    expect(fake.generations.get([...fake.generations.keys()][0]!)!.status).toBe(3);
  });

  it('advanced mode puts attached pictures before the prompt as typed', async () => {
    await provider.generate(req({ mode: 'advanced', prompt: 'a dog', rawPrompt: 'a dog --ar 21:9 --weird 3', images: [{ imageId: 'd', role: 'prompt' }] }), ctx());
    expect(created()[0]).toMatchObject({ mode: 'advanced', prompt: `${url('d')} a dog --ar 21:9 --weird 3` });
  });

  it('/blend is two or more image URLs and no words, as Midjourney blends them', async () => {
    const images = [{ imageId: 'x', role: 'prompt' as const }, { imageId: 'y', role: 'prompt' as const }, { imageId: 'z', role: 'prompt' as const }];
    await provider.generate(req({ prompt: 'one new picture that blends the given pictures', aspectRatio: '2:3', blend: true, images }), ctx());
    expect(created()[0]).toMatchObject({ mode: 'advanced', prompt: `${url('x')} ${url('y')} ${url('z')} --ar 2:3` });
  });

  it('refuses what has no place, before creating: weather with references, --iw beyond the version, --sref before V6, character references', async () => {
    const s = [{ imageId: 'a', role: 'prompt' as const }, { imageId: 's', role: 'style' as const }];
    expect((await caught(() => provider.generate(req({ prompt: 'x', weather: 'rainy', images: s }), ctx()))).message).toMatch(/no weather: remove it, or give a single image prompt/);
    expect((await caught(() => provider.generate(req({ prompt: 'x', model: '6.1', imageWeight: 3, images: s }), ctx()))).message).toMatch(/--iw is 0 to 2 for Midjourney 6.1/);
    expect((await caught(() => provider.generate(req({ prompt: 'x', model: '5.2', images: s }), ctx()))).message).toMatch(/--sref\) need Midjourney 6 or later/);
    expect((await caught(() => provider.generate(req({ prompt: 'x', images: [{ imageId: 'c', role: 'character' }] }), ctx()))).message).toMatch(/no character references/);
    expect((await caught(() => provider.generate(req({ prompt: 'x', images: [{ imageId: 'c', role: 'prompt' }] }), makeCtx()))).message).toMatch(/PUBLIC_URL/);
    expect(created()).toHaveLength(0);
  });

  it('the fake refuses what the references refuse: a fromImageUrl that is no URL; a lone image URL, a wild --iw (status 4)', async () => {
    const raw = (body: object) => fetch(`${fake.url}/v1/image-generations`, { method: 'POST', headers: { 'content-type': 'application/json', 'api-key': fake.apiKey }, body: JSON.stringify({ name: 'n', ...body }) });
    expect((await raw({ mode: 'simple', prompt: 'a cat', params: [{ name: 'fromImageUrl', value: 'cat.png' }] })).status).toBe(400);
    expect((await raw({ mode: 'simple', prompt: 'a cat', params: [{ name: 'fromImageUrl', value: 'https://x.example/cat.png' }] })).status).toBe(201);
    expect(midjourneyPictures('https://x.example/a.png').problems).toEqual(['an image prompt needs text or a second image']);
    expect(midjourneyPictures('https://x.example/a.png --ar 2:3').problems).toHaveLength(1);
    expect(midjourneyPictures('https://x.example/a.png https://x.example/b.png --ar 2:3').problems).toEqual([]);
    expect(midjourneyPictures('https://x.example/a.png a cat --iw 4').problems).toEqual(['--iw must be between 0 and 3']);
    expect(midjourneyPictures('a cat --iw 1').problems).toEqual(['--iw needs an image prompt']);
    expect(midjourneyPictures('a cat --sref https://x.example/s.png https://x.example/t.png --ar 1:1').urls).toEqual(['https://x.example/s.png', 'https://x.example/t.png']);
    const lone = await raw({ mode: 'advanced', prompt: 'https://x.example/a.png' });
    const g = (await lone.json()) as { id: string };
    for (let i = 0; i < 2; i++) await fetch(`${fake.url}/v1/image-generations/${g.id}`, { headers: { 'api-key': fake.apiKey } });
    expect(fake.generations.get(g.id)!.status).toBe(4);
  });
});
