export { createSqliteStore, type SqliteStoreOptions } from './sqlite-store.ts';
export { createPostgresStore } from './postgres-store.ts';
export type { PostgresTarget } from './postgres-pool.ts';
export { createFolderBlobStore } from './folder-blob-store.ts';
export { createPostgresBlobStore } from './postgres-blob-store.ts';
export { assertBlobKey, InvalidBlobKeyError } from './blob-key.ts';
export { createStoreFromConfig, isPostgresUrl } from './from-config.ts';
export { applyRetention, deleteJobWithImages, pruneExpiredJobs, pruneImages, type PruneOptions } from './retention.ts';
export { MIGRATIONS, type Migration } from './migrations.ts';
