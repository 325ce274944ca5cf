import { jobFolder } from './job.ts';
import type { BlobStore, Store } from './ports.ts';

/**
 * Removes a job and every file it left: its image rows and bytes, its grid, every preview (also those a
 * crash left unreferenced) and its folder. Files go before the row, so a crash in between leaves a row
 * that can be deleted again, never files that nothing points to. The folder is removed once more after
 * the row: a run still ending may have written into it meanwhile (a late preview); whatever it writes
 * after that, it removes itself, as it then finds no row. Returns how many images the job had.
 */
export async function forgetJob({ store, blobs }: { store: Store; blobs: BlobStore }, jobId: string): Promise<number> {
  const images = await store.listImages(jobId);
  // Keys are normally inside the job's folder; one stored elsewhere is removed by its own key.
  for (const image of images) if (!image.blobKey.startsWith(`${jobFolder(jobId)}/`)) await blobs.delete(image.blobKey);
  await blobs.deleteFolder(jobFolder(jobId));
  await store.deleteJob(jobId);
  await blobs.deleteFolder(jobFolder(jobId));
  return images.length;
}
