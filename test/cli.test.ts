import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { A1111Fake } from './fakes/providers/a1111-fake.ts';
import { ComfyFake } from './fakes/providers/comfyui-fake.ts';
import { HordeFake } from './fakes/providers/horde-fake.ts';
import { OpenAIFake } from './fakes/providers/openai-fake.ts';
import { defaultWorkflow } from '../src/providers/comfyui/workflow.ts';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'atelier-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI as a user runs it, with no services configured: SQLite in a temp DATA_DIR. */
async function atelier(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, DATA_DIR: join(dir, 'data'), DATABASE_URL: '', REDIS_URL: '', LOG_LEVEL: 'silent' };
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, 'bin/atelier.js'), ...args], { cwd: dir, env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

interface Out {
  jobId: string;
  provider: string;
  seed: number;
  images: string[];
  grid: string;
  request: { aspectRatio: string };
}

describe('atelier imagine', { timeout: 120_000 }, () => {
  it('writes four 16:9 PNGs and a grid; the same command writes identical files; another seed different ones', async () => {
    const a = await atelier(['imagine', 'a lighthouse in a storm --ar 16:9 --seed 7', '--json', '--out', 'out']);
    expect(a.code, a.stderr).toBe(0);
    const first = JSON.parse(a.stdout) as Out;
    expect(first).toMatchObject({ provider: 'local', seed: 7, request: { aspectRatio: '16:9' } });
    expect(first.images).toHaveLength(4);
    for (const file of first.images) {
      const meta = await sharp(file).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width! / meta.height!).toBeCloseTo(16 / 9, 1);
    }
    expect((await sharp(first.grid).metadata()).format).toBe('png');
    const bytes = first.images.map((f) => readFileSync(f));

    const again = JSON.parse((await atelier(['imagine', 'a lighthouse in a storm --ar 16:9 --seed 7', '--json', '--out', 'out'])).stdout) as Out;
    expect(again.images).toEqual(first.images);
    again.images.forEach((f, i) => expect(readFileSync(f).equals(bytes[i]!)).toBe(true));

    const other = JSON.parse((await atelier(['imagine', 'a lighthouse in a storm --ar 16:9 --seed 8', '--json', '--out', 'out'])).stdout) as Out;
    expect(other.seed).toBe(8);
    other.images.forEach((f, i) => expect(readFileSync(f).equals(bytes[i]!)).toBe(false));
  });

  it('exits non-zero naming an unknown flag', async () => {
    const r = await atelier(['imagine', 'a dog --bogus 3']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--bogus');
    expect(r.stdout).toBe('');
  });

  it('names a bad setting and what it expects', async () => {
    const r = await run(process.execPath, [join(root, 'bin/atelier.js'), 'doctor'], { cwd: dir, env: { ...process.env, PORT: 'eighty' } }).catch((e: { code: number; stderr: string }) => e);
    expect((r as { code: number }).code).toBe(78);
    expect((r as { stderr: string }).stderr).toMatch(/^PORT: /m);
  });
});

describe('atelier imagine on self-hosted providers (against the fakes)', { timeout: 120_000 }, () => {
  /** The CLI in a child process with one provider URL set; the fakes run here. */
  async function imagineOn(env: Record<string, string>, provider: string, out: string) {
    const childEnv = { ...process.env, DATA_DIR: join(dir, `data-${provider}`), DATABASE_URL: '', REDIS_URL: '', LOG_LEVEL: 'silent', ...env };
    try {
      const r = await run(process.execPath, [join(root, 'bin/atelier.js'), 'imagine', 'a lighthouse at dusk --ar 16:9', '--provider', provider, '--json', '--out', out], { cwd: dir, env: childEnv, timeout: 60_000 });
      return { code: 0, ...r };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  async function expectImagesAndPreviews(r: { code: number; stdout: string; stderr: string }, provider: string) {
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Out;
    expect(out.provider).toBe(provider);
    expect(out.request.aspectRatio).toBe('16:9');
    expect(out.images).toHaveLength(4);
    for (const file of out.images) expect((await sharp(file).metadata()).format).toBe('png');
    expect(r.stderr).toMatch(/\d+%/);
    const preview = /preview 1: (\S+)/.exec(r.stderr)?.[1];
    expect(preview, r.stderr).toBeDefined();
    expect((await sharp(preview!).metadata()).width).toBeGreaterThan(0);
  }

  it('--provider comfyui writes the images and prints progress with previews', async () => {
    const fake = await new ComfyFake().start();
    try {
      await expectImagesAndPreviews(await imagineOn({ COMFYUI_URL: fake.url }, 'comfyui', 'out-comfy'), 'comfyui');
      expect(fake.submissions).toBe(1);
    } finally {
      await fake.close();
    }
  });

  it('--provider a1111 writes the images and prints progress with previews', async () => {
    const fake = await new A1111Fake().start();
    fake.stepMs = 400;
    try {
      await expectImagesAndPreviews(await imagineOn({ A1111_URL: fake.url }, 'a1111', 'out-a1111'), 'a1111');
      expect(fake.started).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });

  it('--provider openai writes the image and prints progress with the streamed partial images as previews', async () => {
    const fake = await new OpenAIFake({ apiKey: 'sk-cli' }).start();
    try {
      const r = await imagineOn({ OPENAI_API_KEY: 'sk-cli', OPENAI_BASE_URL: fake.url }, 'openai', 'out-openai');
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as Out;
      expect(out).toMatchObject({ provider: 'openai', request: { aspectRatio: '16:9' } });
      expect(out.images).toHaveLength(1);
      expect((await sharp(out.images[0]!).metadata()).format).toBe('png');
      const preview = /preview 1: (\S+)/.exec(r.stderr)?.[1];
      expect(preview, r.stderr).toBeDefined();
      expect(fake.creates).toBe(1);
    } finally {
      await fake.close();
    }
  });

  it('--provider horde (anonymous) writes the images and prints its queue position as progress', async () => {
    const fake = await new HordeFake({ checksToDone: 3 }).start();
    try {
      const r = await imagineOn({ AI_HORDE_API_KEY: '0000000000', AI_HORDE_URL: fake.url }, 'horde', 'out-horde');
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as Out;
      expect(out).toMatchObject({ provider: 'horde', request: { aspectRatio: '16:9' } });
      expect(out.images).toHaveLength(4);
      for (const file of out.images) expect((await sharp(file).metadata()).format).toBe('webp');
      expect(r.stderr).toMatch(/in the Horde's queue/);
      expect(fake.creates).toBe(1);
    } finally {
      await fake.close();
    }
  });
});

describe('atelier doctor with self-hosted providers', { timeout: 120_000 }, () => {
  it('checks ComfyUI and AUTOMATIC1111 live: reachable, workflow nodes and checkpoint, checkpoints and samplers', async () => {
    const comfy = await new ComfyFake().start();
    const a1111 = await new A1111Fake().start();
    try {
      const env = { ...process.env, DATA_DIR: join(dir, 'data-doctor'), DATABASE_URL: '', REDIS_URL: '', LOG_LEVEL: 'silent', COMFYUI_URL: comfy.url, A1111_URL: a1111.url, A1111_MODEL: 'missing-model' };
      // A FAIL line makes doctor exit 1: the operator's scripts can tell.
      const r = await run(process.execPath, [join(root, 'bin/atelier.js'), 'doctor'], { cwd: dir, env, timeout: 60_000 }).then(
        () => ({ code: 0, stdout: '' }),
        (e: { code: number; stdout: string }) => e,
      );
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/ok {3}comfyui: reachable \(ComfyUI 0\.3\.40\); the default workflow fits its nodes; checkpoint sd_xl_base_1\.0\.safetensors present/);
      expect(r.stdout).toMatch(/FAIL a1111: reachable; 2 checkpoints .*A1111_MODEL "missing-model" is not among its 2 checkpoints/);
    } finally {
      await comfy.close();
      await a1111.close();
    }
  });
});

describe('atelier start with a ComfyUI workflow that does not fit the server', { timeout: 120_000 }, () => {
  it('exits non-zero with one line naming the node, before listening', async () => {
    const comfy = await new ComfyFake().start();
    try {
      const { workflow } = defaultWorkflow('sd_xl_base_1.0.safetensors');
      const wf = join(dir, 'start-wf.json');
      const map = join(dir, 'start-map.json');
      writeFileSync(wf, JSON.stringify({ ...workflow, '8': { class_type: 'FaceDetailer', inputs: { image: ['6', 0] } } }));
      writeFileSync(map, JSON.stringify({ prompt: '2.text' }));
      const env = { ...process.env, DATA_DIR: join(dir, 'data-start'), DATABASE_URL: '', REDIS_URL: '', LOG_LEVEL: 'silent', PORT: '0', COMFYUI_URL: comfy.url, COMFYUI_WORKFLOW: wf, COMFYUI_WORKFLOW_MAP: map };
      const r = await run(process.execPath, [join(root, 'bin/atelier.js'), 'start'], { cwd: dir, env, timeout: 60_000 }).then(
        (ok) => ({ code: 0, ...ok }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(/^COMFYUI_WORKFLOW does not fit this ComfyUI server: node "8" uses FaceDetailer, which this ComfyUI server does not have/);
      expect(r.stdout).not.toMatch(/listening/);
    } finally {
      await comfy.close();
    }
  });
});
