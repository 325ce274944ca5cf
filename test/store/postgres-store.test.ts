import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createPostgresBlobStore } from '../../src/store/postgres-blob-store.ts';
import { createPostgresStore } from '../../src/store/postgres-store.ts';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { createStoreFromConfig } from '../../src/store/from-config.ts';
import { makeJob } from './fixtures.ts';
import { registerStoreContract, type TestDatabase } from './store-contract.ts';

const url = loadConfig({ DATABASE_URL: process.env.DATABASE_URL }).DATABASE_URL;
if (!url) console.warn('[test/store] DATABASE_URL is not set: the PostgreSQL store tests are skipped.');

const runId = randomBytes(4).toString('hex');
let counter = 0;
/** A schema name no other run or test uses; every one is dropped afterwards. */
const newSchema = () => `atelier_test_${runId}_${++counter}`;

describe.skipIf(!url)('PostgreSQL', () => {
  let admin: pg.Pool;
  beforeAll(() => {
    admin = new pg.Pool({ connectionString: url, max: 2 });
  });
  afterAll(async () => {
    await admin?.end();
  });

  /** A fresh schema; stores reach it through search_path, exactly as a DATABASE_URL deployment would. */
  registerStoreContract('PostgreSQL', async (): Promise<TestDatabase> => {
    const schema = newSchema();
    await admin.query(`CREATE SCHEMA ${schema}`);
    const pools: pg.Pool[] = [];
    const pool = () => {
      const p = new pg.Pool({ connectionString: url, options: `-c search_path=${schema}`, max: 4 });
      pools.push(p);
      return p;
    };
    return {
      connect: () => createPostgresStore({ pool: pool(), endPoolOnClose: true }),
      blobs: () => createPostgresBlobStore({ pool: pool() }),
      appliedVersions: async () => (await admin.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`)).rows.map((r) => Number(r.version)),
      dispose: async () => {
        for (const p of pools) if (!p.ended) await p.end();
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      },
    };
  });

  describe('with an explicit schema on a shared pool', () => {
    const schema = newSchema();
    let pool: pg.Pool;
    beforeAll(() => {
      pool = new pg.Pool({ connectionString: url, max: 6 });
    });
    afterAll(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    });

    it('creates the schema, keeps its tables there and leaves the shared pool open on close', async () => {
      const stores = [0, 1, 2].map(() => createPostgresStore({ pool, schema }));
      await Promise.all(stores.map((s) => s.migrate()));
      const tables = await admin.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema]);
      expect(tables.rows.map((r) => r.table_name)).toEqual(['blobs', 'images', 'jobs', 'kv', 'message_refs', 'schema_migrations', 'seen_requests', 'settings', 'usage']);
      const versions = await admin.query(`SELECT version FROM ${schema}.schema_migrations`);
      expect(versions.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));

      const job = makeJob();
      await stores[0]!.createJob(job);
      expect(await stores[1]!.getJob(job.id)).toEqual(job);
      const blobs = createPostgresBlobStore({ pool, schema });
      await blobs.put('a/b.png', new Uint8Array([1, 2]));
      expect(await blobs.get('a/b.png')).toEqual(new Uint8Array([1, 2]));

      for (const s of stores) await s.close();
      expect(pool.ended).toBe(false);
      expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    });
  });

  describe('createStoreFromConfig', () => {
    const schema = newSchema();
    beforeAll(async () => {
      await admin.query(`CREATE SCHEMA ${schema}`);
    });
    afterAll(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    });

    it('uses PostgreSQL for rows and image bytes when DATABASE_URL is postgres://, migrated, closing its pool', async () => {
      const scoped = new URL(url!);
      scoped.searchParams.set('options', `-c search_path=${schema}`);
      const { store, blobs } = await createStoreFromConfig({ DATA_DIR: '/nonexistent/never-used', DATABASE_URL: scoped.toString() });
      const job = makeJob();
      await store.createJob(job);
      await blobs.put('jobs/x.png', new Uint8Array([9]));
      const rows = await admin.query(`SELECT (SELECT count(*) FROM ${schema}.jobs) AS jobs, (SELECT count(*) FROM ${schema}.blobs) AS blobs`);
      expect(rows.rows[0]).toEqual({ jobs: '1', blobs: '1' });
      await store.close();
      await expect(blobs.get('jobs/x.png')).rejects.toThrow();
    });
  });
});
