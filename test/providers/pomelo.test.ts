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

  it('advanced mode sends rawPrompt verbatim, with the size fields following its --ar so the two never disagree', async () => {
    await mj.generate(req({ mode: 'advanced', prompt: 'a fox', rawPrompt: 'a fox --ar 3:2 --weird 100 --zoomy 2', aspectRatio: '3:2' }), makeCtx());
    expect(posts('/api/v1/midjourney/generate')[0]!.body).toEqual({ prompt: 'a fox --ar 3:2 --weird 100 --zoomy 2', width: 1024, height: 680 });
  });

  it('advanced mode: an explicit size that agrees with --ar is sent; one that disagrees is refused before sending', async () => {
    await mj.generate(req({ mode: 'advanced', prompt: 'a fox', rawPrompt: 'a fox --ar 16:9', aspectRatio: '16:9', width: 1920, height: 1080 }), makeCtx());
    expect(posts('/api/v1/midjourney/generate')[0]!.body).toEqual({ prompt: 'a fox --ar 16:9', width: 1920, height: 1080 });
    const err = await caught(() => mj.generate(req({ mode: 'advanced', prompt: 'a fox', rawPrompt: 'a fox --ar 16:9', aspectRatio: '16:9', width: 1024, height: 1024 }), makeCtx()));
    expect(err).toMatchObject({ code: 'CONFLICT' });
    expect(err.message).toMatch(/1024×1024 is not the aspect ratio 16:9/);
    expect(posts('/api/v1/midjourney/generate')).toHaveLength(1);
  });

  it('without --ar or a size no size is sent, so the documented defaults apply', async () => {
    await mj.generate(req({ prompt: 'a fox' }), makeCtx());
    await flux.generate(req({ prompt: 'a fox' }), makeCtx());
    await flux.generate(req({ prompt: 'a fox', model: 'flux-1-schnell' }), makeCtx());
    expect(posts('/api/v1/midjourney/generate')[0]!.body).toEqual({ prompt: 'a fox' });
    expect(posts('/api/v1/flux.1')[0]!.body).toEqual({ prompt: 'a fox' });
    expect(posts('/api/v1/task')[0]!.body).toEqual({ model: 'flux-1-schnell', prompt: 'a fox' });
  });

  it('style is free text (the docs give examples, not a list)', async () => {
    await mj.generate(req({ prompt: 'a fox', style: 'anime' }), makeCtx());
    expect(posts('/api/v1/midjourney/generate')[0]!.body).toEqual({ prompt: 'a fox', style: 'anime' });
    expect((await raw('/api/v1/midjourney/generate', { prompt: 'x', style: 'watercolour' })).status).toBe(200);
  });

  it('rules: num_outputs ≤ 4 and a prompt, refused by both sides', async () => {
    expect((await raw('/api/v1/midjourney/generate', { prompt: 'x', num_outputs: 5 })).status).toBe(400);
    expect((await raw('/api/v1/midjourney/generate', { style: 'raw' })).status).toBe(400);
    const before = posts('/api/v1/midjourney/generate').length;
    expect((await caught(() => mj.generate(req({ prompt: 'x', count: 5 }), makeCtx()))).message).toMatch(/count.*1 to 4/);
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

describe('Flux model choice through the task endpoint', () => {
  it('a chosen flux-1 model goes to POST /api/v1/task with guidance_scale and num_inference_steps', async () => {
    const result = await flux.generate(req({ prompt: 'a fox', model: 'flux-1-dev', steps: 28, guidance: 3.5, seed: 7, aspectRatio: '16:9' }), makeCtx());
    expect(posts('/api/v1/task')[0]!.body).toEqual({ model: 'flux-1-dev', prompt: 'a fox', width: 1024, height: 576, num_inference_steps: 28, guidance_scale: 3.5, seed: 7 });
    expect(posts('/api/v1/flux.1')).toHaveLength(0);
    expect(result.seed).toBe(7);
    expect(flux.capabilities.fields).toEqual(expect.arrayContaining(['model', 'guidance', 'steps']));
  });

  it('rules: the model is one of the documented image models, refused by both sides', async () => {
    const bad = await raw('/api/v1/task', { model: 'flux-2', prompt: 'x' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { type: 'invalid_request_error', code: 'parameter_invalid', param: 'model', message: expect.stringMatching(/image model/), status: 400 } });
    expect((await raw('/api/v1/task', { prompt: 'x' })).status).toBe(400);
    expect((await caught(() => flux.generate(req({ prompt: 'x', model: 'flux-2' }), makeCtx()))).message).toMatch(/model must be one of flux-1-pro, flux-1-dev, flux-1-schnell/);
    expect((await caught(() => flux.generate(req({ prompt: 'x', model: 'flux-1-pro', negativePrompt: 'blur' }), makeCtx()))).message).toMatch(/negative prompt.*leave the model unset/);
    expect((await caught(() => flux.generate(req({ prompt: 'x', guidance: 4 }), makeCtx()))).message).toMatch(/guidance only with a model/);
    expect(fake.server.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
  });
});

describe('gateway errors and limits', () => {
  it('the fake answers the documented error body { error: { type, message, code, param, status } }', async () => {
    const res = await raw('/api/v1/midjourney/generate', { style: 'raw' });
    expect(await res.json()).toEqual({ error: { type: 'invalid_request_error', message: "The 'prompt' parameter is required", code: 'parameter_required', param: 'prompt', status: 400 } });
    const unauth = await fetch(`${fake.url}/api/v1/flux.1`, { method: 'POST', body: '{}' });
    expect(await unauth.json()).toMatchObject({ error: { type: 'authentication_error', code: 'invalid_api_key', status: 401 } });
  });

  it('the adapter reads that body: a refused key names the setting and the gateway\'s message', async () => {
    await configured.close();
    configured = providersFor(env({ POMELO_API_KEY: 'wrong' }));
    const err = await caught(() => configured.providers[0]!.generate(req({ prompt: 'a fox' }), makeCtx()));
    expect(err).toMatchObject({ code: 'PROVIDER_REJECTED' });
    expect(err.message).toMatch(/refused the API key \(HTTP 401: Invalid API key\)\. Check POMELO_API_KEY/);
  });

  it('quota_exceeded is a clear message, not a rate limit: no retry, no failover', async () => {
    fake.monthlyQuota = 0;
    const err = await caught(() => flux.generate(req({ prompt: 'a fox' }), makeCtx()));
    expect(err).toMatchObject({ code: 'PROVIDER_REJECTED' });
    expect(err.message).toMatch(/no credits or quota left \(HTTP 429: You have exceeded your monthly quota\. \(quota_exceeded\)\)\. Top up or upgrade your account at the Midjourney\/Flux gateway/);
    expect(isProviderSideFailure(err)).toBe(false);
    expect(posts('/api/v1/flux.1')).toHaveLength(1);
  });

  it('the base URL may end in /api, as the docs give it', async () => {
    await configured.close();
    configured = providersFor(env({ POMELO_API_URL: `${fake.url}/api/` }));
    const result = await configured.providers.find((p) => p.id === 'flux')!.generate(req({ prompt: 'a fox' }), makeCtx());
    expect(result.images).toHaveLength(1);
    expect(fake.server.requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual(['/api/v1/flux.1']);
  });

  it('more jobs than the key\'s concurrent requests wait in line instead of failing', async () => {
    fake.delayMs = 150;
    const ctxs = [0, 1, 2, 3].map(() => makeCtx());
    const results = await Promise.all(ctxs.map((ctx, i) => (i % 2 ? mj : flux).generate(req({ prompt: `fox ${i}` }), ctx)));
    expect(results.every((r) => r.images.length >= 1)).toBe(true);
    expect(fake.maxInFlight).toBe(2);
    expect(fake.rateLimited).toBe(0);
    expect(ctxs.some((c) => c.progressLog.some((p) => /waiting for a free .* slot/.test(p.stage ?? '')))).toBe(true);
  });

  it('the per-minute budget is kept by our own limit: no request is refused for rate', async () => {
    fake.rateHeaders = false;
    fake.perWindow = 2;
    fake.windowMs = 1000;
    await configured.close();
    configured = providersFor(env({ POMELO_REQUESTS_PER_MINUTE: '2' }), { tuning: { pomeloWindowMs: 1000 } });
    const f = configured.providers.find((p) => p.id === 'flux')!;
    for (let i = 0; i < 3; i++) await f.generate(req({ prompt: `fox ${i}` }), makeCtx());
    expect(posts('/api/v1/flux.1')).toHaveLength(3);
    expect(fake.rateLimited).toBe(0);
  });

  it('x-ratelimit-remaining: 0 holds the next request until x-ratelimit-reset', async () => {
    fake.perWindow = 2;
    fake.windowMs = 1000;
    for (let i = 0; i < 3; i++) await flux.generate(req({ prompt: `fox ${i}` }), makeCtx());
    expect(posts('/api/v1/flux.1')).toHaveLength(3);
    expect(fake.rateLimited).toBe(0);
  });

  it('a call that never answers is bounded and gives its slot back to the next job', async () => {
    await configured.close();
    configured = providersFor(env({ POMELO_MAX_CONCURRENT: '1' }), { tuning: { syncHeadersTimeoutMs: 200 } });
    const f = configured.providers.find((p) => p.id === 'flux')!;
    fake.server.inject({ route: 'POST /api/v1/flux.1', kind: 'hang' });
    expect(await caught(() => f.generate(req({ prompt: 'x' }), makeCtx()))).toMatchObject({ code: 'UNKNOWN_OUTCOME' });
    expect((await f.generate(req({ prompt: 'y' }), makeCtx())).images).toHaveLength(1);
  });

  it('a 429 with Retry-After is waited out and the job still succeeds', async () => {
    fake.server.inject({ route: 'POST /api/v1/flux.1', kind: 'status', status: 429, headers: { 'retry-after': '1' }, body: { error: { type: 'rate_limit_error', code: 'rate_limit_exceeded', message: 'slow down', status: 429 } } });
    const result = await flux.generate(req({ prompt: 'a fox' }), makeCtx());
    expect(result.images).toHaveLength(1);
    expect(posts('/api/v1/flux.1')).toHaveLength(2);
  });
});

describe('configuration', () => {
  it('the gateway needs both POMELO_API_KEY and POMELO_API_URL', () => {
    expect(providersFor({ POMELO_API_KEY: 'k' }).providers).toEqual([]);
    expect(providersFor({}).providers).toEqual([]);
    expect(configured.providers.map((p) => p.id)).toEqual(['midjourney', 'flux']);
  });
});
