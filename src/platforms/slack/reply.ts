import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../core/ports.ts';
import { renderText } from './blocks.ts';
import { boundedPost } from './http-post.ts';
import { withRetryAfter } from './web-client.ts';

/** Where an answer to one user goes. */
export interface ReplyTarget {
  channel: string;
  user: string;
  /** From the slash command or button payload: works even where the bot is not a member. */
  responseUrl?: string;
}

/**
 * Answers one user. `response_url` first: it needs no channel membership (so "invite me" can reach
 * the user) and may be used 5 times in 30 minutes; chat.postEphemeral when it is missing or used up.
 */
export async function replyEphemeral(client: WebClient, logger: Logger, to: ReplyTarget, text: string): Promise<void> {
  const payload = renderText(text);
  if (to.responseUrl) {
    try {
      await boundedPost(to.responseUrl, JSON.stringify({ response_type: 'ephemeral', replace_original: false, ...payload }), { 'content-type': 'application/json' }, { timeoutMs: 5_000, attempts: 2 });
      return;
    } catch (err) {
      logger.debug({ err }, 'slack: response_url failed; falling back to chat.postEphemeral');
    }
  }
  try {
    await withRetryAfter(() => client.chat.postEphemeral({ channel: to.channel, user: to.user, text: payload.text, blocks: payload.blocks as never }));
  } catch (err) {
    logger.warn({ err }, 'slack: could not reach the user with an ephemeral message');
  }
}

/** A command answer everyone in the channel sees. */
export async function replyInChannel(client: WebClient, logger: Logger, to: ReplyTarget, text: string): Promise<void> {
  const payload = renderText(text);
  if (to.responseUrl) {
    try {
      await boundedPost(to.responseUrl, JSON.stringify({ response_type: 'in_channel', ...payload }), { 'content-type': 'application/json' }, { timeoutMs: 5_000, attempts: 2 });
      return;
    } catch (err) {
      logger.debug({ err }, 'slack: response_url failed; falling back to chat.postMessage');
    }
  }
  await withRetryAfter(() => client.chat.postMessage({ channel: to.channel, text: payload.text, blocks: payload.blocks as never }));
}
