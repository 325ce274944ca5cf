import type { BlobStore } from '../core/ports.ts';
import { assertBlobKey } from './blob-key.ts';
import { openPostgres, type PostgresTarget } from './postgres-pool.ts';

/**
 * Image bytes in PostgreSQL's `blobs` table (bytea), so every web process and worker reaches them.
 * The table comes from the store's migrations: run `createPostgresStore(sameTarget).migrate()` first.
 * Keys follow the same rules as the folder store's.
 */
export function createPostgresBlobStore(target: PostgresTarget): BlobStore & { close(): Promise<void> } {
  const { pool, prefix, ownsPool } = openPostgres(target);
  const blobs = `${prefix}blobs`;
  return {
    async put(key, bytes) {
      assertBlobKey(key);
      await pool.query(`INSERT INTO ${blobs} (key, bytes, created_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET bytes = excluded.bytes, created_at = excluded.created_at`, [
        key,
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        Date.now(),
      ]);
    },
    async get(key) {
      assertBlobKey(key);
      const res = await pool.query<{ bytes: Buffer }>(`SELECT bytes FROM ${blobs} WHERE key = $1`, [key]);
      const buf = res.rows[0]?.bytes;
      return buf === undefined ? undefined : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    },
    async delete(key) {
      assertBlobKey(key);
      await pool.query(`DELETE FROM ${blobs} WHERE key = $1`, [key]);
    },
    async deleteFolder(folder) {
      assertBlobKey(folder);
      // starts_with, not LIKE: a key may hold "_", which LIKE would read as a wildcard.
      await pool.query(`DELETE FROM ${blobs} WHERE starts_with(key, $1)`, [`${folder}/`]);
    },
    async close() {
      if (ownsPool && !pool.ended) await pool.end();
    },
  };
}
