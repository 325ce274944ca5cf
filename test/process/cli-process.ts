import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

/** A real `atelier <command>` process, its output kept for the test to wait on. */
export interface CliProcess {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `re` in stdout + stderr, or rejects when the process exits first. */
  waitFor(re: RegExp, what?: string): Promise<RegExpExecArray>;
  /** The exit code (or the signal's name); resolves at once if it already exited. */
  exited: Promise<number | string>;
  /** Sends SIGKILL if still running and waits for the exit. */
  kill(): Promise<void>;
}

/**
 * Spawns `node --import tsx src/cli.ts ...args` with exactly `env` (plus PATH), from the repository
 * root. The environment is not inherited: a setting left in the test's own env must not change the process.
 */
export function spawnCli(args: string[], env: Record<string, string>): CliProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli.ts'), ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    notify();
  });
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    notify();
  });
  let done = false;
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (code, signal) => {
      done = true;
      notify();
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(re, what = String(re)) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out + err);
          if (m) {
            listeners.delete(check);
            resolve(m);
          } else if (done) {
            listeners.delete(check);
            reject(new Error(`process exited before ${what}:\n${out}\n${err.slice(-3000)}`));
          }
        };
        listeners.add(check);
        check();
      });
    },
    async kill() {
      if (!done) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** Waits for the process to exit; kills it and fails when it has not within `ms` (a deadline, not a measurement). */
export async function exitWithin(p: CliProcess, ms: number, after: string): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms)));
  const code = await Promise.race([p.exited, late]);
  clearTimeout(timer);
  if (code === 'late') {
    await p.kill();
    throw new Error(`still running ${ms / 1000} s after ${after}; killed.\n${p.stdout()}\n${p.stderr().slice(-3000)}`);
  }
  return code;
}

/** A port nothing listens on right now (bound to 0, then released). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:port right now. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.connect(port, '127.0.0.1');
  });
}
