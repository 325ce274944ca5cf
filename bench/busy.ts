import { loadConfig } from '../src/config.ts';
import { benchProvider } from './bench-provider.ts';
import { wallNow } from './child.ts';
import { photoLikes, photoPaths } from './photos.ts';
import { discordRig } from './rig.ts';
import { fmt, percentile } from './stats.ts';

/**
 * A busy channel: 40 /imagine from ten people in one channel, against a provider that takes `delayMs`
 * per job and runs `concurrency` at once (Leonardo documents 10). First, the provider alone: 40 jobs
 * straight at it. Then the same through Atelier with its default limits (per user, per channel, global),
 * from the first /imagine to the last result in the channel. Four 512² WebPs a job, so the grids' CPU
 * does not hide the scheduling.
 */
export async function benchBusy(jobs = 40, people = 10, delayMs = Number(process.env.BENCH_BUSY_DELAY_MS ?? 4_000), concurrency = 10): Promise<Record<string, number>> {
  await photoLikes('webp', 4, 512);
  const files = photoPaths('webp', 4, 512);
  const provider = await benchProvider({ files, delayMs, concurrency });
  const ctx = () => ({ jobId: 'x', signal: new AbortController().signal, progress: () => {}, recordIntent: async () => {}, recordSubmitted: async () => {}, allowNsfw: false });
  const p0 = performance.now();
  await Promise.all(Array.from({ length: jobs }, (_, i) => provider.generate({ prompt: `alone-${i}`, mode: 'simple' } as never, ctx())));
  const providerMs = performance.now() - p0;

  // BENCH_BUSY_ENV (JSON) tries other limits, e.g. {"MAX_CONCURRENT_JOBS":"24"}.
  const env = JSON.parse(process.env.BENCH_BUSY_ENV ?? '{}') as Record<string, string>;
  const rig = await discordRig({ files, delayMs, concurrency }, env);
  try {
    await rig.job(0, 0);
    const cpu0 = (await rig.atelier.call<{ cpuMs: number }>('stats')).cpuMs;
    const t0 = wallNow();
    await Promise.all(Array.from({ length: jobs }, (_, i) => rig.post(i + 1, i % people)));
    const landed = await Promise.all(Array.from({ length: jobs }, (_, i) => rig.wait(i + 1, 300_000)));
    const last = Math.max(...landed.map((l) => l.at)) - t0;
    const after = await rig.atelier.call<{ cpuMs: number; providerDone: Record<string, number> }>('stats');
    const done = after.providerDone;
    const lag = landed.map((l, i) => l.at - done[String(i + 1)]!);
    const lastDone = Math.max(...Array.from({ length: jobs }, (_, i) => done[String(i + 1)]!)) - t0;
    const ratio = last / providerMs;
    const c = loadConfig(env);
    console.log(
      `busy channel: ${jobs} jobs from ${people} people in one channel, provider ${delayMs / 1000} s/job at concurrency ${concurrency}: provider alone ${fmt(providerMs / 1000)} s; ` +
        `Atelier (defaults: global ${c.MAX_CONCURRENT_JOBS}, per channel ${c.MAX_CONCURRENT_PER_CHANNEL}, per user ${c.MAX_CONCURRENT_PER_USER}) last result ${fmt(last / 1000)} s after the first /imagine = ${fmt(ratio)}× (target ≤ 1.2×), ${fmt(jobs / (last / 1000))} jobs/s; the provider's last job done at ${fmt(lastDone / 1000)} s; done → channel p50 ${fmt(percentile(lag, 50), 0)} ms, max ${fmt(Math.max(...lag), 0)} ms; Atelier CPU ${fmt((after.cpuMs - cpu0) / jobs, 0)} ms/job`,
    );
    return { providerMs, lastMs: last, ratio };
  } finally {
    await rig.stop();
  }
}
