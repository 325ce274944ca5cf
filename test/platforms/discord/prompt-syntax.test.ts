import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageProvider } from '../../../src/core/provider.ts';
import type { Job } from '../../../src/core/job.ts';
import { slashCommand, type FakeMember } from '../../fakes/discord/interactions.ts';
import { startHarness, type Harness } from './harness.ts';

/** A Midjourney-backed stand-in: takes advanced (verbatim) prompts; records what it was sent. */
const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d6a8b20000000049454e44ae426082', 'hex');
const sent: unknown[] = [];
const mjLike: ImageProvider = {
  id: 'mjlike',
  displayName: 'MJ-like',
  capabilities: { modes: ['simple', 'advanced'], fields: ['aspectRatio', 'seed'], aspectRatios: 'any', maxCount: 4, upscale: false, variations: false, progressPercent: false, previews: false, webhooks: false },
  async generate(request) {
    sent.push(request);
    return { images: [{ bytes: png, mime: 'image/png', width: 1, height: 1 }] };
  },
};

const member = (n: number, name: string, canManage = false): FakeMember => ({ id: `2000000000000000${String(n).padStart(2, '0')}`, name, ...(canManage ? { canManage } : {}) });
const mod = member(99, 'mod', true);

describe('Discord: permutations, --repeat, :: multi-prompts and /prefer presets', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ providers: [mjLike], env: { MAX_CONCURRENT_PER_USER: '8' } });
  });
  afterAll(() => h.close());

  /** Runs a command over Discord HTTP and returns the text of its answer once it is there. */
  async function run(user: FakeMember, name: string, options: Record<string, string | number | boolean>): Promise<{ text: string; ephemeral: boolean }> {
    const i = slashCommand(h.fake.applicationId, user, name, options);
    const res = await h.fake.post(i);
    expect(res.status).toBe(200);
    const m = res.body?.type === 4 ? [...h.fake.messages.values()].find((x) => x.token === i.token)! : await h.waitFor((x) => x.token === i.token && !x.loading, `answer to /${name}`);
    return { text: m.content, ephemeral: m.ephemeral };
  }

  const jobsOf = async (user: FakeMember): Promise<Job[]> => (await h.app.atelier.store.listJobs({ ownerId: user.id, platform: 'discord' })).sort((a, b) => a.createdAt - b.createdAt);

  it('a {red, green} bird queues one ordinary job per colour, each with its own message', async () => {
    const u = member(1, 'perm');
    await run(u, 'imagine', { prompt: 'a {red, green} bird --seed 4', provider: 'local', count: 1 });
    const jobs = await jobsOf(u);
    expect(jobs.map((j) => j.request.prompt).sort()).toEqual(['a green bird', 'a red bird']);
    expect(jobs.every((j) => j.request.seed === 4 && j.action.kind === 'imagine' && j.owner.userId === u.id)).toBe(true);
    for (const colour of ['red', 'green']) await h.waitFor((m) => m.content.includes(`a ${colour} bird`) && m.content.includes('Done in'), `${colour} bird done`);
  });

  it('nested and multiple braces multiply; above four jobs it asks for --yes and queues nothing until then', async () => {
    const u = member(2, 'nest');
    const prompt = 'a {big {red, blue}, small} {cat, dog}';
    const asked = await run(u, 'imagine', { prompt, provider: 'local', count: 1 });
    expect(asked.ephemeral).toBe(true);
    expect(asked.text).toMatch(/This makes 6 jobs/);
    expect(asked.text).toMatch(/--yes/);
    expect(await jobsOf(u)).toEqual([]);
    await run(u, 'imagine', { prompt: `${prompt} --yes`, provider: 'local', count: 1 });
    expect((await jobsOf(u)).map((j) => j.request.prompt).sort()).toEqual(['a big blue cat', 'a big blue dog', 'a big red cat', 'a big red dog', 'a small cat', 'a small dog']);
  });

  it('more than 12 jobs, or more than the channel allows, is refused naming the limit', async () => {
    const u = member(3, 'cap');
    const tooMany = await run(u, 'imagine', { prompt: 'a {1,2,3,4} {a,b,c,d} tree --yes', provider: 'local' });
    expect(tooMany.ephemeral).toBe(true);
    expect(tooMany.text).toMatch(/makes 16 jobs; the limit here is 12/);
    expect((await run(mod, 'settings', { scope: 'channel', max_jobs: 2 })).text).toMatch(/maxJobsPerPrompt: 2/);
    const overPolicy = await run(u, 'imagine', { prompt: 'a {oak, elm, ash} tree', provider: 'local' });
    expect(overPolicy.text).toMatch(/makes 3 jobs; the limit here is 2/);
    expect(await jobsOf(u)).toEqual([]);
    await run(mod, 'settings', { scope: 'channel', max_jobs: 12 });
  });

  it('--repeat N queues N jobs of the same prompt, and is bounded', async () => {
    const u = member(4, 'rep');
    await run(u, 'imagine', { prompt: 'a lone pine --repeat 3', provider: 'local', count: 1 });
    const jobs = await jobsOf(u);
    expect(jobs.map((j) => j.request.prompt)).toEqual(['a lone pine', 'a lone pine', 'a lone pine']);
    expect(jobs.every((j) => j.request.midjourney?.repeat === undefined)).toBe(true);
    const refused = await run(u, 'imagine', { prompt: 'a lone pine --repeat 9', provider: 'local' });
    expect(refused.text).toMatch(/--repeat must be a whole number from 1 to 4/);
    expect(await jobsOf(u)).toHaveLength(3);
  });

  it(':: multi-prompts are refused in simple mode and sent verbatim in advanced mode', async () => {
    const u = member(5, 'multi');
    const refused = await run(u, 'imagine', { prompt: 'space:: ship::2', provider: 'local' });
    expect(refused.ephemeral).toBe(true);
    expect(refused.text).toMatch(/Multi-prompts with :: weights work only in advanced mode/);
    const simpleMj = await run(u, 'imagine', { prompt: 'space:: ship::2', provider: 'mjlike' });
    expect(simpleMj.text).toMatch(/add mode:advanced/);
    expect(await jobsOf(u)).toEqual([]);
    await run(u, 'imagine', { prompt: 'space:: ship::2 --v 6', provider: 'mjlike', mode: 'advanced' });
    const [job] = await jobsOf(u);
    expect(job!.request.rawPrompt).toBe('space:: ship::2 --v 6');
    await h.waitFor((m) => m.content.includes('space:: ship::2') && m.content.includes('Done in'), 'advanced multi-prompt done');
    expect(sent).toContainEqual(expect.objectContaining({ rawPrompt: 'space:: ship::2 --v 6' }));
  });

  it('/prefer suffix and option sets apply to /imagine, a clash is reported, and /settings shows them', async () => {
    const u = member(6, 'pref');
    expect((await run(u, 'prefer', { action: 'suffix', value: '--ar 16:9' })).text).toMatch(/Suffix saved/);
    await run(u, 'imagine', { prompt: 'a fox', provider: 'local', count: 1 });
    expect((await jobsOf(u))[0]!.request).toMatchObject({ prompt: 'a fox', aspectRatio: '16:9' });

    const clash = await run(u, 'imagine', { prompt: 'a fox --ar 1:1', provider: 'local' });
    expect(clash.ephemeral).toBe(true);
    expect(clash.text).toMatch(/--ar 1:1 and --ar 16:9 set the same thing twice/);

    expect((await run(u, 'prefer', { action: 'suffix', value: '-' })).text).toMatch(/Suffix cleared/);
    expect((await run(u, 'prefer', { action: 'option-set', name: 'moody', value: '--chaos 40 --seed 11' })).text).toMatch(/--moody in a prompt now stands for --chaos 40 --seed 11/);
    await run(u, 'imagine', { prompt: 'a fox at dusk --moody', provider: 'local', count: 1 });
    expect((await jobsOf(u))[1]!.request).toMatchObject({ prompt: 'a fox at dusk', chaos: 40, seed: 11 });
    const clash2 = await run(u, 'imagine', { prompt: 'a fox --moody --seed 2', provider: 'local' });
    expect(clash2.text).toMatch(/set the same thing twice/);
    expect(await jobsOf(u)).toHaveLength(2);

    const shadow = await run(u, 'prefer', { action: 'option-set', name: 'ar', value: '--ar 1:1' });
    expect(shadow.text).toMatch(/--ar is already a flag/);
    expect((await run(u, 'prefer', { action: 'list' })).text).toMatch(/--moody = --chaos 40 --seed 11/);
    expect((await run(u, 'settings', {})).text).toMatch(/optionSets: --moody = --chaos 40 --seed 11/);
    expect((await run(u, 'prefer', { action: 'option-delete', name: 'moody' })).text).toMatch(/Deleted --moody/);
    const gone = await run(u, 'imagine', { prompt: 'a fox --moody', provider: 'local' });
    expect(gone.text).toMatch(/--moody is not a flag Atelier knows/);
  });
});
