import { createHash, timingSafeEqual } from 'node:crypto';
import type { RawRequest, RawResponse } from '../../server.ts';
import type { Logger } from '../../core/ports.ts';
import type { Notifier } from '../notifier.ts';
import { readWebhookBody } from '../webhook-body.ts';
import { webhookSchema } from './api.ts';

/** Compares digests, so neither the length nor the content of the secret leaks through timing. */
export function bearerMatches(header: string | string[] | undefined, token: string): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  const m = /^Bearer\s+(.+)$/i.exec(value ?? '');
  const given = createHash('sha256').update(m?.[1]?.trim() ?? '').digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected) && Boolean(m);
}

/**
 * POST /webhooks/leonardo: Leonardo sends `authorization: Bearer <the callback key set on the API key>`.
 * Even when authentic, the payload only wakes the poller, which re-fetches the generation.
 */
export function createLeonardoWebhook(notifier: Notifier, token: string, logger?: Logger): (req: RawRequest) => Promise<RawResponse> {
  return async (req) => {
    if (!bearerMatches(req.headers.authorization, token)) return { status: 401, body: { error: 'unauthorized' } };
    const read = readWebhookBody(req, webhookSchema, '{ type, data: { object: { id } } }');
    if ('refusal' in read) return read.refusal;
    const woke = notifier.notify(read.data.data.object.id);
    logger?.debug({ type: read.data.type, generationId: read.data.data.object.id, woke }, 'Leonardo webhook');
    return { status: 200, body: { ok: true } };
  };
}
