import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import type { ImageProvider, ProviderImage } from '../src/core/provider.ts';
import { LOCAL_CAPABILITIES } from '../src/providers/local/index.ts';
import { Semaphore } from '../src/providers/limiter.ts';
import { sleep } from '../src/providers/timing.ts';
import { wallNow } from './child.ts';

export interface BenchProviderOptions {
  /** Files the provider "returns" for every job (read once; no CPU per job, as if downloaded). */
  files: string[];
  /** How long a job takes at the provider; a negative value means until canceled. */
  delayMs: number;
  /** The provider's own concurrency (like Leonardo's 10 concurrent jobs). */
  concurrency?: number;
}

/** Where each job's provider finished, by the `bench-N` in its prompt: the start of "done to channel". */
export const providerDone = new Map<number, number>();

/** A provider that costs no CPU: it waits, then hands back the same pictures (fresh copies, as a download would be). */
export async function benchProvider(o: BenchProviderOptions): Promise<ImageProvider> {
  const raw = o.files.map((f) => readFileSync(f));
  const metas = await Promise.all(raw.map((b) => sharp(b).metadata()));
  const slots = o.concurrency ? new Semaphore(o.concurrency) : undefined;
  return {
    id: 'bench',
    displayName: 'Bench',
    ...(o.concurrency ? { concurrency: o.concurrency } : {}),
    capabilities: { ...LOCAL_CAPABILITIES, previews: false, progressPercent: false },
    async generate(req, ctx) {
      const release = await slots?.acquire(ctx.signal);
      try {
        if (o.delayMs < 0) await new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('canceled')), { once: true }));
        else if (o.delayMs > 0) await sleep(o.delayMs, ctx.signal);
      } finally {
        release?.();
      }
      const images: ProviderImage[] = raw.map((b, i) => ({ bytes: Buffer.from(b), mime: `image/${metas[i]!.format}`, width: metas[i]!.width!, height: metas[i]!.height! }));
      const n = /bench-(\d+)\b/.exec(req.prompt)?.[1];
      if (n !== undefined) providerDone.set(Number(n), wallNow());
      return { images, seed: 1 };
    },
  };
}
