import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebAPIRateLimitedError } from '@slack/web-api';
import { silentLogger } from '../../../src/core/ports.ts';
import { redactTokens } from '../../../src/platforms/slack/bolt-logger.ts';
import { boundedFetch, CLIENT_LIMITS, createWebClient, withRetryAfter } from '../../../src/platforms/slack/web-client.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function serve(handler: (path: string, res: import('node:http').ServerResponse) => void): Promise<string> {
  server = createServer((req, res) => handler(req.url ?? '/', res));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the Slack Web API client', () => {
  it('refuses an answer larger than its cap', async () => {
    const url = await serve((_p, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, junk: 'x'.repeat(5000) }));
    });
    await expect(boundedFetch(1000)(`${url}/api/auth.test`)).rejects.toThrow(/too large/);
    const ok = await boundedFetch(10_000)(`${url}/api/auth.test`);
    expect(((await ok.json()) as { ok: boolean }).ok).toBe(true);
  });

  it('gives a 429 back with its Retry-After instead of sleeping in the SDK', async () => {
    let calls = 0;
    const url = await serve((_p, res) => {
      calls++;
      res.writeHead(429, { 'retry-after': '120', 'content-type': 'application/json' });
      res.end('{"ok":false,"error":"ratelimited"}');
    });
    const client = createWebClient('xoxb-test', `${url}/api/`, silentLogger);
    const err = await client.chat.update({ channel: 'C1', ts: '1.2', text: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'slack_webapi_rate_limited_error', retryAfter: 120 });
    expect(calls).toBe(1);
  });

  it('retries a failing server a bounded number of times', async () => {
    let calls = 0;
    const url = await serve((_p, res) => {
      calls++;
      res.writeHead(503);
      res.end('down');
    });
    const client = createWebClient('xoxb-test', `${url}/api/`, silentLogger);
    await expect(client.auth.test()).rejects.toBeDefined();
    expect(calls).toBe(CLIENT_LIMITS.retries + 1);
  });

  it('waits out a short Retry-After, gives up on a long one', async () => {
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
    };
    let n = 0;
    expect(await withRetryAfter(async () => (n++ === 0 ? Promise.reject(new WebAPIRateLimitedError(2)) : 'done'), 3, sleep)).toBe('done');
    expect(slept).toEqual([2000]);
    await expect(withRetryAfter(() => Promise.reject(new WebAPIRateLimitedError(3600)), 3, sleep)).rejects.toMatchObject({ retryAfter: 3600 });
    await expect(withRetryAfter(() => Promise.reject(new Error('channel_not_found')), 3, sleep)).rejects.toThrow('channel_not_found');
    expect(slept).toEqual([2000]);
  });

  it('keeps tokens out of log lines', () => {
    expect(redactTokens('posting with xoxb-123-456-abcDEF and xapp-1-A0-99-ff')).toBe('posting with [redacted] and [redacted]');
  });
});
