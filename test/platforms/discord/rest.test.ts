import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DiscordAPIError } from '@discordjs/rest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRest, REST_DEFAULTS, settled } from '../../../src/platforms/discord/rest.ts';

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

  it('forgets each interaction token\'s rate-limit queue soon after its last call', async () => {
    // discord.js keeps one queue per webhook id + token (every interaction is its own major parameter) and
    // sweeps idle ones hourly by default: a busy bot would hold an hour of interactions' queues.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const rest = createRest({ api: url, retries: 0 });
      for (let i = 0; i < 5; i++) await rest.patch(`/webhooks/123456789012345678/token-${i}/messages/@original`, { body: {}, auth: false });
      expect(rest.handlers.size).toBe(5);
      vi.advanceTimersByTime(REST_DEFAULTS.idleQueueSweepMs);
      expect(rest.handlers.size).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
