import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type App, type AppRoles } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { isFinal, type Job } from '../../src/core/job.ts';
import { countRateLimited } from '../../src/observability/index.ts';
import { createLocalProvider } from '../../src/providers/local/index.ts';
import { dropPrefix, REDIS_URL, uniquePrefix, warnSkipped } from '../queue/redis-env.ts';

warnSkipped('readiness against a live Redis', ['REDIS_URL']);

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function start(env: Record<string, string> = {}, roles?: AppRoles): Promise<App> {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-obs-'));
  const app = await createApp(loadConfig({ DATA_DIR: dir, PORT: '0', PLAYGROUND: 'off', LOG_LEVEL: 'silent', ...env }), {
    providers: [createLocalProvider({ longSide: 64, previewSide: 32 })],
    roles,
  });
  cleanup.push(async () => {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await app.start({ listen: true });
  return app;
}

/** Resolves once the job is final; the store is asked too, since it may have finished before we listened. */
const settle = (app: App, id: string) =>
  new Promise<Job>((resolve) => {
    const check = (job: Job | undefined) => {
      if (job?.id === id && isFinal(job.state)) {
        stop();
        resolve(job);
      }
    };
    const stop = app.atelier.events.subscribe(({ job }) => check(job));
    void app.atelier.getJob(id).then(check);
  });

/** The value of one sample line, e.g. `atelier_jobs{state="queued"}`. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : undefined;
}

describe('GET /metrics', () => {
  it('exposes queue depth, jobs by state, provider latency and platform 429s in Prometheus text', async () => {
    const app = await start();
    const before = await (await fetch(`${app.server.url}/metrics`)).text();
    const rateBefore = sample(before, 'atelier_platform_rate_limited_total{platform="discord"}') ?? 0;

    const job = await app.atelier.imagine({ prompt: 'a red kite over dunes', count: 2 }, { platform: 'cli', userId: 'u', displayName: 'U' }, { platform: 'cli', channelId: 'c' });
    const done = settle(app, job.id);
    expect((await done).state).toBe('succeeded');
    countRateLimited('discord');
    countRateLimited('discord');

    const res = await fetch(`${app.server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(sample(text, 'atelier_queue_depth{stage="queued"}')).toBe(0);
    expect(sample(text, 'atelier_jobs{state="queued"}')).toBe(0);
    expect(sample(text, 'atelier_jobs{state="running"}')).toBe(0);
    expect(sample(text, 'atelier_jobs_finished_total{state="succeeded",provider="local"}')).toBe(1);
    expect(sample(text, 'atelier_provider_job_seconds_count{provider="local",state="succeeded"}')).toBe(1);
    expect(sample(text, 'atelier_platform_rate_limited_total{platform="discord"}')).toBe(rateBefore + 2);
    expect(text).toContain('atelier_process_cpu_seconds_total');
  });
});

describe('GET /readyz', () => {
  it('is 200 when the database answers, and 503 naming the database once it does not', async () => {
    const app = await start();
    const ok = await fetch(`${app.server.url}/readyz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, checks: { database: 'ok' } });

    await app.atelier.store.close();
    const down = await fetch(`${app.server.url}/readyz`);
    expect(down.status).toBe(503);
    const body = (await down.json()) as { ok: boolean; checks: Record<string, string> };
    expect(body.ok).toBe(false);
    expect(body.checks['database']).toMatch(/^unreachable/);
  });

  it.skipIf(!REDIS_URL)('checks Redis too when jobs go through it, and is 503 when Redis does not answer', async () => {
    const prefix = uniquePrefix('ready');
    cleanup.push(() => dropPrefix(REDIS_URL!, prefix));
    const app = await start({ REDIS_URL: REDIS_URL!, REDIS_PREFIX: prefix }, { queue: 'redis', work: false });
    const ok = await fetch(`${app.server.url}/readyz`);
    expect(await ok.json()).toEqual({ ok: true, checks: { database: 'ok', redis: 'ok' } });

    const dead = await start({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_PREFIX: prefix }, { queue: 'redis', work: false });
    const down = await fetch(`${dead.server.url}/readyz`);
    expect(down.status).toBe(503);
    const body = (await down.json()) as { checks: Record<string, string> };
    expect(body.checks['database']).toBe('ok');
    expect(body.checks['redis']).toMatch(/^unreachable/);
  });
});
