import { afterEach, describe, expect, it } from 'vitest';
import type { ImageProvider } from '../../src/core/provider.ts';
import { isProviderSideFailure } from '../../src/providers/failover.ts';
import { HordeFake, type HordeFakeOptions } from '../fakes/providers/horde-fake.ts';
import { caught, makeCtx, providersFor, req } from './helpers.ts';

let fake: HordeFake;
let configured: ReturnType<typeof providersFor>;

async function setup(opts: HordeFakeOptions = {}, key = '0000000000'): Promise<ImageProvider> {
  fake = await new HordeFake({ users: { 'k-ann': { username: 'ann#12', kudos: 4321 } }, ...opts }).start();
  configured = providersFor({ AI_HORDE_API_KEY: key, AI_HORDE_URL: fake.url });
  return configured.providers.find((p) => p.id === 'horde')!;
}
afterEach(async () => {
  await configured?.close();
  await fake?.close();
});

const raw = (body: unknown, key = '0000000000') =>
  fetch(`${fake.url}/v2/generate/async`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { apikey: key } : {}) }, body: JSON.stringify(body) });
const creates = () => fake.server.requests.filter((r) => r.method === 'POST' && r.path === '/api/v2/generate/async' && r.headers['client-agent']);

describe('AI Horde', () => {
  it('anonymous: submits, shows queue position and kudos, then the images; polls check and reads status once', async () => {
    const horde = await setup();
    const ctx = makeCtx();
    const result = await horde.generate(req({ prompt: 'a lighthouse at dusk', negativePrompt: 'people', aspectRatio: '16:9', seed: 7, steps: 25, guidance: 6.3, count: 2 }), ctx);
    const sent = creates()[0]!;
    expect(sent.body).toEqual({
      prompt: 'a lighthouse at dusk ### people',
      params: { width: 1024, height: 576, n: 2, steps: 25, cfg_scale: 6.5, seed: '7' },
      nsfw: false,
      censor_nsfw: true,
      r2: true,
    });
    expect(sent.headers['apikey']).toBe('0000000000');
    expect(sent.headers['client-agent']).toMatch(/^atelier:[\d.]+:.+$/);
    expect(result.images).toHaveLength(2);
    expect(result.images[0]).toMatchObject({ mime: 'image/webp', width: 64, height: 36, seed: 7 });
    expect(result.providerJobId).toBe([...fake.wps.keys()][0]);
    expect(ctx.progressLog.map((p) => p.stage)).toEqual(expect.arrayContaining([expect.stringMatching(/^#3 in the Horde's queue · about 12 s · 20 kudos$/), expect.stringMatching(/^drawing 0 of 2/)]));
    expect(fake.server.requests.filter((r) => r.path.startsWith('/api/v2/generate/status/')).length).toBe(1);
    expect(ctx.calls).toEqual(['intent', 'submitted']);
  });

  it('documented rules: the fake refuses the raw request, and the adapter refuses before sending', async () => {
    const horde = await setup();
    expect((await raw({ prompt: 'x', params: { width: 1000, height: 512 } })).status).toBe(400); // multiple of 64
    expect((await raw({ prompt: 'x', params: { width: 4096, height: 512 } })).status).toBe(400); // ≤ 3072
    expect((await raw({ prompt: 'x', params: { steps: 501 } })).status).toBe(400);
    expect((await raw({ prompt: 'x', params: { n: 21 } })).status).toBe(400);
    expect((await raw({ prompt: 'x', params: { cfg_scale: 7.3 } })).status).toBe(400);
    expect((await raw({ prompt: 'x', params: { seed: 7 } })).status).toBe(400); // seed is a string
    expect((await raw({ prompt: '' })).status).toBe(400);
    expect((await raw({ prompt: 'x', colour: 'red' })).status).toBe(400);
    expect((await raw({ prompt: 'x' }, '')).status).toBe(400); // apikey header required
    expect((await caught(() => horde.generate(req({ prompt: 'x', aspectRatio: '9:1' }), makeCtx()))).message).toMatch(/1:4 to 4:1/);
    expect((await caught(() => horde.generate(req({ prompt: 'x', model: 'No Such Model' }), makeCtx()))).message).toMatch(/No AI Horde worker serves the model "No Such Model".*AlbedoBase XL/);
    expect(creates()).toHaveLength(0);
    // Sizes the adapter makes are always multiples of 64 inside the bounds.
    await horde.generate(req({ prompt: 'x', aspectRatio: '7:4', count: 1 }), makeCtx());
    expect(creates()[0]!.body).toMatchObject({ params: { width: 1024, height: 576 } });
  });

  it('the Client-Agent the issue and the Horde docs ask for is sent, though the server itself defaults it (unknown:0:unknown)', async () => {
    await setup();
    expect((await raw({ prompt: 'no agent' })).status).toBe(202);
  });

  it('NSFW follows the channel: censor_nsfw where NSFW is off, censored images withheld; allowed channels send nsfw: true', async () => {
    const horde = await setup({ nsfwWords: ['nude'] });
    const err = await caught(() => horde.generate(req({ prompt: 'a nude statue', count: 2 }), makeCtx({ allowNsfw: false })));
    expect(err).toMatchObject({ code: 'MODERATION' });
    expect(err.message).toMatch(/censored by the Horde's NSFW filter/);
    await horde.generate(req({ prompt: 'a nude statue', count: 1 }), makeCtx({ allowNsfw: true }));
    expect(creates().at(-1)!.body).toMatchObject({ nsfw: true, censor_nsfw: false });
  });

  it('a CorruptPrompt refusal is the usual moderation message, never failover', async () => {
    const horde = await setup({ corruptWords: ['forbidden'] });
    const err = await caught(() => horde.generate(req({ prompt: 'something forbidden' }), makeCtx()));
    expect(err).toMatchObject({ code: 'MODERATION' });
    expect(err.message).toMatch(/AI Horde refused this prompt under its content policy: The prompts was rejected as unethical/);
    expect(isProviderSideFailure(err)).toBe(false);
  });

  it('restart mid-job follows the same request by id: no second create', async () => {
    const horde = await setup();
    await horde.generate(req({ prompt: 'first', count: 1 }), makeCtx());
    const id = [...fake.wps.keys()][0]!;
    const resumed = await horde.generate(req({ prompt: 'first', count: 1 }), makeCtx({ resume: { intent: { key: 'k', operation: 'generate', body: {} }, providerJobId: id } }));
    expect(resumed.images).toHaveLength(1);
    expect(fake.creates).toBe(1);
    // Intent recorded but no id: the create may have gone out, and the Horde has no lookup by key.
    expect(await caught(() => horde.generate(req({ prompt: 'x' }), makeCtx({ resume: { intent: { key: 'k', operation: 'generate', body: {} } } })))).toMatchObject({ code: 'UNKNOWN_OUTCOME' });
    expect(fake.creates).toBe(1);
  });

  it('cancel deletes the request at the Horde', async () => {
    const horde = await setup({ checksToDone: 1000 });
    const ac = new AbortController();
    const running = caught(() => horde.generate(req({ prompt: 'slow', count: 1 }), makeCtx({ signal: ac.signal })));
    await expect.poll(() => [...fake.wps.values()][0]?.checks ?? 0).toBeGreaterThan(0);
    ac.abort(new Error('canceled'));
    await running;
    await expect.poll(() => [...fake.wps.values()][0]!.canceled).toBe(true);
  });

  it('faults: 5xx on the create is an unknown outcome (never re-sent); a flaky check is waited out; garbage is unreadable', async () => {
    const horde = await setup();
    fake.server.inject({ route: 'POST /api/v2/generate/async', kind: 'status', status: 503, body: { message: 'maintenance', rc: 'MaintenanceMode' } });
    expect(await caught(() => horde.generate(req({ prompt: 'x' }), makeCtx()))).toMatchObject({ code: 'UNKNOWN_OUTCOME' });
    expect(creates()).toHaveLength(1);
    fake.server.inject({ route: 'GET /api/v2/generate/check/*', kind: 'status', status: 502, times: 2 });
    expect((await horde.generate(req({ prompt: 'x', count: 1 }), makeCtx())).images).toHaveLength(1);
    fake.server.inject({ route: 'POST /api/v2/generate/async', kind: 'garble' });
    expect(await caught(() => horde.generate(req({ prompt: 'x' }), makeCtx()))).toMatchObject({ code: 'UNKNOWN_OUTCOME' });
  });

  it('doctor: anonymous says so; a key reports the account and its kudos; a wrong key fails naming the setting', async () => {
    await setup();
    expect((await configured.doctor())[0]).toMatchObject({ ok: true, detail: expect.stringMatching(/anonymous/) });
    const named = providersFor({ AI_HORDE_API_KEY: 'k-ann', AI_HORDE_URL: fake.url });
    expect((await named.doctor())[0]).toEqual({ provider: 'horde', ok: true, detail: 'key accepted: ann#12, 4321 kudos' });
    await named.close();
    const wrong = providersFor({ AI_HORDE_API_KEY: 'k-wrong', AI_HORDE_URL: fake.url });
    expect((await wrong.doctor())[0]).toMatchObject({ ok: false, detail: expect.stringMatching(/AI_HORDE_API_KEY/) });
    await wrong.close();
  });
});
