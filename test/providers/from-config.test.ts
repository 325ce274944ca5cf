import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllImagesFake } from '../fakes/providers/allimages-fake.ts';
import { LeonardoFake } from '../fakes/providers/leonardo-fake.ts';
import { PomeloFake } from '../fakes/providers/pomelo-fake.ts';
import { providersFor } from './helpers.ts';

let ai: AllImagesFake;
let leo: LeonardoFake;
let pomelo: PomeloFake;
beforeAll(async () => {
  [ai, leo, pomelo] = await Promise.all([new AllImagesFake().start(), new LeonardoFake().start(), new PomeloFake().start()]);
});
afterAll(async () => {
  await Promise.all([ai.close(), leo.close(), pomelo.close()]);
});

describe('createProvidersFromConfig', () => {
  it('builds only what is configured', async () => {
    const none = providersFor({});
    expect(none.providers).toEqual([]);
    expect(none.routes).toEqual([]);
    expect(await none.doctor()).toEqual([]);
  });

  it('builds every configured provider, their webhook routes and a doctor that never throws', async () => {
    const all = providersFor({
      ALLIMAGES_API_KEY: ai.apiKey,
      ALLIMAGES_API_URL: ai.url,
      LEONARDO_API_KEY: 'wrong-key',
      LEONARDO_API_URL: leo.baseUrl,
      LEONARDO_WEBHOOK_TOKEN: 'tok',
      POMELO_API_KEY: pomelo.apiKey,
      POMELO_API_URL: pomelo.url,
    });
    expect(all.providers.map((p) => p.id)).toEqual(['allimages', 'leonardo', 'midjourney', 'flux']);
    expect(all.routes.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /webhooks/allimages', 'POST /webhooks/leonardo']);
    const lines = await all.doctor();
    expect(lines.map((l) => [l.provider, l.ok])).toEqual([
      ['allimages', true],
      ['leonardo', false],
      ['midjourney', true],
      ['flux', true],
    ]);
    expect(lines[1]!.detail).toMatch(/LEONARDO_API_KEY/);
    expect(JSON.stringify(lines)).not.toContain('wrong-key');
    for (const p of all.providers) {
      expect(p.capabilities.maxCount).toBeGreaterThan(0);
      expect(p.displayName).toBeTruthy();
    }
    await all.close();
  });
});
