import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.ts';
import type { ImageProvider } from '../../src/core/provider.ts';
import { isProviderSideFailure } from '../../src/providers/failover.ts';
import { checkSchema, OpenAIFake, type OpenAIFakeOptions } from '../fakes/providers/openai-fake.ts';
import { caught, makeCtx, providersFor, req } from './helpers.ts';

let fake: OpenAIFake;
let configured: ReturnType<typeof providersFor>;

async function setup(opts: OpenAIFakeOptions = {}, env: Record<string, string> = {}): Promise<ImageProvider> {
  fake = await new OpenAIFake({ apiKey: 'sk-test', ...opts }).start();
  configured = providersFor({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.url, ...env }, { tuning: { syncHeadersTimeoutMs: 1_500 } });
  return configured.providers.find((p) => p.id === 'openai')!;
}
afterEach(async () => {
  await configured?.close();
  await fake?.close();
});

const raw = (path: string, body: unknown, key = 'sk-test') =>
  fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) });
const generations = () => fake.server.requests.filter((r) => r.method === 'POST' && r.path === '/images/generations');
/** What the adapter sent (it asks for an event stream; the raw requests above do not). */
const sent = () => generations().filter((r) => String(r.headers.accept).includes('text/event-stream'));

describe('OpenAI Images', () => {
  it('streams: partial images arrive as previews before the finished images; the body passes the spec; usage is kept', async () => {
    const openai = await setup();
    const ctx = makeCtx();
    const result = await openai.generate(req({ prompt: 'a lighthouse at dusk', aspectRatio: '16:9', count: 2 }), ctx);
    const body = generations()[0]!.body as Record<string, unknown>;
    expect(body).toEqual({ model: 'gpt-image-2', prompt: 'a lighthouse at dusk', n: 2, size: '1536x864', stream: true, partial_images: 2 });
    expect(checkSchema('CreateImageRequest', body)).toEqual([]);
    expect(result.images).toHaveLength(2);
    expect(result.images[0]).toMatchObject({ mime: 'image/png', width: 96, height: 54 });
    const previews = ctx.progressLog.filter((p) => p.preview);
    expect(previews.length).toBe(4);
    // Every preview comes before the last image's completion, with percent rising.
    const percents = ctx.progressLog.map((p) => p.percent).filter((p): p is number => p !== undefined);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.at(-1)).toBe(100);
    expect(result.usage).toEqual({ total_tokens: 600, input_tokens: 80, output_tokens: 520 });
    expect(ctx.calls).toEqual(['intent', 'submitted']);
  });

  it('the fake answers in the shapes the spec defines (stream events, Error)', async () => {
    await setup();
    const res = await raw('/images/generations', { model: 'gpt-image-1.5', prompt: 'x', stream: true, partial_images: 1, size: '1024x1024' });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = (await res.text()).split('\n\n').filter(Boolean).map((block) => JSON.parse(block.split('\n').find((l) => l.startsWith('data: '))!.slice(6)));
    expect(events.map((e) => e.type)).toEqual(['image_generation.partial_image', 'image_generation.completed']);
    for (const e of events) expect(checkSchema('ImageGenStreamEvent', e)).toEqual([]);
    const bad = await raw('/images/generations', { prompt: 'x', colour: 'red' });
    expect(checkSchema('Error', ((await bad.json()) as { error: unknown }).error)).toEqual([]);
  });

  it('documented rules: the fake refuses the raw request, and the adapter refuses before sending', async () => {
    const openai = await setup({}, { OPENAI_IMAGE_MODEL: 'gpt-image-1.5' });
    // Sizes: the three standard ones for GPT image models other than gpt-image-2 [spec][sdk].
    expect((await raw('/images/generations', { model: 'gpt-image-1.5', prompt: 'x', size: '1792x1024' })).status).toBe(400);
    expect((await caught(() => openai.generate(req({ prompt: 'x', aspectRatio: '16:9' }), makeCtx()))).message).toMatch(/1:1, 3:2 or 2:3 only/);
    // gpt-image-2: sides divisible by 16, ratio within 1:3..3:1 [sdk].
    expect((await raw('/images/generations', { model: 'gpt-image-2', prompt: 'x', size: '1000x1000' })).status).toBe(400);
    expect((await raw('/images/generations', { model: 'gpt-image-2', prompt: 'x', size: '2048x512' })).status).toBe(400);
    expect((await caught(() => openai.generate(req({ prompt: 'x', model: 'gpt-image-2', aspectRatio: '4:1' }), makeCtx()))).message).toMatch(/1:3 to 3:1/);
    // Transparent needs png or webp [spec][sdk].
    expect((await raw('/images/generations', { model: 'gpt-image-1.5', prompt: 'x', background: 'transparent', output_format: 'jpeg' })).status).toBe(400);
    const jpeg = providersFor({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.url, OPENAI_IMAGE_MODEL: 'gpt-image-1.5', OPENAI_OPTIONS: '{"output_format":"jpeg"}' });
    expect((await caught(() => jpeg.providers[0]!.generate(req({ prompt: 'x', transparency: true }), makeCtx()))).message).toMatch(/PNG or WebP/);
    await jpeg.close();
    // Prompt length 32000 [spec][sdk]; unknown parameters [spec, closed]; GPT-only parameters [spec][sdk].
    expect((await raw('/images/generations', { model: 'gpt-image-1.5', prompt: 'x'.repeat(32_001) })).status).toBe(400);
    expect((await raw('/images/generations', { model: 'gpt-image-1.5', prompt: 'x', colour: 'red' })).status).toBe(400);
    expect((await raw('/images/generations', { model: 'dall-e-2', prompt: 'x', stream: true })).status).toBe(400);
    expect((await raw('/images/generations', { model: 'gpt-image-1.5', prompt: 'x', response_format: 'url' })).status).toBe(400);
    // partial_images 0..3 and only when streaming [spec][sdk]; output_compression only for jpeg/webp.
    expect((await raw('/images/generations', { model: 'gpt-image-1.5', prompt: 'x', stream: true, partial_images: 4 })).status).toBe(400);
    expect((await raw('/images/generations', { model: 'gpt-image-1.5', prompt: 'x', partial_images: 2 })).status).toBe(400);
    expect((await raw('/images/generations', { model: 'gpt-image-1.5', prompt: 'x', output_compression: 50 })).status).toBe(400);
    expect(() => providersFor({ OPENAI_API_KEY: 'k', OPENAI_OPTIONS: '{"partial_images":4}' })).toThrow(ConfigError);
    expect(() => providersFor({ OPENAI_API_KEY: 'k', OPENAI_OPTIONS: '{"output_compression":50}' })).toThrow(/output_compression applies only to output_format jpeg or webp/);
    expect(() => providersFor({ OPENAI_API_KEY: 'k', OPENAI_OPTIONS: '{"colour":"red"}' })).toThrow(/OPENAI_OPTIONS/);
    // A per-request model must be a GPT image model (they stream).
    expect((await caught(() => openai.generate(req({ prompt: 'x', model: 'dall-e-3' }), makeCtx()))).message).toMatch(/not one Atelier can stream from/);
    expect(sent()).toHaveLength(0);
    expect(fake.creates).toBe(0);
  });

  it('sources disagree on transparent backgrounds for gpt-image-2: the spec says "in preview", the openai package says it errors; the fake follows the spec, the adapter does not send it', async () => {
    const openai = await setup();
    expect((await raw('/images/generations', { model: 'gpt-image-2', prompt: 'x', background: 'transparent' })).status).toBe(200);
    expect(openai.capabilities.fields).not.toContain('transparency');
    expect((await caught(() => openai.generate(req({ prompt: 'x', transparency: true }), makeCtx()))).message).toMatch(/does not draw transparent backgrounds/);
    const older = providersFor({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.url, OPENAI_IMAGE_MODEL: 'gpt-image-1.5' });
    await older.providers[0]!.generate(req({ prompt: 'a sticker', transparency: true }), makeCtx());
    expect(generations().at(-1)!.body).toMatchObject({ model: 'gpt-image-1.5', background: 'transparent', size: 'auto' });
    await older.close();
  });

  it('moderation_blocked, as an HTTP error or as a stream error event, is the usual moderation message and never fails over', async () => {
    const openai = await setup({ blockedWord: 'gore' });
    const err = await caught(() => openai.generate(req({ prompt: 'some gore' }), makeCtx()));
    expect(err).toMatchObject({ code: 'MODERATION', details: { blockedBy: 'OpenAI' } });
    expect(err.message).toMatch(/OpenAI refused this prompt under its content policy: Your request was rejected by the safety system/);
    expect(isProviderSideFailure(err)).toBe(false);
    await configured.close();
    await fake.close();
    const streamed = await setup({ streamError: { code: 'moderation_blocked', message: 'The image was flagged.' } });
    expect(await caught(() => streamed.generate(req({ prompt: 'a cat' }), makeCtx()))).toMatchObject({ code: 'MODERATION', message: expect.stringMatching(/flagged/) });
  });

  it('faults: a 429 is retried (nothing was made); a 5xx, a hang, garbage or a stream cut midway is an unknown outcome, never a second create', async () => {
    const openai = await setup();
    fake.server.inject({ route: 'POST /images/generations', kind: 'status', status: 429, headers: { 'retry-after': '0' }, body: { error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } } });
    expect((await openai.generate(req({ prompt: 'x' }), makeCtx())).images).toHaveLength(1);
    expect(generations()).toHaveLength(2);
    for (const kind of ['status', 'garbage', 'hang'] as const) {
      fake.server.inject({ route: 'POST /images/generations', kind, status: 500, body: { error: { message: 'boom', type: 'server_error', param: null, code: null } } });
      const before = generations().length;
      const err = await caught(() => openai.generate(req({ prompt: 'x' }), makeCtx()));
      expect(err, kind).toMatchObject({ code: 'UNKNOWN_OUTCOME', details: { retryable: true } });
      expect(generations().length - before, kind).toBe(1);
    }
    await configured.close();
    await fake.close();
    const cut = await setup({ cutAfterEvents: 1 });
    const ctx = makeCtx();
    const err = await caught(() => cut.generate(req({ prompt: 'x' }), ctx));
    expect(err).toMatchObject({ code: 'UNKNOWN_OUTCOME' });
    expect(err.message).toMatch(/stopped streaming/);
    expect(ctx.progressLog.some((p) => p.preview)).toBe(true);
    expect(fake.creates).toBe(1);
  });

  it('a restart mid-job fails visibly instead of paying twice; cancel stops the stream', async () => {
    const openai = await setup();
    const resumed = makeCtx({ resume: { intent: { key: 'k', operation: 'generate', body: {} } } });
    expect(await caught(() => openai.generate(req({ prompt: 'x' }), resumed))).toMatchObject({ code: 'UNKNOWN_OUTCOME' });
    fake.server.inject({ route: 'POST /images/generations', kind: 'hang' });
    const ac = new AbortController();
    const running = caught(() => openai.generate(req({ prompt: 'x' }), makeCtx({ signal: ac.signal })));
    await expect.poll(() => generations().length).toBe(1);
    const reason = new Error('canceled');
    ac.abort(reason);
    expect(await running).toBe(reason);
    expect(fake.creates).toBe(0);
  });

  it('V is an edit of the chosen image: multipart with the image, accepted by the spec-checked fake', async () => {
    const openai = await setup();
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#c04020' } }).png().toBuffer();
    const ctx = makeCtx();
    const result = await openai.vary!({ bytes: new Uint8Array(png), mime: 'image/png', width: 64, height: 64, index: 2, request: req({ prompt: 'a red square', aspectRatio: '1:1' }) }, ctx);
    expect(result.images).toHaveLength(1);
    const edit = fake.server.requests.find((r) => r.path === '/images/edits')!;
    expect(String(edit.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/);
    expect(fake.rejected).toEqual([]);
    expect(ctx.progressLog.some((p) => p.preview)).toBe(true);
    // The fake checks what an edit needs: an image part.
    const form = new FormData();
    form.append('prompt', 'x');
    const noImage = await fetch(`${fake.url}/images/edits`, { method: 'POST', headers: { authorization: 'Bearer sk-test' }, body: form });
    expect(noImage.status).toBe(400);
  });

  it('doctor: the key and the model are checked live', async () => {
    await setup();
    expect(await configured.doctor()).toEqual([{ provider: 'openai', ok: true, detail: 'key accepted; model gpt-image-2 is available' }]);
    const wrong = providersFor({ OPENAI_API_KEY: 'sk-wrong', OPENAI_BASE_URL: fake.url });
    const [line] = await wrong.doctor();
    expect(line).toMatchObject({ ok: false, detail: expect.stringMatching(/refused the API key.*OPENAI_API_KEY/) });
    await wrong.close();
  });
});
