import { classifyError, UserError } from './errors.ts';
import type { JobEvents } from './events.ts';
import { assertTransition, isFinal, jobFolder, restartProgress, type Job } from './job.ts';
import type { BlobStore, ImageTools, Logger, Store, StoredImage } from './ports.ts';
import type { ProviderProgress, ProviderResult, ProviderRunContext, SourceImage } from './provider.ts';
import type { ProviderRegistry } from './registry.ts';
import { withholdFlagged } from './nsfw.ts';
import { adaptRequest } from './resolve.ts';
import { nsfwAllowed } from './permissions.ts';
import type { Settings } from './settings.ts';

export interface RunnerDeps {
  store: Store;
  blobs: BlobStore;
  images: ImageTools;
  providers: ProviderRegistry;
  events: JobEvents;
  logger: Logger;
  /** Channel and server settings of the job, for NSFW and the fallback provider. */
  settingsFor(job: Job): Promise<Settings>;
  jobTimeoutMs: number;
  /** A public, expiring URL of a stored image, for providers that fetch pictures themselves; absent without PUBLIC_URL. */
  publicImageUrl?: (imageId: string) => Promise<string>;
  /** Tests inject faults at named points (e.g. between a provider's create and our persist). */
  faults?: (point: string, job: Job) => void | Promise<void>;
}

/**
 * The abort reason a queue gives its running jobs when the process stops: the job goes back to queued
 * with its intent and provider id kept, and resumes elsewhere or after the restart without a second create.
 */
export class HandBack extends Error {
  override readonly name = 'HandBack';
  constructor() {
    super('this process is stopping; the job is handed back to the queue');
  }
}

/**
 * Errors on the provider's side may move the job to the channel's fallback provider; user-side ones never
 * do. The provider's own rate limit is its side too (as `providers/failover.ts` says).
 */
const FAILOVER_CODES = new Set(['PROVIDER_TIMEOUT', 'PROVIDER_UNAVAILABLE', 'RATE_LIMITED']);

const blobKey = (jobId: string, name: string) => `${jobFolder(jobId)}/${name}`;

/**
 * Writes a job with compare-and-set and announces it. Retries on a lost race by re-reading, so
 * concurrent writers (a cancel while the runner writes progress) never clobber each other.
 */
export async function writeJob(deps: Pick<RunnerDeps, 'store' | 'events'>, id: string, change: (job: Job) => Job | undefined): Promise<Job | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const current = await deps.store.getJob(id);
    if (!current) return undefined;
    const next = change(current);
    if (!next) return current;
    if (next.state !== current.state) assertTransition(current.state, next.state);
    const saved = await deps.store.updateJob(next);
    if (saved) {
      deps.events.emit({ type: 'job.updated', job: saved });
      return saved;
    }
  }
  throw new Error(`job ${id}: too many concurrent writes`);
}

/** What a queue learns from a run before it ends. */
export interface RunHooks {
  /**
   * The provider has answered: what is left (storing the images, composing the grid) is this process's work,
   * so the queue may give the job's place at the provider to the next one.
   */
  leftProvider?(): void;
}

/** Runs one job to a final state. Never throws for provider failures: they become a failed job. */
export async function runJob(deps: RunnerDeps, jobId: string, signal: AbortSignal, hooks: RunHooks = {}): Promise<Job | undefined> {
  const ended = await runToEnd(deps, jobId, signal, hooks);
  // Deleted while it ran: whatever the run stored after the delete (images, a grid) has no row to find
  // it by, so its folder goes now.
  if (!ended && !(await deps.store.getJob(jobId))) await deps.blobs.deleteFolder(jobFolder(jobId));
  return ended;
}

async function runToEnd(deps: RunnerDeps, jobId: string, signal: AbortSignal, hooks: RunHooks): Promise<Job | undefined> {
  const started = await writeJob(deps, jobId, (j) => {
    if (isFinal(j.state)) return undefined;
    return { ...j, state: 'running', startedAt: j.startedAt ?? Date.now(), progress: restartProgress(j.progress, 'Starting') };
  });
  if (!started || isFinal(started.state)) return started;

  const timeout = AbortSignal.timeout(deps.jobTimeoutMs);
  const both = AbortSignal.any([signal, timeout]);
  let job = started;
  const tried = new Set<string>();
  for (;;) {
    tried.add(job.provider);
    try {
      const result = await execute(deps, job, both);
      hooks.leftProvider?.();
      return await finish(deps, job, result);
    } catch (err) {
      if (signal.aborted && signal.reason instanceof HandBack) {
        // The preview pointer stays, so the resumed run's first preview supersedes (and deletes) it.
        return writeJob(deps, jobId, (j) => (j.state === 'running' ? { ...j, state: 'queued', progress: restartProgress(j.progress, 'Waiting to resume (the server restarted)') } : undefined));
      }
      if (signal.aborted) {
        return writeJob(deps, jobId, (j) => (isFinal(j.state) ? undefined : { ...j, state: 'canceled', finishedAt: Date.now() }));
      }
      const shown = timeout.aborted
        ? { code: 'PROVIDER_TIMEOUT' as const, message: `The provider did not finish within ${Math.round(deps.jobTimeoutMs / 1000)}s. Try again, or try another provider.`, retryable: true }
        : classifyError(err, (incidentId, e) => deps.logger.error({ err: e, incidentId, jobId }, 'job failed'));
      const settings = await deps.settingsFor(job);
      const fallback = settings.fallbackProvider;
      let why: string | undefined;
      if (!timeout.aborted && FAILOVER_CODES.has(shown.code) && fallback && !tried.has(fallback) && deps.providers.has(fallback) && job.action.kind !== 'upscale' && job.action.kind !== 'vary') {
        const from = deps.providers.get(job.provider).displayName;
        const target = deps.providers.get(fallback);
        // The fallback gets the request re-checked against what it can do, never one it would fail on.
        const adapted = adaptRequest(job.request, target, job.defaulted ?? []);
        if ('refusal' in adapted) {
          why = `Not moved to ${target.displayName}: ${adapted.refusal}.`;
        } else {
          const dropped = adapted.dropped.length ? [`${target.displayName} cannot do ${adapted.dropped.join(', ')}; your default for it was left out.`] : [];
          const moved = await writeJob(deps, jobId, (j) => ({
            ...j,
            provider: fallback,
            request: adapted.request,
            intent: undefined,
            providerJobId: undefined,
            notes: [...j.notes, `Moved to ${target.displayName} after ${from} failed: ${shown.message}`, ...dropped],
            progress: { stage: `Retrying on ${target.displayName}` },
          }));
          if (moved && !isFinal(moved.state)) {
            job = moved;
            continue;
          }
        }
      }
      if (why) {
        const note = why;
        return writeJob(deps, jobId, (j) => (isFinal(j.state) ? undefined : { ...j, state: 'failed', finishedAt: Date.now(), error: shown, notes: [...j.notes, note] }));
      }
      return writeJob(deps, jobId, (j) => (isFinal(j.state) ? undefined : { ...j, state: 'failed', finishedAt: Date.now(), error: shown }));
    }
  }
}

async function execute(deps: RunnerDeps, job: Job, signal: AbortSignal): Promise<ProviderResult> {
  const reporter = progressReporter(deps, job.id);
  try {
    return await perform(deps, job, signal, reporter.report);
  } finally {
    // Every report sent before the result is shown before the final state (each is one small write).
    await reporter.settled();
  }
}

/**
 * Applies a run's progress reports one at a time, in the order the provider sent them: a preview takes
 * longer to write than a bare percent, and must land neither after a newer report nor after the result.
 * Reports arriving while one is written merge into one (newest fields win), so a chatty provider never
 * builds a backlog.
 */
function progressReporter(deps: RunnerDeps, jobId: string): { report: (p: ProviderProgress) => void; settled: () => Promise<void> } {
  let waiting: ProviderProgress | undefined;
  let running: Promise<void> | undefined;
  const drain = async (): Promise<void> => {
    while (waiting) {
      const p = waiting;
      waiting = undefined;
      await reportProgress(deps, jobId, p).catch((err: unknown) => deps.logger.warn({ err, jobId }, 'progress write failed'));
    }
    running = undefined;
  };
  return {
    report: (p) => {
      waiting = waiting ? { ...waiting, ...p } : p;
      running ??= drain();
    },
    settled: async () => {
      while (running) await running;
    },
  };
}

async function perform(deps: RunnerDeps, job: Job, signal: AbortSignal, progress: (p: ProviderProgress) => void): Promise<ProviderResult> {
  const provider = deps.providers.get(job.provider);
  const settings = await deps.settingsFor(job);
  const ctx: ProviderRunContext = {
    jobId: job.id,
    signal,
    allowNsfw: nsfwAllowed(job.where, settings),
    paidUpscale: settings.paidUpscale === true,
    // Reports are applied one at a time, in the order the provider sent them: a preview takes longer to
    // write than a bare percent, and must neither land after a newer report nor after the result.
    progress,
    recordIntent: async (intent) => {
      await writeJob(deps, job.id, (j) => ({ ...j, intent }));
    },
    recordSubmitted: async (providerJobId) => {
      await deps.faults?.('after-create', job);
      await writeJob(deps, job.id, (j) => ({ ...j, providerJobId }));
    },
    resume: job.intent || job.providerJobId ? { intent: job.intent, providerJobId: job.providerJobId } : undefined,
    readImage: async (imageId) => {
      const meta = await deps.store.getImage(imageId);
      const bytes = meta ? await deps.blobs.get(meta.blobKey) : undefined;
      if (!meta || !bytes) throw new UserError('NOT_FOUND', 'A picture this job starts from is no longer stored (it may have been deleted). Start again with /imagine.');
      return { bytes, mime: meta.mime, width: meta.width, height: meta.height };
    },
    ...(deps.publicImageUrl ? { publicImageUrl: deps.publicImageUrl } : {}),
  };
  switch (job.action.kind) {
    case 'select':
      // Midjourney's U without an upscaler: nothing to ask the provider, the picture is already made.
      return withholdFlagged(await pickedImage(deps, job), ctx.allowNsfw, provider.displayName);
    case 'upscale':
    case 'vary': {
      const source = await loadSource(deps, job, job.action.index);
      if (job.action.kind === 'upscale' && job.action.mode) source.upscaleMode = job.action.mode;
      if (job.action.kind === 'vary' && job.action.strength) source.strength = job.action.strength;
      const op = job.action.kind === 'upscale' ? provider.upscale : provider.vary;
      if (!op) throw new UserError('UNSUPPORTED', `${provider.displayName} cannot ${job.action.kind} images.`);
      return withholdFlagged(await op.call(provider, source, ctx), ctx.allowNsfw, provider.displayName);
    }
    default:
      return withholdFlagged(await provider.generate(job.request, ctx), ctx.allowNsfw, provider.displayName);
  }
}

/** Where `finish` keeps a job's image `n`: its id and blob key. */
const resultImageId = (jobId: string, n: number) => `${jobId}-${n}`;
const resultImage = (jobId: string, n: number, mime: string) => ({ id: resultImageId(jobId, n), key: blobKey(jobId, `${n}.${mime.split('/')[1] ?? 'bin'}`) });

/**
 * A select's picture, copied from its parent when it is queued, to where its result goes (image 1, in its own
 * folder): deleting the parent never breaks it, and nothing shows it before the job is done (platforms show a
 * job's images once it succeeded). Its seed and the provider's id for it come along, so V and the strengths
 * under it work as they would on the grid; its NSFW verdict too, which the run honours where it ends.
 */
export async function storePicked(deps: Pick<RunnerDeps, 'store' | 'blobs'>, jobId: string, source: { meta: StoredImage; bytes: Uint8Array }, at: number): Promise<void> {
  const { mime, width, height, seed, providerImageId, nsfw } = source.meta;
  const { id, key } = resultImage(jobId, 1, mime);
  await deps.blobs.put(key, source.bytes);
  await deps.store.addImage({ id, jobId, index: 1, kind: 'image', mime, width, height, size: source.bytes.byteLength, blobKey: key, seed, providerImageId, nsfw, createdAt: at });
}

/** A select's result is the picture `storePicked` put in place: `finish` finds it stored already and keeps it. */
async function pickedImage(deps: RunnerDeps, job: Job): Promise<ProviderResult> {
  const meta = await deps.store.getImage(resultImageId(job.id, 1));
  const bytes = meta ? await deps.blobs.get(meta.blobKey) : undefined;
  if (!meta || !bytes) throw new UserError('NOT_FOUND', 'The picture this job picked is no longer stored. Run /imagine again.');
  const { mime, width, height, seed, providerImageId, nsfw } = meta;
  return { images: [{ bytes, mime, width, height, ...(seed !== undefined ? { seed } : {}), ...(providerImageId ? { providerImageId } : {}), ...(nsfw !== undefined ? { nsfw } : {}) }], ...(seed !== undefined ? { seed } : {}) };
}

async function loadSource(deps: RunnerDeps, job: Job, index: number): Promise<SourceImage> {
  const parent = job.parentId ? await deps.store.getJob(job.parentId) : undefined;
  const meta = parent ? (await deps.store.listImages(parent.id)).find((i) => i.kind === 'image' && i.index === index) : undefined;
  const bytes = meta ? await deps.blobs.get(meta.blobKey) : undefined;
  if (!parent || !meta || !bytes) throw new UserError('NOT_FOUND', `Image ${index} of that job no longer exists, so it cannot be used. Run /imagine again.`);
  return { bytes, mime: meta.mime, width: meta.width, height: meta.height, index, providerImageId: meta.providerImageId, seed: meta.seed, request: parent.request };
}

async function reportProgress(deps: RunnerDeps, jobId: string, p: ProviderProgress): Promise<void> {
  let previewKey: string | undefined;
  if (p.preview) {
    const small = await deps.images.preview(p.preview.bytes, 256);
    previewKey = blobKey(jobId, `preview-${Date.now()}.${small.mime.split('/')[1] ?? 'bin'}`);
    await deps.blobs.put(previewKey, small.bytes);
  }
  let superseded: string | undefined;
  const saved = await writeJob(deps, jobId, (j) => {
    if (j.state !== 'running') return undefined;
    superseded = previewKey ? j.progress.previewKey : undefined;
    return { ...j, progress: { percent: p.percent ?? j.progress.percent, stage: p.stage ?? j.progress.stage, previewKey: previewKey ?? j.progress.previewKey } };
  });
  // One preview per job is kept: the newer one supersedes the older.
  if (superseded && superseded !== previewKey) await deps.blobs.delete(superseded);
  // A preview that arrived after the job ended is recorded nowhere: it goes at once; after the job was
  // deleted, its folder goes whole (this write may have made it again).
  if (previewKey && !saved) await deps.blobs.deleteFolder(jobFolder(jobId));
  else if (previewKey && saved?.progress.previewKey !== previewKey) await deps.blobs.delete(previewKey);
}

async function finish(deps: RunnerDeps, job: Job, result: ProviderResult): Promise<Job | undefined> {
  if (result.images.length === 0) throw new UserError('PROVIDER_REJECTED', result.note ?? 'The provider returned no images. Try again or rephrase the prompt.');
  const imageIds: string[] = [];
  const now = Date.now();
  // A run killed between storing images and the final write leaves rows behind; the resumed run reuses them.
  const stored = new Set((await deps.store.listImages(job.id)).map((i) => i.id));
  for (const [i, img] of result.images.entries()) {
    const { id, key } = resultImage(job.id, i + 1, img.mime);
    await deps.blobs.put(key, img.bytes);
    if (!stored.has(id)) await deps.store.addImage({ id, jobId: job.id, index: i + 1, kind: 'image', mime: img.mime, width: img.width, height: img.height, size: img.bytes.byteLength, blobKey: key, providerImageId: img.providerImageId, seed: img.seed ?? result.seed, nsfw: img.nsfw, createdAt: now });
    imageIds.push(id);
  }
  let gridImageId: string | undefined;
  if (result.images.length > 1) {
    const grid = await deps.images.grid(result.images.map((i) => i.bytes));
    gridImageId = `${job.id}-grid`;
    const key = blobKey(job.id, `grid.${grid.mime.split('/')[1] ?? 'bin'}`);
    await deps.blobs.put(key, grid.bytes);
    if (!stored.has(gridImageId)) await deps.store.addImage({ id: gridImageId, jobId: job.id, index: 0, kind: 'grid', mime: grid.mime, width: grid.width, height: grid.height, size: grid.bytes.byteLength, blobKey: key, createdAt: now });
  }
  return writeJob(deps, job.id, (j) =>
    isFinal(j.state)
      ? undefined
      : {
          ...j,
          state: 'succeeded',
          finishedAt: Date.now(),
          providerJobId: result.providerJobId ?? j.providerJobId,
          progress: { ...j.progress, percent: 100, stage: 'Done' },
          result: { imageIds, gridImageId, seed: result.seed, note: result.note, ...(result.usage ? { usage: result.usage } : {}) },
          notes: result.note ? [...j.notes, result.note] : j.notes,
        },
  );
}

