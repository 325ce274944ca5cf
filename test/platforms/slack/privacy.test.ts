import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockActionBody, postSigned, slashCommandBody, type FakeUser, type SlackMessage } from '../../fakes/slack/slack-fake.ts';
import { eventually, startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const textOf = (m: SlackMessage) => [m.text ?? '', ...(m.blocks ?? []).flatMap((b) => [b.text?.text ?? ''])].join('\n');

async function command(text: string, user: FakeUser = h.fake.users.alice) {
  const response = h.fake.responseUrl();
  await postSigned(h.eventsUrl, slashCommandBody({ command: '/imagine', text, user, teamId: h.fake.teamId, channel: h.fake.channel, triggerId: await h.fake.triggerFor(user.id), responseUrl: response.url }));
  return response;
}

/** A signed button press; `channel` is where Slack says it was pressed. */
async function press(user: FakeUser, actionId: string, messageTs: string, channel = h.fake.channel) {
  const response = h.fake.responseUrl();
  const res = await postSigned(h.eventsUrl, blockActionBody({ user, teamId: h.fake.teamId, channel, messageTs, actionId, triggerId: await h.fake.triggerFor(user.id), responseUrl: response.url }));
  expect(res.status).toBe(200);
  return response;
}

const answerTo = (id: string, what: string) => eventually(async () => h.fake.proxy.responses.find((r) => r.id === id), Boolean, what).then((r) => String(r!.body.text));

async function done(prompt: string): Promise<{ jobId: string; ts: string; fileIds: string[] }> {
  const msgs = await eventually(() => h.fake.history(), (ms) => ms.some((m) => textOf(m).includes(prompt) && /Done in/.test(textOf(m))), `${prompt} done`);
  const ts = msgs.find((m) => textOf(m).includes(prompt))!.ts;
  const job = (await h.app.atelier.store.listJobs({})).find((j) => j.request.prompt === prompt)!;
  const replies = await eventually(() => h.fake.replies(ts), (rs) => rs.some((r) => (r.files ?? []).length > 0), `${prompt} files`);
  return { jobId: job.id, ts, fileIds: replies.flatMap((r) => (r.files ?? []).map((f) => f.id)) };
}

describe('Slack: privacy of a job and its files', () => {
  it('🗑️ deletes the files the bot uploaded into the thread, not only the parent message', async () => {
    await command('a deletable orchard --provider local --count 2');
    const { jobId, ts, fileIds } = await done('a deletable orchard');
    expect(fileIds).toHaveLength(3);
    for (const file of fileIds) expect(await h.fake.direct('files.info', { file })).toMatchObject({ ok: true });
    await press(h.fake.users.alice, `a:delete:0:${jobId}`, ts);
    await eventually(() => h.fake.history(), (ms) => !ms.some((m) => m.ts === ts), 'parent message deleted');
    await eventually(async () => h.fake.proxy.callsOf('files.delete').filter((c) => c.answer.ok).length, (n) => n === fileIds.length, 'files deleted');
    expect(h.fake.proxy.callsOf('files.delete').map((c) => c.args.file).sort()).toEqual([...fileIds].sort());
    for (const file of fileIds) await expect(h.fake.direct('files.info', { file })).rejects.toThrow(/file_not_found|file_deleted/);
    expect(await h.app.atelier.getJob(jobId)).toBeUndefined();
  });

  it('a press with a hand-made id from another channel reads nothing and makes nothing', async () => {
    await command('a channel-only lantern --provider local --count 1');
    const { jobId, ts } = await done('a channel-only lantern');
    const before = (await h.app.atelier.store.listJobs({})).length;
    const elsewhere = 'C0OTHERCHAN';
    for (const kind of ['details', 'upscale', 'reroll']) {
      const response = await press(h.fake.users.bob, `a:${kind}:1:${jobId}`, ts, elsewhere);
      const text = await answerTo(response.id, `${kind} refusal`);
      expect(text, kind).toMatch(/not yours to see/);
      expect(text, kind).not.toContain('a channel-only lantern');
    }
    const remixOpens = h.fake.proxy.callsOf('views.open').length;
    await answerTo((await press(h.fake.users.bob, `a:remix:0:${jobId}`, ts, elsewhere)).id, 'remix refusal');
    expect(h.fake.proxy.callsOf('views.open').length).toBe(remixOpens);
    expect((await h.app.atelier.store.listJobs({})).length).toBe(before);
    // From the job's own channel the same member sees it.
    expect(await answerTo((await press(h.fake.users.bob, `a:details:0:${jobId}`, ts)).id, 'details')).toMatch(/a channel-only lantern/);
  });

  it('made only calls the method specs allow', () => {
    expect(h.fake.proxy.violations).toEqual([]);
  });
});
