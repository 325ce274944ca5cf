import type { MessageRef, Store } from '../../core/ports.ts';

export const PLATFORM = 'discord';

/**
 * Where a job's message lives on Discord, persisted through the store so edits and buttons survive a
 * restart. While the interaction token lives, writes go through the interaction webhook (no bot
 * permissions needed, not counted against the bot's global limit); afterwards through the bot token.
 */
export interface DiscordMessageRef {
  applicationId: string;
  /** Interaction token: valid 15 minutes after the interaction was created. */
  token?: string;
  tokenIssuedAt: number;
  /** '@original' for the command's own response; a follow-up's id; absent until the first write creates one. */
  webhookMessage?: string;
  /** The channel message id, known after the first write; bot-token edits need it. */
  messageId?: string;
  channelId: string;
  guildId?: string;
  ephemeral: boolean;
  /** The interaction's `attachment_size_limit`, or Discord's 10 MiB default. */
  attachmentLimit: number;
  /** Set once the token is expired or refused: every later write uses the bot token. */
  viaBot?: boolean;
  /** A private result delivered by DM because its token expired. */
  dmChannelId?: string;
  /**
   * The thumbnails of the job's pictures already on the message `messageId`: attachment id by file name. Later
   * edits of that message keep them by id instead of uploading them again.
   */
  thumbnailIds?: { messageId: string; ids: Record<string, string> };
}

export const DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024;

export async function loadRef(store: Store, jobId: string): Promise<DiscordMessageRef | undefined> {
  const raw = await store.getMessageRef(jobId, PLATFORM);
  if (!raw || typeof raw.channelId !== 'string' || typeof raw.applicationId !== 'string') return undefined;
  return raw as unknown as DiscordMessageRef;
}

export function saveRef(store: Store, jobId: string, ref: DiscordMessageRef): Promise<void> {
  return store.setMessageRef(jobId, PLATFORM, ref as unknown as MessageRef);
}
