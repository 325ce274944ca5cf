import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImageProvider } from '../../src/core/provider.ts';
import type { GenerationRequest } from '../../src/core/request.ts';
import { createServer } from '../../src/server.ts';
import { buildLeonardoBody, validateLeonardoBody, type LeonardoCreateBody } from '../../src/providers/leonardo/body.ts';
import { generationResponseSchema, variationResponseSchema } from '../../src/providers/leonardo/api.ts';
import { bearerMatches } from '../../src/providers/leonardo/webhook.ts';
import { parseLeonardoOptions } from '../../src/providers/index.ts';
import { Semaphore } from '../../src/providers/limiter.ts';
import { BASE_PATH, FLUX_DEV_ID, KINO_XL_ID, LeonardoFake, LUCID_ORIGIN_ID, LUCID_REALISM_ID, PHOENIX_ID, RPG_V5 } from '../fakes/providers/leonardo-fake.ts';
import { sdkCheckCreateGeneration } from '../fakes/providers/leonardo-sdk.ts';
import { makePng } from '../fakes/providers/images.ts';
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
    expect(result.images[0]).toMatchObject({ mime: 'image/png', width: 1024, height: 576, seed: 42 });
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
    expect(up.images[0]).toMatchObject({ width: 2048, height: 2048 });
    expect(fake.server.requests.find((r) => r.path === `${BASE_PATH}/variations/upscale`)!.body).toEqual({ id: first.images[0]!.providerImageId });
    expect(fake.server.count(`GET ${BASE_PATH}/variations/${up.providerJobId}`)).toBeGreaterThan(0);
    expect(ctx.intents[0]).toMatchObject({ operation: 'upscale' });
  });

  it('V on a legacy model: a new generation from init_generation_image_id + init_strength, with a fresh seed', async () => {
    const request = req({ prompt: 'x', count: 1, seed: 7, model: 'kino-xl' });
    const first = await leo.generate(request, makeCtx());
    await leo.vary!({ ...first.images[0]!, index: 1, request }, makeCtx());
    const body = creates()[1]!.body as Record<string, unknown>;
    expect(body).toMatchObject({ init_generation_image_id: first.images[0]!.providerImageId, init_strength: 0.5, prompt: 'x', modelId: KINO_XL_ID });
    expect(body.seed).toBeUndefined();
  });

  it('V follows LEONARDO_VARIATION_STRENGTH (it was never read before)', async () => {
    await reconfigure({ LEONARDO_VARIATION_STRENGTH: '0.3' });
    const request = req({ prompt: 'x', count: 1, model: 'kino-xl' });
    const first = await leo.generate(request, makeCtx());
    await leo.vary!({ ...first.images[0]!, index: 1, request }, makeCtx());
    expect(creates()[1]!.body).toMatchObject({ init_strength: 0.3 });
    expect(() => providersFor(env({ LEONARDO_VARIATION_STRENGTH: '2' }))).toThrow(/LEONARDO_VARIATION_STRENGTH/);
  });

  it('V on Phoenix: image guidance as the guide documents it, a Content Reference controlnet', async () => {
    const request = req({ prompt: 'x', count: 1 });
    const first = await leo.generate(request, makeCtx());
    await leo.vary!({ ...first.images[0]!, index: 1, request }, makeCtx());
    const body = creates()[1]!.body as Record<string, unknown>;
    expect(body.controlnets).toEqual([{ initImageId: first.images[0]!.providerImageId, initImageType: 'GENERATED', preprocessorId: 364, strengthType: 'Mid' }]);
    expect(body.init_strength).toBeUndefined();
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
  { rule: 'Phoenix needs contrast (its guide)', body: { modelId: PHOENIX_ID }, says: /phoenix needs contrast/ },
  { rule: 'Lucid Origin needs contrast (its guide)', body: { modelId: LUCID_ORIGIN_ID, styleUUID: '111dc692-d470-4eec-b791-3475abac4c46' }, says: /lucid-origin needs contrast/ },
  { rule: 'FLUX Dev needs contrast (its guide)', body: { modelId: FLUX_DEV_ID }, says: /flux-dev needs contrast/ },
  { rule: 'Phoenix takes no steps (its guide)', body: { modelId: PHOENIX_ID, contrast: 3.5, num_inference_steps: 20 }, says: /phoenix does not take steps/ },
  { rule: 'Lucid takes no negative prompt (its guide)', body: { modelId: LUCID_ORIGIN_ID, contrast: 3.5, negative_prompt: 'people' }, says: /lucid-origin does not take a negative prompt/ },
  { rule: 'Lucid takes no alchemy (its guide)', body: { modelId: LUCID_REALISM_ID, contrast: 3.5, alchemy: true }, says: /lucid-realism does not take alchemy/ },
  { rule: 'Phoenix takes styleUUID, not presetStyle (its guide)', body: { modelId: PHOENIX_ID, contrast: 3.5, presetStyle: 'LEONARDO' }, says: /styleUUID, not presetStyle/ },
  { rule: 'a styleUUID must be one of the model guide\'s', body: { modelId: FLUX_DEV_ID, contrast: 3.5, styleUUID: 'a5632c7c-ddbb-4e2f-ba34-8456ab3ac436' }, says: /not one flux-dev documents/ },
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
      [req({ prompt: 'x', count: 8, width: 1024, height: 512 }), /1–4 when a side is over 768/],
      [req({ prompt: 'x', steps: 70 }), /steps/],
      [req({ prompt: 'x', chaos: 10 }), /cannot use chaos/],
      [req({ prompt: 'x --weird 5' }), /remove "--weird"/],
      [req({ prompt: 'x', mode: 'advanced', rawPrompt: 'x --v 6' }), /no advanced/],
      [req({ prompt: 'x', aspectRatio: '1:1', width: 512, height: 512 }), /either an aspect ratio or a width and height/],
      [req({ prompt: 'x', init: { imageId: 'ours', strength: 0.5 } }), /only start from images it made itself/],
      [req({ prompt: 'x', negativePrompt: 'people' }), /phoenix does not take a negative prompt/],
      [req({ prompt: 'x', guidance: 7 }), /phoenix does not take guidance/],
      [req({ prompt: 'x', model: 'no-such-model' }), /no model called "no-such-model".*phoenix, phoenix-0.9, lucid-origin/],
      [req({ prompt: 'x', style: 'Anime' }), /phoenix has no style "Anime"/],
    ];
    for (const [request, says] of cases) expect((await caught(() => leo.generate(request, makeCtx()))).message).toMatch(says);
    expect(fake.creates).toBe(0);
    expect(() => buildLeonardoBody(req({ prompt: 'x', count: 8, width: 1024, height: 1024 }))).toThrow(/1–4/);
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

describe('Leonardo models, per-model rules and what users reach', () => {
  it('with no model asked for, sends the current default (Phoenix 1.0) and the contrast its guide requires', async () => {
    await leo.generate(req({ prompt: 'a lighthouse' }), makeCtx());
    expect(creates()[0]!.body).toMatchObject({ modelId: PHOENIX_ID, contrast: 3.5, alchemy: false });
  });

  it('a model by name: our table needs no call; a platform model is looked up once in GET /platformModels, then cached', async () => {
    await leo.generate(req({ prompt: 'x', count: 1, model: 'Lucid Origin', style: 'cinematic close-up' }), makeCtx());
    expect(creates()[0]!.body).toMatchObject({ modelId: LUCID_ORIGIN_ID, contrast: 3.5, styleUUID: 'cc53f935-884c-40a0-b7eb-1f5c42821fb5' });
    expect(fake.server.count(`GET ${BASE_PATH}/platformModels`)).toBe(0);
    await leo.generate(req({ prompt: 'x', count: 1, model: 'rpg v5' }), makeCtx());
    await leo.generate(req({ prompt: 'y', count: 1, model: 'RPG v5' }), makeCtx());
    expect(creates()[1]!.body).toMatchObject({ modelId: RPG_V5.id });
    expect((creates()[1]!.body as Record<string, unknown>).contrast).toBeUndefined();
    expect(fake.server.count(`GET ${BASE_PATH}/platformModels`)).toBe(1);
  });

  it('a style by name becomes the model\'s styleUUID; Kino XL (legacy) keeps presetStyle', async () => {
    await leo.generate(req({ prompt: 'x', count: 1, style: 'Pro B&W photography' }), makeCtx());
    expect(creates()[0]!.body).toMatchObject({ modelId: PHOENIX_ID, styleUUID: '22a9a7d2-2166-4d86-80ff-22e2643adbcf' });
    await leo.generate(req({ prompt: 'x', count: 1, model: 'kino-xl', style: 'leonardo', steps: 30, guidance: 7, negativePrompt: 'fog' }), makeCtx());
    expect(creates()[1]!.body).toMatchObject({ modelId: KINO_XL_ID, presetStyle: 'LEONARDO', num_inference_steps: 30, guidance_scale: 7, negative_prompt: 'fog' });
  });

  it('count 5–8 works: without an explicit size the long side drops to 768, which the API allows for eight', async () => {
    const result = await leo.generate(req({ prompt: 'x', count: 8, aspectRatio: '16:9' }), makeCtx());
    expect(creates()[0]!.body).toMatchObject({ num_images: 8, width: 768, height: 432 });
    expect(result.images).toHaveLength(8);
    expect(result.images[0]).toMatchObject({ width: 768, height: 432 });
  });

  it('explicit width and height within the rules reach the API', async () => {
    const result = await leo.generate(req({ prompt: 'x', count: 2, width: 1472, height: 832 }), makeCtx());
    expect(creates()[0]!.body).toMatchObject({ width: 1472, height: 832, num_images: 2 });
    expect(result.images[0]).toMatchObject({ width: 1472, height: 832 });
  });

  it('poll answers without a status or variation id (the SDK allows both) mean "not yet", not an error', async () => {
    // Read as answers, not as unreadable ones retried as poll failures.
    expect(generationResponseSchema.safeParse({ generations_by_pk: { id: 'g', createdAt: 'now', generated_images: [{ id: null, url: 'https://cdn/x.png' }] } }).success).toBe(true);
    expect(variationResponseSchema.safeParse({ generated_image_variation_generic: [{ id: null, createdAt: 'now' }] }).success).toBe(true);
    fake.statusless = 2;
    const first = await leo.generate(req({ prompt: 'x', count: 1 }), makeCtx());
    expect(first.images).toHaveLength(1);
    fake.statusless = 2;
    const up = await leo.upscale!({ ...first.images[0]!, index: 1, request: req({ prompt: 'x' }) }, makeCtx());
    expect(up.images[0]).toMatchObject({ width: 2048, height: 2048 });
  });

  it('capabilities declare the models, styles, ranges and the large-size count rule', () => {
    const c = leo.capabilities;
    expect(c.models?.[0]).toMatchObject({ name: 'phoenix', id: PHOENIX_ID });
    expect(c.models?.map((m) => m.name)).toEqual(expect.arrayContaining(['lucid-origin', 'flux-dev', 'kino-xl']));
    expect(c.styles).toEqual(expect.arrayContaining(['Dynamic', 'Cinematic Close-Up', 'Pro B&W Photography']));
    expect(c).toMatchObject({ steps: { min: 10, max: 60 }, guidance: { min: 1, max: 20 }, size: { min: 32, max: 1536, multipleOf: 8 }, largeSize: { overSide: 768, maxCount: 4 }, maxCount: 8, imageInput: { maxImages: 3, roles: ['prompt', 'style', 'character'], weight: true }, outpaint: true, inpaint: true, varyStrength: true, upscaleModes: ['subtle', 'creative'] });
    expect(c.notes?.join(' ')).toMatch(/not reachable/);
  });
});

describe('Leonardo image input: POST /init-image and the presigned upload', () => {
  const picture = async () => ({ bytes: await makePng(32, 32), mime: 'image/png', width: 32, height: 32 });

  it('uploads the user\'s own picture, then generates from init_image_id (legacy model)', async () => {
    const ctx = makeCtx({ readImage: async () => picture() });
    await leo.generate(req({ prompt: 'x', count: 1, model: 'kino-xl', init: { imageId: 'ours-1', strength: 0.4 } }), ctx);
    const mint = fake.server.requests.find((r) => r.path === `${BASE_PATH}/init-image`)!;
    expect(mint.body).toEqual({ extension: 'png' });
    const upload = fake.server.requests.find((r) => r.path === '/s3/upload')!;
    expect(upload.headers.authorization).toBeUndefined();
    const [init] = [...fake.initImages.values()];
    expect(init!.uploaded?.bytes.length).toBeGreaterThan(0);
    expect(creates()[0]!.body).toMatchObject({ init_image_id: init!.id, init_strength: 0.4, modelId: KINO_XL_ID });
  });

  it('on Phoenix the uploaded picture goes in as an UPLOADED Content Reference', async () => {
    await leo.generate(req({ prompt: 'x', count: 1, init: { imageId: 'ours-1', strength: 0.8 } }), makeCtx({ readImage: async () => picture() }));
    const [init] = [...fake.initImages.values()];
    expect(creates()[0]!.body).toMatchObject({ controlnets: [{ initImageId: init!.id, initImageType: 'UPLOADED', preprocessorId: 364, strengthType: 'High' }] });
  });

  it('a model that documents no image input refuses before uploading anything', async () => {
    const err = await caught(() => leo.generate(req({ prompt: 'x', model: 'lucid-origin', init: { imageId: 'o', strength: 0.5 } }), makeCtx({ readImage: async () => picture() })));
    expect(err.message).toMatch(/lucid-origin documents no image input/);
    expect(fake.server.count(`POST ${BASE_PATH}/init-image`)).toBe(0);
  });

  it('the fake storage checks the presigned form as S3 does: every signed field, the file last', async () => {
    const minted = (await (await fetch(`${fake.baseUrl}/init-image`, { method: 'POST', headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' }, body: '{"extension":"png"}' })).json()) as {
      uploadInitImage: { id: string; url: string; fields: string };
    };
    const fields = JSON.parse(minted.uploadInitImage.fields) as Record<string, string>;
    const post = (entries: [string, string | Blob][]) => {
      const form = new FormData();
      for (const [k, v] of entries) form.append(k, v);
      return fetch(minted.uploadInitImage.url, { method: 'POST', body: form });
    };
    const file = new Blob([Buffer.from(await makePng(8, 8))], { type: 'image/png' });
    const fileFirst = await post([['file', file], ...Object.entries(fields)]);
    expect(fileFirst.status).toBe(400);
    expect(await fileFirst.text()).toMatch(/<Code>InvalidArgument<\/Code>.*last field/);
    const tampered = await post([...Object.entries({ ...fields, 'Content-Type': 'text/html' }), ['file', file]]);
    expect(tampered.status).toBe(403);
    expect((await rawCreate({ ...ok, modelId: KINO_XL_ID, init_image_id: minted.uploadInitImage.id, init_strength: 0.5 })).status).toBe(400);
    expect((await post([...Object.entries(fields), ['file', file]])).status).toBe(204);
    expect((await rawCreate({ ...ok, modelId: KINO_XL_ID, init_image_id: minted.uploadInitImage.id, init_strength: 0.5 })).status).toBe(200);
  });
});

describe('Leonardo sources that disagree: the fake follows the API reference (the SDK schema)', () => {
  it('contrast 1.8 on Phoenix: the guide table lists only 3/3.5/4, the SDK accepts it; the adapter sends only guide values', async () => {
    expect((await rawCreate({ ...ok, modelId: PHOENIX_ID, contrast: 1.8 })).status).toBe(200);
    expect(() => validateLeonardoBody({ ...ok, modelId: PHOENIX_ID, contrast: 1.8 })).toThrow(/3 \(low\), 3.5 \(medium\) or 4 \(high\)/);
  });

  it('Lucid Origin 1920×1080: the guide\'s sample, but over the SDK\'s 1536 cap; both refuse', async () => {
    expect((await rawCreate({ ...ok, modelId: LUCID_ORIGIN_ID, contrast: 3.5, width: 1920, height: 1080, num_images: 1 })).status).toBe(400);
    expect(() => validateLeonardoBody({ ...ok, modelId: LUCID_ORIGIN_ID, contrast: 3.5, width: 1920, height: 1080 })).toThrow(/width must be a multiple of 8 from 32 to 1536/);
  });

  it('styleUUID is in every model guide but not in the SDK schema: accepted as the guides document it', async () => {
    expect((await rawCreate({ ...ok, modelId: PHOENIX_ID, contrast: 3.5, styleUUID: '111dc692-d470-4eec-b791-3475abac4c46' })).status).toBe(200);
    expect((await rawCreate({ ...ok, modelId: PHOENIX_ID, contrast: 3.5, styleUUID: 42 })).status).toBe(400);
  });
});
