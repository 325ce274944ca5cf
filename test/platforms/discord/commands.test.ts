import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buttonPress, slashCommand, ping, type FakeMember } from '../../fakes/discord/interactions.ts';
import { imagine } from '../../../commands/imagine.ts';
import { toDiscordCommand } from '../../../src/platforms/discord/register.ts';
import { alice, bob, startHarness, type Harness } from './harness.ts';

const mod: FakeMember = { id: '100000000000000003', name: 'mod', canManage: true };

describe('Discord slash commands other than /imagine, and refusals', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { MAX_CONCURRENT_PER_USER: '8' } });
  });
  afterAll(() => h.close());

  /** Runs a command and returns the text of its (ephemeral) answer once it is there. */
  async function run(user: FakeMember, name: string, options: Record<string, string | number | boolean> = {}): Promise<{ text: string; ephemeral: boolean; type: unknown }> {
    const i = slashCommand(h.fake.applicationId, user, name, options);
    const res = await h.fake.post(i);
    expect(res.status).toBe(200);
    if (res.body?.type === 4) {
      const m = [...h.fake.messages.values()].find((x) => x.token === i.token)!;
      return { text: m.content, ephemeral: m.ephemeral, type: 4 };
    }
    const m = await h.waitFor((x) => x.token === i.token && !x.loading, `answer to /${name}`);
    return { text: m.content, ephemeral: m.ephemeral, type: res.body?.type };
  }

  it('PING is answered with PONG', async () => {
    expect((await h.fake.post(ping(h.fake.applicationId))).body).toEqual({ type: 1 });
  });

  it('/help lists the configured providers privately', async () => {
    const r = await run(alice, 'help');
    expect(r.ephemeral).toBe(true);
    expect(r.text).toMatch(/provider:local/);
    expect(r.text).toMatch(/provider:failing/);
  });

  it('/help names the options Discord registers no typed option for (--iw, --stylize) as prompt flags, not as options', async () => {
    // What the registration leaves out of /imagine is what /help must not offer as an option.
    const registered = toDiscordCommand(imagine as never).options!.map((o) => o.name);
    expect(registered).not.toContain('iw');
    expect(registered).not.toContain('stylize');
    const lines = (await run(alice, 'help')).text.split('\n');
    const at = lines.findIndex((l) => l.includes('(provider:local)'));
    const next = lines.findIndex((l, n) => n > at && l.startsWith('•'));
    const entry = lines.slice(at + 1, next < 0 ? undefined : next);
    const options = entry.find((l) => l.trim().startsWith('options:'))!.replace(/^\s*options:\s*/, '').split(', ');
    expect(options).toEqual(expect.arrayContaining(['seed', 'chaos']));
    for (const name of options) expect(registered, `/help offers ${name}`).toContain(name);
    expect(options).not.toContain('stylize');
    expect(options).not.toContain('iw');
    expect(entry.find((l) => l.includes('as flags'))).toMatch(/--stylize, --iw/);
  });

  it('/settings: a member sets a default; channel policy needs Manage Channels; a moderator sets it', async () => {
    expect((await run(alice, 'settings', { format: '16:9' })).text).toMatch(/format: 16:9/);
    const refused = await run(bob, 'settings', { scope: 'channel', buttons: 'owner' });
    expect(refused.ephemeral).toBe(true);
    expect(refused.text).toMatch(/Manage Channels/);
    expect((await run(mod, 'settings', { scope: 'channel', banned: 'kraken' })).text).toMatch(/bannedWords: kraken/);
  });

  it('a banned word is refused privately, saying who blocked it; nothing is queued', async () => {
    const before = (await h.app.atelier.store.listJobs({})).length;
    const r = await run(alice, 'imagine', { prompt: 'a kraken at sea', provider: 'local' });
    expect(r.ephemeral).toBe(true);
    expect(r.text).toMatch(/kraken/);
    expect(r.text).toMatch(/Blocked by this server's banned words/);
    expect((await h.app.atelier.store.listJobs({})).length).toBe(before);
    // The public "thinking…" of the deferred answer was removed, not left behind.
    expect([...h.fake.messages.values()].some((m) => !m.deleted && !m.ephemeral && m.loading)).toBe(false);
  });

  it('an option of the wrong shape is answered at once, privately, naming it', async () => {
    const r = await run(alice, 'imagine', { prompt: 'a cat', provider: 'local', chaos: 500 });
    expect(r.type).toBe(4);
    expect(r.ephemeral).toBe(true);
    expect(r.text).toMatch(/chaos/);
  });

  it('/queue shows the running job, /cancel cancels it, /info lists recent jobs', async () => {
    await h.imagine(alice, { prompt: 'a queue of geese', provider: 'slow' });
    await h.waitFor((m) => m.content.includes('a queue of geese') && m.content.includes('Drawing'), 'running geese');
    expect((await run(bob, 'queue')).text).toMatch(/alice: a queue of geese/);
    expect((await run(alice, 'cancel')).text).toMatch(/Canceled 1 job/);
    await h.waitFor((m) => m.content.includes('a queue of geese') && m.content.includes('Canceled'), 'canceled geese');
    expect((await run(alice, 'info')).text).toMatch(/a queue of geese/);
  });

  it('a user whose default is private gets an ephemeral result although the answer was deferred publicly', async () => {
    const carol: FakeMember = { id: '100000000000000004', name: 'carol' };
    expect((await run(carol, 'settings', { private: true })).text).toMatch(/private: true/);
    const res = await h.imagine(carol, { prompt: 'a private pond', provider: 'local', count: 1 });
    expect(res.body).toEqual({ type: 5 });
    const m = await h.waitFor((x) => x.content.includes('a private pond') && x.content.includes('Done in'), 'private result');
    expect(m.ephemeral).toBe(true);
    expect(m.visibleTo).toBe(carol.id);
    expect([...h.fake.messages.values()].some((x) => !x.deleted && !x.ephemeral && x.content.includes('a private pond'))).toBe(false);
    expect([...h.fake.messages.values()].some((x) => !x.deleted && x.loading)).toBe(false);
  });

  it('with the channel policy "owner", another member\'s 🔄 is refused privately and nothing is queued', async () => {
    await run(alice, 'cancel');
    expect((await run(mod, 'settings', { scope: 'channel', buttons: 'owner' })).text).toMatch(/buttons: owner/);
    await h.imagine(alice, { prompt: 'a guarded tower', provider: 'local', count: 1 });
    const grid = await h.waitFor((m) => m.content.includes('a guarded tower') && m.content.includes('Done in'), 'guarded result');
    await h.discord.messages.idle();
    const before = (await h.app.atelier.store.listJobs({})).length;
    const reroll = grid.components.flatMap((r) => r.components).find((c) => c.emoji?.name === '🔄')!;
    const press = buttonPress(h.fake.applicationId, bob, h.fake.apiMessage(grid.id), reroll.custom_id!);
    expect((await h.fake.post(press)).body).toEqual({ type: 6 });
    const refusal = await h.waitFor((m) => m.token === press.token && m.ephemeral, 'refusal');
    expect(refusal.visibleTo).toBe(bob.id);
    expect(refusal.content).toMatch(/Only alice can use the buttons/);
    expect((await h.app.atelier.store.listJobs({})).length).toBe(before);
    await run(mod, 'settings', { scope: 'channel', buttons: 'anyone' });
  });

  it('an unknown command says how to fix it', async () => {
    const r = await run(alice, 'dream');
    expect(r.text).toMatch(/atelier register/);
  });

  it('sent nothing Discord would refuse', () => {
    expect(h.fake.violations).toEqual([]);
  });
});
