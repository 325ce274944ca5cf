import type { RawRequest } from '../../server.ts';
import { readSession } from './session.ts';

/**
 * Who is asking, for per-client limits: the session (its cookie) when there is one, else the remote
 * address. Anyone can make up a session, so the overall caps stay what bounds a determined client.
 */
export function clientKey(req: RawRequest): string {
  const session = readSession(req);
  if (session) return `session:${session.userId}`;
  return `address:${req.raw.req.socket.remoteAddress ?? 'unknown'}`;
}
