import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { A1111Provider } from '../../src/providers/a1111/adapter.ts';
import { validateTxt2ImgBody, type A1111Catalog, type Txt2ImgBody } from '../../src/providers/a1111/body.ts';
import { A1111Fake, MODELS } from '../fakes/providers/a1111-fake.ts';
import { makePng } from '../fakes/providers/images.ts';
import { caught, makeCtx, providersFor, req } from './helpers.ts';

let fake: A1111Fake;
let configured: ReturnType<typeof providersFor>;
let a1111: A1111Provider;

const tuning = { previewIntervalMs: 0, progressIntervalMs: 5, syncHeadersTimeoutMs: 5_000 };
const reconfigure = async (env: Record<string, string> = {}, extra = {}) => {
  await configured?.close();
  configured = providersFor({ A1111_URL: fake.url, ...env }, { tuning: { ...tuning, ...extra } });
  a1111 = configured.providers.find((p) => p.id === 'a1111') as A1111Provider;
};

beforeEach(async () => {
  fake = await new A1111Fake().start();
  await reconfigure();
});
afterEach(async () => {
  await configured.close();
  await fake.close();
});

const renders = () => fake.server.requests.filter((r) => r.method === 'POST' && r.path === '/sdapi/v1/txt2img');
const raw = (path: string, body: unknown) => fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
};

describe('A1111 adapter', () => {
  it('sends txt2img with the model per request (restored afterwards), reads progress with previews, decodes the images and seeds', async () => {
    const ctx = makeCtx();
    const result = await a1111.generate(req({ prompt: 'a lighthouse at dusk', negativePrompt: 'people', aspectRatio: '16:9', count: 2, seed: 42, steps: 30, guidance: 6, model: 'dreamshaper_8' }), ctx);
    const body = renders()[0]!.body as Record<string, unknown>;
    expect(body).toEqual({
      prompt: 'a lighthouse at dusk',
      negative_prompt: 'people',
      seed: 42,
      steps: 30,
      cfg_scale: 6,
      width: 1024,
      height: 576,
      batch_size: 2,
      n_iter: 1,
      override_settings: { sd_model_checkpoint: MODELS[1]!.title },
      override_settings_restore_afterwards: true,
      send_images: true,
      save_images: false,
      force_task_id: ctx.intents[0]!.key,
    });
    // Never a global model change behind other users' backs.
    expect(fake.server.count('POST /sdapi/v1/options')).toBe(0);
    expect(fake.rendered[0]!.model).toBe(MODELS[1]!.title);
    expect(ctx.calls).toEqual(['intent', 'submitted']);
    expect(result.images.map((i) => [i.mime, i.width, i.seed])).toEqual([
      ['image/png', 64, 42],
      ['image/png', 64, 43],
    ]);
    expect(result.seed).toBe(42);
    const percents = ctx.progressLog.map((p) => p.percent).filter((p) => p !== undefined);
    expect(percents.length).toBeGreaterThan(0);
    expect(ctx.progressLog.some((p) => p.preview?.mime === 'image/png')).toBe(true);
  });

  it('reads full-size results: four base64 PNGs well over the default 2 MB answer cap', async () => {
    const noise = randomBytes(700 * 700 * 3);
    fake.png = new Uint8Array(await sharp(noise, { raw: { width: 700, height: 700, channels: 3 } }).png().toBuffer());
    expect(fake.png.length * 4 * (4 / 3)).toBeGreaterThan(2 * 1024 * 1024);
    const result = await a1111.generate(req({ prompt: 'x', count: 4 }), makeCtx());
    expect(result.images.map((i) => i.width)).toEqual([700, 700, 700, 700]);
  });

  it('lets the server pick the seed when none was asked for, and reports the one it used', async () => {
    const result = await a1111.generate(req({ prompt: 'x', count: 1 }), makeCtx());
    expect((renders()[0]!.body as { seed: number }).seed).toBe(-1);
    expect(result.seed).toBe(1234567);
  });

  it('runs one job at a time per server: the second waits for the first instead of queueing there', async () => {
    fake.mode = 'hold';
    const first = a1111.generate(req({ prompt: 'one', count: 1 }), makeCtx({ jobId: 'j1' }));
    const second = a1111.generate(req({ prompt: 'two', count: 1 }), makeCtx({ jobId: 'j2' }));
    await until(() => fake.running !== undefined);
    await new Promise((r) => setTimeout(r, 50));
    expect(renders()).toHaveLength(1);
    fake.release();
    await first;
    await second;
    expect(renders()).toHaveLength(2);
  });

  it('basic auth: a wrong password names A1111_AUTH; the right one works', async () => {
    await fake.close();
    fake = await new A1111Fake('atelier:s3cret').start();
    await reconfigure({ A1111_AUTH: 'atelier:wrong' });
    const err = await caught(() => a1111.generate(req({ prompt: 'x', count: 1 }), makeCtx()));
    expect(err.message).toMatch(/refused the API key \(HTTP 401: Incorrect username or password\)\. Check A1111_AUTH/);
    await reconfigure({ A1111_AUTH: 'atelier:s3cret' });
    expect((await a1111.generate(req({ prompt: 'x', count: 1 }), makeCtx())).images).toHaveLength(1);
  });

  it('models and samplers feed autocomplete from the server', async () => {
    expect(await a1111.choices!('model', AbortSignal.timeout(5_000))).toEqual(MODELS.map((m) => m.title));
    expect(await a1111.choices!('sampler', AbortSignal.timeout(5_000))).toContain('DPM++ 2M');
  });

  it('doctor lists checkpoints and samplers, and names a configured model that is missing', async () => {
    expect(await configured.doctor()).toEqual([{ provider: 'a1111', ok: true, detail: expect.stringMatching(/reachable; 2 checkpoints \(sd_xl_base_1\.0\.safetensors \[31e35c80fc\], dreamshaper_8/) }]);
    await reconfigure({ A1111_MODEL: 'nope' });
    expect((await configured.doctor())[0]).toMatchObject({ ok: false, detail: expect.stringMatching(/A1111_MODEL "nope" is not among its 2 checkpoints/) });
  });

  it('img2img sends the source image as base64 with the strength', async () => {
    const png = await makePng(32, 32);
    const result = await a1111.img2img(req({ prompt: 'x', count: 1 }), { bytes: png, strength: 0.4 }, makeCtx());
    const body = fake.server.requests.find((r) => r.path === '/sdapi/v1/img2img')!.body as Record<string, unknown>;
    expect(body).toMatchObject({ init_images: [Buffer.from(png).toString('base64')], denoising_strength: 0.4, prompt: 'x' });
    expect(result.images).toHaveLength(1);
  });
});

/** Each rule the webui enforces: the fake refuses the raw body, and the adapter refuses before sending. */
describe('A1111 documented rules', () => {
  const base = { prompt: 'x', seed: -1, width: 512, height: 512, batch_size: 1, n_iter: 1 };
  const catalog: A1111Catalog = { models: new Map(MODELS.map((m) => [m.model_name, m.title])), samplers: new Set(['Euler', 'DPM++ 2M']) };
  const ok: Txt2ImgBody = { ...base, override_settings_restore_afterwards: true, send_images: true, save_images: false };

  it('the base body is accepted', async () => {
    expect((await raw('/sdapi/v1/txt2img', base)).status).toBe(200);
  });

  it('an unknown sampler: "Sampler not found" from the server; refused first, naming A1111_SAMPLER', async () => {
    const res = await raw('/sdapi/v1/txt2img', { ...base, sampler_name: 'Bogus' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ detail: 'Sampler not found' });
    expect(() => validateTxt2ImgBody({ ...ok, sampler_name: 'Bogus' }, catalog, 'AUTOMATIC1111')).toThrow(/no sampler "Bogus" \(A1111_SAMPLER\)/);
    await reconfigure({ A1111_SAMPLER: 'Bogus' });
    expect((await caught(() => a1111.generate(req({ prompt: 'x' }), makeCtx()))).message).toMatch(/no sampler "Bogus"/);
    expect(renders()).toHaveLength(1);
  });

  it('a fractional step count: 422 from the server; refused first', async () => {
    const res = await raw('/sdapi/v1/txt2img', { ...base, steps: 7.5 });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ detail: [{ loc: ['body', 'steps'], msg: expect.stringMatching(/valid integer/) }] });
    expect(() => validateTxt2ImgBody({ ...ok, steps: 7.5 }, catalog, 'AUTOMATIC1111')).toThrow(/steps must be a whole number/);
  });

  it('img2img without init_images: refused by the server', async () => {
    const res = await raw('/sdapi/v1/img2img', base);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ detail: 'Init image not found' });
  });

  it('an unknown checkpoint is silently replaced by the loaded one at the server, so the adapter refuses it first', async () => {
    expect((await raw('/sdapi/v1/txt2img', { ...base, override_settings: { sd_model_checkpoint: 'nope' } })).status).toBe(200);
    expect(fake.rendered[0]!.model).toBe(MODELS[0]!.title);
    const err = await caught(() => a1111.generate(req({ prompt: 'x', model: 'nope' }), makeCtx()));
    expect(err.message).toMatch(/no checkpoint "nope"\. Available: sd_xl_base_1\.0\.safetensors \[31e35c80fc\], dreamshaper_8/);
    expect(renders()).toHaveLength(1);
  });

  it('request-level refusals happen before any call', async () => {
    const cases: [Parameters<typeof req>[0], RegExp][] = [
      [{ prompt: 'x', chaos: 5 }, /cannot use chaos/],
      [{ prompt: 'x --weird 1' }, /remove "--weird"/],
      [{ prompt: 'x', width: 512 }, /both width and height/],
      [{ prompt: 'x', mode: 'advanced', rawPrompt: 'x --v 6' }, /no advanced/],
    ];
    for (const [input, says] of cases) expect((await caught(() => a1111.generate(req(input), makeCtx()))).message).toMatch(says);
    expect(renders()).toHaveLength(0);
  });
});

describe('A1111 faults', () => {
  it('429 is retried; one render', async () => {
    fake.server.inject({ route: 'POST /sdapi/v1/txt2img', kind: 'status', status: 429, body: { detail: 'busy' } });
    expect((await a1111.generate(req({ prompt: 'x', count: 1 }), makeCtx())).images).toHaveLength(1);
    expect(fake.started).toHaveLength(1);
  });

  it('a 500 (the render raised) fails as the provider being unavailable, not sent again', async () => {
    fake.server.inject({ route: 'POST /sdapi/v1/txt2img', kind: 'status', status: 500, body: { error: 'OutOfMemoryError', detail: '', body: '', errors: 'CUDA out of memory' } });
    const err = await caught(() => a1111.generate(req({ prompt: 'x', count: 1 }), makeCtx()));
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(err.message).toMatch(/OutOfMemoryError: CUDA out of memory/);
    expect(renders()).toHaveLength(1);
  });

  it('an answer lost after the server rendered: a visible retryable failure, never a second render', async () => {
    fake.server.inject({ route: 'POST /sdapi/v1/txt2img', kind: 'lose' });
    const err = await caught(() => a1111.generate(req({ prompt: 'x', count: 1 }), makeCtx()));
    expect(err).toMatchObject({ code: 'UNKNOWN_OUTCOME', details: { retryable: true } });
    expect(fake.started).toHaveLength(1);
    expect(renders()).toHaveLength(1);
  });

  it('a garbled answer after the render: the same', async () => {
    fake.server.inject({ route: 'POST /sdapi/v1/txt2img', kind: 'garble' });
    expect(await caught(() => a1111.generate(req({ prompt: 'x', count: 1 }), makeCtx()))).toMatchObject({ code: 'UNKNOWN_OUTCOME' });
    expect(renders()).toHaveLength(1);
  });

  it('a request the server never saw (hung before it arrived): the task lookup proves it, and it is sent once more', async () => {
    await reconfigure({}, { syncHeadersTimeoutMs: 300 });
    fake.server.inject({ route: 'POST /sdapi/v1/txt2img', kind: 'hang' });
    expect((await a1111.generate(req({ prompt: 'x', count: 1 }), makeCtx())).images).toHaveLength(1);
    expect(renders()).toHaveLength(2);
    expect(fake.started).toHaveLength(1);
  });

  it('progress reads that fail or return garbage do not fail the job', async () => {
    fake.server.inject({ route: 'GET /sdapi/v1/progress', kind: 'garbage', times: 3 });
    fake.server.inject({ route: 'POST /internal/progress', kind: 'status', status: 500, body: { detail: 'x' }, times: 2 });
    expect((await a1111.generate(req({ prompt: 'x', count: 1 }), makeCtx())).images).toHaveLength(1);
  });
});

describe('A1111 cancel', () => {
  it('our running task is interrupted and its partial answer is not taken as a result', async () => {
    fake.mode = 'hold';
    const ac = new AbortController();
    const ctx = makeCtx({ signal: ac.signal });
    const running = a1111.generate(req({ prompt: 'x', count: 1 }), ctx);
    await until(() => fake.running !== undefined);
    ac.abort();
    await caught(() => running);
    await until(() => fake.rendered.length === 1);
    expect(fake.rendered[0]).toMatchObject({ id: ctx.intents[0]!.key, interrupted: true });
    expect(ctx.submitted).toEqual([]);
  });

  it("someone else's task is never interrupted; ours, queued behind it, is interrupted when it starts", async () => {
    fake.mode = 'hold';
    const theirs = raw('/sdapi/v1/txt2img', { prompt: 'theirs', force_task_id: 'someone-else' });
    await until(() => fake.running?.id === 'someone-else');
    const ac = new AbortController();
    const ctx = makeCtx({ signal: ac.signal });
    const ours = a1111.generate(req({ prompt: 'ours', count: 1 }), ctx);
    await until(() => fake.queue.length === 1);
    ac.abort();
    await caught(() => ours);
    expect(fake.server.count('POST /sdapi/v1/interrupt')).toBe(0);
    fake.release();
    await theirs;
    await until(() => fake.rendered.length === 2);
    expect(fake.rendered).toEqual([
      { id: 'someone-else', model: MODELS[0]!.title, interrupted: false },
      { id: ctx.intents[0]!.key, model: MODELS[0]!.title, interrupted: true },
    ]);
  });
});

describe('A1111 restart mid-job', () => {
  it('a task the server already had: a visible retryable failure, no second render', async () => {
    const ctx = makeCtx();
    await a1111.generate(req({ prompt: 'x', count: 1 }), ctx);
    const err = await caught(() => a1111.generate(req({ prompt: 'x', count: 1 }), makeCtx({ resume: { intent: ctx.intents[0]! } })));
    expect(err).toMatchObject({ code: 'UNKNOWN_OUTCOME', details: { retryable: true } });
    expect(renders()).toHaveLength(1);
  });

  it('a task the server never saw is sent, under the same task id', async () => {
    const intent = { key: 'atelier-job9-deadbeef', operation: 'generate' as const, body: {} };
    const ctx = makeCtx({ resume: { intent } });
    expect((await a1111.generate(req({ prompt: 'x', count: 1 }), ctx)).images).toHaveLength(1);
    expect(fake.started).toEqual(['atelier-job9-deadbeef']);
  });

  it('finished but not saved: a visible failure, nothing sent', async () => {
    expect(await caught(() => a1111.generate(req({ prompt: 'x', count: 1 }), makeCtx({ resume: { providerJobId: 'atelier-x' } })))).toMatchObject({ code: 'UNKNOWN_OUTCOME' });
    expect(renders()).toHaveLength(0);
  });

  it('a server without task lookup: an interrupted send is never repeated blindly', async () => {
    fake.internalProgress = false;
    const intent = { key: 'atelier-job9-cafe', operation: 'generate' as const, body: {} };
    const err = await caught(() => a1111.generate(req({ prompt: 'x', count: 1 }), makeCtx({ resume: { intent } })));
    expect(err.message).toMatch(/cannot be asked/);
    expect(renders()).toHaveLength(0);
  });
});
