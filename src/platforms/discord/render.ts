import {
  ButtonStyle,
  ComponentType,
  MessageFlags,
  type APIActionRowComponent,
  type APIAllowedMentions,
  type APIButtonComponentWithCustomId,
  type APIEmbed,
  type RESTAPIAttachment,
} from 'discord-api-types/v10';
import type { Job } from '../../core/job.ts';
import type { ProviderCapabilities } from '../../core/provider.ts';
import { actionText, buttonRows, elapsedMs, formatDuration, inputsText, statusText, type ButtonSpec } from '../../core/present.ts';
import { isFinal } from '../../core/job.ts';
import { formatPrompt } from '../../core/prompt.ts';

/** Discord's message limits (resources/message.mdx, components/reference.mdx). */
export const CONTENT_LIMIT = 2000;
export const LABEL_LIMIT = 80;
/** Jobs longer than this ping their requester when done (Midjourney does the same); shorter ones stay quiet. */
export const PING_AFTER_MS = 60_000;

/** A file ready to upload: already re-encoded to fit the channel's cap. */
export interface RenderFile {
  name: string;
  data: Uint8Array;
  contentType: string;
  description?: string;
}

/** One message's body, for `POST /channels/{id}/messages`, the interaction webhooks and their PATCHes alike. */
export interface DiscordPayload {
  content: string;
  components: APIActionRowComponent<APIButtonComponentWithCustomId>[];
  allowed_mentions: APIAllowedMentions;
  attachments: RESTAPIAttachment[];
  files: RenderFile[];
  /**
   * The user's own pictures as embed thumbnails (`attachment://` the small files uploaded with the message). Left
   * out (undefined) of an edit that keeps those files: the message's embeds stay as they are.
   */
  embeds?: APIEmbed[];
  flags?: number;
}

const STYLES: Record<ButtonSpec['style'], ButtonStyle.Primary | ButtonStyle.Secondary | ButtonStyle.Danger> = {
  primary: ButtonStyle.Primary,
  secondary: ButtonStyle.Secondary,
  danger: ButtonStyle.Danger,
};

/**
 * The message for a job in its current state, as pure data: the prompt, who asked (and who pressed,
 * for child jobs), provider, seed, elapsed time, the status line, the files and the buttons the provider
 * allows. `files` are the grid / images / preview to show, already sized for the channel.
 */
export function render(job: Job, files: readonly RenderFile[], caps: ProviderCapabilities, imageCount = countImages(job), thumbnails: readonly RenderFile[] = []): DiscordPayload {
  const who = `<@${job.owner.userId}>`;
  const action = actionText(job);
  const byline = action ? `${ACTION_EMOJI[job.action.kind] ?? ''}${action} by ${who}`.trim() : who;
  const facts = [job.provider];
  const seed = job.result?.seed ?? job.request.seed;
  if (seed !== undefined) facts.push(`seed ${seed}`);
  if (job.state === 'succeeded' || job.state === 'failed') facts.push(formatDuration(elapsedMs(job)));
  const lines = [`${byline} · ${facts.join(' · ')}`, statusText(job)];
  const started = inputsText(job);
  if (started) lines.push(`-# ${escapeMarkdown(started)}`);
  if (job.state === 'failed' && job.error?.retryable) lines.push('Press 🔄 to try again.');
  for (const note of job.notes) lines.push(`-# ${note}`);
  if (job.result?.note) lines.push(`-# ${job.result.note}`);
  const rest = lines.join('\n');
  // The prompt is the only unbounded part: it gives way so the whole fits Discord's 2000 characters.
  const room = CONTENT_LIMIT - rest.length - 6;
  const content = `**${clip(escapeMarkdown(formatPrompt(job.request)), Math.max(room, 20))}**\n${rest}`.slice(0, CONTENT_LIMIT);

  const rows = buttonRows(job, caps, imageCount).map(
    (row): APIActionRowComponent<APIButtonComponentWithCustomId> => ({
      type: ComponentType.ActionRow,
      components: row.map((b) => ({
        type: ComponentType.Button,
        style: STYLES[b.style],
        custom_id: b.id,
        label: clip(b.label, LABEL_LIMIT),
        ...(b.emoji ? { emoji: { name: b.emoji } } : {}),
      })),
    }),
  );

  const pingOwner = isFinal(job.state) && job.state !== 'canceled' && elapsedMs(job) > PING_AFTER_MS;
  const all = [...files, ...thumbnails];
  return {
    content,
    components: rows,
    // Prompts are user text: "@everyone" or a role mention in one must never ping anybody.
    allowed_mentions: pingOwner ? { parse: [], users: [job.owner.userId] } : { parse: [] },
    attachments: all.map((f, i) => ({ id: String(i), filename: f.name, ...(f.description ? { description: f.description } : {}) })),
    files: all,
    // A small picture beside a line naming it: what the job started from, without competing with the results.
    embeds: thumbnails.map((t) => ({ description: clip(t.description ?? t.name, 200), thumbnail: { url: `attachment://${t.name}` } })),
    ...(job.private ? { flags: MessageFlags.Ephemeral } : {}),
  };
}

const ACTION_EMOJI: Partial<Record<Job['action']['kind'], string>> = { reroll: '🔄 ', remix: '✏️ ' };

function countImages(job: Job): number {
  return job.result?.imageIds.length ?? 0;
}

/** A short ephemeral text reply, with no pings. */
export function notice(text: string): { content: string; flags: number; allowed_mentions: APIAllowedMentions } {
  return { content: clip(text, CONTENT_LIMIT), flags: MessageFlags.Ephemeral, allowed_mentions: { parse: [] } };
}

export function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Keeps a prompt's own asterisks and underscores from breaking the bold around it. */
function escapeMarkdown(s: string): string {
  return s.replace(/([*_~`|\\])/g, '\\$1');
}
