import { timingSafeEqual, createHash } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { RawRequest } from '../../server.ts';
import { ConfigError } from '../../config.ts';

/** 127.0.0.0/8 and ::1; node's BlockList also matches every spelling of them (IPv4-mapped, zeros written out). */
const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** Whether only this machine can reach a server bound to `host`; 0.0.0.0 and :: listen everywhere. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  const family = isIP(h);
  return family !== 0 && loopback.check(h, family === 6 ? 'ipv6' : 'ipv4');
}

/** A configuration problem: the CLI prints it as one line, like any other bad setting. */
export class PlaygroundAccessError extends ConfigError {}

/**
 * The playground can spend every configured provider, so anything beyond this machine needs a token.
 * Returns the token to require, or undefined when none is needed (loopback and none set).
 */
export function requiredToken(host: string, token: string | undefined): string | undefined {
  if (token) return token;
  if (isLoopback(host)) return undefined;
  throw new PlaygroundAccessError(
    `The playground would be reachable on HOST=${host} without an access token: set PLAYGROUND_TOKEN to a long random value, bind HOST=127.0.0.1, or set PLAYGROUND=off.`,
  );
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Bearer header or `?token=` (EventSource and <img> cannot send headers). Constant-time compare. */
export function hasToken(req: RawRequest, token: string): boolean {
  const header = req.headers.authorization;
  const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : req.query.get('token') ?? '';
  return given.length > 0 && timingSafeEqual(digest(given), digest(token));
}

/** "127.0.0.1:8787" / "[::1]:8787" / "localhost" -> whether it names this machine. */
function hostHeaderIsLoopback(host: string | undefined): boolean {
  if (!host) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(host);
  return Boolean(m && isLoopback(m[1]!));
}

/**
 * Why a request must be refused even though the page itself could have sent it, or undefined.
 * Without a token only this machine is trusted: a web page elsewhere could otherwise spend providers by
 * posting here (cross-site), or by pointing its own host name at 127.0.0.1 (DNS rebinding).
 */
export function refusal(req: RawRequest, tokenRequired: boolean, accepts: 'json' | 'picture' = 'json'): { status: number; message: string } | undefined {
  if (!tokenRequired && !hostHeaderIsLoopback(req.headers.host)) {
    return { status: 403, message: 'Open the playground as http://localhost or http://127.0.0.1, or set PLAYGROUND_TOKEN.' };
  }
  const origin = req.headers.origin;
  if (origin && origin !== 'null') {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = undefined;
    }
    if (originHost !== req.headers.host) return { status: 403, message: 'Requests from other sites are refused.' };
  }
  // A JSON or picture content type cannot be sent cross-site without a CORS preflight, which this server never
  // grants; form encodings and text/plain can (the Fetch standard's CORS-safelisted types), so they are refused.
  const type = req.headers['content-type'] ?? '';
  if (req.method === 'POST' && accepts === 'json' && !/^application\/json\b/i.test(type)) {
    return { status: 415, message: 'Send JSON (content-type: application/json).' };
  }
  if (req.method === 'POST' && accepts === 'picture' && !/^(image\/[\w.+-]+|application\/octet-stream)\s*(;|$)/i.test(type)) {
    return { status: 415, message: 'Send the picture itself as the body, with its type (content-type: image/png, image/jpeg, image/webp or image/gif).' };
  }
  return undefined;
}
