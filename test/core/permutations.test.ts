import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.ts';
import { expandPrompt } from '../../src/core/permutations.ts';
import { alice, createHarness, here, type Harness } from '../helpers/harness.ts';

let h: Harness;
afterEach(async () => h?.close());

const refusal = async (p: Promise<unknown>): Promise<UserError> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
};

describe('permutations through the core service', () => {
  it('a permutation that does not fit the queue queues none of its jobs', async () => {
    h = await createHarness({ limits: { maxQueuedPerUser: 3 } });
    const err = await refusal(h.atelier.imagineAll({ prompt: 'a {red, green, blue, grey} car', count: 1 }, alice, here));
    expect(err.code).toBe('QUEUE_FULL');
    expect(err.message).toMatch(/makes 4 jobs but your queue has room for 3/);
    expect(await h.atelier.store.listJobs({})).toEqual([]);
  });

  it('one combination that fails its checks stops the whole permutation before anything is queued', async () => {
    h = await createHarness();
    const err = await refusal(h.atelier.imagineAll({ prompt: 'a car --{seed 3, bogus 1}' }, alice, here));
    expect(err.code).toBe('UNKNOWN_FLAG');
    expect(await h.atelier.store.listJobs({})).toEqual([]);
  });

  it('flags can be permuted too, and each job keeps the typed options', async () => {
    h = await createHarness();
    const out = await h.atelier.imagineAll({ prompt: 'a car --ar {1:1, 16:9}', count: 1, seed: 5 }, alice, here);
    expect('jobs' in out && out.jobs.map((j) => [j.request.aspectRatio, j.request.seed, j.request.count])).toEqual([
      ['1:1', 5, 1],
      ['16:9', 5, 1],
    ]);
  });
});

describe('expandPrompt (the grammar)', () => {
  it('expands nested and multiple groups in order, keeps escaped braces and commas, and counts repeats', () => {
    expect(expandPrompt('a {b, c {d, e}} f').prompts).toEqual(['a b f', 'a c d f', 'a c e f']);
    expect(expandPrompt('\\{x\\} {1\\, 2, 3}').prompts).toEqual(['{x} 1, 2', '{x} 3']);
    expect(expandPrompt('pine --r=2 --yes')).toEqual({ prompts: ['pine', 'pine'], confirmed: true });
    expect(() => expandPrompt('a {b, c')).toThrow(/no matching \}/);
    expect(expandPrompt('{a,b,c} --repeat 4').prompts).toHaveLength(12);
    expect(() => expandPrompt('{a,b,c,d} --repeat 4')).toThrow(/makes 16 jobs \(with --repeat 4\); the limit here is 12/);
    expect(() => expandPrompt('{a,b,c} {d,e,f} {g,h}')).toThrow(/makes 18 jobs; the limit here is 12/);
  });
});
