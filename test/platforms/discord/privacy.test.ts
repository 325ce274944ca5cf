import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIInteraction } from 'discord-api-types/v10';
import { buttonPress, slashCommand, type FakeMember } from '../../fakes/discord/interactions.ts';
import type { Job } from '../../../src/core/job.ts';
import { alice, bob, startHarness, type Harness } from './harness.ts';

/** A member of another channel of the same server, who never saw the job's message. */
const eve: FakeMember = { id: '100000000000000005', name: 'eve' };
/** A moderator, but in another channel. */
const otherMod: FakeMember = { id: '100000000000000006', name: 'othermod', canManage: true };
const OTHER_CHANNEL = '400000000000000099';

/** The same interaction as Discord would send it from another channel. */
function fromChannel<T extends APIInteraction>(i: T, channelId: string): T {
  const channel = (i as { channel?: Record<string, unknown> }).channel;
  return { ...i, channel_id: channelId, ...(channel ? { channel: { ...channel, id: channelId, name: 'elsewhere' } } : {}) };
}

describe('Discord: a job is seen only by whom it is for', () => {
  let h: Harness;
  let secret: Job;
  let open: Job;
  beforeAll(async () => {
    h = await startHarness({ env: { MAX_CONCURRENT_PER_USER: '8' } });
    await h.imagine(alice, { prompt: 'a private lighthouse', provider: 'local', count: 2, private: true });
    await h.imagine(alice, { prompt: 'a public harbour', provider: 'local', count: 2 });
    await h.waitFor((m) => m.content.includes('a private lighthouse') && m.content.includes('Done in'), 'private result');
    await h.waitFor((m) => m.content.includes('a public harbour') && m.content.includes('Done in'), 'public result');
    await h.discord.messages.idle();
    const jobs = await h.app.atelier.store.listJobs({});
    secret = jobs.find((j) => j.request.prompt === 'a private lighthouse')!;
    open = jobs.find((j) => j.request.prompt === 'a public harbour')!;
  });
  afterAll(() => h.close());

  /** Presses a hand-made button id; returns the callback body and the text the presser then got. */
  async function forge(user: FakeMember, customId: string, channelId?: string): Promise<{ body?: Record<string, unknown>; text: string; id: string }> {
    const anyMessage = [...h.fake.messages.values()].find((m) => !m.deleted && !m.ephemeral)!;
    const base = buttonPress(h.fake.applicationId, user, h.fake.apiMessage(anyMessage.id), customId);
    const press = channelId ? fromChannel(base, channelId) : base;
    const res = await h.fake.post(press);
    expect(res.status).toBe(200);
    if (res.body?.type === 4) return { body: res.body, text: JSON.stringify(res.body), id: press.id };
    if (res.body?.type === 9) return { body: res.body, text: JSON.stringify(res.body), id: press.id };
    const reply = await h.waitFor((m) => m.token === press.token && m.ephemeral, `answer to ${customId}`);
    return { body: res.body, text: reply.content, id: press.id };
  }

  async function command(user: FakeMember, name: string, options: Record<string, string | number | boolean>, channelId?: string): Promise<string> {
    const base = slashCommand(h.fake.applicationId, user, name, options);
    const i = channelId ? fromChannel(base, channelId) : base;
    await h.fake.post(i);
    return (await h.waitFor((m) => m.token === i.token && !m.loading, `answer to /${name}`)).content;
  }

  it('a member of another channel with hand-made ids reads nothing, gets no Remix form and no upscale of a private job', async () => {
    const before = (await h.app.atelier.store.listJobs({})).length;
    const details = await forge(eve, `a:details:0:${secret.id}`, OTHER_CHANNEL);
    expect(details.text).not.toContain('a private lighthouse');
    expect(details.text).toMatch(/no longer exists, or is not yours to see/);
    const remix = await forge(eve, `a:remix:0:${secret.id}`, OTHER_CHANNEL);
    expect(remix.body?.type).not.toBe(9);
    expect(h.fake.modalOf(remix.id)).toBeUndefined();
    expect(remix.text).not.toContain('a private lighthouse');
    const up = await forge(eve, `a:upscale:1:${secret.id}`, OTHER_CHANNEL);
    expect(up.text).toMatch(/not yours to see/);
    expect((await h.app.atelier.store.listJobs({})).length).toBe(before);
    expect(await command(eve, 'info', { job: secret.id }, OTHER_CHANNEL)).not.toContain('a private lighthouse');
  });

  it('in the job\'s own channel, another member cannot open a private job either; its owner can', async () => {
    const before = (await h.app.atelier.store.listJobs({})).length;
    for (const id of [`a:details:0:${secret.id}`, `a:upscale:2:${secret.id}`, `a:reroll:0:${secret.id}`, `a:delete:0:${secret.id}`]) {
      expect((await forge(bob, id)).text, id).toMatch(/not yours to see/);
    }
    const remix = await forge(bob, `a:remix:0:${secret.id}`);
    expect(h.fake.modalOf(remix.id)).toBeUndefined();
    expect(await command(bob, 'info', { job: secret.id })).not.toContain('a private lighthouse');
    expect((await h.app.atelier.store.listJobs({})).length).toBe(before);
    expect(await h.app.atelier.getJob(secret.id)).toBeDefined();

    expect((await forge(alice, `a:details:0:${secret.id}`)).text).toMatch(/Prompt: a private lighthouse/);
    const own = await forge(alice, `a:remix:0:${secret.id}`);
    expect(JSON.stringify(h.fake.modalOf(own.id))).toContain('a private lighthouse');
    expect(await command(alice, 'info', { job: secret.id }, OTHER_CHANNEL)).toMatch(/Prompt: a private lighthouse/);
  });

  it('a public job is seen from its own channel only, moderators included', async () => {
    expect((await forge(bob, `a:details:0:${open.id}`)).text).toMatch(/Prompt: a public harbour/);
    expect(await command(bob, 'info', { job: open.id })).toMatch(/Prompt: a public harbour/);
    const before = (await h.app.atelier.store.listJobs({})).length;
    expect((await forge(eve, `a:details:0:${open.id}`, OTHER_CHANNEL)).text).not.toContain('a public harbour');
    expect(h.fake.modalOf((await forge(eve, `a:remix:0:${open.id}`, OTHER_CHANNEL)).id)).toBeUndefined();
    expect((await forge(eve, `a:vary:1:${open.id}`, OTHER_CHANNEL)).text).toMatch(/not yours to see/);
    expect((await forge(otherMod, `a:delete:0:${open.id}`, OTHER_CHANNEL)).text).toMatch(/not yours to see/);
    expect(await command(otherMod, 'cancel', { job: open.id }, OTHER_CHANNEL)).toMatch(/not yours to see/);
    expect(await h.app.atelier.getJob(open.id)).toBeDefined();
    expect((await h.app.atelier.store.listJobs({})).length).toBe(before);
  });

  it('/queue shows others\' private jobs as "(private job of @x)", and the owner their own prompt', async () => {
    await h.imagine(alice, { prompt: 'a secret waiting room', provider: 'slow', private: true });
    await h.imagine(bob, { prompt: 'an open waiting room', provider: 'slow' });
    await h.waitFor((m) => m.content.includes('a secret waiting room') && m.content.includes('Drawing'), 'private running');
    await h.waitFor((m) => m.content.includes('an open waiting room') && m.content.includes('Drawing'), 'public running');
    const seenByBob = await command(bob, 'queue', {});
    expect(seenByBob).toContain('(private job of @alice)');
    expect(seenByBob).not.toContain('a secret waiting room');
    expect(seenByBob).toContain('bob: an open waiting room');
    const seenByMod = await command({ id: '100000000000000003', name: 'mod', canManage: true }, 'queue', {});
    expect(seenByMod).not.toContain('a secret waiting room');
    expect(await command(alice, 'queue', {})).toContain('alice: a secret waiting room');
    await command(alice, 'cancel', {});
    await command(bob, 'cancel', {});
  });

  it('sent nothing Discord would refuse', () => {
    expect(h.fake.violations).toEqual([]);
  });
});
