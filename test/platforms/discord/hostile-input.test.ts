import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slashCommand } from '../../fakes/discord/interactions.ts';
import { alice, startHarness, type Harness } from './harness.ts';

/** Hostile but validly signed interactions: each gets a clear answer, and nothing odd is stored. */
describe('Discord /imagine: hostile input gets a clear answer, never a surprise', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  const jobsWith = async (prompt: string) => (await h.app.atelier.store.listJobs({})).filter((j) => j.request.prompt === prompt);
  const contentOf = (body: Record<string, unknown> | undefined) => String((body?.data as { content?: string } | undefined)?.content ?? '');

  it('an option named __proto__ does not become the prototype that supplies prompt and private', async () => {
    const i = slashCommand(h.fake.applicationId, alice, 'imagine', { prompt: 'placeholder' });
    (i.data as { options: unknown[] }).options = [{ name: '__proto__', type: 3, value: { prompt: 'a sneaky fox', private: true, provider: 'local' } }];
    const res = await h.fake.post(i);
    expect(res.status).toBe(200);
    expect(contentOf(res.body)).toMatch(/prompt/);
    expect(await jobsWith('a sneaky fox')).toEqual([]);
  });

  it('options named constructor and prototype are unknown names, nothing more', async () => {
    const i = slashCommand(h.fake.applicationId, alice, 'imagine', { prompt: 'a plain fox', provider: 'local', constructor: 'x', prototype: 'y' });
    const res = await h.fake.post(i);
    expect(res.body).toMatchObject({ type: 5 });
    await h.waitFor((m) => m.content.includes('a plain fox') && m.content.includes('Done in'), 'the plain fox');
    expect(await jobsWith('a plain fox')).toHaveLength(1);
  });

  it('seed=1e21 is refused in plain words naming the range', async () => {
    const res = await h.imagine(alice, { prompt: 'a huge seed', provider: 'local', seed: 1e21 });
    expect(contentOf(res.body)).toMatch(/seed: must be a whole number from 0 to 4294967295/);
    expect(contentOf(res.body)).not.toMatch(/9007199254740991/);
  });

  it('a prompt of only zero-width characters is refused as empty; NUL, BEL and ESC are not stored', async () => {
    const empty = await h.imagine(alice, { prompt: '\u200B\u200C\u2060\uFEFF', provider: 'local' });
    expect(contentOf(empty.body)).toMatch(/write a prompt/);
    const res = await h.imagine(alice, { prompt: 'a \u0000quiet\u0007 bell\u001B tower 👩\u200D💻', provider: 'local' });
    expect(res.body).toMatchObject({ type: 5 });
    await h.waitFor((m) => m.content.includes('a quiet bell tower') && m.content.includes('Done in'), 'the cleaned prompt');
    expect(await jobsWith('a quiet bell tower 👩\u200D💻')).toHaveLength(1);
  });

  it('--seed 0x10 is refused rather than read as 16', async () => {
    await h.imagine(alice, { prompt: 'a hex moth --seed 0x10', provider: 'local' });
    await h.waitFor((m) => m.content.includes('--seed must be a whole number from 0 to 4294967295, not "0x10"'), 'the seed refusal');
    expect(await jobsWith('a hex moth')).toEqual([]);
  });

  it('--ar 9999:1 is refused with the bound named', async () => {
    await h.imagine(alice, { prompt: 'a sliver --ar 9999:1', provider: 'local' });
    await h.waitFor((m) => m.content.includes('--ar 9999:1 is too far from square: use a ratio from 1:4 to 4:1'), 'the ratio refusal');
    expect(await jobsWith('a sliver')).toEqual([]);
  });

  it('--ar=16:9 sets the aspect ratio and leaves the prompt', async () => {
    await h.imagine(alice, { prompt: 'a wide dune --ar=16:9', provider: 'local' });
    await h.waitFor((m) => m.content.includes('a wide dune') && m.content.includes('Done in'), 'the wide dune');
    const [job] = await jobsWith('a wide dune');
    expect(job?.request.aspectRatio).toBe('16:9');
  });

  it('--tile=yes names the flag that takes no value', async () => {
    await h.imagine(alice, { prompt: 'a tiled floor --tile=yes', provider: 'local' });
    await h.waitFor((m) => m.content.includes('--tile takes no value'), 'the bare-flag refusal');
  });
});
