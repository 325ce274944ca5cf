import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createStoreFromConfig } from '../../src/store/index.ts';

export interface SpawnedApp {
  proc: ChildProcess;
  /** The app's HTTP base URL, as it printed it. */
  url: string;
  /** The last few KiB the app wrote to stderr, for failure messages. */
  stderr(): string;
}

/** Starts `app-process.ts` with `env` and resolves once it prints READY with its URL. */
export async function spawnApp(env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<SpawnedApp> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'app-process.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`app did not start within ${timeoutMs / 1000} s: ${stderr}`)), timeoutMs);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`app exited with ${code}: ${stderr}`));
    });
  });
  return { proc, url, stderr: () => stderr };
}

/** Kills the app the hard way and waits until it is gone. */
export async function sigkill(proc: ChildProcess): Promise<void> {
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await exited;
}

/** How many jobs the app's SQLite store in `dataDir` holds, read from outside the app. */
export async function countJobs(dataDir: string): Promise<number> {
  const { store } = await createStoreFromConfig({ DATA_DIR: dataDir, DATABASE_URL: undefined });
  try {
    return (await store.listJobs({})).length;
  } finally {
    await store.close();
  }
}
