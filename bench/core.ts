import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobEvents } from '../src/core/events.ts';
import { isFinal } from '../src/core/job.ts';
import { silentLogger } from '../src/core/ports.ts';
import { ProviderRegistry } from '../src/core/registry.ts';
import { runJob } from '../src/core/runner.ts';
import { createAtelier } from '../src/core/service.ts';
import { createImageTools } from '../src/images/index.ts';
import { createLocalProvider } from '../src/providers/local/index.ts';
import { createInProcessQueue } from '../src/queue/in-process.ts';
import { createFolderBlobStore, createSqliteStore } from '../src/store/index.ts';
import { fmt, percentile } from './stats.ts';
import { imagine } from '../commands/imagine.ts';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { benchProvider } from './bench-provider.ts';

/**
 * Jobs/s and CPU ms per job through the whole core: submit (validation, moderation, persistence),
 * the fair queue, the local renderer (four 512² images, distinct seeds, no cache) and the grid.
 */
export async function benchCore(jobs = 40): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-bench-'));
  const store = createSqliteStore(join(dir, 'atelier.db'));
  await store.migrate();
  const blobs = createFolderBlobStore(join(dir, 'images'));
  const images = createImageTools();
  const providers = new ProviderRegistry().register(createLocalProvider({ longSide: 512 }));
  const events = new JobEvents();
  const atelier = createAtelier({ store, blobs, images, providers, events, defaultProvider: 'local', limits: { maxQueuedPerUser: 10_000, maxQueuedTotal: 1_000_000, dailyQuotaPerUser: 0 } });
  const deps = { store, blobs, images, providers, events, logger: silentLogger, settingsFor: () => Promise.resolve({}), jobTimeoutMs: 600_000 };
  const queue = createInProcessQueue({ store, events, run: (id, signal, hooks) => runJob(deps, id, signal, hooks), limits: { global: 2, perUser: 2, perChannel: 2 } });
  atelier.attachQueue(queue);
  await queue.start();

  let finished = 0;
  const allDone = new Promise<void>((resolve) => events.subscribe((e) => isFinal(e.job.state) && ++finished === jobs && resolve()));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const submit: number[] = [];
  for (let i = 0; i < jobs; i++) {
    const s = performance.now();
    await atelier.imagine({ prompt: `bench ${i} a harbour at dusk --seed ${1000 + i}`, count: 4, format: '1:1' }, { platform: 'cli', userId: `u${i % 4}`, displayName: 'bench' }, { platform: 'cli', channelId: 'bench' });
    submit.push(performance.now() - s);
  }
  await allDone;
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await queue.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const out = {
    jobs,
    jobsPerSecond: jobs / wall,
    cpuMsPerJob: (cpu.user + cpu.system) / 1000 / jobs,
    submitP50Ms: percentile(submit, 50),
    submitP99Ms: percentile(submit, 99),
  };
  console.log(`core+local+grid: ${jobs} jobs of four 512² images in ${fmt(wall)} s = ${fmt(out.jobsPerSecond)} jobs/s; CPU ${fmt(out.cpuMsPerJob, 1)} ms/job (main thread + libvips); submit latency p50 ${fmt(out.submitP50Ms)} ms, p99 ${fmt(out.submitP99Ms)} ms`);
  return { ...out, submitCpuMs: await benchSubmit() };
}

/**
 * The core's share of the work behind each /imagine answer: the command's run (validation, settings,
 * limits, the job row, the usage ledger, the queue) for `n` jobs from 100 people in one channel, with a
 * provider that never finishes so the queue grows as in the ack burst. CPU time, so a busy machine
 * inflates it less than wall time.
 */
export async function benchSubmit(n = 1000): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-bench-submit-'));
  const config = loadConfig({ PORT: '0', PLAYGROUND: 'off', LOG_LEVEL: 'error', DATA_DIR: dir, MAX_QUEUED_PER_USER: '1000', MAX_QUEUED_TOTAL: '100000', DEFAULT_PROVIDER: 'bench' });
  const app = await createApp(config, { providers: [await benchProvider({ files: [], delayMs: -1 })] });
  await app.start({ listen: false, platforms: false });
  const where = { platform: 'discord' as const, serverId: '300000000000000001', channelId: '400000000000000001', nsfw: false };
  const run = async (i: number) => {
    const actor = { platform: 'discord' as const, userId: String(100000000000000000n + BigInt(i % 100)), displayName: `member${i % 100}`, roles: [], canManage: false, canManageChannel: false, canManageServer: false };
    await imagine.run(imagine.options.parse({ prompt: `bench-${i} lighthouse`, provider: 'bench', count: 4 }) as never, { atelier: app.atelier, actor, where });
  };
  for (let i = 0; i < 50; i++) await run(100_000 + i);
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await run(i);
  const c = process.cpuUsage(c0);
  const ms = (c.user + c.system) / 1000 / n;
  await app.stop();
  rmSync(dir, { recursive: true, force: true });
  console.log(`core submit: ${n} /imagine (100 people, one channel, none finishing) through the command's run: ${fmt(ms, 3)} ms CPU each`);
  return ms;
}
