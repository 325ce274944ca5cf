import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signSlackRequest, verifySlackSignature } from '../../../src/platforms/slack/signature.ts';

const secret = '8f742231b10e8888abcd99yyyzzz85a5';
const body = Buffer.from('token=x&command=%2Fimagine&text=a+fox');
const now = 1_700_000_000;
// Computed independently of the code under test.
const hmac = (ts: number, b: Buffer | string, key = secret) => `v0=${createHmac('sha256', key).update(`v0:${ts}:${b.toString()}`).digest('hex')}`;

describe('verifySlackSignature', () => {
  it('accepts a request signed as Slack signs it', () => {
    expect(signSlackRequest(secret, now, body)).toBe(hmac(now, body));
    expect(verifySlackSignature(secret, { signature: hmac(now, body), timestamp: String(now) }, body, now)).toEqual({ ok: true });
  });
  it.each([
    ['a forged key', hmac(now, body, 'other-secret'), now, 'mismatch'],
    ['a changed body', hmac(now, 'token=x&command=%2Fimagine&text=a+cat'), now, 'mismatch'],
    ['a stale timestamp', hmac(now - 301, body), now - 301, 'stale'],
    ['a future timestamp', hmac(now + 301, body), now + 301, 'future'],
  ])('refuses %s', (_what, signature, ts, reason) => {
    expect(verifySlackSignature(secret, { signature, timestamp: String(ts) }, body, now)).toEqual({ ok: false, reason });
  });
  it('allows the edge of the five-minute window both ways', () => {
    for (const ts of [now - 300, now + 300]) expect(verifySlackSignature(secret, { signature: hmac(ts, body), timestamp: String(ts) }, body, now).ok).toBe(true);
  });
  it('refuses missing and malformed headers', () => {
    expect(verifySlackSignature(secret, { timestamp: String(now) }, body, now)).toEqual({ ok: false, reason: 'missing' });
    expect(verifySlackSignature(secret, { signature: 'v1=abc', timestamp: String(now) }, body, now)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifySlackSignature(secret, { signature: hmac(now, body), timestamp: '1e9' }, body, now)).toEqual({ ok: false, reason: 'malformed' });
  });
});
