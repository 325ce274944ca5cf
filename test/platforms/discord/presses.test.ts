import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buttonPress, GUILD_ID, PERMISSIONS as P, slashCommand, type FakeChannel, type FakeMember } from '../../fakes/discord/interactions.ts';
import type { FakeMessage } from '../../fakes/discord/fake-discord.ts';
import { heldUpscaleProvider, sketchProvider } from '../../helpers/capability-providers.ts';
import { startHarness, type Harness } from './harness.ts';

const MEMBER = P.SEND_MESSAGES | P.USE_APPLICATION_COMMANDS;
const owner: FakeMember = { id: '100000000000000040', name: 'owner', permissions: MEMBER | P.ADMINISTRATOR };
const dana: FakeMember = { id: '100000000000000041', name: 'dana', permissions: MEMBER };
const eli: FakeMember = { id: '100000000000000042', name: 'eli', permissions: MEMBER };
const QUOTA_ROOM: FakeChannel = { id: '400000000000000201' };

describe('Discord presses: quotas that hold, presses that cannot succeed, repeated presses, capability buttons', () => {
  let h: Harness;
  const held = heldUpscaleProvider();
  beforeAll(async () => {
    h = await startHarness({ providers: [sketchProvider, held] });
  });
  afterAll(() => h.close());

  async function command(user: FakeMember, name: string, options: Record<string, string | number | boolean>, at?: FakeChannel): Promise<FakeMessage> {
    const i = slashCommand(h.fake.applicationId, user, name, options, undefined, at);
    expect((await h.fake.post(i)).status).toBe(200);
    return h.waitFor((x) => x.token === i.token && !x.loading && x.content !== '', `answer to /${name}`);
  }
  const result = (prompt: string) => h.waitFor((m) => m.content.includes(prompt) && /Done in/.test(m.content), `${prompt} result`);
  const buttons = (m: FakeMessage) => m.components.flatMap((r) => r.components);
  async function press(user: FakeMember, message: FakeMessage, customId: string, at?: FakeChannel) {
    const i = buttonPress(h.fake.applicationId, user, h.fake.apiMessage(message.id), customId, undefined, at);
    expect((await h.fake.post(i)).body).toEqual({ type: 6 });
    return i;
  }
  const replyTo = (token: string, what: string) => h.waitFor((m) => m.token === token && m.ephemeral && m.content !== '', what);
  const jobCount = async () => (await h.app.atelier.store.listJobs({})).length;

  it('the daily quota counts jobs in a ledger: deleting jobs does not give it back, and the refusal says jobs', async () => {
    await command(owner, 'settings', { scope: 'channel', daily_quota: 2 }, QUOTA_ROOM);
    for (const prompt of ['a first lantern', 'a second lantern']) {
      await command(dana, 'imagine', { prompt, provider: 'local', count: 1 }, QUOTA_ROOM);
      const done = await result(prompt);
      await h.discord.messages.idle();
      const del = buttons(done).find((b) => b.emoji?.name === '🗑️')!;
      await press(dana, done, del.custom_id!, QUOTA_ROOM);
      await h.waitFor(() => [...h.fake.messages.values()].every((m) => m.deleted || !m.content.includes(prompt)), `${prompt} deleted`);
    }
    const refused = await command(dana, 'imagine', { prompt: 'a third lantern', provider: 'local', count: 1 }, QUOTA_ROOM);
    expect(refused.ephemeral).toBe(true);
    expect(refused.content).toMatch(/used your 2 jobs for today/);
    expect((await h.app.atelier.store.listJobs({})).some((j) => j.request.prompt === 'a third lantern')).toBe(false);
  });

  it('a provider without upscale gets no U buttons; a hand-made U1 press queues nothing and uses no quota', async () => {
    await command(eli, 'imagine', { prompt: 'a charcoal heron', provider: 'sketch', count: 2 });
    const done = await result('a charcoal heron');
    await h.discord.messages.idle();
    const labels = buttons(done).map((b) => b.label ?? b.emoji?.name);
    expect(labels.some((l) => /^U\d$/.test(String(l)))).toBe(false);
    expect(labels.some((l) => /^V\d$/.test(String(l)))).toBe(false);
    expect(labels).toEqual(expect.arrayContaining(['Reroll', 'Remix']));
    const job = (await h.app.atelier.store.listJobs({})).find((j) => j.request.prompt === 'a charcoal heron')!;
    const jobsBefore = await jobCount();
    const usedBefore = await h.app.atelier.store.countUsageSince('discord', eli.id, 0);
    const i = await press(eli, done, `a:upscale:1:${job.id}`);
    expect((await replyTo(i.token, 'refusal')).content).toMatch(/Sketch cannot upscale/);
    expect(await jobCount()).toBe(jobsBefore);
    expect(await h.app.atelier.store.countUsageSince('discord', eli.id, 0)).toBe(usedBefore);
  });

  it('pressing U1 again while its upscale runs answers "already on it" with a link to that job, and queues nothing more', async () => {
    await command(eli, 'imagine', { prompt: 'a patient tortoise', provider: 'held', count: 2 });
    const done = await result('a patient tortoise');
    await h.discord.messages.idle();
    const u1 = buttons(done).find((b) => b.label === 'U1')!;
    const first = await press(eli, done, u1.custom_id!);
    const parent = (await h.app.atelier.store.listJobs({})).find((j) => j.request.prompt === 'a patient tortoise' && !j.parentId)!;
    const upscales = async () => (await h.app.atelier.store.listJobs({})).filter((j) => j.parentId === parent.id);
    const child = await new Promise<string>((resolve) => {
      const poll = async () => {
        const c = await upscales();
        if (c.length) resolve(c[0]!.id);
        else setTimeout(() => void poll(), 20);
      };
      void poll();
    });
    const childMessage = await h.waitFor((m) => m.token === first.token && !m.ephemeral && m.content.includes('Upscale'), 'upscale message');
    const again = await Promise.all(Array.from({ length: 20 }, () => press(eli, done, u1.custom_id!)));
    for (const i of again) {
      const reply = await replyTo(i.token, 'already on it');
      expect(reply.content).toMatch(new RegExp(`Already on it: .*job ${child}`));
      expect(reply.content).toContain(`https://discord.com/channels/${GUILD_ID}/${childMessage.channelId}/${childMessage.id}`);
    }
    expect(await upscales()).toHaveLength(1);
    held.release();
    await h.waitFor((m) => m.id === childMessage.id && /Done in/.test(m.content), 'upscale done');
    // Once it is done, the same button makes a new upscale again.
    const later = await press(eli, done, u1.custom_id!);
    await h.waitFor((m) => m.token === later.token && !m.ephemeral && m.content.includes('Upscale'), 'second upscale');
    expect(await upscales()).toHaveLength(2);
  });

  it('sent nothing Discord would refuse', () => {
    expect(h.fake.violations).toEqual([]);
  });
});
