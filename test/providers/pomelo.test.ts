import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImageProvider } from '../../src/core/provider.ts';
import { isProviderSideFailure } from '../../src/providers/failover.ts';
import { PomeloFake } from '../fakes/providers/pomelo-fake.ts';
import { caught, makeCtx, providersFor, req } from './helpers.ts';

let fake: PomeloFake;
let configured: ReturnType<typeof providersFor>;
let mj: ImageProvider;
let flux: ImageProvider;

const env = (over: Record<string, string> = {}) => ({ POMELO_API_KEY: fake.apiKey, POMELO_API_URL: fake.url, ...over });
beforeEach(async () => {
  fake = await new PomeloFake().start();
  configured = providersFor(env());
  mj = configured.providers.find((p) => p.id === 'midjourney')!;
  flux = configured.providers.find((p) => p.id === 'flux')!;
});
afterEach(async () => {
  await configured.close();
  await fake.close();
});

const raw = (path: string, body: unknown) =>
  fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${fake.apiKey}` }, body: JSON.stringify(body) });
const posts = (path: string) => fake.server.requests.filter((r) => r.method === 'POST' && r.path === path);

describe('Midjourney gateway', () => {
  it('simple mode sends the documented fields and no raw flags', async () => {
    const ctx = makeCtx();
    const result = await mj.generate(req({ prompt: 'a fox', style: 'scenic', aspectRatio: '3:2', model: '6.1', count: 3 }), ctx);
    expect(posts('/api/v1/midjourney/generate')[0]!.body).toEqual({ prompt: 'a fox', style: 'scenic', width: 1024, height: 680, model: '6.1', num_outputs: 3 });
    expect(result.images).toHaveLength(3);
    expect(result.images[0]).toMatchObject({ mime: 'image/png', width: 96, height: 64 });
    expect(ctx.calls).toEqual(['intent', 'submitted']);
  });

  it('advanced mode sends rawPrompt verbatim', async () => {
    await mj.generate(req({ mode: 'advanced', prompt: 'a fox', rawPrompt: 'a fox --ar 3:2 --weird 100 --zoomy 2', aspectRatio: '3:2' }), makeCtx());
    expect(posts('/api/v1/midjourney/generate')[0]!.body).toEqual({ prompt: 'a fox --ar 3:2 --weird 100 --zoomy 2' });
  });

  it('rules: num_outputs ≤ 4 and the style enum, refused by both sides', async () => {
    expect((await raw('/api/v1/midjourney/generate', { prompt: 'x', num_outputs: 5 })).status).toBe(400);
    expect((await raw('/api/v1/midjourney/generate', { prompt: 'x', style: 'anime' })).status).toBe(400);
    expect((await raw('/api/v1/midjourney/generate', { style: 'raw' })).status).toBe(400);
    const before = posts('/api/v1/midjourney/generate').length;
    expect((await caught(() => mj.generate(req({ prompt: 'x', count: 5 }), makeCtx()))).message).toMatch(/count.*1 to 4/);
    expect((await caught(() => mj.generate(req({ prompt: 'x', style: 'anime' }), makeCtx()))).message).toMatch(/style must be one of raw, cute, scenic/);
    expect((await caught(() => mj.generate(req({ prompt: 'x --v 6' }), makeCtx()))).message).toMatch(/remove "--v".*advanced mode/);
    expect((await caught(() => mj.generate(req({ prompt: 'x', seed: 3 }), makeCtx()))).message).toMatch(/seed.*advanced mode/);
    expect(posts('/api/v1/midjourney/generate')).toHaveLength(before);
  });

  it('a content-policy refusal is MODERATION and never fails over', async () => {
    const err = await caught(() => mj.generate(req({ prompt: 'some gore' }), makeCtx()));
    expect(err).toMatchObject({ code: 'MODERATION', details: { blockedBy: expect.any(String) } });
    expect(err.message).toMatch(/content policy/);
    expect(isProviderSideFailure(err)).toBe(false);
  });
});

describe('Flux.1 gateway', () => {
  it('sends the documented fields and reports the seed back', async () => {
    const result = await flux.generate(req({ prompt: 'a fox', negativePrompt: 'blur', style: 'anime', seed: 77, steps: 40, aspectRatio: '16:9' }), makeCtx());
    expect(posts('/api/v1/flux.1')[0]!.body).toEqual({ prompt: 'a fox', negative_prompt: 'blur', style: 'anime', seed: 77, steps: 40, aspect_ratio: '16:9' });
    expect(result.seed).toBe(77);
    expect(result.images[0]!.seed).toBe(77);
    const unseeded = await flux.generate(req({ prompt: 'a fox' }), makeCtx());
    expect(unseeded.seed).toBe(42105);
  });

  it('rules: steps ≤ 50, refused by both sides; no advanced mode; count only 1', async () => {
    expect((await raw('/api/v1/flux.1', { prompt: 'x', steps: 51 })).status).toBe(400);
    const before = posts('/api/v1/flux.1').length;
    expect((await caught(() => flux.generate(req({ prompt: 'x', steps: 51 }), makeCtx()))).message).toMatch(/steps.*1 to 50/);
    expect((await caught(() => flux.generate(req({ prompt: 'x', mode: 'advanced', rawPrompt: 'x --v 6' }), makeCtx()))).code).toBe('UNSUPPORTED');
    expect((await caught(() => flux.generate(req({ prompt: 'x', count: 2 }), makeCtx()))).message).toMatch(/image count/);
    await flux.generate(req({ prompt: 'x', count: 1 }), makeCtx());
    expect(posts('/api/v1/flux.1')).toHaveLength(before + 1);
  });

  it('a lost answer is a visible UNKNOWN_OUTCOME, never a second call', async () => {
    fake.server.inject({ route: 'POST /api/v1/flux.1', kind: 'lose' });
    const err = await caught(() => flux.generate(req({ prompt: 'x' }), makeCtx()));
    expect(err).toMatchObject({ code: 'UNKNOWN_OUTCOME', details: { retryable: true } });
    expect(posts('/api/v1/flux.1')).toHaveLength(1);
    expect(isProviderSideFailure(err)).toBe(false);
  });

  it('a gateway that never answers times out clearly, once', async () => {
    await configured.close();
    configured = providersFor(env(), { tuning: { syncHeadersTimeoutMs: 200 } });
    fake.server.inject({ route: 'POST /api/v1/flux.1', kind: 'hang' });
    const err = await caught(() => configured.providers.find((p) => p.id === 'flux')!.generate(req({ prompt: 'x' }), makeCtx()));
    expect(err).toMatchObject({ code: 'UNKNOWN_OUTCOME' });
    expect(err.message).toMatch(/did not answer in time/);
    expect(posts('/api/v1/flux.1')).toHaveLength(1);
  });

  it('resume never calls the synchronous gateway again', async () => {
    const intent = { key: 'k', operation: 'generate' as const, body: { prompt: 'x' } };
    expect(await caught(() => flux.generate(req({ prompt: 'x' }), makeCtx({ resume: { intent } })))).toMatchObject({ code: 'UNKNOWN_OUTCOME' });
    expect(await caught(() => mj.generate(req({ prompt: 'x' }), makeCtx({ resume: { intent, providerJobId: 'gen_1' } })))).toMatchObject({ code: 'UNKNOWN_OUTCOME' });
    expect(fake.server.requests).toHaveLength(0);
  });

  it('image URLs pointing elsewhere on loopback are refused', async () => {
    fake.imageUrl = () => 'http://127.0.0.1:9/steal.png';
    const err = await caught(() => flux.generate(req({ prompt: 'x' }), makeCtx()));
    expect(err.message).toMatch(/will not fetch.*private or reserved/);
  });
});

describe('configuration', () => {
  it('the gateway needs both POMELO_API_KEY and POMELO_API_URL', () => {
    expect(providersFor({ POMELO_API_KEY: 'k' }).providers).toEqual([]);
    expect(providersFor({}).providers).toEqual([]);
    expect(configured.providers.map((p) => p.id)).toEqual(['midjourney', 'flux']);
  });
});
