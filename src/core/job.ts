import type { GenerationRequest, Region, RequestField } from './request.ts';

export type UpscaleMode = 'subtle' | 'creative';
export type VaryStrength = 'subtle' | 'strong';
export type PanDirection = 'left' | 'right' | 'up' | 'down';
import type { ProviderIntent } from './provider.ts';
import type { ShownError } from './errors.ts';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';

/** What created a job: a command, or a button on a parent job. */
export type JobAction =
  | { kind: 'imagine' }
  | { kind: 'reroll' }
  /** `mode`: Upscale (Subtle / Creative) where the provider has such upscalers; absent is the plain U. */
  | { kind: 'upscale'; index: number; mode?: UpscaleMode }
  /**
   * Midjourney's U on a provider without an upscaler: image `index` of the grid on its own, to carry the toolbox.
   * No provider call: the job is queued with its own copy of that picture, which becomes its result.
   */
  | { kind: 'select'; index: number }
  /** `strength`: Vary (Subtle / Strong); absent is the provider's own V. */
  | { kind: 'vary'; index: number; strength?: VaryStrength }
  /** Zoom Out by `factor` (1.5, 2, or Custom Zoom 1.1-2) around image `index`; `prompt` when Custom Zoom changed it. */
  | { kind: 'zoom'; index: number; factor: number; prompt?: string }
  /** Extend image `index` by half its size towards `direction`. */
  | { kind: 'pan'; index: number; direction: PanDirection; prompt?: string }
  /** Extend image `index` to a square. */
  | { kind: 'square'; index: number }
  /** Repaint `region` of image `index`, optionally with a new prompt. */
  | { kind: 'region'; index: number; region: Region; prompt?: string }
  | { kind: 'remix'; prompt: string }
  /** The same request again after a failure, seed kept. */
  | { kind: 'retry' };

export type Platform = 'discord' | 'slack' | 'web' | 'cli';

/** Who asked. `displayName` is for attribution; `roles` for role gating where the platform has roles. */
export interface Actor {
  platform: Platform;
  userId: string;
  displayName: string;
  roles?: readonly string[];
  /** A moderator here: may cancel or delete others' jobs and skips role gating (Discord: Manage Messages and up). */
  canManage?: boolean;
  /** May change this channel's settings (Discord: Manage Channels in this channel; Slack: workspace admin or owner). */
  canManageChannel?: boolean;
  /** May change the server's settings (Discord: Manage Server; Slack: workspace admin or owner). */
  canManageServer?: boolean;
}

/** Where the job lives and reports. */
export interface Where {
  platform: Platform;
  serverId?: string;
  channelId: string;
  /**
   * The platform's own verdict on NSFW here (Discord: the channel is age-restricted). Undefined where the
   * platform has none (DMs, Slack, the playground): there the settings decide.
   */
  nsfw?: boolean;
}

export interface JobProgress {
  queuePosition?: number;
  percent?: number;
  stage?: string;
  /** Blob key of the newest preview image. */
  previewKey?: string;
}

/** The user's own pictures a job was given, stored in its folder (kind 'input'); `request.images` points at them. */
export interface JobInput {
  imageId: string;
  /** Where it came from, for /info: a URL as typed or the attachment's file name. */
  source: string;
  /**
   * The URL the user typed for it, whole (`source` is clipped), when it came from one: a platform may show the
   * picture by that address instead of uploading it. Absent for a platform's file (its links are private or
   * expire) and for bytes handed over. A child's copy keeps its parent's.
   */
  url?: string;
}

export interface JobResult {
  imageIds: string[];
  gridImageId?: string;
  seed?: number;
  note?: string;
  /** The provider's own usage figures (e.g. OpenAI tokens), as it reported them. */
  usage?: Record<string, number>;
}

export interface Job {
  id: string;
  parentId?: string;
  action: JobAction;
  state: JobState;
  provider: string;
  request: GenerationRequest;
  owner: Actor;
  where: Where;
  private: boolean;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  progress: JobProgress;
  /** Written before the provider's create, so a crash between create and persist is reconciled, not repeated. */
  intent?: ProviderIntent;
  providerJobId?: string;
  attempts: number;
  result?: JobResult;
  error?: ShownError;
  /** Request fields a default filled rather than the user: a failover may drop these, never the rest. */
  defaulted?: RequestField[];
  /** The user's own pictures given to this job (also the source of an edit), for thumbnails and /info. */
  inputs?: JobInput[];
  /** Visible notes, e.g. "moved to Leonardo.ai after all-images.ai failed". */
  notes: string[];
  /** Bumped on every write: renderers and the one-writer rule use it to drop stale updates. */
  version: number;
}

const TRANSITIONS: Record<JobState, readonly JobState[]> = {
  queued: ['running', 'failed', 'canceled'],
  running: ['succeeded', 'failed', 'canceled', 'queued'],
  succeeded: [],
  failed: [],
  canceled: [],
};

export class IllegalTransitionError extends Error {
  override readonly name = 'IllegalTransitionError';
}

export const isFinal = (state: JobState): boolean => TRANSITIONS[state].length === 0;

/** Throws on a transition the state machine does not allow; `running -> queued` is a resume after a crash. */
export function assertTransition(from: JobState, to: JobState): void {
  if (!TRANSITIONS[from].includes(to)) throw new IllegalTransitionError(`job cannot go from ${from} to ${to}`);
}

/** The blob folder every file of a job lives in: deleting a job or its retention removes the folder whole. */
export const jobFolder = (jobId: string): string => `jobs/${jobId}`;

/**
 * Progress for a run that starts again (a resume, a new attempt). The newest preview is kept: it is still
 * what the job looks like, and the next one supersedes and removes it. Dropping the key instead would
 * leave its file behind with nothing pointing to it.
 */
export const restartProgress = (progress: JobProgress, stage: string): JobProgress => ({ stage, ...(progress.previewKey ? { previewKey: progress.previewKey } : {}) });

/**
 * Whether a snapshot should replace the one on screen: a newer version, or, for a waiting job, the same
 * version in another place in line (positions move without a write: they are computed, not stored).
 */
export function supersedes(next: Job, shown: Pick<Job, 'version' | 'progress'>): boolean {
  if (next.version !== shown.version) return next.version > shown.version;
  const position = next.progress.queuePosition;
  return next.state === 'queued' && position !== undefined && position !== shown.progress.queuePosition;
}
