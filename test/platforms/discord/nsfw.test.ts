import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS as P, slashCommand, type FakeChannel, type FakeMember } from '../../fakes/discord/interactions.ts';
import { LeonardoFake } from '../../fakes/providers/leonardo-fake.ts';
import { startHarness, type Harness } from './harness.ts';

const owner: FakeMember = { id: '100000000000000030', name: 'owner', permissions: P.ADMINISTRATOR | P.SEND_MESSAGES };
const artist: FakeMember = { id: '100000000000000031', name: 'artist', permissions: P.SEND_MESSAGES | P.USE_APPLICATION_COMMANDS };
/** Discord's channel.nsfw: the age-restricted flag the interaction carries. */
const PLAIN: FakeChannel = { id: '400000000000000101', nsfw: false };
const AGE_RESTRICTED: FakeChannel = { id: '400000000000000102', nsfw: true };
const AGE_RESTRICTED_LOCKED: FakeChannel = { id: '400000000000000103', nsfw: true };

describe('NSFW follows Discord: a setting only narrows what the channel allows', () => {
  let h: Harness;
  let leo: LeonardoFake;
  beforeAll(async () => {
    leo = await new LeonardoFake().start();
    h = await startHarness({ env: { LEONARDO_API_KEY: leo.apiKey, LEONARDO_API_URL: leo.baseUrl } });
  });
  afterAll(async () => {
    await h.close();
    await leo.close();
  });

  async function run(user: FakeMember, name: string, options: Record<string, string | number | boolean>, at: FakeChannel) {
    const i = slashCommand(h.fake.applicationId, user, name, options, undefined, at);
    const res = await h.fake.post(i);
    expect(res.status).toBe(200);
    return h.waitFor((x) => x.token === i.token && !x.loading && x.content !== '', `answer to /${name}`);
  }
  const jobsFor = async (prompt: string) => (await h.app.atelier.store.listJobs({})).filter((j) => j.request.prompt === prompt);

  beforeAll(async () => {
    // The server says NSFW is fine, and one age-restricted channel says it is not.
    expect((await run(owner, 'settings', { scope: 'server', nsfw: true }, PLAIN)).content).toMatch(/nsfw: true/);
    expect((await run(owner, 'settings', { scope: 'channel', nsfw: false }, AGE_RESTRICTED_LOCKED)).content).toMatch(/nsfw: false/);
  });

  it('a channel that is not age-restricted refuses an NSFW prompt although the server setting allows NSFW', async () => {
    const m = await run(artist, 'imagine', { prompt: 'a nude marble statue', provider: 'local', count: 1 }, PLAIN);
    expect(m.ephemeral).toBe(true);
    expect(m.content).toMatch(/NSFW/);
    expect(await jobsFor('a nude marble statue')).toEqual([]);
  });

  it('an age-restricted channel takes it', async () => {
    await run(artist, 'imagine', { prompt: 'a nude bronze statue', provider: 'local', count: 1 }, AGE_RESTRICTED);
    expect(await jobsFor('a nude bronze statue')).toHaveLength(1);
  });

  it('an age-restricted channel whose setting says no refuses it', async () => {
    const m = await run(artist, 'imagine', { prompt: 'a nude stone statue', provider: 'local', count: 1 }, AGE_RESTRICTED_LOCKED);
    expect(m.content).toMatch(/NSFW/);
    expect(await jobsFor('a nude stone statue')).toEqual([]);
  });

  describe("a provider's own per-image NSFW flag (Leonardo's nsfw) is honoured the same way", () => {
    it('withheld, with a note, where the channel is not age-restricted', async () => {
      leo.nsfwIndexes = [1];
      await run(artist, 'imagine', { prompt: 'a quiet harbour', provider: 'leonardo', count: 2 }, PLAIN);
      const done = await h.waitFor((m) => m.content.includes('a quiet harbour') && /Done in/.test(m.content), 'harbour result');
      const [job] = await jobsFor('a quiet harbour');
      expect(job!.result!.imageIds).toHaveLength(1);
      expect(job!.notes.join(' ')).toMatch(/1 image withheld: flagged NSFW by Leonardo/);
      expect(done.attachments.length).toBe(1);
    });

    it('kept in an age-restricted channel', async () => {
      leo.nsfwIndexes = [1];
      await run(artist, 'imagine', { prompt: 'a busy harbour', provider: 'leonardo', count: 2 }, AGE_RESTRICTED);
      await h.waitFor((m) => m.content.includes('a busy harbour') && /Done in/.test(m.content), 'busy harbour result');
      const [job] = await jobsFor('a busy harbour');
      expect(job!.result!.imageIds).toHaveLength(2);
    });

    it('every image flagged: a refusal saying who blocked it, not an empty result', async () => {
      leo.nsfwIndexes = [0];
      await run(artist, 'imagine', { prompt: 'a foggy harbour', provider: 'leonardo', count: 1 }, PLAIN);
      const failed = await h.waitFor((m) => m.content.includes('a foggy harbour') && /Failed/.test(m.content), 'foggy harbour refusal');
      expect(failed.content).toMatch(/flagged every image as NSFW/);
      leo.nsfwIndexes = [];
    });
  });

  it('sent nothing Discord would refuse', () => {
    expect(h.fake.violations).toEqual([]);
  });
});
