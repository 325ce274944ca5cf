import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createFolderBlobStore } from '../../src/store/folder-blob-store.ts';
import { createStoreFromConfig } from '../../src/store/from-config.ts';
import { MIGRATIONS, MIGRATIONS_TABLE, renderSql } from '../../src/store/migrations.ts';
import { createSqliteStore } from '../../src/store/sqlite-store.ts';
import { makeJob } from './fixtures.ts';
import { registerStoreContract, type TestDatabase } from './store-contract.ts';

const temps: string[] = [];
/**
 * A closed store's folder can still be changing for a moment (SQLite removes its -wal and -shm files as the
 * last connection closes, a checkpoint thread included), so removal retries ENOTEMPTY as rm's own option allows.
 */
const removeDir = (dir: string) => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
afterAll(async () => {
  for (const dir of temps) await removeDir(dir);
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-store-'));
  temps.push(dir);
  return dir;
}

const appliedVersions = (file: string): number[] => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all() as number[];
  } finally {
    db.close();
  }
};

registerStoreContract('SQLite', async (): Promise<TestDatabase> => {
  const dir = await tempDir();
  const file = join(dir, 'atelier.db');
  return {
    connect: () => createSqliteStore(file),
    blobs: () => createFolderBlobStore(join(dir, 'images')),
    appliedVersions: async () => appliedVersions(file),
    dispose: () => removeDir(dir),
  };
});

describe('SQLite store', () => {
  it('runs in memory', async () => {
    const store = createSqliteStore(':memory:');
    await store.migrate();
    const job = makeJob();
    await store.createJob(job);
    expect(await store.getJob(job.id)).toEqual(job);
    await store.close();
  });

  it('uses WAL, a busy timeout and foreign keys', async () => {
    const store = createSqliteStore(join(await tempDir(), 'a.db'));
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    await store.close();
  });

  // The second case is the state an upgrade meets: schema_migrations exists, a migration is pending.
  it.each(['a new file', 'a file with pending migrations'])('migrates safely when several processes start on %s at once', async (kind) => {
    const file = join(await tempDir(), 'shared.db');
    if (kind !== 'a new file') {
      const db = new Database(file);
      db.exec(renderSql(MIGRATIONS_TABLE, 'sqlite'));
      db.close();
    }
    const child = join(import.meta.dirname, 'sqlite-child.ts');
    const procs = Array.from({ length: 4 }, () => spawn(process.execPath, ['--import', 'tsx', child, 'migrate', file], { stdio: ['pipe', 'pipe', 'pipe'] }));
    const outputs = procs.map((p) => {
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const ready = new Promise<void>((res, rej) => {
        p.stdout.on('data', () => out.includes('ready\n') && res());
        p.on('exit', () => rej(new Error(`child exited before ready: ${err}`)));
      });
      const exit = new Promise<{ code: number | null; out: string; err: string }>((res) => p.on('exit', (code) => res({ code, out, err })));
      return { ready, exit };
    });
    await Promise.all(outputs.map((o) => o.ready));
    for (const p of procs) p.stdin.end('go\n');
    const results = await Promise.all(outputs.map((o) => o.exit));
    for (const r of results) expect(r, r.err).toMatchObject({ code: 0, out: 'ready\nmigrated\n' });
    expect(appliedVersions(file)).toEqual(MIGRATIONS.map((m) => m.version));
  });
});

describe('SQLite store after a crash', () => {
  it('keeps every committed write when the process is killed with SIGKILL', { timeout: 120_000 }, async () => {
    const file = join(await tempDir(), 'crash.db');
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'sqlite-child.ts'), 'crash', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const signal = await new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_code, sig) => res(sig)));
    expect(signal, err).toBe('SIGKILL');

    const store = createSqliteStore(file);
    await store.migrate();
    expect(await store.getJob('survivor')).toMatchObject({ state: 'running', version: 2 });
    await store.close();
  });
});

describe('folder blob store', () => {
  it('writes through a temporary file and leaves none behind', async () => {
    const dir = await tempDir();
    const blobs = createFolderBlobStore(dir);
    await blobs.put('jobs/j1/1.png', new Uint8Array([1, 2]));
    await blobs.put('jobs/j1/1.png', new Uint8Array([3]));
    expect(await readdir(join(dir, 'jobs', 'j1'))).toEqual(['1.png']);
  });

  it('never writes outside its folder, even for a refused key', async () => {
    const parent = await tempDir();
    const blobs = createFolderBlobStore(join(parent, 'images'));
    await expect(blobs.put('../outside.png', new Uint8Array([1]))).rejects.toThrow();
    expect(existsSync(join(parent, 'outside.png'))).toBe(false);
  });

  it('does not follow a symlinked folder out when asked to delete', async () => {
    const parent = await tempDir();
    const dir = join(parent, 'images');
    const blobs = createFolderBlobStore(dir);
    await blobs.put('keep/x.png', new Uint8Array([1]));
    await symlink(join(dir, 'keep'), join(dir, 'link'));
    await blobs.delete('link');
    expect(await blobs.get('keep/x.png')).toEqual(new Uint8Array([1]));
  });
});

describe('createStoreFromConfig (SQLite)', () => {
  it('creates DATA_DIR, migrates atelier.db and keeps images under DATA_DIR/images', async () => {
    const dataDir = join(await tempDir(), 'nested', 'data');
    const { store, blobs } = await createStoreFromConfig({ DATA_DIR: dataDir, DATABASE_URL: undefined });
    const job = makeJob();
    await store.createJob(job);
    await blobs.put('jobs/a.png', new Uint8Array([5]));
    await store.close();
    expect(existsSync(join(dataDir, 'images', 'jobs', 'a.png'))).toBe(true);
    expect(appliedVersions(join(dataDir, 'atelier.db'))).toEqual(MIGRATIONS.map((m) => m.version));

    const again = await createStoreFromConfig({ DATA_DIR: dataDir, DATABASE_URL: undefined });
    expect(await again.store.getJob(job.id)).toEqual(job);
    await again.store.close();
  });

  it('refuses a DATABASE_URL that is not PostgreSQL rather than silently using SQLite', async () => {
    await expect(createStoreFromConfig({ DATA_DIR: await tempDir(), DATABASE_URL: 'mysql://x/y' })).rejects.toThrow(/DATABASE_URL/);
  });
});

describe('SQLite store: checkpoints off the event loop', () => {
  it('never checkpoints on the connection that writes; a worker thread copies the log into the database file', async () => {
    const file = join(await tempDir(), 'atelier.db');
    const store = createSqliteStore(file);
    await store.migrate();
    // The writers' connection leaves the log alone (SQLite would otherwise fsync inside some commit).
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const before = statSync(file).size;
    for (let i = 0; i < 600; i++) await store.createJob(makeJob({ notes: ['x'.repeat(2000)] }));
    // In WAL mode only a checkpoint writes pages into the database file itself.
    await vi.waitFor(() => expect(statSync(file).size).toBeGreaterThan(before + 600 * 1000), { timeout: 10_000 });
    expect(await store.countJobs(['queued'])).toBe(600);
    await store.close();
    const again = createSqliteStore(file);
    expect(await again.countJobs(['queued'])).toBe(600);
    await again.close();
  });
});
