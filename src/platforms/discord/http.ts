import { InteractionResponseType, type APIInteraction } from 'discord-api-types/v10';
import { notice } from './render.ts';
import type { Logger } from '../../core/ports.ts';
import type { HttpServer, RawRequest, RawResponse } from '../../server.ts';
import type { Handled } from './interactions.ts';
import { createVerifier, signatureHeadersProblem } from './verify.ts';
import type { WorkQueue } from './work-queue.ts';

export const INTERACTIONS_PATH = '/discord/interactions';

/**
 * Discord documents no byte limit for an interaction; its parts are bounded (a modal's five 4,000-character
 * inputs, 6,000 characters of embeds on a resolved message, 25 options), which stays well under 256 KiB.
 */
export const MAX_INTERACTION_BYTES = 256 * 1024;

/**
 * `POST /discord/interactions`: verify, answer, then work. The answer goes out as this request's
 * response (Discord waits 3 s for it); the work starts only after the response has been written.
 */
export function mountInteractions(server: HttpServer, publicKey: string, handle: (i: APIInteraction) => Promise<Handled>, work: WorkQueue, logger: Logger): void {
  const verify = createVerifier(publicKey);
  server.route('POST', INTERACTIONS_PATH, async (req: RawRequest): Promise<RawResponse> => {
    const checked = verify({ signature: header(req, 'x-signature-ed25519'), timestamp: header(req, 'x-signature-timestamp') }, req.body);
    if (!checked.ok) {
      logger.debug({ reason: checked.reason }, 'discord: refused an interaction');
      return { status: 401, body: { error: 'invalid request signature' } };
    }
    let interaction: APIInteraction;
    try {
      interaction = JSON.parse(req.body.toString('utf8')) as APIInteraction;
    } catch {
      return { status: 400, body: { error: 'body is not JSON' } };
    }
    const handled = await handle(interaction).catch((err: unknown): Handled => {
      // Even a failed read answers Discord, so the user sees why instead of "The application did not respond".
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'discord: could not answer an interaction');
      return { response: { type: InteractionResponseType.ChannelMessageWithSource, data: notice('Something went wrong answering that. Please try again in a moment.') } };
    });
    if (handled.after) {
      const after = handled.after;
      // 'close' fires after the answer is flushed, and also if Discord hung up first: the work runs either way.
      req.raw.res.once('close', () => work.push(after));
    }
    return { status: 200, body: handled.response };
  }, {
    maxBodyBytes: MAX_INTERACTION_BYTES,
    precheck: (headers) => (signatureHeadersProblem(headers) ? 'invalid request signature' : undefined),
  });
}

function header(req: RawRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
