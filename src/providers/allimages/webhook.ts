import type { RawRequest, RawResponse } from '../../server.ts';
import type { Logger } from '../../core/ports.ts';
import type { Notifier } from '../notifier.ts';
import { webhookSchema } from './api.ts';

/**
 * POST /webhooks/allimages. all-images.ai documents no signature, so the payload is never trusted:
 * it only wakes the poller of that generation, which re-fetches it by id.
 */
export function createAllImagesWebhook(notifier: Notifier, logger?: Logger): (req: RawRequest) => Promise<RawResponse> {
  return async (req) => {
    let payload: unknown;
    try {
      payload = JSON.parse(req.body.toString('utf8'));
    } catch {
      return { status: 400, body: { error: 'expected a JSON body' } };
    }
    const parsed = webhookSchema.safeParse(payload);
    if (!parsed.success) return { status: 400, body: { error: 'expected { type, data: { id } }' } };
    const woke = notifier.notify(parsed.data.data.id);
    logger?.debug({ type: parsed.data.type, generationId: parsed.data.data.id, woke }, 'all-images.ai webhook');
    return { status: 200, body: { ok: true } };
  };
}
