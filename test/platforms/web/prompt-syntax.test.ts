import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiAnswer } from '../../../src/platforms/web/api.ts';
import { startPlayground, type Playground } from './harness.ts';

type Answer = ApiAnswer & { error?: { code: string; message: string } };

/** A browser's session: the server-issued cookie and the user id it stands for. */
async function session(pg: Playground): Promise<{ cookie: string; id: string }> {
  const res = await fetch(`${pg.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  return { cookie: res.headers.get('set-cookie')!.split(';')[0]!, id: ((await res.json()) as { user: { id: string } }).user.id };
}

/** The playground's own command endpoint, with the text a user types in the composer. */
async function command(pg: Playground, user: { cookie: string; name: string }, text: string): Promise<{ status: number; data: Answer }> {
  const res = await fetch(`${pg.url}/api/command`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: user.cookie }, body: JSON.stringify({ user: { name: user.name }, text }) });
  return { status: res.status, data: (await res.json()) as Answer };
}

describe('playground: permutations and /prefer typed as text', () => {
  let pg: Playground;
  beforeAll(async () => {
    pg = await startPlayground();
  });
  afterAll(() => pg.stop());

  const jobsOf = async (userId: string) => (await pg.atelier.store.listJobs({ ownerId: userId, platform: 'web' })).sort((a, b) => a.createdAt - b.createdAt);

  it('a permutation is confirmed with --yes and queues one job per combination', async () => {
    const u = { ...(await session(pg)), name: 'Perm' };
    const asked = await command(pg, u, '/imagine a {red, green, blue} {kite, boat} --count 1');
    expect(asked.status).toBe(200);
    expect(asked.data).toMatchObject({ type: 'text', ephemeral: true });
    expect((asked.data as { text: string }).text).toMatch(/This makes 6 jobs[\s\S]*• a blue boat[\s\S]*--yes/);
    expect(await jobsOf(u.id)).toEqual([]);
    const done = await command(pg, u, '/imagine a {red, green, blue} {kite, boat} --count 1 --yes');
    expect(done.status).toBe(200);
    expect((done.data as { text: string }).text).toMatch(/Queued 6 jobs/);
    expect((await jobsOf(u.id)).map((j) => j.request.prompt).sort()).toEqual(['a blue boat', 'a blue kite', 'a green boat', 'a green kite', 'a red boat', 'a red kite']);
  });

  it('/prefer suffix and option set typed as text apply to later prompts', async () => {
    const u = { ...(await session(pg)), name: 'Pref' };
    expect((await command(pg, u, '/prefer suffix --ar 3:2')).status).toBe(200);
    const set = await command(pg, u, '/prefer option set calm --chaos 5 --seed 9');
    expect((set.data as { text: string }).text).toMatch(/--calm in a prompt now stands for --chaos 5 --seed 9/);
    expect((await command(pg, u, '/imagine a quiet lake --calm --count 1')).status).toBe(200);
    expect((await jobsOf(u.id))[0]!.request).toMatchObject({ prompt: 'a quiet lake', aspectRatio: '3:2', chaos: 5, seed: 9 });
    const clash = await command(pg, u, '/imagine a quiet lake --calm --chaos 50');
    expect(clash.status).toBe(400);
    expect(clash.data.error?.message).toMatch(/set the same thing twice/);
    expect((await command(pg, u, '/prefer list')).data).toMatchObject({ type: 'text', ephemeral: true, text: expect.stringMatching(/suffix: --ar 3:2[\s\S]*--calm = --chaos 5 --seed 9/) });
  });
});
