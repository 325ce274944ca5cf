import type pg from 'pg';
import type { Job } from '../core/job.ts';
import type { JobFilter, MessageRef, Store, StoredImage } from '../core/ports.ts';
import { scopeKey, type Settings, type SettingsScope } from '../core/settings.ts';
import { MIGRATIONS, MIGRATIONS_TABLE, renderSql } from './migrations.ts';
import { openPostgres, quoteIdent, toNumber, type PostgresTarget } from './postgres-pool.ts';
import { ImmutableJobFieldError, JOB_COLUMNS, jobColumns, jobFilterSql, jobIdentity } from './rows.ts';

/** Expired claims are swept every this many claims (see the SQLite store). */
const PRUNE_EVERY = 200;

/**
 * The Store on PostgreSQL (pg), with the same schema and migrations as SQLite. Give it a URL, or a pool
 * (optionally with a schema, which `migrate` creates) to share connections with other parts.
 */
export function createPostgresStore(target: PostgresTarget): Store & { readonly pool: pg.Pool } {
  const { pool, schema, prefix, ownsPool } = openPostgres(target);
  const t = (name: string) => prefix + name;
  const jobs = t('jobs');
  const images = t('images');

  const rows = async (sql: string, params: unknown[]) => (await pool.query({ text: sql, values: params })).rows as Record<string, unknown>[];
  const dataOf = <T>(r: Record<string, unknown>[]) => r.map((row) => JSON.parse(row['data'] as string) as T);
  const firstData = async <T>(sql: string, params: unknown[]): Promise<T | undefined> => dataOf<T>(await rows(sql, params))[0];

  async function migrateOne(client: pg.PoolClient, version: number): Promise<void> {
    const m = MIGRATIONS.find((x) => x.version === version)!;
    await client.query('BEGIN');
    try {
      // One lock per schema, held to the end of the transaction: concurrent starters wait, then see it applied.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`atelier:migrate:${schema ?? ''}`]);
      if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await client.query(renderSql(MIGRATIONS_TABLE, 'postgres', prefix));
      const done = await client.query(`SELECT 1 FROM ${t('schema_migrations')} WHERE version = $1`, [m.version]);
      if (done.rowCount === 0) {
        for (const s of m.statements) await client.query(renderSql(s, 'postgres', prefix));
        await client.query(`INSERT INTO ${t('schema_migrations')} (version, name, applied_at) VALUES ($1, $2, $3)`, [m.version, m.name, Date.now()]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    }
  }

  let claims = 0;
  // Same rule as SQLite: identity columns are checked, not rewritten.
  const updateSql = `UPDATE ${jobs} SET state = $1, version = $2, data = $3 WHERE id = $4 AND version = $5 AND platform = $6 AND owner_id = $7 AND channel_id = $8 AND created_at = $9 AND parent_id IS NOT DISTINCT FROM $10`;

  return {
    pool,
    async migrate() {
      const client = await pool.connect();
      try {
        for (const m of MIGRATIONS) await migrateOne(client, m.version);
      } finally {
        client.release();
      }
    },
    async createJob(job: Job) {
      await rows(`INSERT INTO ${jobs} (id, ${JOB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [job.id, ...jobColumns(job)]);
    },
    async getJob(id: string) {
      return firstData<Job>(`SELECT data FROM ${jobs} WHERE id = $1`, [id]);
    },
    async updateJob(job: Job) {
      const next: Job = { ...job, version: job.version + 1 };
      const res = await pool.query(updateSql, [next.state, next.version, JSON.stringify(next), job.id, job.version, ...jobIdentity(job)]);
      if (res.rowCount === 1) return next;
      const row = await rows(`SELECT version FROM ${jobs} WHERE id = $1`, [job.id]);
      if (row[0] && Number(row[0]['version']) === job.version) throw new ImmutableJobFieldError(job.id);
      return undefined;
    },
    async listJobs(filter: JobFilter) {
      const params: unknown[] = [];
      const sql = `SELECT data FROM ${jobs}` + jobFilterSql(filter, (v) => `$${params.push(v)}`);
      return dataOf<Job>(await rows(sql, params));
    },
    async countJobs(states, owner) {
      if (states.length === 0) return 0;
      const r = owner
        ? await rows(`SELECT COUNT(*) AS n FROM ${jobs} WHERE platform = $1 AND owner_id = $2 AND state = ANY($3::text[])`, [owner.platform, owner.ownerId, [...states]])
        : await rows(`SELECT COUNT(*) AS n FROM ${jobs} WHERE state = ANY($1::text[])`, [[...states]]);
      return toNumber(r[0]?.['n'] ?? 0);
    },
    async recordUsage(platform: string, ownerId: string, jobId: string, at: number) {
      await rows(`INSERT INTO ${t('usage')} (platform, owner_id, job_id, created_at) VALUES ($1, $2, $3, $4)`, [platform, ownerId, jobId, at]);
    },
    async countUsageSince(platform: string, ownerId: string, since: number) {
      const r = await rows(`SELECT COUNT(*) AS n FROM ${t('usage')} WHERE platform = $1 AND owner_id = $2 AND created_at >= $3`, [platform, ownerId, since]);
      return toNumber(r[0]?.['n'] ?? 0);
    },
    async deleteJob(id: string) {
      // Images and message refs go with it (ON DELETE CASCADE).
      await rows(`DELETE FROM ${jobs} WHERE id = $1`, [id]);
    },
    async addImage(image: StoredImage) {
      await rows(`INSERT INTO ${images} (id, job_id, idx, created_at, data) VALUES ($1, $2, $3, $4, $5)`, [image.id, image.jobId, image.index, image.createdAt, JSON.stringify(image)]);
    },
    async getImage(id: string) {
      return firstData<StoredImage>(`SELECT data FROM ${images} WHERE id = $1`, [id]);
    },
    async listImages(jobId: string) {
      return dataOf<StoredImage>(await rows(`SELECT data FROM ${images} WHERE job_id = $1 ORDER BY idx, id`, [jobId]));
    },
    async deleteImages(jobId: string) {
      const r = await rows(`WITH gone AS (DELETE FROM ${images} WHERE job_id = $1 RETURNING idx, id, data) SELECT data FROM gone ORDER BY idx, id`, [jobId]);
      return dataOf<StoredImage>(r);
    },
    async listImagesBefore(before: number, limit: number) {
      return dataOf<StoredImage>(await rows(`SELECT data FROM ${images} WHERE created_at < $1 ORDER BY created_at, id LIMIT $2`, [before, limit]));
    },
    async deleteImage(id: string) {
      await rows(`DELETE FROM ${images} WHERE id = $1`, [id]);
    },
    async getMessageRef(jobId: string, platform: string) {
      return firstData<MessageRef>(`SELECT data FROM ${t('message_refs')} WHERE job_id = $1 AND platform = $2`, [jobId, platform]);
    },
    async setMessageRef(jobId: string, platform: string, ref: MessageRef) {
      await rows(`INSERT INTO ${t('message_refs')} (job_id, platform, data) VALUES ($1, $2, $3) ON CONFLICT (job_id, platform) DO UPDATE SET data = excluded.data`, [
        jobId,
        platform,
        JSON.stringify(ref),
      ]);
    },
    async getSettings(scope: SettingsScope) {
      return firstData<Settings>(`SELECT data FROM ${t('settings')} WHERE scope_key = $1`, [scopeKey(scope)]);
    },
    async setSettings(scope: SettingsScope, settings: Settings) {
      await rows(`INSERT INTO ${t('settings')} (scope_key, data) VALUES ($1, $2) ON CONFLICT (scope_key) DO UPDATE SET data = excluded.data`, [scopeKey(scope), JSON.stringify(settings)]);
    },
    async getValue(key: string) {
      const r = await rows(`SELECT value FROM ${t('kv')} WHERE key = $1`, [key]);
      return r[0]?.['value'] as string | undefined;
    },
    async setValue(key: string, value: string) {
      await rows(`INSERT INTO ${t('kv')} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [key, value]);
    },
    async claimOnce(key: string, expiresAt: number, now: number) {
      const seen = t('seen_requests');
      // Same rule as SQLite: an expired claim is taken over, a live one is left alone and reports 0 rows.
      const res = await pool.query(`INSERT INTO ${seen} (key, expires_at) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE ${seen}.expires_at <= $3`, [key, expiresAt, now]);
      if (++claims % PRUNE_EVERY === 0) await pool.query(`DELETE FROM ${seen} WHERE expires_at <= $1`, [now]);
      return res.rowCount === 1;
    },
    async releaseClaim(key: string, expiresAt: number) {
      await pool.query(`DELETE FROM ${t('seen_requests')} WHERE key = $1 AND expires_at = $2`, [key, expiresAt]);
    },
    async close() {
      if (ownsPool && !pool.ended) await pool.end();
    },
  };
}
