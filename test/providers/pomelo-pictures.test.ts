import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImageProvider } from '../../src/core/provider.ts';
import { PomeloFake } from '../fakes/providers/pomelo-fake.ts';
import { caught, makeCtx, providersFor, req } from './helpers.ts';

/**
 * The Midjourney gateway with the user's pictures: its only input is Midjourney's prompt, so each picture goes
 * as the public URL the core hands out, where Midjourney reads it. Flux.1 declares no pictures.
 */
let fake: PomeloFake;
let configured: ReturnType<typeof providersFor>;
let mj: ImageProvider;
let flux: ImageProvider;
const url = (id: string) => `https://bot.example/p/${id}-t0k3n.png`;
const ctx = () => makeCtx({ publicImageUrl: async (id) => url(id) });
const sent = () => fake.server.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/midjourney/generate').map((r) => r.body as Record<string, any>);

beforeEach(async () => {
  fake = await new PomeloFake().start();
  configured = providersFor({ POMELO_API_KEY: fake.apiKey, POMELO_API_URL: fake.url });
  mj = configured.providers.find((p) => p.id === 'midjourney')!;
  flux = configured.providers.find((p) => p.id === 'flux')!;
});
afterEach(async () => {
  await configured.close();
  await fake.close();
});

describe('Midjourney gateway pictures', () => {
  it('declares image prompts, style references, --iw and /blend through public URLs; no edits, no strengths; Flux none', () => {
    expect(mj.capabilities.imageInput).toEqual({ maxImages: 5, roles: ['prompt', 'style'], weight: true, blend: true, needsPublicUrl: true });
    for (const k of ['outpaint', 'inpaint', 'varyStrength', 'upscaleModes'] as const) expect(mj.capabilities[k]).toBeUndefined();
    for (const k of ['imageInput', 'outpaint', 'inpaint', 'varyStrength', 'upscaleModes'] as const) expect(flux.capabilities[k]).toBeUndefined();
  });

  it('simple mode: image prompts lead, --sref and --iw follow; the size stays in the gateway\'s fields', async () => {
    await mj.generate(
      req({ prompt: 'a fox in the snow', model: '7', aspectRatio: '3:2', imageWeight: 2.5, images: [{ imageId: 'a', role: 'prompt' }, { imageId: 'b', role: 'prompt' }, { imageId: 's', role: 'style' }] }),
      ctx(),
    );
    expect(sent()[0]).toEqual({ prompt: `${url('a')} ${url('b')} a fox in the snow --sref ${url('s')} --iw 2.5`, width: 1024, height: 680, model: '7' });
    expect(fake.pictureUrls).toEqual([url('a'), url('b'), url('s')]);
  });

  it('advanced mode: attached pictures go before the prompt as typed, its flags kept', async () => {
    await mj.generate(req({ mode: 'advanced', prompt: 'a fox', rawPrompt: 'a fox --v 6.1 --stylize 300', images: [{ imageId: 'a', role: 'prompt' }] }), ctx());
    expect(sent()[0]!.prompt).toBe(`${url('a')} a fox --v 6.1 --stylize 300`);
  });

  it('/blend: the pictures alone, no words, the dimension as width and height', async () => {
    const images = [{ imageId: 'x', role: 'prompt' as const }, { imageId: 'y', role: 'prompt' as const }];
    const result = await mj.generate(req({ prompt: 'one new picture that blends the given pictures', aspectRatio: '2:3', blend: true, images }), ctx());
    expect(sent()[0]).toEqual({ prompt: `${url('x')} ${url('y')}`, width: 680, height: 1024 });
    expect(result.images.length).toBeGreaterThan(0);
  });

  it('refuses before sending: --sref on the default version 5, --iw beyond the version\'s range, character references, no PUBLIC_URL', async () => {
    const ps = [{ imageId: 'a', role: 'prompt' as const }, { imageId: 's', role: 'style' as const }];
    expect((await caught(() => mj.generate(req({ prompt: 'x', images: ps }), ctx()))).message).toMatch(/need Midjourney 6 or later, and this asks for version 5/);
    expect((await caught(() => mj.generate(req({ prompt: 'x', imageWeight: 0.2, images: [ps[0]!] }), ctx()))).message).toMatch(/--iw is 0.5 to 2 for Midjourney 5/);
    expect((await caught(() => mj.generate(req({ prompt: 'x', model: '6', imageWeight: 3, images: [ps[0]!] }), ctx()))).message).toMatch(/--iw is 0 to 2 for Midjourney 6/);
    expect((await caught(() => mj.generate(req({ prompt: 'x', model: '6', images: [{ imageId: 'c', role: 'character' }] }), ctx()))).message).toMatch(/no character references/);
    expect((await caught(() => mj.generate(req({ prompt: 'x', images: [ps[0]!] }), makeCtx()))).code).toBe('NOT_CONFIGURED');
    expect(sent()).toHaveLength(0);
  });

  it('the fake refuses what Midjourney refuses: --sref on version 5, a lone picture without words, --iw out of range', async () => {
    const raw = (body: object) => fetch(`${fake.url}/api/v1/midjourney/generate`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${fake.apiKey}` }, body: JSON.stringify(body) });
    expect((await raw({ prompt: `a fox --sref ${url('s')}` })).status).toBe(400);
    expect((await raw({ prompt: `a fox --sref ${url('s')}`, model: '6.1' })).status).toBe(200);
    expect((await raw({ prompt: url('a') })).status).toBe(400);
    expect((await raw({ prompt: `${url('a')} ${url('b')}` })).status).toBe(200);
    expect((await raw({ prompt: `${url('a')} a fox --iw 3`, model: '6' })).status).toBe(400);
    expect((await raw({ prompt: `${url('a')} a fox --iw 3 --v 7`, model: '6' })).status).toBe(200);
  });
});
