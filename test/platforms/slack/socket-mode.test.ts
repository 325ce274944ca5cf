import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SocketModeFake } from '../../fakes/slack/socket-mode-fake.ts';
import type { SlackMessage } from '../../fakes/slack/slack-fake.ts';
import { eventually, startHarness, type Harness } from './harness.ts';

let h: Harness;
const socket = new SocketModeFake();

beforeAll(async () => {
  await socket.listen();
  // The harness starts the fake first; the proxy answers apps.connections.open with this socket.
  h = await startHarness({ SLACK_APP_TOKEN: 'xapp-1-A000000001-test' }, (fake) => {
    fake.proxy.socketUrl = socket.url;
  });
  await socket.connected();
});
afterAll(async () => {
  await h?.stop();
  await socket.close();
});

const textOf = (m: SlackMessage) => [m.text ?? '', ...(m.blocks ?? []).flatMap((b) => [b.text?.text ?? '', ...(b.elements ?? []).map((e) => (typeof e.text === 'string' ? e.text : (e.text?.text ?? '')))])].join('\n');

function slashCommand(text: string, user = h.fake.users.alice, triggerId = 'unused.trigger') {
  return {
    token: 'verification-token-unused',
    team_id: h.fake.teamId,
    team_domain: 'atelier-test',
    channel_id: h.fake.channel,
    channel_name: 'general',
    user_id: user.id,
    user_name: user.name,
    command: '/imagine',
    text,
    api_app_id: 'A000000001',
    response_url: h.fake.responseUrl().url,
    trigger_id: triggerId,
  };
}

describe('Slack over Socket Mode', () => {
  it('opens the connection with the app token through apps.connections.open', () => {
    expect(h.fake.proxy.callsOf('apps.connections.open').length).toBeGreaterThanOrEqual(1);
    expect(socket.connections).toBeGreaterThanOrEqual(1);
  });

  it('acks a slash command envelope and runs the job to its message', async () => {
    const ack = await socket.send('slash_commands', slashCommand('a harbour at night --provider local --count 1'));
    expect(ack.payload ?? {}).toEqual({});
    const msgs = await eventually(() => h.fake.history(), (ms) => ms.some((m) => textOf(m).includes('a harbour at night') && /in the thread/.test(textOf(m))), 'socket-mode job done');
    const msg = msgs.find((m) => textOf(m).includes('a harbour at night'))!;
    const buttons = (msg.blocks ?? []).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
    expect(buttons.some((b) => b.action_id?.startsWith('a:upscale:1:'))).toBe(true);
  });

  it('puts a bad option in the ack payload itself', async () => {
    const ack = await socket.send('slash_commands', slashCommand('a harbour --count 0'));
    expect(ack.payload).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/count/) });
  });

  it('acks a button press envelope and acts on it', async () => {
    const job = (await h.app.atelier.store.listJobs({})).find((j) => j.request.prompt === 'a harbour at night' && j.state === 'succeeded')!;
    const ref = (await h.app.atelier.store.getMessageRef(job.id, 'slack')) as { ts: string };
    const actionId = `a:reroll:0:${job.id}`;
    const ack = await socket.send('interactive', {
      type: 'block_actions',
      user: { id: h.fake.users.bob.id, username: 'bob', name: 'bob', team_id: h.fake.teamId },
      api_app_id: 'A000000001',
      token: 'verification-token-unused',
      container: { type: 'message', message_ts: ref.ts, channel_id: h.fake.channel, is_ephemeral: false },
      trigger_id: 'unused.trigger',
      team: { id: h.fake.teamId, domain: 'atelier-test' },
      channel: { id: h.fake.channel, name: 'general' },
      message: { type: 'message', ts: ref.ts },
      response_url: h.fake.responseUrl().url,
      actions: [{ type: 'button', action_id: actionId, block_id: 'buttons-0', value: actionId, text: { type: 'plain_text', text: '🔄 Reroll' }, action_ts: '1' }],
    });
    expect(ack.envelope_id).toBeTruthy();
    await eventually(() => h.fake.history(), (ms) => ms.some((m) => /Reroll by bob/.test(textOf(m))), 'reroll by bob');
  });

  it('reconnects when Slack asks it to, through a fresh apps.connections.open', async () => {
    const opens = h.fake.proxy.callsOf('apps.connections.open').length;
    const connections = socket.connections;
    socket.requestReconnect();
    await socket.connected(10_000, connections + 1);
    expect(h.fake.proxy.callsOf('apps.connections.open').length).toBeGreaterThan(opens);
    // Only the new socket is left; a command over it is acked.
    await eventually(async () => socket.send('slash_commands', slashCommand('a second harbour --count 0')).catch(() => undefined), (ack) => Boolean(ack?.payload), 'ack after reconnect');
  });

  it('made only calls the method specs allow', () => {
    expect(h.fake.proxy.violations).toEqual([]);
  });
});
