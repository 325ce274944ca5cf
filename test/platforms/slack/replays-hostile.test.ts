import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockActionBody, postSigned, slashCommandBody } from '../../fakes/slack/slack-fake.ts';
import { eventually, startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const jobsWith = async (prompt: string) => (await h.app.atelier.store.listJobs({})).filter((j) => j.request.prompt === prompt);

async function imagineBody(text: string) {
  const trigger = await h.fake.triggerFor(h.fake.users.alice.id);
  return slashCommandBody({ command: '/imagine', text, user: h.fake.users.alice, teamId: h.fake.teamId, channel: h.fake.channel, triggerId: trigger, responseUrl: h.fake.responseUrl().url });
}

describe('Slack: a replayed request is answered once and creates nothing new', () => {
  it('a slash command posted twice (same signature and timestamp) creates one job', async () => {
    const body = await imagineBody('a twice-told harbour --provider local');
    const timestamp = Math.floor(Date.now() / 1000);
    const first = await postSigned(h.eventsUrl, body, { timestamp });
    const again = await postSigned(h.eventsUrl, body, { timestamp });
    expect([first.status, again.status]).toEqual([200, 200]);
    await eventually(() => jobsWith('a twice-told harbour'), (js) => js.length === 1 && js[0]!.state === 'succeeded', 'the one job');
    expect(await jobsWith('a twice-told harbour')).toHaveLength(1);
    expect(h.logs.some((l) => /replay/.test(l.msg ?? ''))).toBe(true);
  });

  it('the same trigger_id re-signed a second later is still one job', async () => {
    const body = await imagineBody('a re-signed lantern --provider local');
    const timestamp = Math.floor(Date.now() / 1000);
    await postSigned(h.eventsUrl, body, { timestamp });
    await postSigned(h.eventsUrl, body, { timestamp: timestamp + 1 });
    await eventually(() => jobsWith('a re-signed lantern'), (js) => js.length === 1 && js[0]!.state === 'succeeded', 'the one job');
    expect(await jobsWith('a re-signed lantern')).toHaveLength(1);
  });
});

describe('Slack: malformed but signed payloads get a 400 and a log line, never a 500', () => {
  it('payload=null', async () => {
    const res = await postSigned(h.eventsUrl, 'payload=null');
    expect(res.status).toBe(400);
    expect(h.logs.some((l) => l.level === 'warn' && /malformed/.test(l.msg ?? ''))).toBe(true);
  });

  it('a block_actions without a user', async () => {
    const body = JSON.parse(new URLSearchParams(blockActionBody({ user: h.fake.users.alice, teamId: h.fake.teamId, channel: h.fake.channel, messageTs: '1.2', actionId: 'a:reroll:0:x', triggerId: 't-no-user', responseUrl: h.fake.responseUrl().url })).get('payload')!) as Record<string, unknown>;
    delete body.user;
    const res = await postSigned(h.eventsUrl, new URLSearchParams({ payload: JSON.stringify(body) }).toString());
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/without a user/);
  });

  it('a slash command without its text or user', async () => {
    const res = await postSigned(h.eventsUrl, 'command=%2Fimagine&channel_id=C1');
    expect(res.status).toBe(400);
    expect(h.logs.some((l) => l.level === 'error')).toBe(false);
  });
});

describe('Slack /imagine text: hostile input gets a clear answer', () => {
  async function command(text: string) {
    const response = h.fake.responseUrl();
    const trigger = await h.fake.triggerFor(h.fake.users.alice.id);
    const res = await postSigned(h.eventsUrl, slashCommandBody({ command: '/imagine', text, user: h.fake.users.alice, teamId: h.fake.teamId, channel: h.fake.channel, triggerId: trigger, responseUrl: response.url }));
    return { res, answer: () => eventually(async () => h.fake.proxy.responses.find((r) => r.id === response.id), Boolean, 'the answer').then((r) => String(r!.body.text)) };
  }

  it('--ar=16:9 is read as the aspect ratio, not left in the prompt', async () => {
    await command('a slack dune --ar=16:9 --provider local');
    const [job] = await eventually(() => jobsWith('a slack dune'), (js) => js.length === 1, 'the job');
    expect(job!.request.aspectRatio).toBe('16:9');
  });

  it('--seed 0x10 and --ar 9999:1 are refused in plain words; nothing is queued', async () => {
    expect(await (await command('a slack moth --seed 0x10 --provider local')).answer()).toMatch(/--seed must be a whole number from 0 to 4294967295, not "0x10"/);
    expect(await (await command('a slack sliver --ar 9999:1 --provider local')).answer()).toMatch(/too far from square/);
    expect([...(await jobsWith('a slack moth')), ...(await jobsWith('a slack sliver'))]).toEqual([]);
  });

  it('a prompt of only zero-width characters is refused in the ack', async () => {
    const { res } = await command('\u200B\u2060\uFEFF');
    expect(JSON.parse(res.body)).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/write a prompt/) });
  });
});

describe('Slack /imagine in a 1:1 DM', () => {
  async function inDm(channel: string, text: string) {
    const response = h.fake.responseUrl();
    const trigger = await h.fake.triggerFor(h.fake.users.alice.id);
    const form = new URLSearchParams(slashCommandBody({ command: '/imagine', text, user: h.fake.users.alice, teamId: h.fake.teamId, channel, triggerId: trigger, responseUrl: response.url }));
    form.set('channel_name', 'directmessage');
    const res = await postSigned(h.eventsUrl, form.toString());
    return { res, answer: () => eventually(async () => h.fake.proxy.responses.find((r) => r.id === response.id), Boolean, 'the answer').then((r) => String(r!.body.text)) };
  }

  it('with someone else (the bot is not in it and cannot be invited) answers through response_url; nothing is made', async () => {
    const { res, answer } = await inDm('D0ALICEBOB1', 'a dm between friends --provider local');
    expect(res.status).toBe(200);
    expect(await answer()).toMatch(/can't post in a direct message between you and someone else[\s\S]*--private/);
    expect(await answer()).not.toMatch(/invite/i);
    expect(await jobsWith('a dm between friends')).toEqual([]);
  });

  it('with the bot itself runs as usual, in that DM', async () => {
    const dm = String(((await h.fake.direct('conversations.open', { users: h.fake.users.alice.id })).channel as { id: string }).id);
    await inDm(dm, 'a dm with the bot --provider local');
    const [job] = await eventually(() => jobsWith('a dm with the bot'), (js) => js.length === 1 && js[0]!.state === 'succeeded', 'the job');
    expect(job!.where.channelId).toBe(dm);
  });
});
