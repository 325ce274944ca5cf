import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../../src/core/job.ts';
import { ChannelBudget } from '../../../src/platforms/discord/channel-budget.ts';
import { loadRef, type DiscordMessageRef } from '../../../src/platforms/discord/message-ref.ts';
import { JobMessage, type SinkDeps } from '../../../src/platforms/discord/message-sink.ts';
import { createRest } from '../../../src/platforms/discord/rest.ts';
import type { FakeMessage } from '../../fakes/discord/fake-discord.ts';
import { CHANNEL_ID } from '../../fakes/discord/interactions.ts';
import { alice, startHarness, type Harness } from './harness.ts';

const jobIdOf = (m: FakeMessage) => /^a:\w+:\d+:(.+)$/.exec(m.components[0]!.components[0]!.custom_id!)![1]!;

describe('Discord job messages: throttle, final state, rate limits, token expiry, permissions', () => {
  let h: Harness;
  let deps: SinkDeps;
  beforeAll(async () => {
    // Every scenario holds a running job; the default per-user limit of 2 would queue the rest.
    h = await startHarness({ env: { MAX_CONCURRENT_PER_USER: '32', MAX_CONCURRENT_PER_CHANNEL: '32', MAX_CONCURRENT_JOBS: '32' } });
    deps = { rest: createRest({ api: h.fake.apiUrl, token: h.fake.botToken }), atelier: h.app.atelier, images: h.app.images, logger: h.app.logger, budget: new ChannelBudget(), hasBotToken: true, minFileBytes: 2048 };
  });
  afterAll(() => h.close());
  const started: Job[] = [];
  // The real job behind each scenario is canceled afterwards, so its own message does not move on later.
  afterEach(async () => {
    for (const j of started.splice(0)) await h.app.atelier.cancel(j.id, j.owner, j.where).catch(() => undefined);
    await h.discord.messages.idle();
  });

  /** A running job (the `slow` provider) with its message on Discord, quiet once started. */
  async function runningJob(prompt: string, extra: Record<string, string | number | boolean> = {}): Promise<{ job: Job; ref: DiscordMessageRef; message: FakeMessage }> {
    const res = await h.imagine(alice, { prompt, provider: 'slow', ...extra });
    expect(res.body).toMatchObject({ type: 5 });
    const message = await h.waitFor((m) => m.content.includes(prompt) && m.content.includes('Drawing'), `running "${prompt}"`);
    await h.discord.messages.idle();
    const jobId = jobIdOf(message);
    const job = (await h.app.atelier.getJob(jobId))!;
    started.push(job);
    return { job, ref: (await loadRef(h.app.atelier.store, jobId))!, message };
  }
  const writesTo = (ref: DiscordMessageRef, from: number) => h.fake.requests.slice(from).filter((r) => r.path.includes(ref.token!) || (ref.messageId && r.path.includes(ref.messageId)));
  const snapshot = (job: Job, v: number, over: Partial<Job> = {}): Job => ({ ...job, version: job.version + v, ...over });
  const done = (job: Job, v: number, over: Partial<Job> = {}) => snapshot(job, v, { state: 'succeeded', finishedAt: Date.now(), result: { imageIds: [], seed: 1 }, ...over });

  it('coalesces a burst of progress into one edit and writes the final state last', async () => {
    const { job, ref, message } = await runningJob('a coalesced comet');
    const before = h.fake.requests.length;
    const msg = new JobMessage(deps, job.id, ref);
    msg.push(snapshot(job, 1, { progress: { percent: 1, stage: 'one' } }));
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 2; i <= 30; i++) msg.push(snapshot(job, i, { progress: { percent: i, stage: `step ${i}` } }));
    msg.push(done(job, 31));
    await msg.idle();
    const writes = writesTo(ref, before);
    expect(writes.map((w) => w.method)).toEqual(['PATCH', 'PATCH']);
    expect(h.fake.messages.get(message.id)!.content).toContain('Done in');
  });

  it('a running job shows the provider\'s preview image with its progress', async () => {
    const { job, ref, message } = await runningJob('a preview of dawn');
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#c04020' } }).png().toBuffer();
    await h.app.atelier.blobs.put(`jobs/${job.id}/preview-test.png`, new Uint8Array(png));
    const msg = new JobMessage(deps, job.id, ref);
    msg.push(snapshot(job, 1, { progress: { percent: 50, stage: 'light', previewKey: `jobs/${job.id}/preview-test.png` } }));
    await msg.idle();
    const m = h.fake.messages.get(message.id)!;
    expect(m.content).toContain('light ▰▰▰▰▰▱▱▱▱▱ 50%');
    expect(m.attachments.map((a) => a.filename)).toEqual([expect.stringMatching(/^preview\./)]);
  });

  it('never lets a late progress snapshot overwrite the final state', async () => {
    const { job, ref, message } = await runningJob('a stubborn sunset');
    const before = h.fake.requests.length;
    const msg = new JobMessage(deps, job.id, ref);
    msg.push(done(job, 5));
    msg.push(snapshot(job, 3, { progress: { percent: 90, stage: 'late' } }));
    await msg.idle();
    msg.push(snapshot(job, 9, { progress: { percent: 95, stage: 'later' } }));
    await msg.idle();
    expect(writesTo(ref, before)).toHaveLength(1);
    expect(h.fake.messages.get(message.id)!.content).toContain('Done in');
    expect(h.fake.messages.get(message.id)!.content).not.toMatch(/late/);
  });

  it('does not write a progress snapshot once the store holds a newer final state (another process wrote the result)', async () => {
    const res = await h.imagine(alice, { prompt: 'a finished elsewhere', provider: 'local', count: 1 });
    expect(res.body).toMatchObject({ type: 5 });
    const first = await h.waitFor((m) => m.content.includes('a finished elsewhere') && m.content.includes('Done in'), 'local result');
    await h.discord.messages.idle();
    const job = (await h.app.atelier.getJob(jobIdOf(first)))!;
    const ref = (await loadRef(h.app.atelier.store, job.id))!;
    const from = h.fake.requests.length;
    const msg = new JobMessage(deps, job.id, ref);
    // A stale "running" snapshot, older than the succeeded job in the store.
    msg.push({ ...job, state: 'running', version: job.version - 1, progress: { percent: 50, stage: 'Drawing' } });
    await msg.idle();
    expect(writesTo(ref, from)).toEqual([]);
    expect(h.fake.messages.get(first.id)!.content).toContain('Done in');
  });

  it('honours a 429 (retry_after) when another client drained the bucket, and still delivers', async () => {
    const { job, ref, message } = await runningJob('a rate limited river');
    // Another process sharing the token drains the route's bucket (5 per window in the fake).
    for (let i = 0; i < 5; i++) {
      await fetch(`${h.fake.apiUrl}/v10/webhooks/${ref.applicationId}/${ref.token}/messages/@original`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content: `other ${i}` }) });
    }
    const before = h.fake.requests.length;
    const msg = new JobMessage(deps, job.id, ref);
    msg.push(done(job, 1));
    await msg.idle();
    const statuses = writesTo(ref, before).map((w) => w.status);
    expect(statuses[0]).toBe(429);
    expect(statuses.at(-1)).toBe(200);
    expect(h.fake.messages.get(message.id)!.content).toContain('Done in');
  });

  it('continues with the bot token when the interaction token is refused (50027), and remembers it', async () => {
    const { job, ref, message } = await runningJob('a lighthouse past its token');
    h.fake.expireTokens();
    const before = h.fake.requests.length;
    const msg = new JobMessage(deps, job.id, ref);
    msg.push(done(job, 1));
    await msg.idle();
    const writes = h.fake.requests.slice(before);
    expect(writes.find((w) => w.path.includes(ref.token!))?.status).toBe(401);
    expect(writes.some((w) => w.method === 'PATCH' && w.route === '/channels/{channel_id}/messages/{message_id}' && w.auth === 'bot' && w.status === 200)).toBe(true);
    expect(h.fake.messages.get(message.id)!.content).toContain('Done in');
    expect((await loadRef(h.app.atelier.store, job.id))!.viaBot).toBe(true);
  });

  it('uses the bot token straight away once the token is near its 15 minutes', async () => {
    const { job, ref, message } = await runningJob('an old interaction');
    const before = h.fake.requests.length;
    const msg = new JobMessage(deps, job.id, { ...ref, tokenIssuedAt: Date.now() - 14.5 * 60_000 });
    msg.push(done(job, 1));
    await msg.idle();
    const writes = h.fake.requests.slice(before);
    expect(writes.some((w) => w.path.includes(ref.token!))).toBe(false);
    expect(writes.some((w) => w.route === '/channels/{channel_id}/messages/{message_id}')).toBe(true);
    expect(h.fake.messages.get(message.id)!.content).toContain('Done in');
  });

  it('a private result that outlived its token goes by DM; with DMs closed it is logged as undeliverable', async () => {
    const a = await runningJob('a secret garden', { private: true });
    expect(a.ref.ephemeral).toBe(true);
    h.fake.expireTokens();
    const dm = new JobMessage(deps, a.job.id, a.ref);
    dm.push(done(a.job, 1));
    await dm.idle();
    const delivered = [...h.fake.messages.values()].find((m) => m.dm && m.content.includes('a secret garden'));
    expect(delivered?.content).toMatch(/by DM/);

    const b = await runningJob('a closed door', { private: true });
    h.fake.expireTokens();
    h.fake.dmClosed.add(alice.id);
    const closed = new JobMessage(deps, b.job.id, b.ref);
    closed.push(done(b.job, 1));
    await closed.idle();
    h.fake.dmClosed.delete(alice.id);
    expect(h.logs.some((l) => l.level === 'warn' && /could not be delivered/.test(l.msg ?? ''))).toBe(true);
  });

  it('a result after more than a minute is posted anew so it pings its requester, and the old message goes', async () => {
    const { job, ref, message } = await runningJob('a long wait');
    const msg = new JobMessage(deps, job.id, ref);
    msg.push(done(job, 1, { startedAt: Date.now() - 125_000 }));
    await msg.idle();
    expect(h.fake.messages.get(message.id)!.deleted).toBe(true);
    const fresh = [...h.fake.messages.values()].find((m) => !m.deleted && m.content.includes('a long wait') && m.content.includes('Done in'));
    expect(fresh?.pings).toEqual([alice.id]);
  });

  it('without Attach Files (50013) the result still arrives, saying what permission is missing', async () => {
    const res = await h.imagine(alice, { prompt: 'a forbidden photo', provider: 'local', count: 1 });
    expect(res.body).toMatchObject({ type: 5 });
    const first = await h.waitFor((m) => m.content.includes('a forbidden photo') && m.content.includes('Done in'), 'local result');
    await h.discord.messages.idle();
    const job = (await h.app.atelier.getJob(jobIdOf(first)))!;
    const ref = (await loadRef(h.app.atelier.store, job.id))!;
    h.fake.expireTokens();
    h.fake.noAttach.add(CHANNEL_ID);
    const msg = new JobMessage(deps, job.id, ref);
    msg.push(snapshot(job, 1));
    await msg.idle();
    h.fake.noAttach.delete(CHANNEL_ID);
    const m = h.fake.messages.get(first.id)!;
    expect(m.content).toMatch(/Attach Files/);
    expect(h.fake.requests.some((r) => r.status === 403)).toBe(true);
  });

  /** A finished two-image job whose message then gets written again under a cap Discord did not announce. */
  async function rewriteUnderCap(prompt: string, cap: number) {
    const res = await h.imagine(alice, { prompt, provider: 'local', count: 2 });
    expect(res.body).toMatchObject({ type: 5 });
    const first = await h.waitFor((m) => m.content.includes(prompt) && m.content.includes('Done in'), 'local result');
    await h.discord.messages.idle();
    const sentBefore = first.attachments.length;
    const job = (await h.app.atelier.getJob(jobIdOf(first)))!;
    const ref = (await loadRef(h.app.atelier.store, job.id))!;
    h.fake.expireTokens();
    h.fake.attachmentLimit = cap;
    const from = h.fake.requests.length;
    try {
      const msg = new JobMessage(deps, job.id, ref);
      msg.push(snapshot(job, 1));
      await msg.idle();
    } finally {
      h.fake.attachmentLimit = 10 * 1024 * 1024;
    }
    return { message: h.fake.messages.get(first.id)!, sentBefore, refused: h.fake.requests.slice(from).filter((r) => r.status === 413).length, ref: (await loadRef(h.app.atelier.store, job.id))! };
  }

  it('when Discord refuses the files as too large (40005) it re-encodes every one smaller and says so', async () => {
    const { message, sentBefore, refused, ref } = await rewriteUnderCap('an oversized lighthouse', 6_000);
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(sentBefore).toBe(3);
    // Nothing dropped: the grid and both images, each under the cap Discord enforced.
    expect(message.attachments).toHaveLength(3);
    for (const a of message.attachments) expect(a.size).toBeLessThanOrEqual(6_000);
    expect(message.content).toMatch(/re-encoded to at most \d+ KiB each/);
    expect(message.content).not.toMatch(/larger than this channel accepts/);
    expect(ref.attachmentLimit).toBeLessThanOrEqual(6_000);
  });

  it('below the floor it sends the message without files and says exactly that', async () => {
    const { message, refused } = await rewriteUnderCap('an unshrinkable lighthouse', 64);
    expect(refused).toBeGreaterThanOrEqual(2);
    expect(message.attachments).toEqual([]);
    expect(message.content).toMatch(/even re-encoded down to 2 KiB each, so this message carries none/);
    expect(message.content).toContain('an unshrinkable lighthouse');
  });

  it('fits the grid under the interaction\'s attachment_size_limit and leaves out full-size images that do not fit', async () => {
    h.fake.attachmentLimit = 40_000;
    const from = h.fake.requests.length;
    try {
      await h.imagine(alice, { prompt: 'a tiny budget harbour', provider: 'local', count: 4 });
      const m = await h.waitFor((x) => x.content.includes('a tiny budget harbour') && x.content.includes('Done in'), 'fitted result');
      expect(m.attachments[0]!.filename).toMatch(/^grid\./);
      for (const a of m.attachments) expect(a.size).toBeLessThanOrEqual(40_000);
      expect(h.fake.requests.slice(from).some((r) => r.status === 413)).toBe(false);
    } finally {
      h.fake.attachmentLimit = 10 * 1024 * 1024;
    }
  });

  it('sent nothing Discord would refuse', () => {
    expect(h.fake.violations).toEqual([]);
  });
});
