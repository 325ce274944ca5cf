import type { Job } from './job.ts';
import type { ButtonAction } from './atelier.ts';
import type { ProviderCapabilities } from './provider.ts';
import { isFinal } from './job.ts';
import { formatPrompt } from './prompt.ts';

/** Everything a button can do; its id names an action and a job, nothing else, so it works after a restart. */
export type ButtonKind = (typeof BUTTON_KINDS)[number];

/**
 * Every button kind; the toolbox kinds (after U) are Midjourney's: upscale and vary strengths, zoom, pan, square, region.
 * `select` is the U of a provider without an upscaler: it picks the picture out of the grid (labelled U1…U4 all the same).
 * New kinds go last, so no existing id changes.
 */
export const BUTTON_KINDS = [
  'upscale',
  'vary',
  'reroll',
  'remix',
  'details',
  'delete',
  'cancel',
  'retry',
  'upsubtle',
  'upcreative',
  'varysubtle',
  'varystrong',
  'region',
  'zoom2',
  'zoom15',
  'zoomcustom',
  'square',
  'panleft',
  'panright',
  'panup',
  'pandown',
  'select',
] as const;

/** Buttons whose press opens a form first (the new prompt, the zoom factor, the region), not a job at once. */
export const FORM_BUTTONS: ReadonlySet<ButtonKind> = new Set(['remix', 'zoomcustom', 'region']);

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
    case 'select':
      return { kind: 'select', index };
    case 'vary':
      return { kind: 'vary', index };
    case 'reroll':
      return { kind: 'reroll' };
    case 'retry':
      return { kind: 'retry' };
    case 'upsubtle':
    case 'upcreative':
      return { kind: 'upscale', index, mode: kind === 'upsubtle' ? 'subtle' : 'creative' };
    case 'varysubtle':
    case 'varystrong':
      return { kind: 'vary', index, strength: kind === 'varysubtle' ? 'subtle' : 'strong' };
    case 'zoom2':
    case 'zoom15':
      return { kind: 'zoom', index, factor: kind === 'zoom2' ? 2 : 1.5 };
    case 'square':
      return { kind: 'square', index };
    case 'panleft':
    case 'panright':
    case 'panup':
    case 'pandown':
      return { kind: 'pan', index, direction: kind.slice(3) as 'left' | 'right' | 'up' | 'down' };
    default:
      return undefined;
  }
}

export function encodeButtonId(kind: ButtonKind, jobId: string, index = 0): string {
  return `${PREFIX}:${kind}:${index}:${jobId}`;
}

const BUTTON_ID = new RegExp(`^a:(${BUTTON_KINDS.join('|')}):(\\d{1,2}):([\\w-]{1,80})$`);

export function decodeButtonId(id: string): { kind: ButtonKind; index: number; jobId: string } | undefined {
  const m = BUTTON_ID.exec(id);
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
  if (job.action.kind === 'upscale' && n === 1) return [...toolboxRows(job, caps), afterUpscaleTools(job)];
  // A provider without U (OpenAI, AI Horde) has no upscaled picture to carry the toolbox: one picture (a job of
  // one, or one picked from a grid by its U) is already the chosen one, so it gets the toolbox, with its V first.
  if (!caps.upscale && n === 1 && hasToolbox(caps)) {
    const [first = [], ...rest] = toolboxRows(job, caps);
    const v = caps.variations ? [button('vary', job.id, 'V1', 'secondary', { index: 1 })] : [];
    return [[...v, ...first], ...rest, afterUpscaleTools(job)].filter((r) => r.length > 0).slice(0, 5);
  }
  // An upscale's result is one image; U / V on it would repeat the same picture.
  if (job.action.kind !== 'upscale' && n > 0) {
    // Without an upscaler, U does what Midjourney's U does since v5: it picks the picture out of the grid, and the
    // toolbox appears under it. Only where there is a toolbox to show; otherwise U would change nothing.
    const u = caps.upscale ? 'upscale' : n > 1 && hasToolbox(caps) ? 'select' : undefined;
    if (u) {
      const us = Array.from({ length: n }, (_, i) => button(u, job.id, `U${i + 1}`, 'secondary', { index: i + 1 }));
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

/**
 * Midjourney's buttons under an upscaled image, each only where the provider can: Upscale (Subtle / Creative),
 * Vary (Subtle / Strong / Region), Zoom Out 2× / 1.5×, Custom Zoom, Make Square, and the four pans.
 */
export function toolboxRows(job: Job, caps: ProviderCapabilities, image?: { width: number; height: number }): ButtonSpec[][] {
  const at = { index: 1 };
  const first: ButtonSpec[] = [];
  if (caps.upscale && caps.upscaleModes?.includes('subtle')) first.push(button('upsubtle', job.id, 'Upscale (Subtle)', 'secondary', at));
  if (caps.upscale && caps.upscaleModes?.includes('creative')) first.push(button('upcreative', job.id, 'Upscale (Creative)', 'secondary', at));
  if (caps.variations && caps.varyStrength) first.push(button('varysubtle', job.id, 'Vary (Subtle)', 'secondary', at), button('varystrong', job.id, 'Vary (Strong)', 'secondary', at));
  if (caps.inpaint) first.push(button('region', job.id, 'Vary (Region)', 'secondary', at));
  const rows = [first];
  if (caps.outpaint) {
    const zoom = [button('zoom2', job.id, 'Zoom Out 2x', 'secondary', at), button('zoom15', job.id, 'Zoom Out 1.5x', 'secondary', at), button('zoomcustom', job.id, 'Custom Zoom', 'secondary', at)];
    // Make Square only for a picture that is not square already (the request's shape says so before the image is read).
    const shape = image ?? shapeOf(job);
    if (!shape || shape.width !== shape.height) zoom.push(button('square', job.id, 'Make Square', 'secondary', at));
    rows.push(zoom);
    rows.push([
      button('panleft', job.id, 'Pan Left', 'secondary', { ...at, emoji: '⬅️' }),
      button('panright', job.id, 'Pan Right', 'secondary', { ...at, emoji: '➡️' }),
      button('panup', job.id, 'Pan Up', 'secondary', { ...at, emoji: '⬆️' }),
      button('pandown', job.id, 'Pan Down', 'secondary', { ...at, emoji: '⬇️' }),
    ]);
  }
  return rows.filter((r) => r.length > 0);
}

/** Whether `toolboxRows` has a button for this provider beyond Upscale (Subtle / Creative), which needs an upscaler. */
export const hasToolbox = (caps: ProviderCapabilities): boolean => Boolean(caps.outpaint || caps.inpaint || (caps.variations && caps.varyStrength));

/** The square-or-not of a job's pictures from its request: an explicit size, else its aspect ratio (1:1 when unset). */
function shapeOf(job: Job): { width: number; height: number } | undefined {
  const r = job.request;
  if (r.width !== undefined && r.height !== undefined) return { width: r.width, height: r.height };
  if (r.edit || r.mode === 'advanced') return undefined;
  const [w, h] = (r.aspectRatio ?? '1:1').split(':').map(Number);
  return w && h ? { width: w, height: h } : undefined;
}

const afterUpscaleTools = (job: Job): ButtonSpec[] => [
  button('reroll', job.id, 'Reroll', 'secondary', { emoji: '🔄' }),
  button('remix', job.id, 'Remix', 'secondary', { emoji: '✏️' }),
  button('details', job.id, 'Details', 'secondary', { emoji: 'ℹ️' }),
  button('delete', job.id, 'Delete', 'secondary', { emoji: '🗑️' }),
];

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
  select: 'Image',
  vary: 'Variation',
  remix: 'Remix',
  zoom: 'Zoom Out',
  pan: 'Pan',
  square: 'Make Square',
  region: 'Vary (Region)',
};

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

/** "Variation of image 2" / "Upscale of image 3" / "Image #2" (picked by U) / "Reroll" / "" for a plain imagine. */
export function actionText(job: Job): string {
  const a = job.action;
  switch (a.kind) {
    case 'upscale':
      return `${a.mode ? `Upscale (${cap(a.mode)})` : ACTION_TEXT.upscale} of image ${a.index}`;
    case 'vary':
      return `${a.strength ? `Vary (${cap(a.strength)})` : ACTION_TEXT.vary} of image ${a.index}`;
    case 'select':
      return `${ACTION_TEXT.select} #${a.index}`;
    case 'zoom':
      return `Zoom Out ${a.factor}×`;
    case 'pan':
      return `Pan ${a.direction}`;
    case 'imagine':
      return job.request.blend ? 'Blend' : '';
    default:
      return ACTION_TEXT[a.kind];
  }
}

/**
 * "Started from 2 pictures: photo.png, https://…": the line every platform shows beside the pictures' thumbnails,
 * so a reader knows what the job was given. Empty for a job without pictures.
 */
export function inputsText(job: Job): string {
  const inputs = job.inputs ?? [];
  if (!inputs.length) return '';
  const names = inputs.map((i) => (i.source.length > 60 ? `${i.source.slice(0, 59)}…` : i.source));
  return `Started from ${inputs.length} picture${inputs.length === 1 ? '' : 's'}: ${names.join(', ')}`;
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
  const roles = new Map((job.request.images ?? []).map((i) => [i.imageId, i.role]));
  const ROLE = { prompt: 'image prompt', style: 'style reference', character: 'character reference' } as const;
  for (const input of job.inputs ?? []) {
    const role = roles.get(input.imageId);
    lines.push(`Picture: ${input.source}${role ? ` (${ROLE[role]})` : job.request.edit?.imageId === input.imageId ? ' (the picture edited)' : ''}`);
  }
  if (job.request.imageWeight !== undefined) lines.push(`Image weight: ${job.request.imageWeight}`);
  const edit = job.request.edit;
  if (edit?.kind === 'outpaint') lines.push(`Canvas: ${edit.canvas.width}×${edit.canvas.height}, the picture at ${edit.left},${edit.top}`);
  if (edit?.kind === 'inpaint') lines.push(`Region: ${[edit.region.x, edit.region.y, edit.region.width, edit.region.height].map((v) => `${Math.round(v * 100)}%`).join(', ')} (x, y, width, height)`);
  for (const n of job.notes) lines.push(`Note: ${n}`);
  if (job.error) lines.push(`Error: ${job.error.message}`);
  return lines.join('\n');
}
