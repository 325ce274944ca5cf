import type { Job } from '../../core/job.ts';
import { isFinal } from '../../core/job.ts';
import type { ProviderCapabilities } from '../../core/provider.ts';
import { actionText, buttonRows, inputsText, statusText, type ButtonSpec } from '../../core/present.ts';
import { formatPrompt } from '../../core/prompt.ts';

/** One job's message in the playground channel, as the page draws it. Plain data: it goes over SSE. */
export interface JobMessage {
  kind: 'job';
  id: string;
  version: number;
  state: Job['state'];
  /** The prompt with its flags, as the remix dialog pre-fills it. */
  prompt: string;
  /** "🔄 Reroll by Ann", "Variation of image 2 by Ann", "by Ann". */
  attribution: string;
  owner: { id: string; name: string };
  parentId?: string;
  provider: string;
  /** "local · seed 42" once the job is over: which provider drew it and how to get it again. */
  footer: string;
  status: string;
  queuePosition?: number;
  percent?: number;
  /** Newest progress preview, while running. */
  previewUrl?: string;
  gridUrl?: string;
  images: { id: string; index: number; url: string; downloadUrl: string }[];
  /** The pictures the job started from (the user's, or the one a zoom or region edit works on), for thumbnails. */
  inputs: { id: string; name: string; url: string }[];
  /** "Started from 2 pictures: harbour.png, sunset.png", or empty. */
  inputsText: string;
  buttons: ButtonSpec[][];
  error?: string;
  notes: string[];
  private: boolean;
  createdAt: number;
}

const ACTION_EMOJI: Record<Job['action']['kind'], string> = { imagine: '', retry: '🔄', reroll: '🔄', upscale: '🔍', select: '', vary: '🎨', remix: '✏️', zoom: '🔎', pan: '↔️', square: '⬜', region: '🖌️' };

/** The `/api/...` URL of a stored image; `query` carries the access token the page was opened with. */
export const imageUrl = (id: string, download = false): string => `/api/images/${encodeURIComponent(id)}${download ? '?download=1' : ''}`;

/**
 * Pure: a job snapshot -> its message. Every state the core knows renders the same way after a
 * restart, because nothing here depends on what the page saw before.
 */
export function renderJob(job: Job, caps: ProviderCapabilities): JobMessage {
  const images = (job.result?.imageIds ?? []).map((id, i) => ({ id, index: i + 1, url: imageUrl(id), downloadUrl: imageUrl(id, true) }));
  const what = actionText(job);
  const emoji = ACTION_EMOJI[job.action.kind];
  const attribution = [emoji, what, `by ${job.owner.displayName}`].filter(Boolean).join(' ');
  // Without capabilities (a provider removed since) the message still shows, with only what needs none.
  const rows = buttonRows(job, caps, images.length);
  return {
    kind: 'job',
    id: job.id,
    version: job.version,
    state: job.state,
    prompt: formatPrompt(job.request),
    attribution,
    owner: { id: job.owner.userId, name: job.owner.displayName },
    ...(job.parentId ? { parentId: job.parentId } : {}),
    provider: job.provider,
    footer: footerText(job),
    // The page draws its own bar, so a running job's line is the stage and the number, not the text bar.
    status: job.state === 'running' && job.progress.percent !== undefined ? `${job.progress.stage ?? 'Generating'} · ${Math.round(job.progress.percent)}%` : statusText(job),
    ...(job.state === 'queued' && job.progress.queuePosition ? { queuePosition: job.progress.queuePosition } : {}),
    ...(job.state === 'running' && job.progress.percent !== undefined ? { percent: Math.max(0, Math.min(100, Math.round(job.progress.percent))) } : {}),
    ...(job.state === 'running' && job.progress.previewKey ? { previewUrl: `/api/previews/${encodeURIComponent(job.id)}?v=${job.version}` } : {}),
    ...(job.result?.gridImageId ? { gridUrl: imageUrl(job.result.gridImageId) } : {}),
    images,
    inputs: (job.inputs ?? []).map((i) => ({ id: i.imageId, name: i.source, url: imageUrl(i.imageId) })),
    inputsText: inputsText(job),
    buttons: rows,
    ...(job.error ? { error: job.error.message } : {}),
    notes: [...job.notes, ...(job.result?.note ? [job.result.note] : [])],
    private: job.private,
    createdAt: job.createdAt,
  };
}

function footerText(job: Job): string {
  // The seed is only known at the end; until then the status line says all there is.
  if (!isFinal(job.state)) return '';
  const seed = job.result?.seed ?? job.request.seed;
  return [job.provider, seed !== undefined ? `seed ${seed}` : undefined].filter(Boolean).join(' · ');
}

