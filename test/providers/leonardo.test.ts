import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImageProvider } from '../../src/core/provider.ts';
import type { GenerationRequest } from '../../src/core/request.ts';
import { createServer } from '../../src/server.ts';
import { buildLeonardoBody, validateLeonardoBody, type LeonardoCreateBody } from '../../src/providers/leonardo/body.ts';
import { bearerMatches } from '../../src/providers/leonardo/webhook.ts';
import { parseLeonardoOptions } from '../../src/providers/index.ts';
import { Semaphore } from '../../src/providers/limiter.ts';
import { BASE_PATH, LeonardoFake, PHOENIX_ID } from '../fakes/providers/leonardo-fake.ts';
import { sdkCheckCreateGeneration } from '../fakes/providers/leonardo-sdk.ts';
import { caught, makeCtx, providersFor, req } from './helpers.ts';

let fake: LeonardoFake;
let configured: ReturnType<typeof providersFor>;
let leo: ImageProvider;

const env = (over: Record<string, string> = {}) => ({ LEONARDO_API_KEY: fake.apiKey, LEONARDO_API_URL: fake.baseUrl, ...over });
const reconfigure = async (over: Record<string, string> = {}, tuning = {}) => {
  await configured.close();
  configured = providersFor(env(over), { tuning });
  leo = configured.providers.find((p) => p.id === 'leonardo')!;
};

beforeEach(async () => {
  fake = await new LeonardoFake().start();
  configured = providersFor(env());
  leo = configured.providers.find((p) => p.id === 'leonardo')!;
});
afterEach(async () => {
  await configured.close();
  await fake.close();
});

const rawCreate = (body: unknown, auth = `Bearer ${fake.apiKey}`) =>
  fetch(`${fake.baseUrl}/generations`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: JSON.stringify(body) });
const creates = () => fake.server.requests.filter((r) => r.method === 'POST' && r.path === `${BASE_PATH}/generations`);

describe('Leonardo adapter', () => {
  it('maps the request to the documented wire names, which the SDK schema accepts unchanged', async () => {
    const ctx = makeCtx();
    const result = await leo.generate(
      req({ prompt: 'a lighthouse', negativePrompt: 'people', aspectRatio: '16:9', count: 2, seed: 42, steps: 30, guidance: 7, style: 'leonardo', model: 'b24e16ff-06e3-43eb-8d33-4416c2d75876', tiling: true, transparency: true, optimize: true }),
      ctx,
    );
    const body = creates()[0]!.body as Record<string, unknown>;
    expect(body).toEqual({
      prompt: 'a lighthouse',
      negative_prompt: 'people',
      num_images: 2,
      width: 1024,
      height: 576,
      num_inference_steps: 30,
      guidance_scale: 7,
      seed: 42,
      presetStyle: 'LEONARDO',
      modelId: 'b24e16ff-06e3-43eb-8d33-4416c2d75876',
      tiling: true,
      transparency: 'foreground_only',
      enhancePrompt: true,
      alchemy: false,
    });
    expect(sdkCheckCreateGeneration(body)).toEqual([]);
    expect(ctx.calls).toEqual(['intent', 'submitted']);
    expect(result.images).toHaveLength(2);
    expect(result.images[0]).toMatchObject({ mime: 'image/png', width: 64, height: 64, seed: 42 });
    expect(result.seed).toBe(42);
    expect(result.images[0]!.providerImageId).toBe(fake.generations.get(result.providerJobId!)!.images[0]!.id);
  });

  it('never sends what the SDK would inject (alchemy true, a preset style) unless configured', async () => {
    await leo.generate(req({ prompt: 'plain' }), makeCtx());
    const body = creates()[0]!.body as Record<string, unknown>;
    expect(body.alchemy).toBe(false);
    expect(body.presetStyle).toBeUndefined();
  });

  it('uses LEONARDO_OPTIONS for settings without a typed option', async () => {
    await reconfigure({ LEONARDO_OPTIONS: JSON.stringify({ alchemy: true, photoReal: true, photoRealStrength: 0.45, presetStyle: 'CINEMATIC' }) });
    await leo.generate(req({ prompt: 'portrait' }), makeCtx());
    expect(creates()[0]!.body).toMatchObject({ alchemy: true, photoReal: true, photoRealStrength: 0.45, presetStyle: 'CINEMATIC' });
    expect(() => parseLeonardoOptions('{nope')).toThrow(/LEONARDO_OPTIONS: expects JSON/);
    expect(() => parseLeonardoOptions('{"turbo":true}')).toThrow(/LEONARDO_OPTIONS/);
  });

  it('reports Leonardo\'s per-image nsfw flag on each image (the runner decides what to withhold)', async () => {
    fake.nsfwIndexes = [1];
    const all = await leo.generate(req({ prompt: 'x', count: 3 }), makeCtx());
    expect(all.images.map((i) => i.nsfw)).toEqual([false, true, false]);
    expect(all.note).toBeUndefined();
  });

  it('U: upscales through /variations/upscale, polled on /variations/{id}', async () => {
    const first = await leo.generate(req({ prompt: 'x', count: 1 }), makeCtx());
    const ctx = makeCtx();
    const up = await leo.upscale!({ ...first.images[0]!, index: 1, request: req({ prompt: 'x' }) }, ctx);
    expect(up.images[0]).toMatchObject({ width: 256, height: 256 });
    expect(fake.server.requests.find((r) => r.path === `${BASE_PATH}/variations/upscale`)!.body).toEqual({ id: first.images[0]!.providerImageId });
    expect(fake.server.count(`GET ${BASE_PATH}/variations/${up.providerJobId}`)).toBeGreaterThan(0);
    expect(ctx.intents[0]).toMatchObject({ operation: 'upscale' });
  });

  it('V: a new generation from init_generation_image_id + init_strength, with a fresh seed', async () => {
    const request = req({ prompt: 'x', count: 1, seed: 7 });
    const first = await leo.generate(request, makeCtx());
    await leo.vary!({ ...first.images[0]!, index: 1, request }, makeCtx());
    const body = creates()[1]!.body as Record<string, unknown>;
    expect(body).toMatchObject({ init_generation_image_id: first.images[0]!.providerImageId, init_strength: 0.5, prompt: 'x' });
    expect(body.seed).toBeUndefined();
  });

  it('FAILED is a readable rejection; a generation that never finishes is a clear timeout', async () => {
    fake.lifecycle = 'failed';
    expect(await caught(() => leo.generate(req({ prompt: 'x' }), makeCtx()))).toMatchObject({ code: 'PROVIDER_REJECTED' });
    fake.lifecycle = 'never';
    await reconfigure({}, { pollTimeoutMs: 100 });
    const err = await caught(() => leo.generate(req({ prompt: 'x' }), makeCtx()));
    expect(err).toMatchObject({ code: 'PROVIDER_TIMEOUT' });
  });

  it('a poll that keeps failing still ends in a clear timeout, not a hang', async () => {
    await reconfigure({}, { pollTimeoutMs: 150 });
    fake.server.inject({ route: `GET ${BASE_PATH}/generations/*`, kind: 'status', status: 500, body: { error: 'boom', path: '$', code: 'unexpected' }, times: 1000 });
    const err = await caught(() => leo.generate(req({ prompt: 'x' }), makeCtx()));
    expect(err.code).toMatch(/PROVIDER_TIMEOUT|PROVIDER_UNAVAILABLE/);
    expect(fake.creates).toBe(1);
  });

  it('a lost create response fails visibly as UNKNOWN_OUTCOME and is never sent again', async () => {
    fake.server.inject({ route: `POST ${BASE_PATH}/generations`, kind: 'lose' });
    const err = await caught(() => leo.generate(req({ prompt: 'x' }), makeCtx()));
    expect(err).toMatchObject({ code: 'UNKNOWN_OUTCOME', details: { retryable: true } });
    expect(err.message).toMatch(/will not send it twice/);
    expect(fake.creates).toBe(1);
  });

  it('resume: a provider id polls without creating; an intent alone fails visibly without creating', async () => {
    const first = await leo.generate(req({ prompt: 'x' }), makeCtx());
    const again = await leo.generate(req({ prompt: 'x' }), makeCtx({ resume: { providerJobId: first.providerJobId! } }));
    expect(again.images).toHaveLength(4);
    const err = await caught(() => leo.generate(req({ prompt: 'x' }), makeCtx({ resume: { intent: { key: 'k', operation: 'generate', body: {} } } })));
    expect(err).toMatchObject({ code: 'UNKNOWN_OUTCOME' });
    expect(fake.creates).toBe(1);
  });

  it('errors read Hasura-style; a bad key names LEONARDO_API_KEY', async () => {
    await reconfigure({ LEONARDO_API_KEY: 'bad-key' });
    const err = await caught(() => leo.generate(req({ prompt: 'x' }), makeCtx()));
    expect(err.message).toMatch(/Authentication hook unauthorized this request \[access-denied\].*LEONARDO_API_KEY/);
    expect((await rawCreate({ prompt: 'x' }, 'Bearer nope')).status).toBe(401);
  });

  it('doctor reads /me', async () => {
    expect(await configured.doctor()).toEqual([{ provider: 'leonardo', ok: true, detail: expect.stringMatching(/atelier.*3500 subscription \+ 100 paid; 10 concurrency slots/) }]);
  });
});

describe('Leonardo webhook', () => {
  it('is mounted only with a token, checks the bearer token, and wakes the poller', { timeout: 15_000 }, async () => {
    expect(configured.routes).toEqual([]);
    const server = createServer({ host: '127.0.0.1', port: 0 });
    const url = await server.listen();
    await reconfigure({ LEONARDO_WEBHOOK_TOKEN: 'hook-secret' }, { pollInitialDelayMs: 600_000, pollMaxDelayMs: 600_000, pollTimeoutMs: 1_200_000 });
    for (const r of configured.routes) server.route(r.method, r.path, r.handler);
    expect(leo.capabilities.webhooks).toBe(true);
    fake.lifecycle = 'manual';
    const finishing = (async () => {
      while (fake.generations.size === 0) await new Promise((r) => setTimeout(r, 5));
      const id = [...fake.generations.keys()][0]!;
      while (fake.server.count(`GET ${BASE_PATH}/generations/${id}`) === 0) await new Promise((r) => setTimeout(r, 5));
      expect(await fake.sendWebhook(`${url}/webhooks/leonardo`, 'wrong', id)).toBe(401);
      fake.complete(id);
      expect(await fake.sendWebhook(`${url}/webhooks/leonardo`, 'hook-secret', id)).toBe(200);
    })();
    const [result] = await Promise.all([leo.generate(req({ prompt: 'x', count: 2 }), makeCtx()), finishing]);
    expect(result.images).toHaveLength(2);
    await server.close();
  });

  it('compares bearer tokens exactly', () => {
    expect(bearerMatches('Bearer s3cret', 's3cret')).toBe(true);
    expect(bearerMatches('Bearer s3cre', 's3cret')).toBe(false);
    expect(bearerMatches('s3cret', 's3cret')).toBe(false);
    expect(bearerMatches(undefined, 's3cret')).toBe(false);
  });
});

/** For each documented rule: the fake rejects the raw body, and the adapter refuses it before sending. */
const ok: LeonardoCreateBody = { prompt: 'x', num_images: 1, width: 512, height: 512, alchemy: false };
const rules: { rule: string; body: Partial<LeonardoCreateBody>; says: RegExp }[] = [
  { rule: 'width a multiple of 8', body: { width: 500 }, says: /width must be a multiple of 8 from 32 to 1536/ },
  { rule: 'height at most 1536', body: { height: 1544 }, says: /height must be a multiple of 8 from 32 to 1536/ },
  { rule: 'width at least 32', body: { width: 24 }, says: /width must be/ },
  { rule: 'num_images at most 8', body: { num_images: 9 }, says: /count.*1 to 8/ },
  { rule: 'num_images at most 4 over 768 px', body: { num_images: 5, width: 1024 }, says: /1–4 when a side is over 768/ },
  { rule: 'steps 10–60', body: { num_inference_steps: 9 }, says: /steps must be a whole number from 10 to 60/ },
  { rule: 'guidance 1–20', body: { guidance_scale: 21 }, says: /guidance must be from 1 to 20/ },
  { rule: 'contrast values', body: { contrast: 2 }, says: /contrast must be one of/ },
  { rule: 'Phoenix with alchemy needs contrast ≥ 2.5', body: { modelId: PHOENIX_ID, alchemy: true, contrast: 1.8 }, says: /Phoenix and Alchemy, contrast must be 2.5/ },
  { rule: 'photoReal requires alchemy', body: { photoReal: true }, says: /PhotoReal requires Alchemy/ },
  { rule: 'photoReal v1 without a model', body: { photoReal: true, alchemy: true, modelId: 'm1' }, says: /PhotoReal v1 chooses its own model/ },
  { rule: 'photoRealStrength values', body: { photoReal: true, alchemy: true, photoRealStrength: 0.6 }, says: /photoRealStrength must be 0.55/ },
  { rule: 'presetStyle without alchemy', body: { presetStyle: 'ANIME' }, says: /not available without Alchemy.*LEONARDO, NONE/ },
  { rule: 'presetStyle with alchemy', body: { alchemy: true, presetStyle: 'LEONARDO' }, says: /not available with Alchemy/ },
  { rule: 'ultra not with alchemy', body: { ultra: true, alchemy: true }, says: /Ultra mode cannot be used with Alchemy/ },
  { rule: 'init strength 0.1–0.9', body: { init_strength: 0.95 }, says: /strength must be from 0.1 to 0.9/ },
  { rule: 'seed range', body: { seed: 9_999_999_999 }, says: /seed.*0 to 9999999998/ },
  { rule: 'Flux seed range', body: { seed: 2_147_483_638, sd_version: 'FLUX' }, says: /0 to 2147483637 for Flux/ },
];

describe('Leonardo documented rules', () => {
  it('the valid base body is accepted by the fake', async () => {
    expect((await rawCreate(ok)).status).toBe(200);
    expect(() => validateLeonardoBody(ok)).not.toThrow();
  });
  for (const r of rules) {
    it(`${r.rule}: the fake rejects the raw body with a Hasura-style error`, async () => {
      const res = await rawCreate({ ...ok, ...r.body });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: expect.any(String), path: '$', code: 'validation-failed' });
    });
    it(`${r.rule}: the adapter refuses before sending`, () => {
      expect(() => validateLeonardoBody({ ...ok, ...r.body })).toThrow(r.says);
    });
  }

  it('request-level refusals happen before any call', async () => {
    const cases: [GenerationRequest, RegExp][] = [
      [req({ prompt: 'x', width: 1004, height: 512 }), /width must be a multiple of 8/],
      [req({ prompt: 'x', count: 8 }), /1–4 when a side is over 768/],
      [req({ prompt: 'x', steps: 70 }), /steps/],
      [req({ prompt: 'x', chaos: 10 }), /cannot use chaos/],
      [req({ prompt: 'x --weird 5' }), /remove "--weird"/],
      [req({ prompt: 'x', mode: 'advanced', rawPrompt: 'x --v 6' }), /no advanced/],
      [req({ prompt: 'x', aspectRatio: '1:1', width: 512, height: 512 }), /either an aspect ratio or a width and height/],
      [req({ prompt: 'x', init: { imageId: 'ours', strength: 0.5 } }), /only vary images it made itself/],
    ];
    for (const [request, says] of cases) expect((await caught(() => leo.generate(request, makeCtx()))).message).toMatch(says);
    expect(fake.creates).toBe(0);
    expect(() => buildLeonardoBody(req({ prompt: 'x', count: 8, aspectRatio: '1:1' }))).toThrow(/1–4/);
  });

  it('the fake checks the SDK schema too: a misnamed or mistyped field is rejected', async () => {
    const misnamed = await rawCreate({ ...ok, numImages: 2 });
    expect(misnamed.status).toBe(400);
    expect(((await misnamed.json()) as { error: string }).error).toMatch(/field 'numImages' not found/);
    const mistyped = await rawCreate({ ...ok, width: '512' });
    expect(mistyped.status).toBe(400);
  });
});

describe('Leonardo limits', () => {
  it('caps concurrent jobs with a semaphore that waiters can leave', async () => {
    const s = new Semaphore(2);
    const a = await s.acquire();
    await s.acquire();
    let third = false;
    const p = s.acquire().then((r) => {
      third = true;
      return r;
    });
    const ctrl = new AbortController();
    const leaving = s.acquire(ctrl.signal);
    ctrl.abort();
    await expect(leaving).rejects.toBeDefined();
    expect(third).toBe(false);
    a();
    (await p)();
    expect(third).toBe(true);
  });

  it('a job waiting for a Leonardo slot does not create until one frees', async () => {
    await reconfigure({}, { leonardoLimits: { concurrentJobs: 1 } });
    fake.lifecycle = 'manual';
    const first = leo.generate(req({ prompt: 'one', count: 1 }), makeCtx());
    while (fake.generations.size === 0) await new Promise((r) => setTimeout(r, 5));
    const second = leo.generate(req({ prompt: 'two', count: 1 }), makeCtx());
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.creates).toBe(1);
    fake.complete([...fake.generations.keys()][0]!);
    await first;
    while (fake.generations.size < 2) await new Promise((r) => setTimeout(r, 5));
    fake.complete([...fake.generations.keys()][1]!);
    await second;
    expect(fake.creates).toBe(2);
  });
});
