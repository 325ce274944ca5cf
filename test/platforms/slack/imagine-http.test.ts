import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postSigned, slashCommandBody, type SlackMessage } from '../../fakes/slack/slack-fake.ts';
import { eventually, startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const textOf = (m: SlackMessage) => [m.text ?? '', ...(m.blocks ?? []).flatMap((b) => [b.text?.text ?? '', ...(b.elements ?? []).map((e) => (typeof e.text === 'string' ? e.text : (e.text?.text ?? '')))])].join('\n');
const buttonsOf = (m: SlackMessage) => (m.blocks ?? []).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []).map((e) => ({ id: e.action_id!, text: typeof e.text === 'string' ? e.text : (e.text?.text ?? '') }));

async function command(text: string, user = h.fake.users.alice, name = '/imagine') {
  const trigger = await h.fake.triggerFor(user.id);
  const response = h.fake.responseUrl();
  const res = await postSigned(h.eventsUrl, slashCommandBody({ command: name, text, user, teamId: h.fake.teamId, channel: h.fake.channel, triggerId: trigger, responseUrl: response.url }));
  return { res, response };
}

describe('Slack /imagine over HTTP', () => {
  it('acks, posts one message, uploads grid then images into its thread, ends with buttons', async () => {
    const { res } = await command('a lighthouse at dusk --ar 3:2 --count 4 --provider local');
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    const done = await eventually(
      () => h.fake.history(),
      (ms) => ms.some((m) => textOf(m).includes('a lighthouse at dusk') && /Done in/.test(textOf(m)) && /in the thread/.test(textOf(m))),
      'finished job message',
    );
    const msg = done.find((m) => textOf(m).includes('a lighthouse at dusk'))!;
    expect(done.filter((m) => textOf(m).includes('a lighthouse at dusk'))).toHaveLength(1);
    expect(textOf(msg)).toContain('alice');
    const labels = buttonsOf(msg).map((b) => b.text);
    expect(labels).toEqual(expect.arrayContaining(['U1', 'U2', 'U3', 'U4', '🔄 Reroll', '✏️ Remix', 'ℹ️ Details', '🗑️ Delete']));
    const thread = await h.fake.replies(msg.ts);
    const files = thread.flatMap((m) => m.files ?? []);
    expect(files.map((f) => f.title)).toEqual(['Grid', 'Image 1', 'Image 2', 'Image 3', 'Image 4']);
    // The grid shows inline, from the file uploaded into the thread.
    const grid = thread.flatMap((m) => m.files ?? []).find((f) => f.title === 'Grid')!;
    expect((msg.blocks ?? []).find((b) => b.type === 'image')).toMatchObject({ slack_file: { id: grid.id } });
    // The buttons arrive only after the files are shared into the thread.
    const calls = h.fake.proxy.calls;
    const complete = calls.findIndex((c) => c.method === 'files.completeUploadExternal' && c.args.thread_ts === msg.ts);
    const firstWithButtons = calls.findIndex((c) => c.method === 'chat.update' && c.args.ts === msg.ts && String(c.args.blocks).includes('a:upscale:1:'));
    expect(complete).toBeGreaterThanOrEqual(0);
    expect(firstWithButtons).toBeGreaterThan(complete);
    // At most one edit of the message every 2 s.
    const edits = calls.filter((c) => c.method === 'chat.update' && c.args.ts === msg.ts).map((c) => c.at);
    for (let i = 1; i < edits.length; i++) expect(edits[i]! - edits[i - 1]!).toBeGreaterThanOrEqual(2000);
    expect(h.fake.proxy.violations).toEqual([]);
  });

  it('falls back to the message without the inline grid when Slack refuses the image block', async () => {
    const updates = h.fake.proxy.callsOf('chat.update').length;
    h.fake.proxy.failNext('chat.update', { error: 'invalid_blocks', when: (args) => String(args.blocks).includes('slack_file') });
    await command('a quiet pond --provider local --count 1');
    const done = await eventually(() => h.fake.history(), (ms) => ms.some((m) => textOf(m).includes('a quiet pond') && /in the thread/.test(textOf(m))), 'final without image');
    const msg = done.find((m) => textOf(m).includes('a quiet pond'))!;
    const refused = h.fake.proxy.callsOf('chat.update').slice(updates).find((c) => c.answer.error === 'invalid_blocks');
    // The refused edit was the one with the image; the retry carried the buttons without it.
    expect(String(refused?.args.blocks)).toContain('slack_file');
    expect((msg.blocks ?? []).some((b) => b.type === 'image')).toBe(false);
    expect((msg.blocks ?? []).some((b) => b.type === 'actions')).toBe(true);
  });

  it('refuses a bad option in the ack itself, naming the option; nothing queued', async () => {
    const before = (await h.app.atelier.store.listJobs({})).length;
    const { res } = await command('a fox --count 99 --provider local');
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as { response_type: string; text: string };
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toMatch(/count/);
    expect(body.text).toContain('Usage: /imagine <prompt>');
    expect((await h.app.atelier.store.listJobs({})).length).toBe(before);
  });

  it('/help answers from the shared command definitions', async () => {
    const { res, response } = await command('', h.fake.users.bob, '/help');
    expect(res.status).toBe(200);
    const answer = await eventually(async () => h.fake.proxy.responses.find((r) => r.id === response.id), Boolean, 'help answer');
    expect(String(answer!.body.text)).toMatch(/imagine/);
  });
});
