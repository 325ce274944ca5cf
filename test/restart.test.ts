import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../src/store/index.ts';
import { A1111Fake } from './fakes/providers/a1111-fake.ts';
import { ComfyFake } from './fakes/providers/comfyui-fake.ts';

const root = resolve(import.meta.dirname, '..');
const children: ChildProcess[] = [];
let dir = '';

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Starts the child app and collects its event lines. */
function startChild(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/fixtures/core/child-app.ts')], { cwd: root, env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines: string[] = [];
  const waiters: { test: (l: string[]) => boolean; resolve: () => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of [...waiters]) if (w.test(lines)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  const until = (test: (l: string[]) => boolean, ms = 45_000) =>
    new Promise<void>((res, rej) => {
      if (test(lines)) return res();
      const t = setTimeout(() => rej(new Error(`timed out; child said:\n${lines.join('\n')}`)), ms);
      waiters.push({ test, resolve: () => (clearTimeout(t), res()) });
    });
  return { child, lines, until };
}

describe('restart (a real process killed with SIGKILL)', () => {
  it('resumes every queued and running job from the reopened database; each ends once, none runs twice to completion', { timeout: 120_000 }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-restart-'));
    const first = startChild({ DATA_DIR: dir, SUBMIT: '5' });
    await first.until((l) => l.includes('ready') && l.some((x) => x.startsWith('running ')));
    const submitted = first.lines.filter((l) => l.startsWith('submitted ')).map((l) => l.split(' ')[1]!);
    expect(submitted).toHaveLength(5);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const finishedBeforeKill = new Set(first.lines.filter((l) => l.startsWith('succeeded ')).map((l) => l.split(' ')[1]));
    expect(finishedBeforeKill.size).toBeLessThan(5);

    const second = startChild({ DATA_DIR: dir, SUBMIT: '0' });
    const pending = submitted.filter((id) => !finishedBeforeKill.has(id));
    await second.until((l) => pending.every((id) => l.includes(`succeeded ${id}`)));
    second.child.kill('SIGKILL');
    await new Promise((r) => second.child.once('exit', r));

    const store = createSqliteStore(join(dir, 'atelier.db'));
    try {
      for (const id of submitted) {
        const job = await store.getJob(id);
        expect(job?.state, id).toBe('succeeded');
        const images = await store.listImages(id);
        // Exactly one result: two images and one grid, never a second set from a double run.
        expect(images.filter((i) => i.kind === 'image').map((i) => i.index).sort()).toEqual([1, 2]);
        expect(images.filter((i) => i.kind === 'grid')).toHaveLength(1);
      }
      const resumed = (await Promise.all(pending.map((id) => store.getJob(id)))).filter((j) => (j?.attempts ?? 0) > 0);
      expect(resumed.length).toBeGreaterThan(0);
      // No job succeeded in both processes.
      for (const id of finishedBeforeKill) expect(second.lines).not.toContain(`succeeded ${id}`);
    } finally {
      await store.close();
    }
  });
});

describe('restart mid-job on a self-hosted provider (a real process killed with SIGKILL)', () => {
  /** Kills the first process once `started()` holds, lets the fake move on, and starts a second one on the same data. */
  async function killMidJob(env: Record<string, string>, started: () => boolean, meanwhile: () => void) {
    dir = mkdtempSync(join(tmpdir(), 'atelier-restart-hosted-'));
    const first = startChild({ DATA_DIR: dir, SUBMIT: '1', ...env });
    await first.until((l) => l.includes('ready'));
    const id = first.lines.find((l) => l.startsWith('submitted '))!.split(' ')[1]!;
    while (!started()) await new Promise((r) => setTimeout(r, 10));
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    meanwhile();
    const second = startChild({ DATA_DIR: dir, SUBMIT: '0', ...env });
    await second.until((l) => l.includes(`succeeded ${id}`) || l.includes(`failed ${id}`));
    second.child.kill('SIGKILL');
    await new Promise((r) => second.child.once('exit', r));
    const store = createSqliteStore(join(dir, 'atelier.db'));
    try {
      return { job: (await store.getJob(id))!, images: await store.listImages(id) };
    } finally {
      await store.close();
    }
  }

  // Two app processes start one after the other: on a loaded machine that alone can take most of 30 s.
  it('ComfyUI: the restarted process follows the same prompt id through /history; nothing is queued twice', { timeout: 120_000 }, async () => {
    const fake = await new ComfyFake().start();
    fake.mode = 'hold';
    try {
      const { job, images } = await killMidJob({ COMFYUI_URL: fake.url, PROVIDER: 'comfyui' }, () => fake.running !== undefined, () => fake.release());
      expect(job.state).toBe('succeeded');
      expect(images.filter((i) => i.kind === 'image')).toHaveLength(2);
      expect(fake.submissions).toBe(1);
      expect(job.providerJobId).toBe([...fake.history.keys()][0]);
    } finally {
      await fake.close();
    }
  });

  it('AUTOMATIC1111: its answer cannot be fetched again, so the job fails visibly and retryably; nothing is rendered twice', { timeout: 120_000 }, async () => {
    const fake = await new A1111Fake().start();
    fake.mode = 'hold';
    try {
      const { job } = await killMidJob({ A1111_URL: fake.url, PROVIDER: 'a1111' }, () => fake.running !== undefined, () => fake.release());
      expect(job.state).toBe('failed');
      expect(job.error).toMatchObject({ code: 'UNKNOWN_OUTCOME', retryable: true });
      expect(fake.started).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });
});
