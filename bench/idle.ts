import { photoLikes, photoPaths } from './photos.ts';
import { discordRig } from './rig.ts';
import { fmt } from './stats.ts';

/**
 * CPU per second while nothing happens: Atelier (Discord HTTP mode, SQLite, in-process queue) and the
 * minimal peer, each after three finished jobs, over the same quiet window.
 */
export async function benchIdle(seconds = Number(process.env.BENCH_IDLE_SECONDS ?? 10)): Promise<Record<string, number>> {
  await photoLikes('webp', 4, 512);
  const out: Record<string, number> = {};
  const resources: Record<string, string> = {};
  for (const bot of ['peer', 'atelier'] as const) {
    const rig = await discordRig({ files: photoPaths('webp', 4, 512), delayMs: 0 }, {}, bot);
    try {
      for (let n = 1; n <= 3; n++) await rig.job(n, n);
      // Let the last job's after-work (V8's concurrent GC, sockets closing) settle first.
      await new Promise((r) => setTimeout(r, Number(process.env.BENCH_IDLE_SETTLE_MS ?? 5_000)));
      const r = await rig.atelier.call<{ cpuMs: number; resources: string[] }>('idle', seconds * 1000, seconds * 1000 + 10_000);
      out[bot] = r.cpuMs / seconds;
      // What keeps the loop alive while idle (the bench's own IPC pipe and the waiting timer included).
      const counts = new Map<string, number>();
      for (const k of r.resources) counts.set(k, (counts.get(k) ?? 0) + 1);
      resources[bot] = [...counts].map(([k, v]) => `${k}×${v}`).join(' ');
    } finally {
      await rig.stop();
    }
  }
  console.log(`idle: Atelier ${fmt(out.atelier!)} ms CPU per second (target ≤ 1 ms/s), peer ${fmt(out.peer!)} ms/s, over ${seconds} s after three jobs; live handles: Atelier ${resources.atelier}, peer ${resources.peer}`);
  return out;
}
