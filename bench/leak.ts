import { photoLikes, photoPaths } from './photos.ts';
import { discordRig } from './rig.ts';
import { fmt } from './stats.ts';

interface Sample {
  jobs: number;
  rssMb: number;
  heapMb: number;
  externalMb: number;
}

/**
 * Leaks, measured where they show: Atelier's JS heap after a full GC (and RSS beside it), sampled every
 * BENCH_LEAK_STEP (1,000) jobs over BENCH_LEAK_JOBS (20,000, the issue's soak) jobs with an instant provider (four 128² WebPs),
 * 32 at a time from 100 people, through Discord HTTP interactions to the fake Discord. The first fifth of
 * the samples is warm-up (modules, pools, compiled code) and is left out of the trend. RSS alone cannot
 * show a leak of a few hundred bytes a job under libvips' and malloc's noise; a heap that keeps what each
 * job left behind grows in a straight line. Printed: the least-squares slope per 1,000 jobs with its noise band (two
 * standard errors of the slope); flat means the slope is within that band or under 0.1 MiB per 1,000 jobs.
 */
export async function benchLeak(total = Number(process.env.BENCH_LEAK_JOBS ?? 20_000), step = Number(process.env.BENCH_LEAK_STEP ?? 1_000)): Promise<Record<string, number>> {
  await photoLikes('webp', 4, 128);
  const rig = await discordRig({ files: photoPaths('webp', 4, 128), delayMs: 0 });
  const samples: Sample[] = [];
  const t0 = performance.now();
  try {
    let next = 1;
    for (let upTo = step; upTo <= total; upTo += step) {
      const worker = async () => {
        while (next <= upTo) {
          const n = next++;
          await rig.job(n, n % 100);
        }
      };
      await Promise.all(Array.from({ length: 32 }, worker));
      const u = await rig.atelier.call<Omit<Sample, 'jobs'>>('gc');
      samples.push({ jobs: upTo, rssMb: u.rssMb, heapMb: u.heapMb, externalMb: u.externalMb });
    }
  } finally {
    await rig.stop();
  }
  // Warm-up fills during the first fifth: compiled code (about 0.1 MiB per 1,000 jobs for the first few
  // thousand, in heap snapshot diffs), the last minute's REST queues, the metrics' 10,000 recent job ids.
  const warm = Math.max(1, Math.floor(samples.length / 5));
  const settled = samples.slice(warm);
  const heap = trend(settled.map((s) => [s.jobs / 1000, s.heapMb]));
  const rss = trend(settled.map((s) => [s.jobs / 1000, s.rssMb]));
  const flat = (t: Trend) => Math.abs(t.slope) <= Math.max(t.band, 0.1);
  console.log(`leak, ${total} jobs (instant provider, 32 at a time, ${fmt((performance.now() - t0) / 1000, 0)} s), after a full GC every ${step}: heap ${samples.map((s) => fmt(s.heapMb, 1)).join(', ')} MiB; RSS ${samples.map((s) => fmt(s.rssMb, 0)).join(', ')} MiB`);
  console.log(
    `leak: heap trend ${fmt(heap.slope, 3)} ± ${fmt(heap.band, 3)} MiB per 1,000 jobs (${flat(heap) ? 'flat' : heap.slope > 0 ? 'GROWING' : 'not flat'}); RSS trend ${fmt(rss.slope, 2)} ± ${fmt(rss.band, 2)} MiB per 1,000 jobs (${flat(rss) ? 'flat' : rss.slope > 0 ? 'growing' : 'not flat'}); first ${warm} sample(s) (warm-up) left out`,
  );
  return { heapSlopeMbPer1k: heap.slope, heapBandMbPer1k: heap.band, rssSlopeMbPer1k: rss.slope, rssBandMbPer1k: rss.band };
}

interface Trend {
  slope: number;
  /** Two standard errors of the slope: how far it moves with the samples' own scatter. */
  band: number;
}

/** Least-squares line through (x, y) points. */
export function trend(points: readonly (readonly [number, number])[]): Trend {
  const n = points.length;
  if (n < 3) return { slope: 0, band: Infinity };
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const slope = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx;
  const residual = points.reduce((s, [x, y]) => s + (y - my - slope * (x - mx)) ** 2, 0) / (n - 2);
  return { slope, band: 2 * Math.sqrt(residual / sxx) };
}
