import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.ts';
import type { ImageProvider } from '../../src/core/provider.ts';
import { resolveRequest } from '../../src/core/resolve.ts';
import { createServer, type HttpServer } from '../../src/server.ts';
import { UNKNOWN_STATUS_LIMIT, WEBHOOK_KV_KEY } from '../../src/providers/allimages/adapter.ts';
import { repairImageUrl } from '../../src/providers/allimages/api.ts';
import { isProviderSideFailure } from '../../src/providers/failover.ts';
import { buildAllImagesBody } from '../../src/providers/allimages/body.ts';
import { AllImagesFake, REFUSED_WORD } from '../fakes/providers/allimages-fake.ts';
import { caught, makeCtx, memoryKv, providersFor, req } from './helpers.ts';

let fake: AllImagesFake;
let configured: ReturnType<typeof providersFor>;
let provider: ImageProvider;

const env = (over: Record<string, string> = {}) => ({ ALLIMAGES_API_KEY: fake.apiKey, ALLIMAGES_API_URL: fake.url, ...over });

beforeEach(async () => {
  fake = await new AllImagesFake().start();
  configured = providersFor(env());
  provider = configured.providers.find((p) => p.id === 'allimages')!;
});
afterEach(async () => {
  await configured.close();
  await fake.close();
});

const rawCreate = (body: unknown, headers: Record<string, string> = { 'api-key': fake.apiKey }) =>
  fetch(`${fake.url}/v1/image-generations`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

const validRaw = () => ({ name: 'n1', mode: 'simple', prompt: 'a dog playing in a park', params: [{ name: 'format', value: '3:2' }] });

describe('all-images.ai adapter: simple mode', () => {
  it('sends every simple-mode param, records intent before and the id after, reports "n of 4", downloads four images', async () => {
    const ctx = makeCtx();
    const result = await provider.generate(
      req({ prompt: 'a dog in a park', aspectRatio: '3:2', photo: 'realisticManuel', weather: 'foggy', timeOfDay: 'golden hour', camera: 'GoPro', chaos: 20, stylize: 300, negativePrompt: 'cars', optimize: true, tags: ['pets'], metadata: { channel: 'c1' } }),
      ctx,
    );
    const create = fake.server.requests.find((r) => r.method === 'POST')!;
    const body = create.body as Record<string, any>;
    expect(body).toMatchObject({ mode: 'simple', prompt: 'a dog in a park', optimizePrompt: true, tags: ['pets'], metaData: { atelierJobId: 'job1', channel: 'c1' } });
    expect(body.params).toEqual([
      { name: 'templatePrompt', value: 'realisticManuel' },
      { name: 'format', value: '3:2' },
      { name: 'weather', value: 'foggy' },
      { name: 'time', value: 'golden hour' },
      { name: 'camera', value: 'GoPro' },
      { name: 'chaos', value: '20' },
      { name: 'stylize', value: '300' },
      { name: 'interdiction', value: 'cars' },
    ]);
    expect(body.name).toMatch(/^atelier-job1-/);
    expect(ctx.calls).toEqual(['intent', 'submitted']);
    expect(ctx.intents[0]!.body).toEqual(body);
    expect(ctx.submitted).toEqual([result.providerJobId]);
    expect(ctx.progressLog.map((p) => p.stage)).toEqual(expect.arrayContaining(['1 of 4 images', '2 of 4 images', '3 of 4 images']));
    expect(result.images).toHaveLength(4);
    expect(result.images[0]).toMatchObject({ mime: 'image/jpeg', width: 128, height: 128 });
    expect(fake.creates).toBe(1);
  });

  it('gives each attempt a unique name', async () => {
    await provider.generate(req({ prompt: 'one' }), makeCtx());
    await provider.generate(req({ prompt: 'two' }), makeCtx());
    const names = fake.server.requests.filter((r) => r.method === 'POST').map((r) => (r.body as { name: string }).name);
    expect(new Set(names).size).toBe(2);
  });
});

describe('all-images.ai parameter names and extras', () => {
  it('time of day goes as `time`, the API reference spelling; the fake refuses the guide\'s `Time` (the two disagree)', async () => {
    await provider.generate(req({ prompt: 'a dog', timeOfDay: 'night' }), makeCtx());
    expect((fake.server.requests.find((r) => r.method === 'POST')!.body as { params: unknown }).params).toEqual([{ name: 'time', value: 'night' }]);
    const res = await rawCreate({ ...validRaw(), params: [{ name: 'Time', value: 'night' }] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string[] }).message.join()).toMatch(/params\.name must be one of/);
  });

  it('simple mode: the model option is sent as `version`, one image prompt as `fromImageUrl` at its public URL', async () => {
    const ctx = makeCtx({ publicImageUrl: async (id) => `https://example.org/p/${id}.png` });
    await provider.generate(req({ prompt: 'a cat in a hat', model: '6.1', images: [{ imageId: 'cat', role: 'prompt' }] }), ctx);
    const body = fake.server.requests.find((r) => r.method === 'POST')!.body as { prompt: string; params: unknown };
    expect(body.prompt).toBe('a cat in a hat');
    expect(body.params).toEqual([
      { name: 'fromImageUrl', value: 'https://example.org/p/cat.png' },
      { name: 'version', value: '6.1' },
    ]);
    expect(provider.capabilities.fields).toContain('model');
  });

  it('advanced mode takes any --ar W:H verbatim through the real resolver', async () => {
    const request = resolveRequest({ prompt: 'a dog --ar 21:9 --v 6.1', mode: 'advanced' }, {}, provider);
    await provider.generate(request, makeCtx());
    expect(fake.server.requests.find((r) => r.method === 'POST')!.body).toMatchObject({ mode: 'advanced', prompt: 'a dog --ar 21:9 --v 6.1' });
    expect(() => resolveRequest({ prompt: 'a dog --ar 21:9' }, {}, provider)).toThrow(/does not offer the aspect ratio 21:9/);
  });

  it('tags set for the channel or server reach the generation', async () => {
    const request = resolveRequest({ prompt: 'a dog' }, { tags: ['discord', 'team-art'] }, provider);
    await provider.generate(request, makeCtx());
    expect(fake.server.requests.find((r) => r.method === 'POST')!.body).toMatchObject({ tags: ['discord', 'team-art'] });
    expect([...fake.generations.values()][0]!.tags).toEqual(['discord', 'team-art']);
  });
});

describe('all-images.ai adapter: advanced mode', () => {
  it('sends the raw Midjourney prompt verbatim, unknown flags included, and no params', async () => {
    const raw = 'a dog --ar 3:2 --weird 250 --foo bar';
    await provider.generate(req({ mode: 'advanced', prompt: 'a dog', rawPrompt: raw, aspectRatio: '3:2', midjourney: { weird: '250' } }), makeCtx());
    const body = fake.server.requests.find((r) => r.method === 'POST')!.body as Record<string, unknown>;
    expect(body).toMatchObject({ mode: 'advanced', prompt: raw });
    expect(body.params).toBeUndefined();
  });

  it('refuses simple-mode settings in advanced mode before sending', async () => {
    const err = await caught(() => provider.generate(req({ mode: 'advanced', prompt: 'x', rawPrompt: 'x --v 6', weather: 'rainy' }), makeCtx()));
    expect(err).toMatchObject({ code: 'UNSUPPORTED' });
    expect(err.message).toMatch(/weather/);
    expect(fake.creates).toBe(0);
  });
});

/** Each documented rule: the fake rejects the raw request, and the adapter refuses before sending. */
const rules: { rule: string; raw: (b: Record<string, unknown>) => unknown; request: () => Parameters<typeof buildAllImagesBody>[0]; code: string; says: RegExp; fakeSays: RegExp }[] = [
  {
    rule: 'simple prompt without Midjourney parameters',
    raw: (b) => ({ ...b, prompt: 'a dog --ar 16:9' }),
    request: () => req({ prompt: 'a dog --ar 16:9' }),
    code: 'INVALID_OPTIONS',
    says: /--ar.*advanced mode/,
    fakeSays: /Midjourney parameter/,
  },
  {
    rule: 'prompt at most 4096 characters',
    raw: (b) => ({ ...b, mode: 'advanced', prompt: 'x'.repeat(4097) }),
    request: () => req({ mode: 'advanced', prompt: 'x', rawPrompt: 'x'.repeat(4097) }),
    code: 'INVALID_OPTIONS',
    says: /4097 characters.*4096/,
    fakeSays: /4096/,
  },
  {
    rule: 'format from the documented list',
    raw: (b) => ({ ...b, params: [{ name: 'format', value: '21:9' }] }),
    request: () => req({ prompt: 'a dog', aspectRatio: '21:9' }),
    code: 'INVALID_OPTIONS',
    says: /21:9 is not one of them.*advanced mode/,
    fakeSays: /format: value must be one of/,
  },
  {
    rule: 'weather enum',
    raw: (b) => ({ ...b, params: [{ name: 'weather', value: 'windy' }] }),
    request: () => ({ ...req({ prompt: 'a dog' }), weather: 'windy' as never }),
    code: 'INVALID_OPTIONS',
    says: /weather must be one of/,
    fakeSays: /weather: value must be one of/,
  },
  {
    rule: 'time enum',
    raw: (b) => ({ ...b, params: [{ name: 'time', value: 'teatime' }] }),
    request: () => ({ ...req({ prompt: 'a dog' }), timeOfDay: 'teatime' as never }),
    code: 'INVALID_OPTIONS',
    says: /time of day must be one of/,
    fakeSays: /time: value must be one of/,
  },
  {
    rule: 'templatePrompt enum',
    raw: (b) => ({ ...b, params: [{ name: 'templatePrompt', value: 'cartoon' }] }),
    request: () => ({ ...req({ prompt: 'a dog' }), photo: 'cartoon' as never }),
    code: 'INVALID_OPTIONS',
    says: /photo type must be one of/,
    fakeSays: /templatePrompt: value must be one of/,
  },
  {
    rule: 'chaos 0–100',
    raw: (b) => ({ ...b, params: [{ name: 'chaos', value: '101' }] }),
    request: () => ({ ...req({ prompt: 'a dog' }), chaos: 101 }),
    code: 'INVALID_OPTIONS',
    says: /chaos.*0 to 100/,
    fakeSays: /chaos: value must be a number from 0 to 100/,
  },
  {
    rule: 'stylize 0–1000',
    raw: (b) => ({ ...b, params: [{ name: 'stylize', value: '1001' }] }),
    request: () => ({ ...req({ prompt: 'a dog' }), stylize: 1001 }),
    code: 'INVALID_OPTIONS',
    says: /stylize.*0 to 1000/,
    fakeSays: /stylize: value must be a number from 0 to 1000/,
  },
  {
    rule: 'processMode enum',
    raw: (b) => ({ ...b, processMode: 'turbo' }),
    request: () => ({ ...req({ prompt: 'a dog' }), processMode: 'turbo' as never }),
    code: 'INVALID_OPTIONS',
    says: /process mode/,
    fakeSays: /processMode must be one of/,
  },
  {
    rule: 'mode enum and required fields',
    raw: (b) => ({ ...b, mode: 'expert', name: '' }),
    request: () => ({ ...req({ prompt: 'a dog' }), mode: 'expert' as never }),
    code: 'UNSUPPORTED',
    says: /expert/,
    fakeSays: /mode must be one of.*|name should not be empty/,
  },
];

describe('all-images.ai documented rules', () => {
  for (const r of rules) {
    it(`${r.rule}: the fake rejects a bad raw request`, async () => {
      const res = await rawCreate(r.raw(validRaw()));
      expect(res.status).toBe(400);
      const body = (await res.json()) as { statusCode: number; error: string; message: string[] };
      expect(body.statusCode).toBe(400);
      expect(body.error).toBe('Bad Request');
      expect(body.message.join('\n')).toMatch(r.fakeSays);
    });
    it(`${r.rule}: the adapter refuses before sending`, async () => {
      const err = await caught(() => provider.generate(r.request(), makeCtx()));
      expect(err).toBeInstanceOf(UserError);
      expect(err.code).toBe(r.code);
      expect(err.message).toMatch(r.says);
      expect(fake.creates).toBe(0);
    });
  }

  it('a valid raw request is accepted, so the rejections above are about their rule', async () => {
    expect((await rawCreate(validRaw())).status).toBe(201);
  });

  it('auth: the fake accepts only the api-key header; the adapter names the setting when refused', async () => {
    expect((await rawCreate(validRaw(), { authorization: `Bearer ${fake.apiKey}` })).status).toBe(401);
    await configured.close();
    configured = providersFor(env({ ALLIMAGES_API_KEY: 'wrong' }));
    const err = await caught(() => configured.providers[0]!.generate(req({ prompt: 'a dog' }), makeCtx()));
    expect(err).toMatchObject({ code: 'PROVIDER_REJECTED' });
    expect(err.message).toMatch(/Invalid API key.*ALLIMAGES_API_KEY/);
    expect(err.message).not.toContain('wrong');
  });

  it('a count other than four is refused; Midjourney-only fields in simple mode point to advanced mode', async () => {
    expect(await caught(() => provider.generate(req({ prompt: 'a dog', count: 2 }), makeCtx()))).toMatchObject({ code: 'UNSUPPORTED' });
    const err = await caught(() => provider.generate(req({ prompt: 'a dog', seed: 4 }), makeCtx()));
    expect(err.message).toMatch(/seed.*advanced mode/);
    expect(fake.creates).toBe(0);
  });

  it('processMode on a non-Dedicated account becomes a clear message; on a Dedicated one it is sent', async () => {
    const err = await caught(() => provider.generate(req({ prompt: 'a dog', processMode: 'relax' }), makeCtx()));
    expect(err).toMatchObject({ code: 'PROVIDER_REJECTED' });
    expect(err.message).toMatch(/Dedicated accounts.*Clear the process mode/);
    fake.dedicated = true;
    await provider.generate(req({ prompt: 'a dog', processMode: 'relax' }), makeCtx());
    expect([...fake.generations.values()].at(-1)!.processMode).toBe('relax');
  });
});

describe('all-images.ai lifecycle', () => {
  it('status 4 ("description not accepted") is a moderation refusal naming all-images.ai, never a failover', async () => {
    fake.lifecycle = 'error';
    const err = await caught(() => provider.generate(req({ prompt: 'a dog' }), makeCtx()));
    expect(err).toMatchObject({ code: 'MODERATION', details: { blockedBy: 'all-images.ai' } });
    expect(err.message).toMatch(/^Blocked by all-images\.ai: it did not accept this description/);
    expect(isProviderSideFailure(err)).toBe(false);
  });

  it('a description the fake refuses ends in status 4 and reads as a moderation message', async () => {
    const err = await caught(() => provider.generate(req({ prompt: `a ${REFUSED_WORD} in a park` }), makeCtx()));
    expect(err).toMatchObject({ code: 'MODERATION' });
    expect(err.message).toMatch(/Blocked by all-images\.ai/);
  });

  it('a 400 whose text refuses the description is a moderation refusal, not a bad request', async () => {
    fake.server.inject({ route: 'POST /v1/image-generations', kind: 'status', status: 400, body: { statusCode: 400, error: 'Bad Request', message: ['Description not accepted'] } });
    const err = await caught(() => provider.generate(req({ prompt: 'a dog' }), makeCtx()));
    expect(err).toMatchObject({ code: 'MODERATION', details: { blockedBy: 'all-images.ai' } });
    expect(err.message).toMatch(/Description not accepted/);
  });

  it('a status the docs do not define, repeated, stops the wait after a bounded number of checks and says so', async () => {
    fake.lifecycle = 'stuck-unknown';
    await configured.close();
    configured = providersFor(env(), { tuning: { pollTimeoutMs: 4_000 } });
    const ctx = makeCtx();
    const err = await caught(() => configured.providers[0]!.generate(req({ prompt: 'a dog' }), ctx));
    expect(err).toMatchObject({ code: 'UNKNOWN_OUTCOME', details: { retryable: true } });
    expect(err.message).toMatch(new RegExp(`status 5 .*does not define.*after ${UNKNOWN_STATUS_LIMIT} checks`));
    const polls = fake.server.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/image-generations/')).length;
    expect(polls).toBe(UNKNOWN_STATUS_LIMIT + 1);
    expect(ctx.progressLog.map((p) => p.stage)).toContain('waiting (status 5)');
    expect(isProviderSideFailure(err)).toBe(false);
  });

  it('an undocumented status (5) is waited through, not mistaken for done or error', async () => {
    fake.lifecycle = 'unknown-status';
    const ctx = makeCtx();
    const result = await provider.generate(req({ prompt: 'a dog' }), ctx);
    expect(result.images).toHaveLength(4);
    expect(ctx.progressLog.map((p) => p.stage)).toContain('waiting (status 5)');
  });

  it('a generation that never finishes ends in a clear timeout', async () => {
    fake.lifecycle = 'never';
    await configured.close();
    configured = providersFor(env(), { tuning: { pollTimeoutMs: 150 } });
    const err = await caught(() => configured.providers[0]!.generate(req({ prompt: 'a dog' }), makeCtx()));
    expect(err).toMatchObject({ code: 'PROVIDER_TIMEOUT' });
    expect(err.message).toMatch(/did not finish generation .* within/);
  });

  it('retries a 500 and a 429 (Retry-After) on polls', async () => {
    fake.server.inject({ route: 'GET /v1/image-generations/*', kind: 'status', status: 500, body: { statusCode: 500, error: 'Internal Server Error', message: ['boom'] } });
    fake.server.inject({ route: 'GET /v1/image-generations/*', kind: 'status', status: 429, headers: { 'retry-after': '0' }, body: { statusCode: 429, error: 'Too Many Requests', message: ['slow down'] } });
    const result = await provider.generate(req({ prompt: 'a dog' }), makeCtx());
    expect(result.images).toHaveLength(4);
    expect(fake.creates).toBe(1);
  });

  it('keeps waiting through a run of provider errors longer than one call’s retries: the generation is paid for', async () => {
    fake.server.inject({ route: 'GET /v1/image-generations/*', kind: 'status', status: 503, body: { statusCode: 503, error: 'Service Unavailable', message: ['deploying'] }, times: 7 });
    const result = await provider.generate(req({ prompt: 'a dog' }), makeCtx());
    expect(result.images).toHaveLength(4);
    expect(fake.creates).toBe(1);
  });

  it('the result is the preview rendition and says so; nothing is bought and no full-size image is fetched', async () => {
    const result = await provider.generate(req({ prompt: 'a dog' }), makeCtx());
    expect(result.images.map((i) => i.width)).toEqual([128, 128, 128, 128]);
    expect(result.note).toMatch(/4 images are all-images\.ai previews .*costs all-images\.ai credits.*paid_upscale/);
    expect(fake.server.requests.filter((r) => r.path.startsWith('/v1/images/full/') || r.path.startsWith('/v1/images/buy'))).toHaveLength(0);
    expect(fake.credits).toBe(10);
  });

  it('free images are delivered at full size without a purchase, and U on one buys nothing', async () => {
    fake.freeImages = true;
    const result = await provider.generate(req({ prompt: 'a dog' }), makeCtx());
    expect(result.images.map((i) => i.width)).toEqual([512, 512, 512, 512]);
    expect(result.note).toBeUndefined();
    const up = await provider.upscale!({ ...result.images[0]!, index: 1, request: req({ prompt: 'a dog' }) }, makeCtx());
    expect(up.images[0]).toMatchObject({ width: 512 });
    expect(fake.server.count('POST /v1/images/buy')).toBe(0);
  });

  it('U buys the full-resolution image through POST /v1/images/buy when the channel allows it, and is charged once', async () => {
    const first = await provider.generate(req({ prompt: 'a dog' }), makeCtx({ paidUpscale: true }));
    expect(first.note).toMatch(/U buys one at full resolution/);
    const src = { ...first.images[1]!, index: 2, request: req({ prompt: 'a dog' }) };
    const up = await provider.upscale!(src, makeCtx({ paidUpscale: true }));
    expect(up.images[0]).toMatchObject({ width: 768, height: 768 });
    const imageId = first.images[1]!.providerImageId!.split(':')[1];
    expect(fake.server.requests.find((r) => r.path === '/v1/images/buy')!.body).toEqual({ id: imageId });
    expect(fake.credits).toBe(9);
    await provider.upscale!(src, makeCtx({ paidUpscale: true }));
    expect(fake.credits).toBe(9);
    expect(provider.capabilities.variations).toBe(false);
    expect(provider.vary).toBeUndefined();
  });

  it('U without the channel\'s consent to spend credits says how to allow it and buys nothing', async () => {
    const first = await provider.generate(req({ prompt: 'a dog' }), makeCtx());
    const err = await caught(() => provider.upscale!({ ...first.images[0]!, index: 1, request: req({ prompt: 'a dog' }) }, makeCtx()));
    expect(err).toMatchObject({ code: 'NOT_ALLOWED' });
    expect(err.message).toMatch(/costs all-images\.ai credits.*paid_upscale:true/);
    expect(fake.server.count('POST /v1/images/buy')).toBe(0);
    expect(fake.server.requests.filter((r) => r.path.startsWith('/v1/images/full/'))).toHaveLength(0);
  });

  it('a 402 from the purchase is a clear "out of credits" message, not retried and not a failover', async () => {
    fake.credits = 0;
    const first = await provider.generate(req({ prompt: 'a dog' }), makeCtx());
    const err = await caught(() => provider.upscale!({ ...first.images[0]!, index: 1, request: req({ prompt: 'a dog' }) }, makeCtx({ paidUpscale: true })));
    expect(err).toMatchObject({ code: 'PROVIDER_REJECTED' });
    expect(err.message).toMatch(/all-images\.ai says this account has no credits or quota left \(HTTP 402: No more credits on your account\)\. Top up or upgrade your account at all-images\.ai/);
    expect(fake.server.count('POST /v1/images/buy')).toBe(1);
    expect(isProviderSideFailure(err)).toBe(false);
  });
});

describe('all-images.ai image URLs', () => {
  it('repairs the "…aiv1/…" form on the vendor\'s own host, so a billed generation still delivers', async () => {
    fake.malformedUrls = true;
    expect(fake.imageUrl('preview', 'x')).toBe(`${fake.url}v1/images/preview/x.jpg`);
    const result = await provider.generate(req({ prompt: 'a dog' }), makeCtx());
    expect(result.images).toHaveLength(4);
    expect(fake.server.requests.filter((r) => r.path.startsWith('/v1/images/preview/'))).toHaveLength(4);
  });

  it('repairs only the vendor\'s own host', () => {
    expect(repairImageUrl('https://api.all-images.aiv1/images/preview/a.jpg', 'https://api.all-images.ai')).toBe('https://api.all-images.ai/v1/images/preview/a.jpg');
    expect(repairImageUrl('http://api.all-images.aiv1/images/full/a.jpg', 'https://api.all-images.ai')).toBe('http://api.all-images.ai/v1/images/full/a.jpg');
    expect(repairImageUrl('https://evil.example.aiv1/images/a.jpg', 'https://api.all-images.ai')).toBe('https://evil.example.aiv1/images/a.jpg');
    expect(repairImageUrl('https://api.all-images.ai/v1/images/a.jpg', 'https://api.all-images.ai')).toBe('https://api.all-images.ai/v1/images/a.jpg');
  });

  it('refuses image URLs at another loopback port, at 169.254.169.254, or behind a redirect, and never hot-links', async () => {
    const other = await new AllImagesFake().start();
    const elsewhere = `${other.url}/v1/images/preview/x.jpg`;
    const metadata = 'http://169.254.169.254/latest/meta-data/iam';
    const redirect = (to: string) => `${fake.url}/attack/redirect?to=${encodeURIComponent(to)}`;
    for (const bad of [elsewhere, metadata, redirect(elsewhere), redirect(metadata)]) {
      fake.imageUrl = () => bad;
      const err = await caught(() => provider.generate(req({ prompt: 'a dog' }), makeCtx()));
      expect(err.code).toBe('PROVIDER_UNAVAILABLE');
      expect(err.message).toMatch(/will not fetch.*private or reserved address/);
    }
    expect(other.server.requests).toHaveLength(0);
    await other.close();
  });
});

describe('all-images.ai create at most once', () => {
  it('a create whose response is lost is found again by its unique name, never sent twice', async () => {
    fake.server.inject({ route: 'POST /v1/image-generations', kind: 'lose' });
    const ctx = makeCtx();
    const result = await provider.generate(req({ prompt: 'a dog' }), ctx);
    expect(fake.creates).toBe(1);
    expect(result.images).toHaveLength(4);
    const only = [...fake.generations.values()][0]!;
    expect(ctx.submitted).toEqual([only.id]);
    expect(fake.server.requests.some((r) => r.path === '/v1/image-generations' && r.method === 'GET' && r.query.get('name') === only.name)).toBe(true);
  });

  it('a create that times out after the provider made it is reconciled; one that made nothing fails visibly', async () => {
    await configured.close();
    configured = providersFor(env(), { tuning: { headersTimeoutMs: 200 } });
    fake.server.inject({ route: 'POST /v1/image-generations', kind: 'slow' });
    const result = await configured.providers[0]!.generate(req({ prompt: 'a dog' }), makeCtx());
    expect(result.images).toHaveLength(4);
    expect(fake.creates).toBe(1);
    fake.server.inject({ route: 'POST /v1/image-generations', kind: 'hang' });
    const err = await caught(() => configured.providers[0]!.generate(req({ prompt: 'a cat' }), makeCtx()));
    expect(err).toMatchObject({ code: 'UNKNOWN_OUTCOME' });
    expect(err.message).toMatch(/did not answer in time/);
    expect(fake.creates).toBe(2);
  });

  it('a create answered with a 500 that made nothing fails visibly as an unknown outcome, without a second create', async () => {
    fake.server.inject({ route: 'POST /v1/image-generations', kind: 'status', status: 502, body: { statusCode: 502, error: 'Bad Gateway', message: ['upstream'] } });
    const err = await caught(() => provider.generate(req({ prompt: 'a dog' }), makeCtx()));
    expect(err).toMatchObject({ code: 'UNKNOWN_OUTCOME', details: { retryable: true } });
    expect(fake.creates).toBe(1);
  });

  it('a garbled create answer is reconciled too', async () => {
    fake.server.inject({ route: 'POST /v1/image-generations', kind: 'garble' });
    const result = await provider.generate(req({ prompt: 'a dog' }), makeCtx());
    expect(result.images).toHaveLength(4);
    expect(fake.creates).toBe(1);
  });

  it('resume with a provider id polls and never creates', async () => {
    const first = await provider.generate(req({ prompt: 'a dog' }), makeCtx());
    const again = await provider.generate(req({ prompt: 'a dog' }), makeCtx({ resume: { providerJobId: first.providerJobId! } }));
    expect(again.providerJobId).toBe(first.providerJobId);
    expect(fake.creates).toBe(1);
  });

  it('resume with only an intent reconciles by name when the create had landed', async () => {
    fake.server.inject({ route: 'POST /v1/image-generations', kind: 'lose' });
    fake.server.inject({ route: 'GET /v1/image-generations', kind: 'hang' });
    const ctrl = new AbortController();
    const crashed = makeCtx({ signal: ctrl.signal });
    const p = provider.generate(req({ prompt: 'a dog' }), crashed).catch((e: unknown) => e);
    // The "crash": the job is abandoned while reconciling.
    while (fake.server.count('GET /v1/image-generations') === 0) await new Promise((r) => setTimeout(r, 5));
    ctrl.abort();
    await p;
    const ctx = makeCtx({ resume: { intent: crashed.intents[0]! } });
    const result = await provider.generate(req({ prompt: 'a dog' }), ctx);
    expect(result.images).toHaveLength(4);
    expect(fake.creates).toBe(1);
    expect(ctx.submitted).toEqual([[...fake.generations.keys()][0]]);
  });

  it('resume with only an intent that never reached the provider sends it now, once, under the same name', async () => {
    const key = 'job1-deadbeef';
    const intent = { key, operation: 'generate' as const, body: { name: `atelier-${key}`, mode: 'simple', prompt: 'a dog', metaData: { atelierJobId: 'job1', atelierKey: key } } };
    const result = await provider.generate(req({ prompt: 'a dog' }), makeCtx({ resume: { intent } }));
    expect(result.images).toHaveLength(4);
    expect(fake.creates).toBe(1);
    expect([...fake.generations.values()][0]!.name).toBe(`atelier-${key}`);
  });
});

describe('all-images.ai webhooks', () => {
  let server: HttpServer;
  beforeEach(async () => {
    server = createServer({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => {
    await server.close();
  });

  it('subscribes once with PUBLIC_URL, stores the webhookId, and a webhook wakes the poller', { timeout: 15_000 }, async () => {
    const publicUrl = await server.listen();
    const kv = memoryKv();
    await configured.close();
    // Polls every 10 minutes: only the webhook can finish this in time.
    configured = providersFor(env({ PUBLIC_URL: publicUrl }), { kv, tuning: { pollInitialDelayMs: 600_000, pollMaxDelayMs: 600_000, pollTimeoutMs: 1_200_000 } });
    for (const r of configured.routes) server.route(r.method, r.path, r.handler);
    expect(configured.routes.map((r) => r.path)).toEqual(['/webhooks/allimages']);
    fake.lifecycle = 'manual';
    const finishWhenPolled = async () => {
      const before = fake.generations.size;
      while (fake.generations.size === before) await new Promise((r) => setTimeout(r, 5));
      const id = [...fake.generations.keys()].at(-1)!;
      while (fake.server.count(`GET /v1/image-generations/${id}`) === 0) await new Promise((r) => setTimeout(r, 5));
      await fake.finish(id);
    };
    const [result] = await Promise.all([configured.providers[0]!.generate(req({ prompt: 'a dog' }), makeCtx()), finishWhenPolled()]);
    expect(result.images).toHaveLength(4);
    expect(fake.webhooks.size).toBe(1);
    const [hook] = [...fake.webhooks.values()];
    expect(hook!.url).toBe(`${publicUrl}/webhooks/allimages`);
    expect(JSON.parse(kv.data.get(WEBHOOK_KV_KEY)!)).toMatchObject({ url: hook!.url });
    await Promise.all([configured.providers[0]!.generate(req({ prompt: 'again' }), makeCtx()), finishWhenPolled()]);
    expect(fake.server.count('POST /v1/api-keys/webhook/subscribe')).toBe(1);
  });

  it('reuses a stored subscription after a restart', async () => {
    const kv = memoryKv();
    kv.data.set(WEBHOOK_KV_KEY, JSON.stringify({ webhookId: 'w1', url: 'https://bot.example.org/webhooks/allimages' }));
    await configured.close();
    configured = providersFor(env({ PUBLIC_URL: 'https://bot.example.org' }), { kv });
    await configured.providers[0]!.generate(req({ prompt: 'a dog' }), makeCtx());
    expect(fake.server.count('POST /v1/api-keys/webhook/subscribe')).toBe(0);
  });

  it('the route answers 400 to a payload that is not a print event and 200 to one that is', async () => {
    const handler = configured.routes[0]!.handler;
    const call = (body: string) => handler({ method: 'POST', path: '/webhooks/allimages', query: new URLSearchParams(), headers: {}, body: Buffer.from(body), raw: {} as never });
    expect((await call('nope')).status).toBe(400);
    expect((await call('{"type":"print.completed"}')).status).toBe(400);
    expect((await call(JSON.stringify({ id: 'e', api_version: 1, created: 1, type: 'print.progress', data: { id: 'g1', status: 2 } }))).status).toBe(200);
  });
});

describe('all-images.ai doctor', () => {
  it('checks the key and the credits', async () => {
    const lines = await configured.doctor();
    expect(lines).toEqual([{ provider: 'allimages', ok: true, detail: expect.stringMatching(/key accepted \(Atelier test\); credits: f_images_print 42/) }]);
  });
});
