import { isFinal, type Job } from '../../core/job.ts';
import type { ProviderCapabilities } from '../../core/provider.ts';
import { actionText, buttonRows, elapsedMs, inputsText, statusText, type ButtonSpec } from '../../core/present.ts';
import { formatPrompt } from '../../core/prompt.ts';

/** A Block Kit block, kept loose: Slack validates the shape, and the fakes check it against the specs. */
export type Block = Record<string, unknown>;

export interface MessagePayload {
  /** The notification and accessibility text; Slack wants it even when blocks are present. */
  text: string;
  blocks: Block[];
}

// Block Kit caps: section text 3000, context element 2000, button text 75, action_id 255.
const SECTION_MAX = 3000;
const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

/** Slack's mrkdwn treats &, < and > as control characters; user text must not become a mention or link. */
export const escapeMrkdwn = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export const mention = (userId: string): string => `<@${userId}>`;

export function slackButton(spec: ButtonSpec): Block {
  return {
    type: 'button',
    action_id: spec.id,
    text: { type: 'plain_text', text: clip(spec.emoji ? `${spec.emoji} ${spec.label}` : spec.label, 75), emoji: true },
    value: spec.id,
    // Slack has no "secondary" style: leaving it out is the default grey button.
    ...(spec.style === 'secondary' ? {} : { style: spec.style }),
  };
}

/**
 * A picture the job started from, shown back small: the user's Slack file (its `url_private`), or an address Slack
 * fetches the picture from itself (`image_url`: a public https URL the user typed, or our signed link to the stored
 * copy). Either way only png, jpg and gif: what Slack's image blocks draw.
 */
export type InputThumb = { name: string; slackFile: string } | { name: string; imageUrl: string };

/** Slack's limit on an image's `image_url` (Block Kit image block and image element references; @slack/types). */
export const IMAGE_URL_MAX = 3000;

/** Thumbnails beside "Started from…": a context block holds 10 elements, and the text is one. */
export const MAX_THUMBS = 9;

/** Jobs longer than this ping their requester when done (as Midjourney does); shorter ones stay quiet. */
export const PING_AFTER_MS = 60_000;

const ACTION_EMOJI: Partial<Record<Job['action']['kind'], string>> = { reroll: '🔄 ', remix: '✏️ ' };

/**
 * The one message of a job, in its current state: prompt, who asked (or pressed), provider, seed,
 * status, and the buttons the provider allows. Names are plain text, not mentions: a posted mention
 * notifies, and only long jobs should. Pure: a restart re-renders any message from the stored job.
 */
export function renderJobMessage(job: Job, caps: ProviderCapabilities, imageCount: number, extra?: { imagesNote?: string; previewFileId?: string; thumbs?: readonly InputThumb[] }): MessagePayload {
  const prompt = formatPrompt(job.request);
  const what = actionText(job);
  const who = escapeMrkdwn(job.owner.displayName);
  const byline = what ? `${ACTION_EMOJI[job.action.kind] ?? ''}${what} by ${who}` : who;
  // Provider and seed belong to the result: while running, the status line is what matters.
  const facts: string[] = [];
  if (isFinal(job.state)) {
    facts.push(escapeMrkdwn(job.provider));
    const seed = job.result?.seed ?? job.request.seed;
    if (seed !== undefined) facts.push(`seed ${seed}`);
  }
  const status = statusText(job);
  const lines = [[byline, ...facts].join(' · '), escapeMrkdwn(status)];
  if (job.state === 'failed' && job.error?.retryable) lines.push('Press 🔄 to try again.');
  for (const n of job.notes) lines.push(`_${escapeMrkdwn(n)}_`);
  if (job.result?.note) lines.push(`_${escapeMrkdwn(job.result.note)}_`);
  if (extra?.imagesNote) lines.push(extra.imagesNote);
  const blocks: Block[] = [
    { type: 'section', block_id: 'prompt', text: { type: 'mrkdwn', text: clip(`*${escapeMrkdwn(prompt)}*`, SECTION_MAX) } },
    { type: 'context', block_id: 'status', elements: [{ type: 'mrkdwn', text: clip(lines.join('\n'), 2000) }] },
  ];
  const given = inputsText(job);
  if (given) {
    // The pictures, small (image elements in a context block are Slack's small images; 10 elements at most, one
    // of them the text). An image takes exactly one of slack_file and image_url.
    const thumbs = (extra?.thumbs ?? [])
      .slice(0, MAX_THUMBS)
      .map((t) => ({ type: 'image', ...('slackFile' in t ? { slack_file: { url: t.slackFile } } : { image_url: t.imageUrl }), alt_text: clip(t.name || 'a picture', 2000) }));
    blocks.splice(1, 0, { type: 'context', block_id: 'inputs', elements: [...thumbs, { type: 'mrkdwn', text: clip(escapeMrkdwn(given), 2000) }] });
  }
  // The grid inline, from the file already uploaded into the thread (no public URL needed).
  if (extra?.previewFileId) blocks.splice(1, 0, { type: 'image', block_id: 'grid', slack_file: { id: extra.previewFileId }, alt_text: clip(prompt, 2000) });
  buttonRows(job, caps, imageCount).forEach((row, i) => {
    blocks.push({ type: 'actions', block_id: `buttons-${i}`, elements: row.map(slackButton) });
  });
  return { text: clip(`${prompt} — ${byline} · ${status}`, 3000), blocks };
}

/** Whether the finished job should notify its requester (a thread reply with a mention). */
export const shouldPing = (job: Job): boolean => isFinal(job.state) && job.state !== 'canceled' && elapsedMs(job) > PING_AFTER_MS;

/** A plain reply (errors, /queue, /settings), as text and one section so long answers still wrap. */
export function renderText(text: string): MessagePayload {
  return { text: clip(text, 3000), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(escapeMrkdwn(text), SECTION_MAX) } }] };
}
