import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockActionBody, postSigned, slashCommandBody, type FakeUser, type SlackMessage } from '../../fakes/slack/slack-fake.ts';
import { sketchProvider } from '../../helpers/capability-providers.ts';
import { eventually, startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({}, undefined, [sketchProvider]);
});
afterAll(async () => {
  await h?.stop();
});

const textOf = (m: SlackMessage) => [m.text ?? '', ...(m.blocks ?? []).flatMap((b) => [b.text?.text ?? '', ...(b.elements ?? []).map((e) => (typeof e.text === 'string' ? e.text : (e.text?.text ?? '')))])].join('\n');
const actionIds = (m: SlackMessage) => (m.blocks ?? []).flatMap((b) => (b.elements ?? []).map((e) => e.action_id ?? '')).filter(Boolean);

async function command(text: string, user: FakeUser, name = '/imagine') {
  const response = h.fake.responseUrl();
  await postSigned(h.eventsUrl, slashCommandBody({ command: name, text, user, teamId: h.fake.teamId, channel: h.fake.channel, triggerId: await h.fake.triggerFor(user.id), responseUrl: response.url }));
  return eventually(async () => h.fake.proxy.responses.find((r) => r.id === response.id), Boolean, `answer to ${name} ${text}`).then((r) => String(r!.body.text));
}
/** A public /imagine: its answer is the channel message, not a response_url reply. */
async function imagine(text: string, user: FakeUser) {
  const res = await postSigned(h.eventsUrl, slashCommandBody({ command: '/imagine', text, user, teamId: h.fake.teamId, channel: h.fake.channel, triggerId: await h.fake.triggerFor(user.id), responseUrl: h.fake.responseUrl().url }));
  expect(res.status).toBe(200);
}
const messageOf = (prompt: string, state: RegExp) => eventually(() => h.fake.history(), (ms) => ms.some((m) => textOf(m).includes(prompt) && state.test(textOf(m))), `${prompt} ${state}`).then((ms) => ms.find((m) => textOf(m).includes(prompt))!);

describe('Slack: who may change what', () => {
  it('workspace scope needs a workspace admin or owner (users.info), and /help says who may change what', async () => {
    expect(await command('--scope server --daily_quota 50', h.fake.users.bob, '/settings')).toMatch(/Only workspace admins and owners may change this server's settings/);
    expect(await h.app.atelier.getSettings({ kind: 'server', platform: 'slack', id: h.fake.teamId })).toEqual({});
    expect(await command('--scope server --daily_quota 50', h.fake.users.mod, '/settings')).toMatch(/dailyQuota: 50/);
    expect(await command('--scope server --reset daily_quota', h.fake.users.mod, '/settings')).toMatch(/nothing set/);
    expect(await command('', h.fake.users.alice, '/help')).toMatch(/channel settings: workspace admins and owners; server settings: workspace admins and owners/);
  });
});

describe('Slack: workspace owners manage as admins do', () => {
  it('an owner who is not an admin may change workspace and channel settings; a plain member may not', async () => {
    const { owner, bob } = h.fake.users;
    expect(await command('--scope server --daily_quota 40', bob, '/settings')).toMatch(/Only workspace admins and owners may change this server's settings/);
    expect(await command('--scope channel --max_jobs 3', bob, '/settings')).toMatch(/Only workspace admins and owners/);
    expect(await h.app.atelier.getSettings({ kind: 'server', platform: 'slack', id: h.fake.teamId })).toEqual({});
    expect(await command('--scope server --daily_quota 40', owner, '/settings')).toMatch(/dailyQuota: 40/);
    expect(await command('--scope channel --max_jobs 3', owner, '/settings')).toMatch(/maxJobsPerPrompt: 3/);
    // What the app was told is Slack's answer: the owner is no admin, the member neither admin nor owner.
    const roleOf = (id: string) => h.fake.proxy.callsOf('users.info').find((c) => c.args.user === id)!.answer.user;
    expect(roleOf(owner.id)).toMatchObject({ is_admin: false, is_owner: true, is_primary_owner: false });
    expect(roleOf(bob.id)).toMatchObject({ is_admin: false, is_owner: false, is_primary_owner: false });
    expect(await command('--scope server --reset daily_quota', owner, '/settings')).toMatch(/nothing set/);
    expect(await command('--scope channel --reset max_jobs', owner, '/settings')).toMatch(/nothing set/);
  });
});

describe('Slack: NSFW follows the channel and workspace settings', () => {
  it('refused by default; allowed once an admin allows it for the channel', async () => {
    expect(await command('a nude plaster cast --provider local --count 1', h.fake.users.alice)).toMatch(/NSFW/);
    expect(await command('--scope channel --nsfw true', h.fake.users.mod, '/settings')).toMatch(/nsfw: true/);
    await imagine('a nude marble cast --provider local --count 1', h.fake.users.alice);
    await messageOf('a nude marble cast', /in the thread|Done/);
    await command('--scope channel --reset nsfw', h.fake.users.mod, '/settings');
  });
});

describe('Slack buttons come from capabilities, and Retry keeps the seed', () => {
  it('no U or V buttons for a provider that cannot upscale or vary', async () => {
    await imagine('a pencil owl --provider sketch --count 2', h.fake.users.alice);
    const msg = await messageOf('a pencil owl', /in the thread/);
    const ids = actionIds(msg);
    expect(ids.some((id) => id.startsWith('a:reroll:'))).toBe(true);
    expect(ids.some((id) => id.startsWith('a:upscale:') || id.startsWith('a:vary:'))).toBe(false);
  });

  it('Retry on a failed job makes a retry with the same seed, as on Discord', async () => {
    await imagine('a stubborn mule --provider failing --seed 7 --count 1', h.fake.users.alice);
    const failed = await messageOf('a stubborn mule', /Failed/);
    const retry = actionIds(failed).find((id) => id.startsWith('a:retry:'))!;
    expect(retry).toBeDefined();
    const response = h.fake.responseUrl();
    const u = h.fake.users.alice;
    const res = await postSigned(h.eventsUrl, blockActionBody({ user: u, teamId: h.fake.teamId, channel: h.fake.channel, messageTs: failed.ts, actionId: retry, triggerId: await h.fake.triggerFor(u.id), responseUrl: response.url }));
    expect(res.status).toBe(200);
    const parent = (await h.app.atelier.store.listJobs({})).find((j) => j.request.prompt === 'a stubborn mule' && !j.parentId)!;
    const child = await eventually(async () => (await h.app.atelier.store.listJobs({})).find((j) => j.parentId === parent.id), Boolean, 'retry job');
    expect(child!.action).toEqual({ kind: 'retry' });
    expect(child!.request.seed).toBe(7);
  });

  it('made only calls the method specs allow', () => {
    expect(h.fake.proxy.violations).toEqual([]);
  });
});
