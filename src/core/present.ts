import type { Job } from './job.ts';
import type { ButtonAction } from './atelier.ts';
import type { ProviderCapabilities } from './provider.ts';
import { isFinal } from './job.ts';
import { formatPrompt } from './prompt.ts';

/** Everything a button can do; its id names an action and a job, nothing else, so it works after a restart. */
export type ButtonKind = 'upscale' | 'vary' | 'reroll' | 'remix' | 'details' | 'delete' | 'cancel' | 'retry';

export interface ButtonSpec {
  kind: ButtonKind;
  /** 1-based image index for upscale / vary. */
  index?: number;
  label: string;
  emoji?: string;
  style: 'primary' | 'secondary' | 'danger';
  /** `a:<kind>:<index>:<jobId>`: at most 100 characters (Discord's custom_id cap) for any job id up to 80. */
  id: string;
}

const PREFIX = 'a';

/**
 * The job action a pressed button asks for; undefined for buttons that are not child jobs
 * (details, delete, cancel) or for remix, whose prompt comes from a modal.
 */
export function buttonAction(kind: ButtonKind, index: number): ButtonAction | undefined {
  switch (kind) {
    case 'upscale':
      return { kind: 'upscale', index };
    case 'vary':
      return { kind: 'vary', index };
    case 'reroll':
      return { kind: 'reroll' };
    case 'retry':
      return { kind: 'retry' };
    default:
      return undefined;
  }
}

export function encodeButtonId(kind: ButtonKind, jobId: string, index = 0): string {
  return `${PREFIX}:${kind}:${index}:${jobId}`;
}

export function decodeButtonId(id: string): { kind: ButtonKind; index: number; jobId: string } | undefined {
  const m = /^a:(upscale|vary|reroll|remix|details|delete|cancel|retry):(\d{1,2}):([\w-]{1,80})$/.exec(id);
  if (!m) return undefined;
  return { kind: m[1] as ButtonKind, index: Number(m[2]), jobId: m[3]! };
}

const button = (kind: ButtonKind, jobId: string, label: string, style: ButtonSpec['style'], extra: Partial<ButtonSpec> = {}): ButtonSpec => ({
  kind,
  label,
  style,
  id: encodeButtonId(kind, jobId, extra.index ?? 0),
  ...extra,
});

/**
 * The rows of buttons a job's message carries, platform-neutral: at most 5 rows of at most 5, so every
 * platform can show them as they are. Only what the provider can do is offered.
 */
export function buttonRows(job: Job, caps: ProviderCapabilities, imageCount: number): ButtonSpec[][] {
  if (!isFinal(job.state)) {
    return [[button('cancel', job.id, 'Cancel', 'danger', { emoji: '⏹️' })]];
  }
  if (job.state === 'canceled') return [[button('delete', job.id, 'Delete', 'secondary', { emoji: '🗑️' })]];
  if (job.state === 'failed') {
    return [[button('retry', job.id, 'Retry', 'primary', { emoji: '🔄' }), button('details', job.id, 'Details', 'secondary', { emoji: 'ℹ️' }), button('delete', job.id, 'Delete', 'secondary', { emoji: '🗑️' })]];
  }
  const rows: ButtonSpec[][] = [];
  const n = Math.min(imageCount, 8);
  // An upscale's result is one image; U / V on it would repeat the same picture.
  if (job.action.kind !== 'upscale' && n > 0) {
    if (caps.upscale) {
      const us = Array.from({ length: n }, (_, i) => button('upscale', job.id, `U${i + 1}`, 'secondary', { index: i + 1 }));
      for (let i = 0; i < us.length; i += 4) rows.push(us.slice(i, i + 4));
    }
    if (caps.variations) {
      const vs = Array.from({ length: n }, (_, i) => button('vary', job.id, `V${i + 1}`, 'secondary', { index: i + 1 }));
      for (let i = 0; i < vs.length; i += 4) rows.push(vs.slice(i, i + 4));
    }
  }
  const tools = [
    button('reroll', job.id, 'Reroll', 'secondary', { emoji: '🔄' }),
    button('remix', job.id, 'Remix', 'secondary', { emoji: '✏️' }),
    button('details', job.id, 'Details', 'secondary', { emoji: 'ℹ️' }),
    button('delete', job.id, 'Delete', 'secondary', { emoji: '🗑️' }),
  ];
  // U / V rows of four leave room for 🔄 on the first row, as Midjourney does; the rest go last.
  if (rows[0] && rows[0].length < 5) rows[0].push(tools.shift()!);
  rows.push(tools);
  return rows.slice(0, 5);
}

/** "▰▰▰▰▱▱▱▱▱▱ 40%": a text bar every platform can show. */
export function progressBar(percent: number, width = 10): string {
  const p = Math.max(0, Math.min(100, Math.round(percent)));
  const full = Math.round((p / 100) * width);
  return `${'▰'.repeat(full)}${'▱'.repeat(width - full)} ${p}%`;
}

const ACTION_TEXT: Record<Job['action']['kind'], string> = {
  imagine: '',
  retry: 'Retry',
  reroll: 'Reroll',
  upscale: 'Upscale',
  vary: 'Variation',
  remix: 'Remix',
};

/** "Variation of image 2" / "Upscale of image 3" / "Reroll" / "" for a plain imagine. */
export function actionText(job: Job): string {
  const a = job.action;
  if (a.kind === 'upscale' || a.kind === 'vary') return `${ACTION_TEXT[a.kind]} of image ${a.index}`;
  return ACTION_TEXT[a.kind];
}

/** The one-line status every platform shows under the prompt. */
export function statusText(job: Job): string {
  switch (job.state) {
    case 'queued':
      return job.progress.queuePosition ? `Waiting to start — #${job.progress.queuePosition} in queue` : 'Waiting to start';
    case 'running': {
      const parts = [job.progress.stage ?? 'Generating'];
      if (job.progress.percent !== undefined) parts.push(progressBar(job.progress.percent));
      return parts.join(' ');
    }
    case 'succeeded':
      return `Done in ${formatDuration(elapsedMs(job))}`;
    case 'failed':
      return `Failed: ${job.error?.message ?? 'unknown error'}`;
    case 'canceled':
      return 'Canceled';
  }
}

export const elapsedMs = (job: Job): number => (job.finishedAt ?? Date.now()) - (job.startedAt ?? job.createdAt);

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

/** The full request, seed, provider and timings: what the ℹ️ button shows. */
export function detailsText(job: Job): string {
  const lines = [
    `Job ${job.id} — ${job.state}`,
    `Prompt: ${formatPrompt(job.request)}`,
    `Provider: ${job.provider}${job.request.model ? ` (model ${job.request.model})` : ''}`,
    `Mode: ${job.request.mode}`,
    `Seed: ${job.result?.seed ?? job.request.seed ?? 'random'}`,
    `Requested by ${job.owner.displayName}`,
    `Created: ${new Date(job.createdAt).toISOString()}`,
  ];
  if (job.startedAt) lines.push(`Started: ${new Date(job.startedAt).toISOString()}`);
  if (job.finishedAt) lines.push(`Finished: ${new Date(job.finishedAt).toISOString()} (${formatDuration(elapsedMs(job))})`);
  if (job.parentId) lines.push(`From job ${job.parentId}${actionText(job) ? ` (${actionText(job)})` : ''}`);
  for (const n of job.notes) lines.push(`Note: ${n}`);
  if (job.error) lines.push(`Error: ${job.error.message}`);
  return lines.join('\n');
}
