import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMATS } from '../../../src/core/request.ts';
import { postSigned, slashCommandBody, viewSubmissionBody, type FakeUser, type SlackMessage } from '../../fakes/slack/slack-fake.ts';
import { eventually, startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const textOf = (m: SlackMessage) => [m.text ?? '', ...(m.blocks ?? []).flatMap((b) => [b.text?.text ?? '', ...(b.elements ?? []).map((e) => (typeof e.text === 'string' ? e.text : (e.text?.text ?? '')))])].join('\n');

async function command(text: string, user: FakeUser = h.fake.users.alice, name = '/imagine') {
  const response = h.fake.responseUrl();
  const res = await postSigned(h.eventsUrl, slashCommandBody({ command: name, text, user, teamId: h.fake.teamId, channel: h.fake.channel, triggerId: await h.fake.triggerFor(user.id), responseUrl: response.url }));
  return { res, response };
}

const answerTo = (id: string, what: string) => eventually(async () => h.fake.proxy.responses.find((r) => r.id === id), Boolean, what).then((r) => String(r!.body.text));

interface OpenedView {
  id: string;
  callback_id: string;
  private_metadata: string;
  blocks: { type: string; block_id: string; optional?: boolean; element: { type: string; options?: { value: string }[]; min_value?: string; max_value?: string } }[];
}

async function lastOpenedView(before: number): Promise<OpenedView> {
  const call = await eventually(async () => h.fake.proxy.callsOf('views.open').slice(before).find((c) => c.answer.ok), Boolean, 'views.open');
  return call!.answer.view as OpenedView;
}

describe('the /imagine options modal', () => {
  it('opens from a bare /imagine with inputs generated from the option schema and the providers\' capabilities', async () => {
    const before = h.fake.proxy.callsOf('views.open').length;
    const { res } = await command('');
    expect(res.status).toBe(200);
    const view = await lastOpenedView(before);
    const byId = new Map(view.blocks.map((b) => [b.block_id, b]));
    expect(byId.get('prompt')).toMatchObject({ optional: false, element: { type: 'plain_text_input' } });
    expect(byId.get('format')?.element.options?.map((o) => o.value)).toEqual([...FORMATS]);
    expect(byId.get('count')?.element).toMatchObject({ type: 'number_input', min_value: '1', max_value: '8' });
    expect(byId.get('provider')?.element.options?.map((o) => o.value)).toEqual(expect.arrayContaining(['local', 'failing', 'slow']));
    expect(byId.get('private')?.element.type).toBe('checkboxes');
    // The local renderer weighs pictures, so the image weight is an input like the others (Slack has room).
    for (const name of ['weather', 'time', 'chaos', 'stylize', 'no', 'seed', 'iw']) expect(byId.has(name), name).toBe(true);
    // No configured provider takes these, so the form does not offer them (capabilities decide).
    for (const name of ['mode', 'steps', 'guidance', 'style', 'model', 'photo']) expect(byId.has(name), name).toBe(false);
  });

  it('keeps the form open with the error under the input it names', async () => {
    const before = h.fake.proxy.callsOf('views.open').length;
    await command('');
    const view = await lastOpenedView(before);
    const res = await postSigned(
      h.eventsUrl,
      viewSubmissionBody({ user: h.fake.users.alice, teamId: h.fake.teamId, view, values: { prompt: { prompt: { type: 'plain_text_input', value: 'a kite' } }, count: { count: { type: 'number_input', value: 'lots' } } } }),
    );
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as { response_action: string; errors: Record<string, string> };
    expect(body.response_action).toBe('errors');
    expect(Object.keys(body.errors)).toEqual(['count']);
  });

  it('runs the submission: typed options reach the job', async () => {
    const before = h.fake.proxy.callsOf('views.open').length;
    await command('');
    const view = await lastOpenedView(before);
    const values = {
      prompt: { prompt: { type: 'plain_text_input', value: 'a paper kite over dunes' } },
      count: { count: { type: 'number_input', value: '2' } },
      provider: { provider: { type: 'static_select', selected_option: { value: 'local', text: { type: 'plain_text', text: 'local' } } } },
      format: { format: { type: 'static_select', selected_option: { value: '16:9', text: { type: 'plain_text', text: '16:9' } } } },
      seed: { seed: { type: 'number_input', value: '7' } },
    };
    const res = await postSigned(h.eventsUrl, viewSubmissionBody({ user: h.fake.users.alice, teamId: h.fake.teamId, view, values }));
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    const msgs = await eventually(() => h.fake.history(), (ms) => ms.some((m) => textOf(m).includes('a paper kite over dunes') && /in the thread/.test(textOf(m))), 'modal job done');
    const msg = msgs.find((m) => textOf(m).includes('a paper kite over dunes'))!;
    expect(textOf(msg)).toContain('--ar 16:9');
    expect(textOf(msg)).toContain('seed 7');
    const files = (await h.fake.replies(msg.ts)).flatMap((m) => m.files ?? []);
    expect(files.map((f) => f.title)).toEqual(['Grid', 'Image 1', 'Image 2']);
  });
});

describe('channel membership', () => {
  it('joins a public channel it is not in, then posts', async () => {
    h.fake.proxy.failNext('chat.postMessage', { error: 'not_in_channel' });
    const joins = h.fake.proxy.callsOf('conversations.join').length;
    await command('a lonely lighthouse --provider local --count 1');
    await eventually(() => h.fake.history(), (ms) => ms.some((m) => textOf(m).includes('a lonely lighthouse')), 'posted after joining');
    expect(h.fake.proxy.callsOf('conversations.join').slice(joins)).toHaveLength(1);
  });

  it('tells the user how to invite it where it cannot join, and withdraws the job', async () => {
    h.fake.proxy.failNext('chat.postMessage', { error: 'not_in_channel' });
    h.fake.proxy.failNext('conversations.join', { error: 'method_not_supported_for_channel_type' });
    const { response } = await command('a secret garden --provider slow');
    expect(await answerTo(response.id, 'invite hint')).toMatch(/\/invite @Atelier/);
    const job = await eventually(async () => (await h.app.atelier.store.listJobs({})).find((j) => j.request.prompt === 'a secret garden'), (j) => j?.state === 'canceled', 'job withdrawn');
    expect(job?.state).toBe('canceled');
  });
});

describe('private jobs', () => {
  it('run in a direct message with the requester, files and all; the channel sees nothing', async () => {
    const { response } = await command('a hidden orchid --private --provider local --count 1');
    expect(await answerTo(response.id, 'private notice')).toMatch(/direct messages/);
    const dm = String(((await h.fake.direct('conversations.open', { users: h.fake.users.alice.id })).channel as { id: string }).id);
    const msgs = await eventually(() => h.fake.history(dm), (ms) => ms.some((m) => textOf(m).includes('a hidden orchid') && /in the thread/.test(textOf(m))), 'private result in the DM');
    const msg = msgs.find((m) => textOf(m).includes('a hidden orchid'))!;
    expect((await h.fake.replies(msg.ts, dm)).flatMap((m) => m.files ?? []).map((f) => f.title)).toEqual(['Image 1']);
    expect((await h.fake.history()).some((m) => textOf(m).includes('a hidden orchid'))).toBe(false);
  });
});

describe('rate limits', () => {
  it('waits out chat.update Retry-After and still lands the final state', async () => {
    h.fake.proxy.failNext('chat.update', { retryAfter: 1 });
    const before = h.fake.proxy.callsOf('chat.update').length;
    await command('a patient snail --provider local --count 1');
    await eventually(() => h.fake.history(), (ms) => ms.some((m) => textOf(m).includes('a patient snail') && /in the thread/.test(textOf(m))), 'final state after 429');
    const updates = h.fake.proxy.callsOf('chat.update').slice(before);
    const limited = updates.findIndex((c) => c.answer.error === 'ratelimited');
    expect(limited).toBeGreaterThanOrEqual(0);
    const next = updates[limited + 1];
    expect(next).toBeDefined();
    // Retry-After: 1 means no chat.update for a second, from any job of the workspace.
    expect(next!.at - updates[limited]!.at).toBeGreaterThanOrEqual(1000);
  });
});

describe('shared commands and policy', () => {
  it('/settings for the channel needs a workspace admin', async () => {
    const refused = await command('--scope channel --buttons owner', h.fake.users.bob, '/settings');
    expect(refused.res.status).toBe(200);
    expect(await answerTo(refused.response.id, 'refusal')).toMatch(/⚠️/);
    const allowed = await command('--scope channel --buttons owner', h.fake.users.mod, '/settings');
    expect(await answerTo(allowed.response.id, 'saved')).toMatch(/saved[\s\S]*buttons: owner/);
    // Back to the default so other tests' buttons stay open to everyone.
    const reset = await command('--scope channel --buttons anyone', h.fake.users.mod, '/settings');
    await answerTo(reset.response.id, 'reset');
  });

  it('/queue and /cancel answer privately from the same definitions', async () => {
    const q = await command('', h.fake.users.alice, '/queue');
    expect((await answerTo(q.response.id, 'queue')).length).toBeGreaterThan(0);
    const c = await command('', h.fake.users.alice, '/cancel');
    expect(await answerTo(c.response.id, 'cancel')).toMatch(/Cancel|nothing/i);
  });

  it('/help lists the image weight and stylize among the options, as the form offers them (no flag-only line)', async () => {
    const { response } = await command('', h.fake.users.alice, '/help');
    const lines = (await answerTo(response.id, 'help')).split('\n');
    const at = lines.findIndex((l) => l.includes('(provider:local)'));
    const options = lines.slice(at + 1).find((l) => l.trim().startsWith('options:'))!.split(/[:,]\s*/);
    expect(options).toEqual(expect.arrayContaining(['stylize', 'iw']));
    expect(lines.some((l) => l.includes('as flags'))).toBe(false);
  });

  it('never POSTs to a response_url outside Slack; answers with chat.postEphemeral instead', async () => {
    const before = h.fake.proxy.callsOf('chat.postEphemeral').length;
    const user = h.fake.users.bob;
    const body = slashCommandBody({ command: '/help', text: '', user, teamId: h.fake.teamId, channel: h.fake.channel, triggerId: 'unused', responseUrl: 'https://attacker.example/collect' });
    expect((await postSigned(h.eventsUrl, body)).status).toBe(200);
    const sent = await eventually(async () => h.fake.proxy.callsOf('chat.postEphemeral').slice(before), (cs) => cs.length > 0, 'ephemeral fallback');
    expect(sent[0]!.args).toMatchObject({ user: user.id, channel: h.fake.channel });
  });

  it('an unknown command and stray text are answered in the ack', async () => {
    const unknown = await command('x', h.fake.users.alice, '/paint');
    expect(JSON.parse(unknown.res.body)).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/no \/paint command/) });
    const stray = await command('hello there', h.fake.users.alice, '/queue');
    expect(JSON.parse(stray.res.body).text).toMatch(/takes no free text/);
  });
});

describe('the HTTP endpoint', () => {
  it('answers url_verification and ssl_check, refuses unsigned and tampered bodies', async () => {
    const challenge = await postSigned(h.eventsUrl, JSON.stringify({ type: 'url_verification', challenge: 'c-123', token: 't' }), { contentType: 'application/json' });
    expect(JSON.parse(challenge.body)).toEqual({ challenge: 'c-123' });
    expect((await postSigned(h.eventsUrl, 'ssl_check=1&token=t')).status).toBe(200);
    const unsigned = await fetch(h.eventsUrl, { method: 'POST', body: 'ssl_check=1' });
    expect(unsigned.status).toBe(401);
    const now = Math.floor(Date.now() / 1000);
    for (const timestamp of [now - 310, now + 310]) expect((await postSigned(h.eventsUrl, 'ssl_check=1', { timestamp })).status).toBe(401);
  });

  it('made only calls the method specs allow', () => {
    expect(h.fake.proxy.violations).toEqual([]);
  });
});
