import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createStoreFromConfig } from '../../src/store/index.ts';
import type { Job } from '../../src/core/job.ts';
import { AllImagesFake } from '../fakes/providers/allimages-fake.ts';
import { exitWithin, spawnCli, type CliProcess } from './cli-process.ts';

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function readJobs(dir: string): Promise<Job[]> {
  const { store } = await createStoreFromConfig({ DATA_DIR: dir, DATABASE_URL: undefined });
  try {
    return await store.listJobs({});
  } finally {
    await store.close();
  }
}

const until = async (what: string, check: () => boolean | Promise<boolean>, ms = 60_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('stop means stop (a real `atelier start` and SIGTERM)', () => {
  it('with a job polling its provider, SIGTERM exits promptly and hands the job back; the restart resumes it without a second create', async () => {
    const fake = await new AllImagesFake().start();
    fake.lifecycle = 'manual';
    const dir = mkdtempSync(join(tmpdir(), 'atelier-stop-'));
    cleanup.push(() => fake.server.close(), () => rmSync(dir, { recursive: true, force: true }));
    const env = {
      PORT: '0',
      DATA_DIR: dir,
      LOG_LEVEL: 'info',
      ALLIMAGES_API_KEY: fake.apiKey,
      ALLIMAGES_API_URL: fake.url,
      DEFAULT_PROVIDER: 'allimages',
    };
    const first: CliProcess = spawnCli(['start'], env);
    cleanup.push(() => first.kill());
    const [, url] = await first.waitFor(/listening on (\S+)/, 'the listening line');
    // The page's first call: the server issues the session cookie that is this visitor's identity.
    const opened = await fetch(`${url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const cookie = opened.headers.get('set-cookie')!.split(';')[0]!;
    const res = await fetch(`${url}/api/command`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ user: { id: 'ann-0001', name: 'Ann' }, text: '/imagine a lighthouse in a storm' }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    // Created at the provider and polled at least once: the job is waiting on the provider.
    await until('the provider to be polled', () => fake.server.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/image-generations/')).length >= 1);
    expect(fake.generations.size).toBe(1);

    first.proc.kill('SIGTERM');
    // A deadline for the test, not a measurement: orchestrators SIGKILL after 10 s.
    const code = await exitWithin(first, 10_000, 'SIGTERM');
    expect(code).toBe(0);

    const [handed] = await readJobs(dir);
    expect(handed?.state).toBe('queued');
    const providerJobId = handed!.providerJobId;
    expect(providerJobId).toBe([...fake.generations.keys()][0]);

    // The provider finishes while we are down; the restart picks the job up by its provider id.
    await fake.finish(providerJobId!);
    const second = spawnCli(['start'], env);
    cleanup.push(() => second.kill());
    await second.waitFor(/listening on/, 'the listening line');
    await until('the resumed job to succeed', async () => (await readJobs(dir))[0]?.state === 'succeeded');
    expect(fake.creates).toBe(1);
    expect(fake.generations.size).toBe(1);
    second.proc.kill('SIGTERM');
    expect(await exitWithin(second, 10_000, 'SIGTERM')).toBe(0);
  }, 120_000);
});
