import { photoLikes, photoPaths } from './photos.ts';
import { discordRig } from './rig.ts';
import { fmt } from './stats.ts';

interface Usage {
  rssMb: number;
  peakRssMb: number;
}

/**
 * Memory, each bot in its own process:
 * - peak RSS over the same run of 50 jobs (four 1024² WebPs, ~250 KB each, 1 s at the provider, posted at
 *   5/s by ten people): the minimal peer vs Atelier;
 * - RSS with 1,000 jobs in flight (a provider that never finishes);
 * - RSS over a soak of BENCH_SOAK_JOBS (default 20,000) jobs with an instant provider (four 128² WebPs),
 *   sampled at every tenth: flat means no growth beyond noise.
 * BENCH_MEMORY_PARTS picks some of peer,inflight,soak.
 */
export async function benchMemory(parts = (process.env.BENCH_MEMORY_PARTS ?? 'peer,inflight,soak').split(',')): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (parts.includes('peer')) await peerVsAtelier(out);
  if (parts.includes('inflight')) await inFlight(out);
  if (parts.includes('soak')) await soak(out);
  return out;
}

async function peerVsAtelier(out: Record<string, number>): Promise<void> {
  await photoLikes('webp');
  const peak: Record<string, number> = {};
  /** RSS once the 50 jobs are delivered: what the process keeps (fragmentation shows here). */
  const after: Record<string, number> = {};
  for (const bot of ['peer', 'atelier'] as const) {
    const rig = await discordRig({ files: photoPaths('webp'), delayMs: 1_000 }, {}, bot);
    try {
      await rig.job(0, 0);
      const posts: Promise<void>[] = [];
      for (let n = 1; n <= 50; n++) {
        posts.push(rig.post(n, n % 10));
        await new Promise((r) => setTimeout(r, 200));
      }
      await Promise.all(posts);
      for (let n = 1; n <= 50; n++) await rig.wait(n, 300_000);
      const u = await rig.atelier.call<Usage>('stats');
      peak[bot] = u.peakRssMb;
      after[bot] = u.rssMb;
    } finally {
      await rig.stop();
    }
  }
  out.peakRatio = peak.atelier! / peak.peer!;
  console.log(
    `memory, 50 jobs of four 1024² WebPs: peak RSS Atelier ${fmt(peak.atelier!, 0)} MiB, peer ${fmt(peak.peer!, 0)} MiB = ${fmt(out.peakRatio)}× (target ≤ 1.5×); ` +
      `RSS after the run Atelier ${fmt(after.atelier!, 0)} MiB, peer ${fmt(after.peer!, 0)} MiB`,
  );
}

async function inFlight(out: Record<string, number>): Promise<void> {
  {
    await photoLikes('png');
    const rig = await discordRig({ files: photoPaths('png'), delayMs: -1 });
    try {
      const n = 1000;
      let refused = 0;
      const t0 = performance.now();
      for (let i = 0; i < n; i += 5) await Promise.all(Array.from({ length: 5 }, (_, k) => rig.post(i + k + 1, (i + k) % 100).catch(() => void refused++)));
      const postS = (performance.now() - t0) / 1000;
      await new Promise((r) => setTimeout(r, 3_000));
      const u = await rig.atelier.call<Usage>('stats');
      out.inFlightRssMb = u.rssMb;
      console.log(`memory, ${n} jobs in flight: RSS ${fmt(u.rssMb, 0)} MiB, peak ${fmt(u.peakRssMb, 0)} MiB (target < 300 MB); posting them took ${fmt(postS, 0)} s, ${refused} not acknowledged within the fake's 10 s`);
    } finally {
      await rig.stop();
    }
  }
}

async function soak(out: Record<string, number>): Promise<void> {
  {
    const total = Number(process.env.BENCH_SOAK_JOBS ?? 20_000);
    await photoLikes('webp', 4, 128);
    const rig = await discordRig({ files: photoPaths('webp', 4, 128), delayMs: 0 });
    try {
      const samples: number[] = [];
      const window = 32;
      let next = 1;
      const t0 = performance.now();
      const worker = async () => {
        while (next <= total) {
          const n = next++;
          await rig.job(n, n % 100);
          if (n % Math.max(1, Math.floor(total / 10)) === 0) samples.push((await rig.atelier.call<Usage>('stats')).rssMb);
        }
      };
      await Promise.all(Array.from({ length: window }, worker));
      const u = await rig.atelier.call<Usage>('stats');
      // The first tenth includes warming up (modules, pools, caches); growth is judged after it.
      const settled = samples.slice(1);
      const first = settled[0] ?? u.rssMb;
      const last = settled.at(-1) ?? u.rssMb;
      out.soakGrowth = last / first;
      out.soakSlopeMbPer10k = (slope(settled) * 10_000) / Math.max(1, Math.floor(total / 10));
      console.log(
        `memory soak, ${total} jobs (instant provider, ${window} at a time, ${fmt((performance.now() - t0) / 1000, 0)} s): RSS at each tenth ${samples.map((s) => fmt(s, 0)).join(', ')} MiB; ` +
          `after the first tenth: last/second tenth ${fmt(out.soakGrowth)}×, trend ${fmt(out.soakSlopeMbPer10k, 1)} MiB per 10,000 jobs (flat: within noise of 0); peak ${fmt(u.peakRssMb, 0)} MiB`,
      );
    } finally {
      await rig.stop();
    }
  }
}

/** Least-squares slope of equally spaced samples, per sample. */
function slope(ys: readonly number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}
