import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DiscordAPIError } from '@discordjs/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRest, settled } from '../../../src/platforms/discord/rest.ts';

const unknownWebhook = () => new DiscordAPIError({ code: 10015, message: 'Unknown Webhook' }, 10015, 404, 'POST', '/webhooks/x/y', {});

describe('settled: a young token gets a few retries on 10015', () => {
  it('retries a 10015 from a token issued moments ago, then succeeds', async () => {
    let calls = 0;
    const out = await settled(async () => {
      if (++calls < 3) throw unknownWebhook();
      return 'ok';
    }, Date.now());
    expect(out).toBe('ok');
    expect(calls).toBe(3);
  });

  it('gives up at once on an old token, and on other errors', async () => {
    let calls = 0;
    await expect(settled(async () => (calls++, Promise.reject(unknownWebhook())), Date.now() - 60_000)).rejects.toThrow(/Unknown Webhook/);
    expect(calls).toBe(1);
    await expect(settled(async () => Promise.reject(new Error('boom')), Date.now())).rejects.toThrow('boom');
  });
});

describe('createRest: bounded responses', () => {
  let server: Server;
  let url = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url?.includes('huge') ? JSON.stringify({ pad: 'x'.repeat(3 * 1024 * 1024) }) : JSON.stringify({ ok: true }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('reads a normal answer and refuses one larger than the cap', async () => {
    const rest = createRest({ api: url, token: 't', retries: 0 });
    expect(await rest.get('/small')).toEqual({ ok: true });
    await expect(rest.get('/huge')).rejects.toThrow(/more than/);
  });
});
