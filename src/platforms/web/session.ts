import { createHash, randomBytes } from 'node:crypto';
import type { RawRequest } from '../../server.ts';

/**
 * Who a playground visitor is: a session the server issues, held in an HttpOnly cookie the page's
 * scripts cannot read or set. The user id is a hash of the session's secret, so it can be shown to
 * everyone (it is on every job) without letting anyone become that user, and every process of a
 * scaled-out deployment derives the same id without shared session state. A visitor who makes up a
 * cookie only makes up a new, empty identity of their own.
 */
export const SESSION_COOKIE = 'atelier_session';
/** 32 random bytes, base64url. */
const SECRET = /^[A-Za-z0-9_-]{43}$/;
const YEAR_S = 365 * 24 * 60 * 60;

export interface Session {
  secret: string;
  userId: string;
}

export function sessionOf(secret: string): Session {
  return { secret, userId: `w-${createHash('sha256').update(`atelier playground session\0${secret}`).digest('base64url').slice(0, 22)}` };
}

export const newSession = (): Session => sessionOf(randomBytes(32).toString('base64url'));

/** The request's session, or undefined when it has none (or a malformed one). */
export function readSession(req: RawRequest): Session | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return SECRET.test(value) ? sessionOf(value) : undefined;
  }
  return undefined;
}

/**
 * Lax, not Strict: a link to the playground from elsewhere must arrive with the visitor's session, or
 * the page would hand them a new identity. Cross-site POSTs and subresources still go without it, and
 * `refusal` turns cross-site requests away in any case.
 */
export const sessionCookie = (s: Session): string => `${SESSION_COOKIE}=${s.secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${YEAR_S}`;
