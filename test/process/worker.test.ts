import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DATABASE_URL, dropPrefix, REDIS_URL, uniquePrefix, warnSkipped } from '../queue/redis-env.ts';
import { exitWithin, freePort, spawnCli } from './cli-process.ts';

warnSkipped('worker start-up', ['REDIS_URL', 'DATABASE_URL']);

let cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** Something already listening on a port: the web process a worker shares its env file with. */
async function occupy(): Promise<{ port: number; server: Server }> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, server };
}

describe.skipIf(!REDIS_URL || !DATABASE_URL)('a worker never half-starts (a real `atelier worker`)', () => {
  const schema = `worker_${randomUUID().slice(0, 8)}`;
  const prefix = uniquePrefix('worker');
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  const scoped = new URL(DATABASE_URL ?? 'postgres://x');
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  const env = () => ({ HOST: '127.0.0.1', REDIS_URL: REDIS_URL!, REDIS_PREFIX: prefix, DATABASE_URL: scoped.toString(), LOG_LEVEL: 'info' });

  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.end();
    await dropPrefix(REDIS_URL!, prefix);
  });

  it('started with the web process\'s PORT (taken), it leaves that port alone, serves /metrics on METRICS_PORT, and stops on SIGTERM', async () => {
    await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const web = await occupy();
    cleanup.push(() => new Promise((r) => web.server.close(r)));
    const metricsPort = await freePort();
    const worker = spawnCli(['worker'], { ...env(), PORT: String(web.port), METRICS_PORT: String(metricsPort) });
    cleanup.push(() => worker.kill());
    await worker.waitFor(/"msg":"worker ready"/, 'the worker to be ready');
    expect(worker.stderr()).not.toContain('EADDRINUSE');
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('atelier_queue_depth');
    worker.proc.kill('SIGTERM');
    expect(await exitWithin(worker, 10_000, 'SIGTERM')).toBe(0);
  }, 90_000);

  it('without METRICS_PORT it listens on nothing; with a METRICS_PORT it cannot have, it exits non-zero with one line naming the setting', async () => {
    await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const web = await occupy();
    cleanup.push(() => new Promise((r) => web.server.close(r)));
    const quiet = spawnCli(['worker'], { ...env(), PORT: String(web.port) });
    cleanup.push(() => quiet.kill());
    const [ready] = await quiet.waitFor(/\{[^\n]*"msg":"worker ready"[^\n]*\}/, 'the worker to be ready');
    expect(JSON.parse(ready).url).toBeUndefined();
    quiet.proc.kill('SIGTERM');
    expect(await exitWithin(quiet, 10_000, 'SIGTERM')).toBe(0);

    const taken = spawnCli(['worker'], { ...env(), LOG_LEVEL: 'silent', METRICS_PORT: String(web.port) });
    cleanup.push(() => taken.kill());
    const code = await exitWithin(taken, 60_000, 'a start on a taken METRICS_PORT');
    expect(code).not.toBe(0);
    const lines = taken.stderr().trim().split('\n');
    expect(lines).toEqual([`Port ${web.port} on 127.0.0.1 is already in use: stop the other process or set METRICS_PORT to a free port.`]);
  }, 120_000);
});
