/** The two SQL engines the store runs on; the schema is the same, only a few type names differ. */
export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  name: string;
  /** Statements in the common subset of SQLite and PostgreSQL; `{t}` prefixes a table name, `{bytes}` is the binary type. */
  statements: readonly string[];
}

/**
 * Every schema change, in order. Append only: a migration that has shipped is never edited, because
 * `schema_migrations` records it as applied and it will not run again.
 * JSON is stored as TEXT on both engines so a row reads back byte for byte the same everywhere.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'jobs, images, message refs, settings, values, blobs',
    statements: [
      `CREATE TABLE {t}jobs (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        platform TEXT NOT NULL,
        owner_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        parent_id TEXT,
        created_at BIGINT NOT NULL,
        version INTEGER NOT NULL,
        data TEXT NOT NULL
      )`,
      // Shaped after the hot queries: resume (state), a user's waiting jobs and a channel's queue
      // (owner / channel, then state, so a long history is not scanned), daily quotas (owner, time).
      `CREATE INDEX jobs_state_created ON {t}jobs (state, created_at)`,
      `CREATE INDEX jobs_owner_state ON {t}jobs (platform, owner_id, state, created_at)`,
      `CREATE INDEX jobs_owner_created ON {t}jobs (platform, owner_id, created_at)`,
      `CREATE INDEX jobs_channel_state ON {t}jobs (channel_id, state, created_at)`,
      `CREATE INDEX jobs_parent ON {t}jobs (parent_id)`,
      `CREATE TABLE {t}images (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES {t}jobs (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        data TEXT NOT NULL
      )`,
      `CREATE INDEX images_job ON {t}images (job_id, idx)`,
      `CREATE INDEX images_created ON {t}images (created_at, id)`,
      `CREATE TABLE {t}message_refs (
        job_id TEXT NOT NULL REFERENCES {t}jobs (id) ON DELETE CASCADE,
        platform TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (job_id, platform)
      )`,
      `CREATE TABLE {t}settings (
        scope_key TEXT PRIMARY KEY,
        data TEXT NOT NULL
      )`,
      `CREATE TABLE {t}kv (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      )`,
      `CREATE TABLE {t}blobs (
        key TEXT PRIMARY KEY,
        bytes {bytes} NOT NULL,
        created_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    name: 'usage ledger for daily quotas',
    statements: [
      // One row per job that counted against its owner's quota. Deleting a job leaves its row: a quota
      // that deletion gave back could be dodged.
      `CREATE TABLE {t}usage (
        platform TEXT NOT NULL,
        owner_id TEXT NOT NULL,
        job_id TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX usage_owner_created ON {t}usage (platform, owner_id, created_at)`,
      // Jobs still stored counted before the ledger existed; they keep counting.
      `INSERT INTO {t}usage (platform, owner_id, job_id, created_at) SELECT platform, owner_id, id, created_at FROM {t}jobs`,
    ],
  },
  {
    version: 3,
    name: 'seen requests, so a replayed interaction is answered once',
    statements: [
      `CREATE TABLE {t}seen_requests (
        key TEXT PRIMARY KEY,
        expires_at BIGINT NOT NULL
      )`,
      `CREATE INDEX seen_requests_expiry ON {t}seen_requests (expires_at)`,
    ],
  },
];

/** `schema_migrations` itself: created before any migration runs, under the same lock. */
export const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS {t}schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

/** Fills the placeholders of a statement for one engine; `tablePrefix` is `"schema".` or empty. */
export function renderSql(statement: string, dialect: Dialect, tablePrefix = ''): string {
  return statement.replaceAll('{t}', tablePrefix).replaceAll('{bytes}', dialect === 'postgres' ? 'BYTEA' : 'BLOB');
}
