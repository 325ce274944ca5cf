import { afterEach, describe, expect, it } from 'vitest';
import type { App, ReceiverEvent } from '@slack/bolt';
import { createServer, type HttpServer } from '../../../src/server.ts';
import { SlackHttpReceiver } from '../../../src/platforms/slack/http-receiver.ts';
import { silentLogger } from '../../../src/core/ports.ts';
import { ReplayGuard } from '../../../src/platforms/replay-guard.ts';
import { createSqliteStore } from '../../../src/store/sqlite-store.ts';
import { postSigned, SIGNING_SECRET } from '../../fakes/slack/slack-fake.ts';

let server: HttpServer | undefined;
const CMD = 'command=%2Fimagine&user_id=U1&channel_id=C1&text=';
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The receiver with a stand-in for Bolt's App: only `processEvent` is what a receiver calls. */
async function receiverWith(processEvent: (e: ReceiverEvent) => Promise<void>, ackTimeoutMs = 2500) {
  server = createServer({ host: '127.0.0.1', port: 0 });
  const store = createSqliteStore(':memory:');
  await store.migrate();
  const receiver = new SlackHttpReceiver({ server, signingSecret: SIGNING_SECRET, path: '/slack/events', logger: silentLogger, ackTimeoutMs, replays: new ReplayGuard(store) });
  receiver.init({ processEvent } as unknown as App);
  await receiver.start();
  return `${await server.listen()}/slack/events`;
}

describe('SlackHttpReceiver', () => {
  it('answers as soon as the listener acks, before it finishes', async () => {
    let finished = false;
    let release!: () => void;
    const url = await receiverWith(async (e) => {
      await e.ack({ response_type: 'ephemeral', text: 'on it' });
      await new Promise<void>((r) => (release = r));
      finished = true;
    });
    const res = await postSigned(url, CMD + 'x');
    expect(JSON.parse(res.body)).toEqual({ response_type: 'ephemeral', text: 'on it' });
    expect(finished).toBe(false);
    release();
  });

  it('hands Bolt the parsed form, the payload JSON, and Slack retry headers', async () => {
    const seen: ReceiverEvent[] = [];
    const url = await receiverWith(async (e) => {
      seen.push(e);
      await e.ack();
    });
    await postSigned(url, CMD + 'a+fox');
    await postSigned(url, `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U1' }, actions: [] }))}`);
    expect(seen[0]!.body).toMatchObject({ command: '/imagine', text: 'a fox' });
    expect(seen[1]!.body).toMatchObject({ type: 'block_actions' });
  });

  it('answers an empty 200 when no listener acks in time, and 500 when one throws first', async () => {
    const url = await receiverWith(() => new Promise(() => {}), 50);
    expect(await postSigned(url, CMD + 'x')).toEqual({ status: 200, body: '' });
    await server!.close();
    const url2 = await receiverWith(async () => {
      throw new Error('listener broke');
    });
    expect((await postSigned(url2, CMD + 'x')).status).toBe(500);
  });

  it('refuses a body signed with another secret and an unreadable one', async () => {
    const url = await receiverWith(async (e) => e.ack());
    expect((await postSigned(url, 'command=%2Fimagine', { secret: 'wrong' })).status).toBe(401);
    expect((await postSigned(url, '{not json', { contentType: 'application/json' })).status).toBe(400);
  });
});
