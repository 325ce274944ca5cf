import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { BlobStore, Store } from '../core/ports.ts';
import { createFolderBlobStore } from './folder-blob-store.ts';
import { createSqliteStore } from './sqlite-store.ts';

export const isPostgresUrl = (url: string | undefined): url is string => /^postgres(ql)?:\/\//i.test(url ?? '');

/**
 * The store and blob store the configuration asks for, migrated and ready:
 * PostgreSQL (rows and image bytes, one pool) when DATABASE_URL is a postgres:// URL, otherwise SQLite
 * at DATA_DIR/atelier.db with image bytes under DATA_DIR/images. `store.close()` releases everything.
 * `onPoolError` hears about PostgreSQL connections that die while idle (pass a logger's warn).
 */
export async function createStoreFromConfig(
  config: Pick<Config, 'DATA_DIR' | 'DATABASE_URL'>,
  options: { onPoolError?: (err: Error) => void } = {},
): Promise<{ store: Store; blobs: BlobStore }> {
  if (isPostgresUrl(config.DATABASE_URL)) {
    // Loaded only here: node-postgres and its parsers cost a SQLite deployment ~10 MiB of RSS for nothing.
    const [{ createPool }, { createPostgresStore }, { createPostgresBlobStore }] = await Promise.all([import('./postgres-pool.ts'), import('./postgres-store.ts'), import('./postgres-blob-store.ts')]);
    const pool = createPool(config.DATABASE_URL, options.onPoolError);
    const store = createPostgresStore({ pool, endPoolOnClose: true });
    const blobs = createPostgresBlobStore({ pool });
    try {
      await store.migrate();
    } catch (err) {
      await store.close();
      throw err;
    }
    return { store, blobs };
  }
  if (config.DATABASE_URL) throw new Error(`DATABASE_URL: expects postgres:// or postgresql://, or unset for SQLite in DATA_DIR`);
  mkdirSync(config.DATA_DIR, { recursive: true });
  const imagesDir = join(config.DATA_DIR, 'images');
  mkdirSync(imagesDir, { recursive: true });
  const store = createSqliteStore(join(config.DATA_DIR, 'atelier.db'));
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return { store, blobs: createFolderBlobStore(imagesDir) };
}
