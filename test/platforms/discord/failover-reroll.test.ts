import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buttonPress, PERMISSIONS as P, slashCommand, type FakeChannel, type FakeMember } from '../../fakes/discord/interactions.ts';
import type { FakeMessage } from '../../fakes/discord/fake-discord.ts';
import { advancedProvider, narrowProvider, rateLimitedProvider } from '../../helpers/capability-providers.ts';
import { startHarness, type Harness } from './harness.ts';

const MEMBER = P.SEND_MESSAGES | P.USE_APPLICATION_COMMANDS;
const owner: FakeMember = { id: '100000000000000050', name: 'owner', permissions: MEMBER | P.ADMINISTRATOR };
const fay: FakeMember = { id: '100000000000000051', name: 'fay', permissions: MEMBER };
const FALLBACK_ROOM: FakeChannel = { id: '400000000000000301' };

describe('Discord: failover re-resolves the request for the fallback; 🔄 drops the seed in advanced prompts', () => {
  let h: Harness;
  const mj = advancedProvider();
  beforeAll(async () => {
    h = await startHarness({ providers: [narrowProvider, rateLimitedProvider, mj] });
    await command(owner, 'settings', { scope: 'channel', fallback: 'narrow' }, FALLBACK_ROOM);
  });
  afterAll(() => h.close());

  async function command(user: FakeMember, name: string, options: Record<string, string | number | boolean>, at?: FakeChannel): Promise<FakeMessage> {
    const i = slashCommand(h.fake.applicationId, user, name, options, undefined, at);
    expect((await h.fake.post(i)).status).toBe(200);
    return h.waitFor((x) => x.token === i.token && !x.loading && x.content !== '', `answer to /${name}`);
  }
  const ended = (prompt: string) => h.waitFor((m) => m.content.includes(prompt) && /Done in|Failed/.test(m.content), `${prompt} ended`);
  const jobOf = async (prompt: string) => (await h.app.atelier.store.listJobs({})).find((j) => j.request.prompt === prompt && !j.parentId)!;

  it('a default the fallback cannot express is dropped with a visible note, and the job succeeds there', async () => {
    await command(fay, 'settings', { format: '16:9' }, FALLBACK_ROOM);
    await command(fay, 'imagine', { prompt: 'a drifting kite', provider: 'failing', count: 1 }, FALLBACK_ROOM);
    await ended('a drifting kite');
    const job = await jobOf('a drifting kite');
    expect(job.state).toBe('succeeded');
    expect(job.provider).toBe('narrow');
    expect(job.request.aspectRatio).toBeUndefined();
    expect(job.notes.join('\n')).toMatch(/Moved to Narrow after Always Failing failed/);
    expect(job.notes.join('\n')).toMatch(/Narrow cannot do aspect ratio .*your default for it was left out/);
    await command(fay, 'settings', { reset: 'format' }, FALLBACK_ROOM);
  });

  it('what the user asked for and the fallback cannot do stops the move, and the job says why', async () => {
    await command(fay, 'imagine', { prompt: 'a seeded kite --seed 5', provider: 'failing', count: 1 }, FALLBACK_ROOM);
    const m = await ended('a seeded kite');
    const job = await jobOf('a seeded kite');
    expect(job.state).toBe('failed');
    expect(job.provider).toBe('failing');
    expect(job.error?.code).toBe('PROVIDER_UNAVAILABLE');
    expect(job.notes.join('\n')).toMatch(/Not moved to Narrow: Narrow cannot do seed \(--seed\), which you asked for/);
    expect(m.content).toMatch(/Not moved to Narrow/);
  });

  it("a provider's rate limit fails over, as providers/failover.ts says", async () => {
    await command(fay, 'imagine', { prompt: 'a patient queue', provider: 'limited', count: 1 }, FALLBACK_ROOM);
    await ended('a patient queue');
    const job = await jobOf('a patient queue');
    expect(job.state).toBe('succeeded');
    expect(job.provider).toBe('narrow');
    expect(job.notes.join('\n')).toMatch(/Moved to Narrow after Limited failed: Limited is rate-limiting us/);
  });

  it('🔄 on an advanced prompt sends the raw prompt without its --seed; the other flags stay', async () => {
    await command(fay, 'imagine', { prompt: 'a fox in snow --seed 77 --weird 10', provider: 'mj', mode: 'advanced', count: 1 });
    const done = await ended('a fox in snow');
    await h.discord.messages.idle();
    const reroll = done.components.flatMap((r) => r.components).find((c) => c.emoji?.name === '🔄')!;
    const press = buttonPress(h.fake.applicationId, fay, h.fake.apiMessage(done.id), reroll.custom_id!);
    expect((await h.fake.post(press)).body).toEqual({ type: 6 });
    await h.waitFor((m) => m.token === press.token && !m.ephemeral && /Done in|Failed/.test(m.content), 'reroll ended');
    expect(mj.seen).toHaveLength(2);
    expect(mj.seen[0]!.rawPrompt).toBe('a fox in snow --seed 77 --weird 10');
    expect(mj.seen[1]!.rawPrompt).toBe('a fox in snow --weird 10');
    expect(mj.seen[1]!.seed).toBeUndefined();
  });

  it('sent nothing Discord would refuse', () => {
    expect(h.fake.violations).toEqual([]);
  });
});
