import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { ApiAnswer } from '../../../src/platforms/web/api.ts';
import { DEFAULT_IMAGE_INPUT_LIMITS } from '../../../src/core/image-input.ts';
import { UploadShelf } from '../../../src/platforms/web/uploads.ts';
import { finished, startPlayground, type Playground } from './harness.ts';

/**
 * Pictures in the playground's API: each uploaded as its own body (capped before it is read), then named by the
 * command that uses them; thumbnails of what a job started from obey the job's visibility.
 */

type Answer = ApiAnswer & { error?: { code: string; message: string }; upload?: { id: string; name: string; size: number } };

let pg: Playground;
const cookies = new Map<string, string>();

async function cookieOf(who: string): Promise<string> {
  const known = cookies.get(who);
  if (known) return known;
  const res = await fetch(`${pg.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  cookies.set(who, cookie);
  return cookie;
}

async function upload(who: string, bytes: Uint8Array, name: string, type = 'image/png'): Promise<{ status: number; data: Answer }> {
  const res = await fetch(`${pg.url}/api/uploads?name=${encodeURIComponent(name)}`, { method: 'POST', headers: { 'content-type': type, cookie: await cookieOf(who) }, body: new Uint8Array(bytes) });
  return { status: res.status, data: (await res.json()) as Answer };
}

async function post(who: string, path: string, body: Record<string, unknown>): Promise<{ status: number; data: Answer }> {
  const res = await fetch(`${pg.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: await cookieOf(who) }, body: JSON.stringify({ user: { name: who }, ...body }) });
  return { status: res.status, data: (await res.json()) as Answer };
}

const jobCount = async () => (await pg.atelier.store.listJobs({})).length;

let harbour: Uint8Array;

beforeAll(async () => {
  pg = await startPlayground();
  harbour = new Uint8Array(await sharp({ create: { width: 48, height: 32, channels: 3, background: { r: 20, g: 90, b: 200 } } }).png().toBuffer());
});
afterAll(() => pg?.stop());

describe('playground pictures: uploads', () => {
  it('an oversize picture is refused before it is read, with a message saying the limit; nothing is queued', async () => {
    const before = await jobCount();
    const big = new Uint8Array(DEFAULT_IMAGE_INPUT_LIMITS.maxBytes + 1);
    const { status, data } = await upload('ann', big, 'huge.png');
    expect(status).toBe(413);
    expect(data.error?.message).toMatch(/larger than 20 MiB.*smaller/);
    expect(await jobCount()).toBe(before);
  });

  it('a picture of the largest size is taken', async () => {
    const { status, data } = await upload('ann', new Uint8Array(DEFAULT_IMAGE_INPUT_LIMITS.maxBytes), 'edge.png');
    expect(status).toBe(200);
    expect(data.upload?.size).toBe(DEFAULT_IMAGE_INPUT_LIMITS.maxBytes);
  });

  it('only a picture content type is taken: a form or text post (which other sites can send) is refused', async () => {
    for (const type of ['multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'text/plain']) {
      const { status, data } = await upload('ann', harbour, 'harbour.png', type);
      expect(status, type).toBe(415);
      expect(data.error?.message).toMatch(/image\/png/);
    }
  });

  it('bytes that are not a picture: the command says what to send, and nothing is queued', async () => {
    const before = await jobCount();
    const notes = await upload('ann', new TextEncoder().encode('my shopping list, not a picture'), 'notes.png');
    expect(notes.status).toBe(200);
    const { status, data } = await post('ann', '/api/command', { text: '/imagine a lighthouse from my notes', uploads: [notes.data.upload!.id] });
    expect(status).toBe(400);
    expect(data.error?.message).toMatch(/notes\.png is not a picture we can read.*PNG, JPEG, WebP or GIF/);
    expect(await jobCount()).toBe(before);
  });

  it("one session cannot use another's upload, and the owner still can", async () => {
    const mine = await upload('ann', harbour, 'harbour.png');
    const stolen = await post('bob', '/api/command', { text: '/imagine a stolen harbour --count 1', uploads: [mine.data.upload!.id] });
    expect(stolen.status).toBe(400);
    expect(stolen.data.error?.message).toMatch(/did not arrive/);
    const used = await post('ann', '/api/command', { text: '/imagine my own harbour --count 1', uploads: [mine.data.upload!.id] });
    expect(used.data.type).toBe('job');
    // Taken by the command: the same id does not work twice.
    const again = await post('ann', '/api/command', { text: '/imagine my own harbour again', uploads: [mine.data.upload!.id] });
    expect(again.status).toBe(400);
  });

  it('pictures with a command that takes none are refused, naming where they go', async () => {
    const pic = await upload('ann', harbour, 'harbour.png');
    const { status, data } = await post('ann', '/api/command', { text: '/queue', uploads: [pic.data.upload!.id] });
    expect(status).toBe(400);
    expect(data.error?.message).toMatch(/\/queue takes no pictures.*\/imagine or \/blend/);
  });

  it('the composer is told the limits: bytes, and how many pictures each command takes', async () => {
    const res = await fetch(`${pg.url}/api/commands`);
    const body = (await res.json()) as { commands: { name: string; pictures?: { most: number; least: number } }[]; uploads: { maxBytes: number; maxFiles: number } };
    expect(body.uploads).toEqual({ maxBytes: DEFAULT_IMAGE_INPUT_LIMITS.maxBytes, maxFiles: 5 });
    expect(body.commands.find((c) => c.name === 'imagine')?.pictures).toEqual({ most: 3, least: 0 });
    expect(body.commands.find((c) => c.name === 'blend')?.pictures).toEqual({ most: 5, least: 2 });
    expect(body.commands.find((c) => c.name === 'queue')?.pictures).toBeUndefined();
  });

  it('more pictures than the command takes are refused, naming how many to remove; nothing is queued', async () => {
    const before = await jobCount();
    const ids: string[] = [];
    for (let i = 1; i <= 4; i++) ids.push((await upload('ann', harbour, `p${i}.png`)).data.upload!.id);
    const { status, data } = await post('ann', '/api/command', { text: '/imagine four harbours', uploads: ids });
    expect(status).toBe(400);
    expect(data.error?.message).toMatch(/\/imagine takes at most 3 pictures, and 4 are attached: remove 1/);
    expect(await jobCount()).toBe(before);
  });
});

describe('playground pictures: jobs', () => {
  it("an /imagine with a private picture: the message names and shows it; another session cannot read it", async () => {
    const pic = await upload('ann', harbour, 'harbour.png');
    const { data } = await post('ann', '/api/command', { text: '/imagine a watercolour of this harbour --count 1 --private', uploads: [pic.data.upload!.id] });
    if (data.type !== 'job') throw new Error(`expected a job, got ${JSON.stringify(data)}`);
    expect(data.message.inputsText).toBe('Started from 1 picture: harbour.png');
    const [input] = data.message.inputs;
    expect(input?.name).toBe('harbour.png');
    const own = await fetch(`${pg.url}${input!.url}`, { headers: { cookie: await cookieOf('ann') } });
    expect(own.status).toBe(200);
    expect(new Uint8Array(await own.arrayBuffer())).toEqual(harbour);
    expect((await fetch(`${pg.url}${input!.url}`, { headers: { cookie: await cookieOf('bob') } })).status).toBe(404);
    expect((await fetch(`${pg.url}${input!.url}`)).status).toBe(404);
    expect((await fetch(`${pg.url}${input!.url}?download=1`, { headers: { cookie: await cookieOf('ann') } })).headers.get('content-disposition')).toMatch(/-input-1\.png"$/);
    await finished(pg, data.message.id);
    expect((await pg.atelier.getJob(data.message.id))?.state).toBe('succeeded');
  });

  it('/blend with two attached pictures and dimensions makes a landscape blend; one picture is refused', async () => {
    const a = await upload('ann', harbour, 'harbour.png');
    const b = await upload('ann', harbour, 'again.png');
    const { data } = await post('ann', '/api/command', { text: '/blend --dimensions landscape', uploads: [a.data.upload!.id, b.data.upload!.id] });
    if (data.type !== 'job') throw new Error(`expected a job, got ${JSON.stringify(data)}`);
    expect(data.message.attribution).toMatch(/^Blend by ann/);
    expect(data.message.inputsText).toBe('Started from 2 pictures: harbour.png, again.png');
    const job = await pg.atelier.getJob(data.message.id);
    expect(job?.request.blend).toBe(true);
    expect(job?.request.aspectRatio).toBe('3:2');

    const before = await jobCount();
    const one = await upload('ann', harbour, 'harbour.png');
    const refused = await post('ann', '/api/command', { text: '/blend', uploads: [one.data.upload!.id] });
    expect(refused.status).toBe(400);
    expect(refused.data.error?.message).toMatch(/2 to 5 pictures/);
    expect(await jobCount()).toBe(before);
  });

  describe('the toolbox after U', () => {
    let upscaled: string;
    beforeAll(async () => {
      const { data } = await post('ann', '/api/command', { text: '/imagine a quiet harbour at dawn --count 1 --ar 3:2' });
      if (data.type !== 'job') throw new Error('expected a job');
      await finished(pg, data.message.id);
      const u1 = (await pg.atelier.getJob(data.message.id))!;
      const pressed = await post('ann', '/api/press', { id: `a:upscale:1:${u1.id}` });
      if (pressed.data.type !== 'job') throw new Error(`expected a job, got ${JSON.stringify(pressed.data)}`);
      upscaled = pressed.data.message.id;
      await finished(pg, upscaled);
    });

    it('shows the buttons the local renderer offers, each once', async () => {
      const job = (await pg.atelier.getJob(upscaled))!;
      const { renderJob } = await import('../../../src/platforms/web/render.ts');
      const labels = renderJob(job, pg.atelier.providers.capabilities('local')).buttons.flat().map((b) => b.label);
      for (const l of ['Vary (Subtle)', 'Vary (Strong)', 'Vary (Region)', 'Zoom Out 2x', 'Zoom Out 1.5x', 'Custom Zoom', 'Make Square', 'Pan Left']) expect(labels).toContain(l);
    });

    it('Custom Zoom and Vary (Region) open their forms; the forms check what is sent before anything is queued', async () => {
      const zoom = await post('ann', '/api/press', { id: `a:zoomcustom:1:${upscaled}` });
      expect(zoom.data).toMatchObject({ type: 'zoom', jobId: upscaled, index: 1, prompt: 'a quiet harbour at dawn' });
      const region = await post('ann', '/api/press', { id: `a:region:1:${upscaled}` });
      expect(region.data).toMatchObject({ type: 'region', jobId: upscaled, index: 1 });
      if (region.data.type !== 'region') throw new Error('expected the region form');
      expect((await fetch(`${pg.url}${region.data.imageUrl}`, { headers: { cookie: await cookieOf('ann') } })).status).toBe(200);

      const before = await jobCount();
      const far = await post('ann', '/api/zoom', { jobId: upscaled, index: 1, factor: '3' });
      expect(far.status).toBe(400);
      expect(far.data.error?.message).toMatch(/1\.1 to 2/);
      const outside = await post('ann', '/api/region', { jobId: upscaled, index: 1, region: { x: 0.8, y: 0.1, width: 0.5, height: 0.5 } });
      expect(outside.status).toBe(400);
      expect(outside.data.error?.message).toMatch(/inside the picture/);
      const words = await post('ann', '/api/region', { jobId: upscaled, index: 1, region: { x: '0.1', y: 0.1, width: 0.5, height: 0.5 } });
      expect(words.status).toBe(400);
      expect(await jobCount()).toBe(before);
    });

    it('a drawn region and a new prompt become a Vary (Region) job; a custom factor a Zoom Out job', async () => {
      const { data } = await post('bob', '/api/region', { jobId: upscaled, index: 1, region: { x: 0.25, y: 0.2, width: 0.5, height: 0.4 }, prompt: 'a red boat' });
      if (data.type !== 'job') throw new Error(`expected a job, got ${JSON.stringify(data)}`);
      const job = (await pg.atelier.getJob(data.message.id))!;
      expect(job.action).toEqual({ kind: 'region', index: 1, region: { x: 0.25, y: 0.2, width: 0.5, height: 0.4 }, prompt: 'a red boat' });
      expect(job.owner.userId).not.toBe((await pg.atelier.getJob(upscaled))!.owner.userId);
      const zoomed = await post('ann', '/api/zoom', { jobId: upscaled, index: 1, factor: '1.8x', prompt: '  ' });
      if (zoomed.data.type !== 'job') throw new Error(`expected a job, got ${JSON.stringify(zoomed.data)}`);
      expect((await pg.atelier.getJob(zoomed.data.message.id))!.action).toEqual({ kind: 'zoom', index: 1, factor: 1.8 });
      expect(zoomed.data.message.attribution).toMatch(/Zoom Out 1\.8×/);
    });
  });
});

describe('playground pictures behind a token', () => {
  let guarded: Playground;
  beforeAll(async () => {
    guarded = await startPlayground({ HOST: '0.0.0.0', PLAYGROUND_TOKEN: 'correct-horse-battery' });
  });
  afterAll(() => guarded?.stop());

  it('an upload needs the token like every other request, and works with it', async () => {
    const base = guarded.url.replace('0.0.0.0', '127.0.0.1');
    const auth = { authorization: 'Bearer correct-horse-battery' };
    const session = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: '{}' });
    const cookie = session.headers.get('set-cookie')!.split(';')[0]!;
    const send = (headers: Record<string, string>) => fetch(`${base}/api/uploads?name=h.png`, { method: 'POST', headers: { 'content-type': 'image/png', cookie, ...headers }, body: new Uint8Array(harbour) });
    expect((await send({})).status).toBe(401);
    expect((await send({ authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await send(auth)).status).toBe(200);
  });
});

describe('playground pictures with IMAGE_INPUT_MAX_MB set', () => {
  let small: Playground;
  beforeAll(async () => {
    small = await startPlayground({ IMAGE_INPUT_MAX_MB: '1' });
  });
  afterAll(() => small?.stop());

  it('the upload cap and what the page is told follow the setting', async () => {
    const session = await fetch(`${small.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const cookie = session.headers.get('set-cookie')!.split(';')[0]!;
    const send = (n: number) => fetch(`${small.url}/api/uploads?name=big.png`, { method: 'POST', headers: { 'content-type': 'image/png', cookie }, body: new Uint8Array(n) });
    const refused = await send(1024 * 1024 + 1);
    expect(refused.status).toBe(413);
    expect(((await refused.json()) as Answer).error?.message).toMatch(/larger than 1 MiB/);
    expect((await send(1024 * 1024)).status).toBe(200);
    const catalog = (await (await fetch(`${small.url}/api/commands`)).json()) as { uploads: { maxBytes: number } };
    expect(catalog.uploads.maxBytes).toBe(1024 * 1024);
  });
});

describe('the upload shelf', () => {
  it('keeps each session its own, the newest few per session, within the total, for a while', () => {
    let t = 0;
    const shelf = new UploadShelf({ perSession: 2, totalBytes: 10, ttlMs: 100 }, () => t);
    const a = shelf.put('ann', 'a', new Uint8Array(3)) as { id: string };
    const b = shelf.put('ann', 'b', new Uint8Array(3)) as { id: string };
    const c = shelf.put('ann', 'c', new Uint8Array(3)) as { id: string };
    // The oldest of ann's three went to make room.
    expect(shelf.size).toBe(6);
    expect(() => shelf.take('ann', [a.id])).toThrow(/did not arrive/);
    expect(shelf.put('bob', 'd', new Uint8Array(5))).toEqual({ busy: expect.stringMatching(/try again/) });
    expect(shelf.take('ann', [c.id, b.id]).map((p) => p.name)).toEqual(['c', 'b']);
    expect(shelf.size).toBe(0);
    const late = shelf.put('bob', 'e', new Uint8Array(1)) as { id: string };
    t = 101;
    expect(() => shelf.take('bob', [late.id])).toThrow(/waited too long/);
    expect(shelf.size).toBe(0);
  });
});
