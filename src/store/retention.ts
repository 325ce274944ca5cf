import { forgetJob } from '../core/forget.ts';
import type { BlobStore, Store } from '../core/ports.ts';

const DAY_MS = 86_400_000;
const BATCH = 200;

export interface PruneOptions {
  store: Store;
  blobs: BlobStore;
  olderThanDays: number;
  /** Epoch ms; default Date.now(). */
  now?: number;
}

/**
 * Removes the bytes and rows of images created more than `olderThanDays` ago; returns how many.
 * Bytes go first: a crash in between leaves a row whose bytes are gone (the next run removes it), never
 * bytes that nothing points to. `olderThanDays <= 0` means "keep forever" (IMAGE_RETENTION_DAYS=0).
 */
export async function pruneImages({ store, blobs, olderThanDays, now = Date.now() }: PruneOptions): Promise<number> {
  if (!(olderThanDays > 0)) return 0;
  const before = now - olderThanDays * DAY_MS;
  let removed = 0;
  for (;;) {
    const batch = await store.listImagesBefore(before, BATCH);
    for (const image of batch) {
      await blobs.delete(image.blobKey);
      await store.deleteImage(image.id);
      removed++;
    }
    if (batch.length < BATCH) return removed;
  }
}

/**
 * Forgets jobs that ended and were created more than `olderThanDays` ago: their rows (the prompt text
 * with them), images, grids, previews and folders, as deleting them would. A job still queued or running
 * is left alone however old. Returns how many jobs went; `olderThanDays <= 0` keeps everything.
 */
export async function pruneExpiredJobs({ store, blobs, olderThanDays, now = Date.now() }: PruneOptions): Promise<number> {
  if (!(olderThanDays > 0)) return 0;
  const before = now - olderThanDays * DAY_MS;
  let removed = 0;
  for (;;) {
    const batch = await store.listJobs({ states: ['succeeded', 'failed', 'canceled'], createdBefore: before, limit: BATCH });
    for (const job of batch) {
      await forgetJob({ store, blobs }, job.id);
      removed++;
    }
    if (batch.length < BATCH) return removed;
  }
}

/** IMAGE_RETENTION_DAYS: expired jobs whole, then any image older than that of a job that lives on. */
export async function applyRetention(options: PruneOptions): Promise<{ jobs: number; images: number }> {
  const jobs = await pruneExpiredJobs(options);
  return { jobs, images: await pruneImages(options) };
}

/** Deletes a job with its rows and every file it left; returns how many images went. */
export async function deleteJobWithImages({ store, blobs, jobId }: { store: Store; blobs: BlobStore; jobId: string }): Promise<number> {
  return forgetJob({ store, blobs }, jobId);
}
