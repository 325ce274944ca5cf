import type { RawRequest, RawResponse } from '../../server.ts';
import type { Logger } from '../../core/ports.ts';
import type { Notifier } from '../notifier.ts';
import { readWebhookBody } from '../webhook-body.ts';
import { webhookSchema } from './api.ts';

/**
 * POST /webhooks/allimages. all-images.ai documents no signature, so the payload is never trusted:
 * it only wakes the poller of that generation, which re-fetches it by id.
 */
export function createAllImagesWebhook(notifier: Notifier, logger?: Logger): (req: RawRequest) => Promise<RawResponse> {
  return async (req) => {
    const read = readWebhookBody(req, webhookSchema, '{ type, data: { id } }');
    if ('refusal' in read) return read.refusal;
    const woke = notifier.notify(read.data.data.id);
    logger?.debug({ type: read.data.type, generationId: read.data.data.id, woke }, 'all-images.ai webhook');
    return { status: 200, body: { ok: true } };
  };
}
