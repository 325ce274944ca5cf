import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createVerifier, MAX_SKEW_SECONDS } from '../../../src/platforms/discord/verify.ts';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const spki = publicKey.export({ format: 'der', type: 'spki' });
const publicHex = Buffer.from(spki.subarray(spki.length - 32)).toString('hex');
const verify = createVerifier(publicHex);
const body = Buffer.from('{"type":1}');
const now = 1_800_000_000_000;
const signed = (timestamp: string, key = privateKey, payload = body) => ({ timestamp, signature: sign(null, Buffer.concat([Buffer.from(timestamp), payload]), key).toString('hex') });
const ts = (offsetSeconds: number) => String(Math.floor(now / 1000) + offsetSeconds);

describe('Discord request verification (Ed25519 over timestamp + body)', () => {
  it('accepts a genuine signature with a current timestamp', () => {
    expect(verify(signed(ts(0)), body, now)).toEqual({ ok: true });
  });

  it('refuses a signature by another key', () => {
    expect(verify(signed(ts(0), generateKeyPairSync('ed25519').privateKey), body, now)).toEqual({ ok: false, reason: 'signature' });
  });

  it('refuses a body changed after signing', () => {
    expect(verify(signed(ts(0)), Buffer.from('{"type":2}'), now)).toEqual({ ok: false, reason: 'signature' });
  });

  it('refuses genuine signatures more than 5 minutes old or ahead, and accepts them just inside', () => {
    expect(verify(signed(ts(-MAX_SKEW_SECONDS - 1)), body, now)).toEqual({ ok: false, reason: 'stale' });
    expect(verify(signed(ts(MAX_SKEW_SECONDS + 1)), body, now)).toEqual({ ok: false, reason: 'future' });
    expect(verify(signed(ts(-MAX_SKEW_SECONDS + 1)), body, now).ok).toBe(true);
    expect(verify(signed(ts(MAX_SKEW_SECONDS - 1)), body, now).ok).toBe(true);
  });

  it('refuses missing and malformed headers without throwing', () => {
    expect(verify({ timestamp: ts(0) }, body, now)).toEqual({ ok: false, reason: 'missing' });
    expect(verify({ signature: 'zz', timestamp: ts(0) }, body, now)).toEqual({ ok: false, reason: 'malformed' });
    expect(verify({ signature: signed(ts(0)).signature, timestamp: 'yesterday' }, body, now)).toEqual({ ok: false, reason: 'malformed' });
  });
});
