import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllImagesFake } from './fakes/providers/allimages-fake.ts';
import { PomeloFake } from './fakes/providers/pomelo-fake.ts';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'atelier-cli-providers-'));
let allimages: AllImagesFake;
let gateway: PomeloFake;

beforeAll(async () => {
  allimages = await new AllImagesFake().start();
  // The spawned CLI polls at its production pace: a generation that is done on the first look keeps this short.
  allimages.lifecycle = 'instant';
  gateway = await new PomeloFake().start();
});
afterAll(async () => {
  await allimages.close();
  await gateway.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Out {
  provider: string;
  images: string[];
  grid: string | null;
  upscaled: string | null;
  note: string | null;
}

/** The CLI as an operator runs it, pointed at the loopback fakes. */
async function atelier(args: string[]): Promise<{ code: number; out?: Out; stderr: string }> {
  const env = {
    ...process.env,
    DATA_DIR: join(dir, 'data'),
    DATABASE_URL: '',
    REDIS_URL: '',
    LOG_LEVEL: 'silent',
    ALLIMAGES_API_KEY: allimages.apiKey,
    ALLIMAGES_API_URL: allimages.url,
    POMELO_API_KEY: gateway.apiKey,
    POMELO_API_URL: `${gateway.url}/api`,
  };
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, 'bin/atelier.js'), 'imagine', ...args, '--json', '--out', join(dir, 'out')], { cwd: dir, env, timeout: 150_000 });
    return { code: 0, out: JSON.parse(stdout) as Out, stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

const widthOf = async (file: string) => (await sharp(file).metadata()).width;

describe('atelier imagine against the provider fakes', () => {
  it('all-images.ai: writes the previews without a purchase and says so; --upscale buys the full resolution once', { timeout: 180_000 }, async () => {
    const r = await atelier(['a dog in a park', '--provider', 'allimages', '--upscale', '2', '--paid-upscale']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.out!.images).toHaveLength(4);
    for (const f of r.out!.images) expect(await widthOf(f)).toBe(128);
    expect(r.out!.note).toMatch(/previews .*U buys one at full resolution/);
    expect(await widthOf(r.out!.upscaled!)).toBe(768);
    expect(allimages.server.count('POST /v1/images/buy')).toBe(1);
    expect(allimages.credits).toBe(9);
  });

  it('all-images.ai: without --paid-upscale, U says how to allow the purchase and buys nothing', { timeout: 180_000 }, async () => {
    const before = allimages.server.count('POST /v1/images/buy');
    const r = await atelier(['a cat', '--provider', 'allimages', '--upscale', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/paid_upscale/);
    expect(allimages.server.count('POST /v1/images/buy')).toBe(before);
  });

  it('midjourney and flux: write the gateway\'s images, the only resolution it makes, with no purchase', { timeout: 180_000 }, async () => {
    const mj = await atelier(['a fox', '--provider', 'midjourney', '--count', '2']);
    expect(mj.code, mj.stderr).toBe(0);
    expect(mj.out!.images).toHaveLength(2);
    const flux = await atelier(['a fox', '--provider', 'flux']);
    expect(flux.code, flux.stderr).toBe(0);
    expect(flux.out!.images).toHaveLength(1);
    expect(await widthOf(flux.out!.images[0]!)).toBe(96);
    expect(gateway.server.requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual(['/api/v1/midjourney/generate', '/api/v1/flux.1']);
  });
});
