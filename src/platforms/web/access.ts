import { timingSafeEqual, createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { RawRequest } from '../../server.ts';

/** Whether only this machine can reach a server bound to `host`. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h.startsWith('::ffff:127.');
}

export class PlaygroundAccessError extends Error {
  override readonly name = 'PlaygroundAccessError';
}

/**
 * The playground can spend every configured provider, so anything beyond this machine needs a token.
 * Returns the token to require, or undefined when none is needed (loopback and none set).
 */
export function requiredToken(host: string, token: string | undefined): string | undefined {
  if (token) return token;
  if (isLoopback(host)) return undefined;
  throw new PlaygroundAccessError(
    `The playground would be reachable on HOST=${host} without a password: set PLAYGROUND_TOKEN to a long random value, bind HOST=127.0.0.1, or set PLAYGROUND=off.`,
  );
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Bearer header or `?token=` (EventSource and <img> cannot send headers). Constant-time compare. */
export function hasToken(req: RawRequest, token: string): boolean {
  const header = req.headers.authorization;
  const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : req.query.get('token') ?? '';
  return given.length > 0 && timingSafeEqual(digest(given), digest(token));
}
