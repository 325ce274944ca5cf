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

/** Deletes a job with its rows and every file it left; returns how many images went. */
export async function deleteJobWithImages({ store, blobs, jobId }: { store: Store; blobs: BlobStore; jobId: string }): Promise<number> {
  return forgetJob({ store, blobs }, jobId);
}
