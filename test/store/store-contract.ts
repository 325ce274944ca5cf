import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/core/job.ts';
import type { BlobStore, Store } from '../../src/core/ports.ts';
import { InvalidBlobKeyError } from '../../src/store/blob-key.ts';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { ImmutableJobFieldError } from '../../src/store/rows.ts';
import { deleteJobWithImages, pruneExpiredJobs, pruneImages } from '../../src/store/retention.ts';
import { makeImage, makeJob } from './fixtures.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** One empty database of the engine under test. */
export interface TestDatabase {
  /** A new store on this database, not migrated; may be called many times (separate connections). */
  connect(): Store;
  /** The blob store that goes with this engine, on this database. */
  blobs(): BlobStore;
  /** Versions recorded in schema_migrations, one entry per row. */
  appliedVersions(): Promise<number[]>;
  /** Releases what `connect` and `blobs` opened that `Store.close` does not, and drops the database. */
  dispose(): Promise<void>;
}

/**
 * The Store and BlobStore contract. Every engine registers it with a factory of fresh databases, so
 * SQLite and PostgreSQL are held to the very same tests.
 */
export function registerStoreContract(name: string, freshDatabase: () => Promise<TestDatabase>): void {
  describe(`${name}: Store contract`, () => {
    const opened: { db: TestDatabase; stores: Store[] }[] = [];

    afterAll(async () => {
      for (const { db, stores } of opened) {
        for (const s of stores) await s.close();
        await db.dispose();
      }
    });

    /** A fresh migrated store; `more()` opens further stores on the same database. */
    async function open() {
      const db = await freshDatabase();
      const entry = { db, stores: [] as Store[] };
      opened.push(entry);
      const more = () => {
        const s = db.connect();
        entry.stores.push(s);
        return s;
      };
      const store = more();
      await store.migrate();
      return { db, store, blobs: db.blobs(), more };
    }

    it('creates and reads a job back exactly as given', async () => {
      const { store } = await open();
      const job = makeJob({ parentId: 'p1', intent: { key: 'k1', operation: 'generate', body: { a: [1, 2] } }, version: 3 });
      await store.createJob(job);
      expect(await store.getJob(job.id)).toEqual(job);
      expect(await store.getJob('missing')).toBeUndefined();
    });

    it('refuses a second job with the same id', async () => {
      const { store } = await open();
      const job = makeJob();
      await store.createJob(job);
      await expect(store.createJob({ ...job, state: 'running' })).rejects.toThrow();
      expect((await store.getJob(job.id))?.state).toBe('queued');
    });

    it('updates with compare-and-set on version', async () => {
      const { store } = await open();
      const job = makeJob({ version: 1 });
      await store.createJob(job);

      const running = await store.updateJob({ ...job, state: 'running', startedAt: 5 });
      expect(running).toMatchObject({ state: 'running', startedAt: 5, version: 2 });
      expect(await store.getJob(job.id)).toEqual(running);

      // A second writer still holding version 1 loses, and its change is not written.
      expect(await store.updateJob({ ...job, state: 'canceled' })).toBeUndefined();
      expect((await store.getJob(job.id))?.state).toBe('running');

      const done = await store.updateJob({ ...running!, state: 'succeeded' });
      expect(done?.version).toBe(3);
      expect(await store.updateJob(makeJob({ id: 'never-created' }))).toBeUndefined();
    });

    it('lets exactly one of many concurrent writers of the same version win', async () => {
      const { store, more } = await open();
      const other = more();
      const job = makeJob();
      await store.createJob(job);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? store : other).updateJob({ ...job, notes: [`writer ${i}`] })),
      );
      const winners = results.filter((r) => r !== undefined);
      expect(winners).toHaveLength(1);
      expect(await store.getJob(job.id)).toEqual(winners[0]);
    });

    it('keeps the state index in step and refuses to move a job to another owner or channel', async () => {
      const { store } = await open();
      const job = makeJob();
      await store.createJob(job);
      const running = (await store.updateJob({ ...job, state: 'running' }))!;
      expect(await store.listJobs({ states: ['queued'] })).toEqual([]);
      expect((await store.listJobs({ states: ['running'], channelId: 'c1' })).map((j) => j.id)).toEqual([job.id]);

      const moves: Partial<Job>[] = [
        { where: { ...job.where, channelId: 'c9' } },
        { owner: { ...job.owner, userId: 'u9' } },
        { owner: { ...job.owner, platform: 'slack' } },
        { createdAt: job.createdAt + 1 },
        { parentId: 'p9' },
      ];
      for (const move of moves) await expect(store.updateJob({ ...running, ...move }), JSON.stringify(move)).rejects.toThrow(ImmutableJobFieldError);
      expect(await store.getJob(job.id)).toEqual(running);
      // A stale writer is a conflict, not an error, whatever else it changed.
      expect(await store.updateJob({ ...job, where: { ...job.where, channelId: 'c9' } })).toBeUndefined();
    });

    it('lists jobs by state, channel, owner and platform, oldest first, with a limit', async () => {
      const { store } = await open();
      const t = 1_700_000_000_000;
      // Inserted out of order: the list must still come back by created_at, ties broken by id.
      const a = makeJob({ id: 'a', createdAt: t + 2 });
      const b = makeJob({ id: 'b', createdAt: t, state: 'running' });
      const c = makeJob({ id: 'c', createdAt: t + 1, where: { platform: 'discord', channelId: 'c2' } });
      const d = makeJob({ id: 'd', createdAt: t + 2, owner: { platform: 'slack', userId: 'u1', displayName: 'S' }, where: { platform: 'slack', channelId: 'c1' } });
      const e = makeJob({ id: 'e', createdAt: t + 3, owner: { platform: 'discord', userId: 'u2', displayName: 'B' }, state: 'succeeded' });
      for (const j of [e, d, c, b, a]) await store.createJob(j);
      const ids = async (f: Parameters<Store['listJobs']>[0]) => (await store.listJobs(f)).map((j) => j.id);

      expect(await ids({})).toEqual(['b', 'c', 'a', 'd', 'e']);
      expect(await ids({ states: ['queued', 'running'] })).toEqual(['b', 'c', 'a', 'd']);
      expect(await ids({ states: [] })).toEqual([]);
      expect(await ids({ channelId: 'c1' })).toEqual(['b', 'a', 'd', 'e']);
      expect(await ids({ ownerId: 'u1', platform: 'discord' })).toEqual(['b', 'c', 'a']);
      expect(await ids({ platform: 'slack' })).toEqual(['d']);
      expect(await ids({ states: ['queued'], channelId: 'c1', limit: 1 })).toEqual(['a']);
      expect(await ids({ limit: 0 })).toEqual([]);
      expect(await ids({ order: 'newest' })).toEqual(['e', 'd', 'a', 'c', 'b']);
      expect(await ids({ ownerId: 'u1', platform: 'discord', order: 'newest', limit: 2 })).toEqual(['a', 'c']);
      await expect(store.listJobs({ limit: -1 })).rejects.toThrow(RangeError);
    });

    it('keeps a usage ledger for quotas that deleting a job does not touch', async () => {
      const { store } = await open();
      const t = 1_700_000_000_000;
      const a = makeJob({ createdAt: t });
      await store.createJob(a);
      await store.recordUsage('discord', 'u1', a.id, t);
      await store.recordUsage('discord', 'u1', 'x1', t - 1);
      await store.recordUsage('discord', 'u1', 'x2', t + 10);
      await store.recordUsage('discord', 'u2', 'x3', t + 10);
      await store.recordUsage('slack', 'u1', 'x4', t + 10);
      await store.deleteJob(a.id);
      expect(await store.countUsageSince('discord', 'u1', t)).toBe(2);
      expect(await store.countUsageSince('discord', 'u1', 0)).toBe(3);
      expect(await store.countUsageSince('slack', 'u1', t)).toBe(1);
      expect(await store.countUsageSince('web', 'u1', 0)).toBe(0);
    });

    it('counts jobs by state across every user and channel, for the global queue cap', async () => {
      const { store } = await open();
      await store.createJob(makeJob());
      await store.createJob(makeJob({ owner: { platform: 'slack', userId: 'u9', displayName: 'S' } }));
      await store.createJob(makeJob({ state: 'running' }));
      await store.createJob(makeJob({ state: 'failed' }));
      expect(await store.countJobs(['queued'])).toBe(2);
      expect(await store.countJobs(['queued', 'running'])).toBe(3);
      expect(await store.countJobs([])).toBe(0);
    });

    it("counts one owner's jobs by state, for their queue limit: same user id on another platform is someone else", async () => {
      const { store } = await open();
      const alice = { platform: 'discord' as const, userId: 'alice', displayName: 'A' };
      await store.createJob(makeJob({ owner: alice }));
      await store.createJob(makeJob({ owner: alice }));
      await store.createJob(makeJob({ owner: alice, state: 'running' }));
      await store.createJob(makeJob({ owner: { ...alice, platform: 'slack' as const } }));
      await store.createJob(makeJob({ owner: { ...alice, userId: 'bob' } }));
      expect(await store.countJobs(['queued'], { platform: 'discord', ownerId: 'alice' })).toBe(2);
      expect(await store.countJobs(['queued', 'running'], { platform: 'discord', ownerId: 'alice' })).toBe(3);
      expect(await store.countJobs(['queued'], { platform: 'slack', ownerId: 'alice' })).toBe(1);
      expect(await store.countJobs(['failed'], { platform: 'discord', ownerId: 'alice' })).toBe(0);
    });

    it('claims a request key once until it expires, across stores sharing the database', async () => {
      const { store, more } = await open();
      const other = more();
      const t = 1_700_000_000_000;
      expect(await store.claimOnce('discord:1', t + 600_000, t)).toBe(true);
      expect(await store.claimOnce('discord:1', t + 600_001, t + 1)).toBe(false);
      expect(await other.claimOnce('discord:1', t + 600_002, t + 2)).toBe(false);
      expect(await other.claimOnce('discord:2', t + 600_000, t)).toBe(true);
      // Once the window has passed the key may be claimed again (and is then live again).
      expect(await other.claimOnce('discord:1', t + 1_300_000, t + 600_000)).toBe(true);
      expect(await store.claimOnce('discord:1', t + 1_300_001, t + 600_001)).toBe(false);
      const many = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? store : other).claimOnce('slack:race', t + 600_000, t)));
      expect(many.filter(Boolean)).toHaveLength(1);
    });

    it('releases a claim early, so any store sharing the database may claim the key again at once; only its own claim', async () => {
      const { store, more } = await open();
      const other = more();
      const t = 1_700_000_000_000;
      expect(await store.claimOnce('press:1', t + 60_000, t)).toBe(true);
      expect(await other.claimOnce('press:1', t + 60_001, t + 1)).toBe(false);
      await store.releaseClaim('press:1', t + 60_000);
      expect(await other.claimOnce('press:1', t + 60_002, t + 2)).toBe(true);
      expect(await store.claimOnce('press:1', t + 60_003, t + 3)).toBe(false);
      // Releasing touches only its own key; releasing a key nobody holds is harmless.
      expect(await store.claimOnce('press:2', t + 60_000, t)).toBe(true);
      await other.releaseClaim('press:1', t + 60_002);
      await other.releaseClaim('press:never', t);
      expect(await store.claimOnce('press:2', t + 60_004, t + 4)).toBe(false);
      expect(await store.claimOnce('press:1', t + 60_004, t + 4)).toBe(true);
      // A holder whose claim expired and was taken over releases nothing of the new holder's.
      expect(await other.claimOnce('press:1', t + 200_000, t + 70_000)).toBe(true);
      await store.releaseClaim('press:1', t + 60_004);
      expect(await store.claimOnce('press:1', t + 200_001, t + 70_001)).toBe(false);
    });

    it('stores images, lists them by job in index order and deletes them', async () => {
      const { store } = await open();
      const job = makeJob();
      const other = makeJob();
      await store.createJob(job);
      await store.createJob(other);
      const grid = makeImage(job.id, { index: 0, kind: 'grid', providerImageId: 'prov-1', nsfw: false });
      const imgs = [3, 1, 2].map((index) => makeImage(job.id, { index }));
      for (const i of [...imgs, grid]) await store.addImage(i);
      await store.addImage(makeImage(other.id));

      expect(await store.getImage(grid.id)).toEqual(grid);
      expect(await store.getImage('missing')).toBeUndefined();
      expect((await store.listImages(job.id)).map((i) => i.index)).toEqual([0, 1, 2, 3]);

      await store.deleteImage(imgs[0]!.id);
      expect((await store.listImages(job.id)).map((i) => i.index)).toEqual([0, 1, 2]);

      const gone = await store.deleteImages(job.id);
      expect(gone.map((i) => i.index)).toEqual([0, 1, 2]);
      expect(gone[0]).toEqual(grid);
      expect(await store.listImages(job.id)).toEqual([]);
      expect(await store.listImages(other.id)).toHaveLength(1);
    });

    it('refuses an image for a job that does not exist', async () => {
      const { store } = await open();
      await expect(store.addImage(makeImage('no-such-job'))).rejects.toThrow();
    });

    it('lists images created before a time, oldest first, up to a limit', async () => {
      const { store } = await open();
      const job = makeJob();
      await store.createJob(job);
      for (const [id, createdAt] of [['x', 30], ['w', 10], ['y', 20], ['z', 40]] as const) await store.addImage(makeImage(job.id, { id, createdAt }));
      expect((await store.listImagesBefore(40, 10)).map((i) => i.id)).toEqual(['w', 'y', 'x']);
      expect((await store.listImagesBefore(40, 2)).map((i) => i.id)).toEqual(['w', 'y']);
      expect(await store.listImagesBefore(10, 10)).toEqual([]);
    });

    it('keeps one message ref per job and platform, replacing it on write', async () => {
      const { store } = await open();
      const job = makeJob();
      await store.createJob(job);
      expect(await store.getMessageRef(job.id, 'discord')).toBeUndefined();
      await store.setMessageRef(job.id, 'discord', { channelId: 'c1', messageId: 'm1' });
      await store.setMessageRef(job.id, 'slack', { ts: '1.2' });
      await store.setMessageRef(job.id, 'discord', { channelId: 'c1', messageId: 'm2', token: { expires: 5 } });
      expect(await store.getMessageRef(job.id, 'discord')).toEqual({ channelId: 'c1', messageId: 'm2', token: { expires: 5 } });
      expect(await store.getMessageRef(job.id, 'slack')).toEqual({ ts: '1.2' });
    });

    it('deletes a job with its images and message refs, leaving others alone', async () => {
      const { store } = await open();
      const job = makeJob();
      const keep = makeJob({ parentId: job.id });
      await store.createJob(job);
      await store.createJob(keep);
      await store.addImage(makeImage(job.id));
      await store.addImage(makeImage(keep.id));
      await store.setMessageRef(job.id, 'discord', { m: 1 });
      await store.setMessageRef(keep.id, 'discord', { m: 2 });

      await store.deleteJob(job.id);
      expect(await store.getJob(job.id)).toBeUndefined();
      expect(await store.listImages(job.id)).toEqual([]);
      expect(await store.getMessageRef(job.id, 'discord')).toBeUndefined();
      expect(await store.getJob(keep.id)).toEqual(keep);
      expect(await store.listImages(keep.id)).toHaveLength(1);
      expect(await store.getMessageRef(keep.id, 'discord')).toEqual({ m: 2 });
      await store.deleteJob('missing');
    });

    it('stores settings per scope and values per key', async () => {
      const { store } = await open();
      const user = { kind: 'user', platform: 'discord', id: 'u1' } as const;
      const channel = { kind: 'channel', platform: 'discord', id: 'u1' } as const;
      expect(await store.getSettings(user)).toBeUndefined();
      await store.setSettings(user, { format: '16:9', private: true });
      await store.setSettings(channel, { bannedWords: ['gore'], dailyQuota: 5 });
      await store.setSettings(user, { provider: 'leonardo' });
      expect(await store.getSettings(user)).toEqual({ provider: 'leonardo' });
      expect(await store.getSettings(channel)).toEqual({ bannedWords: ['gore'], dailyQuota: 5 });

      expect(await store.getValue('allimages.webhook')).toBeUndefined();
      await store.setValue('allimages.webhook', 'sub-1');
      await store.setValue('allimages.webhook', 'sub-2');
      await store.setValue('empty', '');
      expect(await store.getValue('allimages.webhook')).toBe('sub-2');
      expect(await store.getValue('empty')).toBe('');
    });

    it('migrates idempotently: running it again changes nothing and keeps data', async () => {
      const { db, store, more } = await open();
      const job = makeJob();
      await store.createJob(job);
      await store.migrate();
      await more().migrate();
      expect(await db.appliedVersions()).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await store.getJob(job.id)).toEqual(job);
    });

    it('migrates safely when several stores start on the same empty database at once', async () => {
      const db = await freshDatabase();
      const stores = [db.connect(), db.connect(), db.connect()];
      opened.push({ db, stores });
      await Promise.all(stores.map((s) => s.migrate()));
      expect(await db.appliedVersions()).toEqual(MIGRATIONS.map((m) => m.version));
      const job = makeJob();
      await stores[0]!.createJob(job);
      expect(await stores[2]!.getJob(job.id)).toEqual(job);
    });

    it('keeps everything across close and reopen', async () => {
      const db = await freshDatabase();
      const first = db.connect();
      const second = db.connect();
      opened.push({ db, stores: [first, second] });
      await first.migrate();
      const job = makeJob();
      await first.createJob(job);
      const updated = await first.updateJob({ ...job, state: 'running' });
      await first.addImage(makeImage(job.id, { id: 'img' }));
      await first.setMessageRef(job.id, 'web', { id: 1 });
      await first.setValue('k', 'v');
      await first.close();
      await first.close();

      await second.migrate();
      expect(await second.getJob(job.id)).toEqual(updated);
      expect((await second.getImage('img'))?.jobId).toBe(job.id);
      expect(await second.getMessageRef(job.id, 'web')).toEqual({ id: 1 });
      expect(await second.getValue('k')).toBe('v');
    });
  });

  describe(`${name}: BlobStore contract`, () => {
    const dbs: TestDatabase[] = [];
    const stores: Store[] = [];
    afterAll(async () => {
      for (const s of stores) await s.close();
      for (const db of dbs) await db.dispose();
    });

    async function open() {
      const db = await freshDatabase();
      dbs.push(db);
      const store = db.connect();
      stores.push(store);
      await store.migrate();
      return { store, blobs: db.blobs() };
    }

    it('round-trips bytes, overwrites, deletes, and answers undefined for a missing key', async () => {
      const { blobs } = await open();
      const bytes = new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff);
      await blobs.put('jobs/j1/1.png', bytes);
      const got = await blobs.get('jobs/j1/1.png');
      // A digest, not toEqual: comparing 300 000 elements one by one is needlessly slow.
      expect(got && sha256(got)).toBe(sha256(bytes));
      await blobs.put('jobs/j1/1.png', new Uint8Array([1, 2, 3]));
      expect(await blobs.get('jobs/j1/1.png')).toEqual(new Uint8Array([1, 2, 3]));
      await blobs.put('empty.bin', new Uint8Array(0));
      expect(await blobs.get('empty.bin')).toEqual(new Uint8Array(0));
      await blobs.delete('jobs/j1/1.png');
      expect(await blobs.get('jobs/j1/1.png')).toBeUndefined();
      await blobs.delete('jobs/j1/1.png');
      expect(await blobs.get('never')).toBeUndefined();
    });

    it('stores a view of a larger buffer as just the view', async () => {
      const { blobs } = await open();
      const big = new Uint8Array([9, 9, 1, 2, 3, 9]);
      await blobs.put('view', big.subarray(2, 5));
      expect(await blobs.get('view')).toEqual(new Uint8Array([1, 2, 3]));
    });

    it('refuses keys that could escape the store, on put, get and delete', async () => {
      const { blobs } = await open();
      const bad = ['../escape', 'a/../../b', '/etc/passwd', '..', '.', 'a//b', 'a/', '.hidden', 'a\\b', 'C:\\x', 'nul\0byte', 'sp ace', '', 'x'.repeat(513)];
      for (const key of bad) {
        await expect(blobs.put(key, new Uint8Array([1])), key).rejects.toThrow(InvalidBlobKeyError);
        await expect(blobs.get(key), key).rejects.toThrow(InvalidBlobKeyError);
        await expect(blobs.delete(key), key).rejects.toThrow(InvalidBlobKeyError);
      }
      await blobs.put('a-b_c.d/E9.webp', new Uint8Array([1]));
      expect(await blobs.get('a-b_c.d/E9.webp')).toEqual(new Uint8Array([1]));
    });

    it('deletes a folder of blobs whole, and nothing whose key only looks alike', async () => {
      const { blobs } = await open();
      const inside = ['jobs/a_b/1.png', 'jobs/a_b/grid.png', 'jobs/a_b/preview-1.png', 'jobs/a_b/deeper/x.png'];
      const beside = ['jobs/a_b.png', 'jobs/a_bc/1.png', 'jobs/aXb/1.png', 'jobs/a-b/1.png'];
      for (const key of [...inside, ...beside]) await blobs.put(key, new Uint8Array([1]));
      await blobs.deleteFolder('jobs/a_b');
      for (const key of inside) expect(await blobs.get(key), key).toBeUndefined();
      for (const key of beside) expect(await blobs.get(key), key).toEqual(new Uint8Array([1]));
      await blobs.deleteFolder('jobs/a_b');
      await expect(blobs.deleteFolder('../x')).rejects.toThrow(InvalidBlobKeyError);
    });

    it('prunes images older than the retention, bytes and rows, and nothing newer', async () => {
      const { store, blobs } = await open();
      const day = 86_400_000;
      const now = 1_800_000_000_000;
      const job = makeJob();
      await store.createJob(job);
      const old = [1, 2, 3].map((index) => makeImage(job.id, { index, createdAt: now - 31 * day }));
      const fresh = makeImage(job.id, { index: 4, createdAt: now - 29 * day });
      for (const i of [...old, fresh]) {
        await store.addImage(i);
        await blobs.put(i.blobKey, new Uint8Array([i.index]));
      }
      expect(await pruneImages({ store, blobs, olderThanDays: 0, now })).toBe(0);
      expect(await pruneImages({ store, blobs, olderThanDays: 30, now })).toBe(3);
      for (const i of old) {
        expect(await blobs.get(i.blobKey)).toBeUndefined();
        expect(await store.getImage(i.id)).toBeUndefined();
      }
      expect(await blobs.get(fresh.blobKey)).toEqual(new Uint8Array([4]));
      expect((await store.listImages(job.id)).map((i) => i.id)).toEqual([fresh.id]);
      expect(await pruneImages({ store, blobs, olderThanDays: 30, now })).toBe(0);
    });

    it('forgets ended jobs older than the retention with all their files; running and newer jobs stay', async () => {
      const { store, blobs } = await open();
      const day = 86_400_000;
      const now = 1_800_000_000_000;
      const old = makeJob({ state: 'succeeded', createdAt: now - 3 * day });
      const oldRunning = makeJob({ state: 'running', createdAt: now - 3 * day });
      const fresh = makeJob({ state: 'failed', createdAt: now - day / 2 });
      for (const j of [old, oldRunning, fresh]) {
        await store.createJob(j);
        await blobs.put(`jobs/${j.id}/preview-1.png`, new Uint8Array([1]));
      }
      const img = makeImage(old.id, { blobKey: `jobs/${old.id}/1.png` });
      await store.addImage(img);
      await blobs.put(img.blobKey, new Uint8Array([2]));
      expect(await pruneExpiredJobs({ store, blobs, olderThanDays: 0, now })).toBe(0);
      expect(await pruneExpiredJobs({ store, blobs, olderThanDays: 1, now })).toBe(1);
      expect(await store.getJob(old.id)).toBeUndefined();
      expect(await store.listImages(old.id)).toEqual([]);
      expect(await blobs.get(img.blobKey)).toBeUndefined();
      expect(await blobs.get(`jobs/${old.id}/preview-1.png`)).toBeUndefined();
      for (const j of [oldRunning, fresh]) {
        expect(await store.getJob(j.id)).toBeDefined();
        expect(await blobs.get(`jobs/${j.id}/preview-1.png`)).toEqual(new Uint8Array([1]));
      }
    });

    it('prunes in batches when there are many old images', async () => {
      const { store, blobs } = await open();
      const job = makeJob();
      await store.createJob(job);
      for (let index = 0; index < 250; index++) await store.addImage(makeImage(job.id, { index, createdAt: 1 }));
      expect(await pruneImages({ store, blobs, olderThanDays: 1, now: 2 * 86_400_000 })).toBe(250);
      expect(await store.listImages(job.id)).toEqual([]);
    });

    it('deletes a job together with the bytes of its images', async () => {
      const { store, blobs } = await open();
      const job = makeJob();
      await store.createJob(job);
      const img = makeImage(job.id);
      await store.addImage(img);
      await blobs.put(img.blobKey, new Uint8Array([7]));
      expect(await deleteJobWithImages({ store, blobs, jobId: job.id })).toBe(1);
      expect(await blobs.get(img.blobKey)).toBeUndefined();
      expect(await store.getJob(job.id)).toBeUndefined();
    });
  });
}
