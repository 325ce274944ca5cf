import type { Actor, Job, JobAction, Where } from './job.ts';
import type { ImagineOptions } from './imagine-options.ts';
import type { JobEvents } from './events.ts';
import type { BlobStore, ImageSource, Store, StoredImage } from './ports.ts';
import type { ProviderRegistry } from './registry.ts';
import type { Settings, SettingsPatch, SettingsScope } from './settings.ts';

/** A stored image with a lazy read of its bytes. */
export interface ImageHandle {
  meta: StoredImage;
  bytes(): Promise<Uint8Array>;
}

export interface BlendOptions {
  dimensions?: 'portrait' | 'square' | 'landscape';
  provider?: string;
  private?: boolean;
}

/** A child-job action a button can ask for. */
export type ButtonAction = Exclude<JobAction, { kind: 'imagine' }>;

/**
 * The one use-case surface every platform adapter, command and the CLI calls.
 * Every method throws `UserError` for what the caller can fix.
 */
export interface Atelier {
  readonly events: JobEvents;
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly providers: ProviderRegistry;
  /** Validate, moderate, check limits and capabilities, persist as queued and hand to the queue. */
  imagine(options: ImagineOptions, actor: Actor, where: Where): Promise<Job>;
  /**
   * /imagine as typed: presets applied, `{a, b}` permutations and `--repeat N` expanded into one job each.
   * Above a few jobs without `--yes`, nothing is queued and the prompts to confirm are returned.
   */
  imagineAll(options: ImagineOptions, actor: Actor, where: Where): Promise<{ jobs: Job[] } | { confirm: string[] }>;
  /**
   * /blend: two to five pictures combined into new ones (Midjourney's /blend), on a provider whose capabilities
   * say it blends. `dimensions` is Midjourney's portrait / square / landscape.
   */
  blend(sources: readonly ImageSource[], options: BlendOptions, actor: Actor, where: Where): Promise<Job>;
  /** A child job from a button: reroll, upscale N, vary N, remix, zoom, pan, make square, vary region. */
  act(parentId: string, action: ButtonAction, actor: Actor, where: Where): Promise<Job>;
  /** `where` is where the actor acts from: see `mayRemove`. */
  cancel(jobId: string, actor: Actor, where: Where | undefined): Promise<Job>;
  /** Cancels the actor's queued and running jobs in this channel (all channels when `where` is omitted). */
  cancelMine(actor: Actor, where?: Where): Promise<Job[]>;
  /** Removes the job and its stored images; owner or a member who can manage. */
  delete(jobId: string, actor: Actor, where: Where | undefined): Promise<Job>;
  /** For the platform's own bookkeeping (rendering, delivery); never to answer a person: use `viewJob`. */
  getJob(jobId: string): Promise<Job | undefined>;
  /**
   * A job as `actor`, acting from `where`, may see it (`maySee`), or NOT_FOUND. Every read or action on
   * behalf of a person goes through here: details, the remix form, /info, U/V, 🔄, ✏️.
   */
  viewJob(jobId: string, actor: Actor, where: Where): Promise<Job>;
  /** The job's results: its images and grid. */
  images(jobId: string): Promise<ImageHandle[]>;
  /** The user's own pictures the job started from (kind 'input'), for thumbnails. */
  inputs(jobId: string): Promise<ImageHandle[]>;
  /** Queued and running jobs in the channel, in the order they will run. */
  queue(where: Where): Promise<Job[]>;
  recent(actor: Actor, limit?: number): Promise<Job[]>;
  getSettings(scope: SettingsScope): Promise<Settings>;
  /** Applies a patch (null clears a key, absent keys stay). Channel / server scopes need the platform's permission; users change only their own. */
  setSettings(scope: SettingsScope, patch: SettingsPatch, actor: Actor): Promise<Settings>;
  /**
   * Values to suggest for a typed option, from the capabilities of the provider this actor would get here
   * (the typed `provider`, else their defaults): only what that provider declares, filtered by what is typed.
   */
  suggest(option: string, typed: string, chosen: { provider?: string }, actor: Actor, where: Where): Promise<string[]>;
  /** Whether `actor` may press `action` on `job` under the channel's button policy and role gating. */
  mayPress(job: Job, action: ButtonAction | { kind: 'cancel' | 'delete' | 'details' }, actor: Actor): Promise<boolean>;
}
