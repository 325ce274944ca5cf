/**
 * Atelier in its own process for the benches: the real app (HTTP server, Discord HTTP interactions,
 * SQLite store, in-process queue) with the bench provider. BENCH_ENV: the app's environment as JSON;
 * BENCH_PROVIDER: the provider's options as JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { benchProvider, providerDone, type BenchProviderOptions } from '../bench-provider.ts';
import { serveParent, usage } from '../child.ts';

// The GC is exposed without a Node flag (the child's flags stay those of production): with --expose-gc
// set at run time, a new context is given a `gc` function.
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

const env = JSON.parse(process.env.BENCH_ENV ?? '{}') as Record<string, string>;
const providerOptions = JSON.parse(process.env.BENCH_PROVIDER ?? '{}') as BenchProviderOptions;
const dir = mkdtempSync(join(tmpdir(), 'atelier-bench-app-'));
const config = loadConfig({ PORT: '0', PLAYGROUND: 'off', LOG_LEVEL: 'error', DATA_DIR: dir, MAX_QUEUED_PER_USER: '1000', ...env });
const app = await createApp(config, { providers: [await benchProvider(providerOptions)] });
await app.start({ listen: true, platforms: true });
const exit = async () => {
  await app.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', () => void exit());

serveParent(
  { url: app.server.url },
  {
    stats: () => ({ ...usage(), providerDone: Object.fromEntries(providerDone) }),
    /** CPU this process spends over `ms` while nothing is asked of it. */
    idle: async (ms: number) => {
      const before = usage().cpuMs;
      await new Promise((r) => setTimeout(r, ms));
      return { cpuMs: usage().cpuMs - before, resources: process.getActiveResourcesInfo() };
    },
    /** A full GC first, so what is left is what is still referenced (the leak bench). */
    gc: () => {
      fullGc();
      const m = process.memoryUsage();
      return { ...usage(), heapMb: m.heapUsed / 2 ** 20, externalMb: m.external / 2 ** 20 };
    },
    /** Writes a heap snapshot (to find what holds memory); answers with its path. */
    snap: (file?: string) => writeHeapSnapshot(file),
    stop: exit,
  },
);
