import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A bench process on the other end of an IPC channel: `call` sends a command and waits for its answer. */
export interface Child {
  proc: ChildProcess;
  /** What the child sent when it was ready (its URL, keys...). */
  ready: Record<string, unknown>;
  call<T = Record<string, unknown>>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Unsolicited messages (e.g. a result landed). */
  on(type: string, fn: (msg: Record<string, unknown>) => void): void;
  stop(): Promise<void>;
}

/** Starts `bench/children/<name>.ts` in its own Node process (so its CPU and RSS are its own), bounded in time. */
export async function spawnChild(name: string, env: Record<string, string> = {}, startTimeoutMs = 60_000): Promise<Child> {
  const file = fileURLToPath(new URL(`./children/${name}.ts`, import.meta.url));
  // BENCH_NODE_ARGS_<NAME> (e.g. BENCH_NODE_ARGS_ATELIER="--cpu-prof") adds Node flags to one kind of child, for profiling.
  const extra = (process.env[`BENCH_NODE_ARGS_${name.toUpperCase().replace(/-/g, '_')}`] ?? '').split(' ').filter(Boolean);
  // Every bot runs as the Docker image runs it: glibc's malloc tuned against fragmentation (see the Dockerfile).
  // BENCH_MALLOC=default runs glibc's defaults instead; =mmap adds the fixed mmap threshold the Dockerfile
  // leaves out (lower RSS, but an idle process stays busy).
  const tuning = process.env.BENCH_MALLOC;
  const arenas = tuning === 'default' ? {} : tuning === 'mmap' ? { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' } : { MALLOC_ARENA_MAX: '2' };
  const proc = fork(file, [], { execArgv: ['--import', 'tsx', ...extra], env: { ...process.env, ...arenas, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, ((m: Record<string, unknown>) => void)[]>();
  let seq = 0;
  let readyResolve!: (m: Record<string, unknown>) => void;
  const readyP = new Promise<Record<string, unknown>>((r) => (readyResolve = r));
  proc.on('message', (raw) => {
    const m = raw as Record<string, unknown>;
    if (m.type === 'ready') return readyResolve(m);
    if (typeof m.id === 'number' && pending.has(m.id)) {
      const p = pending.get(m.id)!;
      pending.delete(m.id);
      if (m.error) p.reject(new Error(String(m.error)));
      else p.resolve(m.result);
      return;
    }
    for (const fn of listeners.get(String(m.type)) ?? []) fn(m);
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.once('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`bench child ${name} exited (${code})`));
    pending.clear();
  });
  const ready = await Promise.race([
    readyP,
    exited.then(() => Promise.reject(new Error(`bench child ${name} exited before it was ready`))),
    new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`bench child ${name} not ready in ${startTimeoutMs} ms`)), startTimeoutMs).unref()),
  ]).catch((err: unknown) => {
    proc.kill('SIGKILL');
    throw err;
  });
  return {
    proc,
    ready,
    call<T>(cmd: string, args?: unknown, timeoutMs = 120_000) {
      const id = ++seq;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`bench child ${name}: ${cmd} took over ${timeoutMs} ms`));
        }, timeoutMs);
        timer.unref();
        pending.set(id, { resolve: (v) => (clearTimeout(timer), resolve(v as T)), reject: (e) => (clearTimeout(timer), reject(e)) });
        proc.send({ id, cmd, args });
      });
    },
    on(type, fn) {
      listeners.set(type, [...(listeners.get(type) ?? []), fn]);
    },
    async stop() {
      if (proc.exitCode !== null) return;
      proc.send({ id: 0, cmd: 'exit' });
      const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** The child's side: answers commands with `handlers`, says ready with `info`. */
export function serveParent(info: Record<string, unknown>, handlers: Record<string, (args: never) => unknown>): void {
  process.on('message', (raw) => {
    const m = raw as { id: number; cmd: string; args: unknown };
    if (m.cmd === 'exit') process.exit(0);
    const h = handlers[m.cmd];
    Promise.resolve()
      .then(() => {
        if (!h) throw new Error(`unknown command ${m.cmd}`);
        return h(m.args as never);
      })
      .then(
        (result) => process.send!({ id: m.id, result }),
        (err: unknown) => process.send!({ id: m.id, error: err instanceof Error ? err.message : String(err) }),
      );
  });
  // The bench parent may die without saying so: never outlive it.
  process.on('disconnect', () => process.exit(0));
  process.send!({ type: 'ready', ...info });
}

/** This process's CPU (main thread + libuv/libvips threads) and memory, for the parent's ratios. */
export function usage(): { cpuMs: number; rssMb: number; peakRssMb: number; heapMb: number; externalMb: number } {
  const c = process.cpuUsage();
  const m = process.memoryUsage();
  return { cpuMs: (c.user + c.system) / 1000, rssMb: m.rss / 2 ** 20, peakRssMb: process.resourceUsage().maxRSS / 1024, heapMb: m.heapUsed / 2 ** 20, externalMb: m.external / 2 ** 20 };
}

export const wallNow = (): number => performance.timeOrigin + performance.now();
