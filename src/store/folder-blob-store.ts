import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import type { BlobStore } from '../core/ports.ts';
import { assertBlobKey, InvalidBlobKeyError } from './blob-key.ts';

/**
 * Image bytes as files under `dir`, one file per key. Writes go to a temporary file that is renamed into
 * place, so a reader never sees half an image, even after a crash mid-write.
 */
export function createFolderBlobStore(dir: string): BlobStore & { readonly dir: string } {
  const root = resolve(dir);

  const pathOf = (key: string): string => {
    assertBlobKey(key);
    const path = resolve(root, key);
    // The key check already rules this out; a second, independent check costs nothing.
    if (!path.startsWith(root + sep)) throw new InvalidBlobKeyError(`blob key ${JSON.stringify(key)} escapes the blob folder`);
    return path;
  };

  return {
    dir: root,
    async put(key, bytes) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await writeFile(temp, bytes);
        await rename(temp, path);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
    },
    async get(key) {
      try {
        const buf = await readFile(pathOf(key));
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async deleteFolder(folder) {
      // A file written into the folder while it is removed makes rmdir fail with ENOTEMPTY: try again.
      await rm(pathOf(folder), { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    },
  };
}
