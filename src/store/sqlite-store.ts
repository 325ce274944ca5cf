import Database from 'better-sqlite3';
import type { Job } from '../core/job.ts';
import type { JobFilter, MessageRef, Store, StoredImage } from '../core/ports.ts';
import { scopeKey, type Settings, type SettingsScope } from '../core/settings.ts';
import { MIGRATIONS, MIGRATIONS_TABLE, renderSql } from './migrations.ts';
import { SqliteCheckpointer } from './sqlite-checkpointer.ts';
import { ImmutableJobFieldError, JOB_COLUMNS, jobColumns, jobFilterSql, jobIdentity } from './rows.ts';

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's lock before failing (ms). */
  busyTimeoutMs?: number;
}

/**
 * The Store on SQLite (better-sqlite3): WAL, a busy timeout so several processes can share the file,
 * foreign keys on. `path` may be `:memory:`. Call `migrate()` before anything else.
 * Every statement is prepared once and cached: the store is on the hot path of every job.
 */
export function createSqliteStore(path: string, options: SqliteStoreOptions = {}): Store & { readonly db: Database.Database } {
  const db = new Database(path);
  // busy_timeout first: switching to WAL itself needs a lock another process may hold.
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
  db.pragma('journal_mode = WAL');
  // In WAL mode NORMAL survives a process crash (kill -9); only an OS crash may lose the last commits.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // Checkpoints happen off the event loop (see SqliteCheckpointer); an in-memory database has none.
  const checkpoints = path === ':memory:' ? undefined : new SqliteCheckpointer(path);
  if (checkpoints) {
    db.pragma('wal_autocheckpoint = 0');
    checkpoints.onLost = () => db.pragma('wal_autocheckpoint = 1000');
  }

  const cache = new Map<string, Database.Statement>();
  const stmt = (sql: string): Database.Statement => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
  /** A write: counted, so the checkpointer can copy the log into the database file every few hundred. */
  const run = (sql: string, ...params: unknown[]): Database.RunResult => {
    const result = stmt(sql).run(...params);
    checkpoints?.wrote();
    return result;
  };
  const pluckAll = (sql: string, ...params: unknown[]) => stmt(sql).pluck().all(...params) as string[];
  const pluckOne = (sql: string, ...params: unknown[]) => stmt(sql).pluck().get(...params) as string | undefined;

  function migrateSync(): void {
    for (const m of MIGRATIONS) {
      // BEGIN IMMEDIATE takes the write lock before reading, so two processes never apply the same migration.
      const apply = db.transaction(() => {
        db.exec(renderSql(MIGRATIONS_TABLE, 'sqlite'));
        if (db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version)) return;
        for (const s of m.statements) db.exec(renderSql(s, 'sqlite'));
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      });
      apply.immediate();
    }
  }

  const insertJob = `INSERT INTO jobs (id, ${JOB_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  // Only state, version and data are written: setting an indexed column, even to its old value, makes
  // SQLite rewrite that index, which made every update about twice as slow. The identity columns are
  // checked instead (see ImmutableJobFieldError).
  const updateJob =
    'UPDATE jobs SET state = ?, version = ?, data = ? WHERE id = ? AND version = ? AND platform = ? AND owner_id = ? AND channel_id = ? AND created_at = ? AND parent_id IS ?';
  let claims = 0;
  const parseImages = (rows: string[]) => rows.map((r) => JSON.parse(r) as StoredImage);

  return {
    db,
    async migrate() {
      migrateSync();
    },
    async createJob(job: Job) {
      run(insertJob, job.id, ...jobColumns(job));
    },
    async getJob(id: string) {
      const data = pluckOne('SELECT data FROM jobs WHERE id = ?', id);
      return data === undefined ? undefined : (JSON.parse(data) as Job);
    },
    async updateJob(job: Job) {
      const next: Job = { ...job, version: job.version + 1 };
      const { changes } = run(updateJob, next.state, next.version, JSON.stringify(next), job.id, job.version, ...jobIdentity(job));
      if (changes === 1) return next;
      const row = stmt(`SELECT version FROM jobs WHERE id = ?`).get(job.id) as { version: number } | undefined;
      if (row?.version === job.version) throw new ImmutableJobFieldError(job.id);
      return undefined;
    },
    async listJobs(filter: JobFilter) {
      const params: unknown[] = [];
      const sql = 'SELECT data FROM jobs' + jobFilterSql(filter, (v) => (params.push(v), '?'));
      return pluckAll(sql, ...params).map((d) => JSON.parse(d) as Job);
    },
    async countJobs(states, owner) {
      if (states.length === 0) return 0;
      const inStates = `state IN (${states.map(() => '?').join(', ')})`;
      if (owner) return stmt(`SELECT COUNT(*) FROM jobs WHERE platform = ? AND owner_id = ? AND ${inStates}`).pluck().get(owner.platform, owner.ownerId, ...states) as number;
      return stmt(`SELECT COUNT(*) FROM jobs WHERE ${inStates}`).pluck().get(...states) as number;
    },
    async recordUsage(platform: string, ownerId: string, jobId: string, at: number) {
      run('INSERT INTO usage (platform, owner_id, job_id, created_at) VALUES (?, ?, ?, ?)', platform, ownerId, jobId, at);
    },
    async countUsageSince(platform: string, ownerId: string, since: number) {
      return stmt('SELECT COUNT(*) FROM usage WHERE platform = ? AND owner_id = ? AND created_at >= ?').pluck().get(platform, ownerId, since) as number;
    },
    async deleteJob(id: string) {
      // Images and message refs go with it (ON DELETE CASCADE).
      run('DELETE FROM jobs WHERE id = ?', id);
    },
    async addImage(image: StoredImage) {
      run('INSERT INTO images (id, job_id, idx, created_at, data) VALUES (?, ?, ?, ?, ?)', image.id, image.jobId, image.index, image.createdAt, JSON.stringify(image));
    },
    async getImage(id: string) {
      const data = pluckOne('SELECT data FROM images WHERE id = ?', id);
      return data === undefined ? undefined : (JSON.parse(data) as StoredImage);
    },
    async listImages(jobId: string) {
      return parseImages(pluckAll('SELECT data FROM images WHERE job_id = ? ORDER BY idx, id', jobId));
    },
    async deleteImages(jobId: string) {
      return parseImages(pluckAll('DELETE FROM images WHERE job_id = ? RETURNING data', jobId)).sort((a, b) => a.index - b.index || cmp(a.id, b.id));
    },
    async listImagesBefore(before: number, limit: number) {
      return parseImages(pluckAll('SELECT data FROM images WHERE created_at < ? ORDER BY created_at, id LIMIT ?', before, limit));
    },
    async deleteImage(id: string) {
      run('DELETE FROM images WHERE id = ?', id);
    },
    async getMessageRef(jobId: string, platform: string) {
      const data = pluckOne('SELECT data FROM message_refs WHERE job_id = ? AND platform = ?', jobId, platform);
      return data === undefined ? undefined : (JSON.parse(data) as MessageRef);
    },
    async setMessageRef(jobId: string, platform: string, ref: MessageRef) {
      run(
        'INSERT INTO message_refs (job_id, platform, data) VALUES (?, ?, ?) ON CONFLICT (job_id, platform) DO UPDATE SET data = excluded.data',
        jobId,
        platform,
        JSON.stringify(ref),
      );
    },
    async getSettings(scope: SettingsScope) {
      const data = pluckOne('SELECT data FROM settings WHERE scope_key = ?', scopeKey(scope));
      return data === undefined ? undefined : (JSON.parse(data) as Settings);
    },
    async setSettings(scope: SettingsScope, settings: Settings) {
      run('INSERT INTO settings (scope_key, data) VALUES (?, ?) ON CONFLICT (scope_key) DO UPDATE SET data = excluded.data', scopeKey(scope), JSON.stringify(settings));
    },
    async getValue(key: string) {
      return pluckOne('SELECT value FROM kv WHERE key = ?', key);
    },
    async setValue(key: string, value: string) {
      run('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, value);
    },
    async claimOnce(key: string, expiresAt: number, now: number) {
      // An expired claim is taken over in the same statement; a live one leaves the row untouched (0 changes).
      const { changes } = run('INSERT INTO seen_requests (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE seen_requests.expires_at <= ?', key, expiresAt, now);
      if (++claims % PRUNE_EVERY === 0) run('DELETE FROM seen_requests WHERE expires_at <= ?', now);
      return changes === 1;
    },
    async releaseClaim(key: string, expiresAt: number) {
      run('DELETE FROM seen_requests WHERE key = ? AND expires_at = ?', key, expiresAt);
    },
    async close() {
      await checkpoints?.close();
      if (db.open) db.close();
    },
  };
}

/** Expired claims are swept every this many claims: a cheap indexed delete, off most requests' path. */
const PRUNE_EVERY = 200;

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
