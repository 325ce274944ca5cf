import type { Job, JobState } from './job.ts';
import type { Settings, SettingsScope } from './settings.ts';

/** Metadata of one stored image; the bytes live in the BlobStore under `blobKey`. */
export interface StoredImage {
  id: string;
  jobId: string;
  /** 1-based position in the job's result (or among its inputs); 0 for the grid. */
  index: number;
  /** `input`: a user's own picture given to the job (image prompt, blend, the source of an edit). */
  kind: 'image' | 'grid' | 'input';
  mime: string;
  width: number;
  height: number;
  size: number;
  blobKey: string;
  providerImageId?: string;
  seed?: number;
  nsfw?: boolean;
  createdAt: number;
}

/** A platform's handle on the message that shows a job (ids, tokens): opaque to the core. */
export type MessageRef = Record<string, unknown>;

export interface JobFilter {
  states?: readonly JobState[];
  channelId?: string;
  ownerId?: string;
  platform?: string;
  /** Only jobs created before this (epoch ms): retention. */
  createdBefore?: number;
  limit?: number;
  /** Oldest first (the order a queue resumes in) unless 'newest'. */
  order?: 'oldest' | 'newest';
}

/**
 * Durable state. Asynchronous so SQLite and PostgreSQL implement the same port.
 * `updateJob` is compare-and-set on `version`: it returns undefined when another writer got there first.
 */
export interface Store {
  migrate(): Promise<void>;
  createJob(job: Job): Promise<void>;
  getJob(id: string): Promise<Job | undefined>;
  updateJob(job: Job): Promise<Job | undefined>;
  listJobs(filter: JobFilter): Promise<Job[]>;
  /** Adds a job to its owner's usage ledger, which the daily quota counts; deleting the job leaves it. */
  recordUsage(platform: string, ownerId: string, jobId: string, at: number): Promise<void>;
  /** Ledger entries of this user since `since` (epoch ms). */
  countUsageSince(platform: string, ownerId: string, since: number): Promise<number>;
  /**
   * Jobs in these states across every user and channel (the deployment-wide queue cap), or one owner's
   * (their queue limit): a count from the index, never the rows.
   */
  countJobs(states: readonly JobState[], owner?: { platform: string; ownerId: string }): Promise<number>;
  deleteJob(id: string): Promise<void>;
  addImage(image: StoredImage): Promise<void>;
  getImage(id: string): Promise<StoredImage | undefined>;
  listImages(jobId: string): Promise<StoredImage[]>;
  deleteImages(jobId: string): Promise<StoredImage[]>;
  /** Images created before `before`, for retention. */
  listImagesBefore(before: number, limit: number): Promise<StoredImage[]>;
  deleteImage(id: string): Promise<void>;
  getMessageRef(jobId: string, platform: string): Promise<MessageRef | undefined>;
  setMessageRef(jobId: string, platform: string, ref: MessageRef): Promise<void>;
  getSettings(scope: SettingsScope): Promise<Settings | undefined>;
  setSettings(scope: SettingsScope, settings: Settings): Promise<void>;
  /** A small key/value for things like a provider's webhook subscription id. */
  getValue(key: string): Promise<string | undefined>;
  setValue(key: string, value: string): Promise<void>;
  /**
   * Records `key` as seen until `expiresAt` (epoch ms). True the first time; false while an earlier claim
   * of the same key is unexpired: a replayed request, possibly to another process sharing this store.
   */
  claimOnce(key: string, expiresAt: number, now: number): Promise<boolean>;
  /**
   * Gives up a claim before it expires, so the key may be claimed again at once. For claims that guard work
   * rather than mark a request as seen: released when the work is done. Only the claim made with this
   * `expiresAt` goes: one taken over by another process after it expired stays (a no-op for a key not held).
   */
  releaseClaim(key: string, expiresAt: number): Promise<void>;
  close(): Promise<void>;
}

/** Image bytes by key: a folder by default, something every machine reaches at scale. */
export interface BlobStore {
  put(key: string, bytes: Uint8Array): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
  delete(key: string): Promise<void>;
  /** Removes every blob whose key starts with `folder/` (a job's images, grid and previews), and the folder. */
  deleteFolder(folder: string): Promise<void>;
}

/** Image work the core needs and must not do itself (no codec in core). */
export interface ImageTools {
  /** A grid of 1–8 images (2×2 for four), as PNG or JPEG. */
  grid(images: readonly Uint8Array[]): Promise<{ bytes: Uint8Array; mime: string; width: number; height: number }>;
  /** The best PNG / JPEG / WebP rendition under `maxBytes`, resized only if it must be. */
  fit(bytes: Uint8Array, maxBytes: number): Promise<{ bytes: Uint8Array; mime: string; width: number; height: number }>;
  /** A small thumbnail for progress previews. */
  preview(bytes: Uint8Array, maxSide: number): Promise<{ bytes: Uint8Array; mime: string }>;
  /** Decode check and dimensions; throws on something that is not an image. */
  probe(bytes: Uint8Array): Promise<{ mime: string; width: number; height: number }>;
}

/**
 * Where a user's picture comes from: a URL (typed, or a platform's attachment / file URL) or bytes uploaded to us.
 * `platformFile`: the platform itself handed us this URL as the user's file (a Slack file input or message file,
 * a Discord attachment), never set for a URL someone typed. Only then may the platform's own file host get the
 * bot's credentials: a pasted Slack file link would otherwise open any file the bot can see.
 */
export type ImageSource = { url: string; name?: string; platformFile?: boolean } | { bytes: Uint8Array; name?: string };

/**
 * Fetches a user's picture by URL without letting a URL reach what it must not: public addresses only
 * (redirects re-checked), the platform's own file hosts with the bot's credentials and no others, a size cap
 * while reading, a deadline. Throws a UserError (INVALID_IMAGE) that says what to change.
 */
export interface ImageFetcher {
  fetch(url: string, signal: AbortSignal, options?: { platformFile?: boolean; name?: string }): Promise<Uint8Array>;
}

/**
 * Runs persisted jobs. The in-process queue is the default; BullMQ on Redis implements it for scale-out.
 * `enqueue` is called after the job is persisted as `queued`.
 */
export interface JobQueue {
  start(): Promise<void>;
  enqueue(job: Job): Promise<void>;
  /** Removes a queued job or aborts a running one (its AbortSignal reaches the provider). */
  cancel(jobId: string): Promise<void>;
  /** 1-based position of each queued job in the order it will start. */
  positions(): Promise<Map<string, number>>;
  /** A queue that orders jobs in memory answers one job's position at once (reads show it); others leave it to /queue. */
  position?(jobId: string): number | undefined;
  stop(): Promise<void>;
}

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: object): Logger;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
