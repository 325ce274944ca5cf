import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { isLoopback, requiredToken, PlaygroundAccessError } from '../../../src/platforms/web/access.ts';
import type { ApiAnswer } from '../../../src/platforms/web/api.ts';
import { renderJob, type JobMessage } from '../../../src/platforms/web/render.ts';
import type { Job } from '../../../src/core/job.ts';

const renderRunning = (job: Job): JobMessage => renderJob(job, previewingProvider.capabilities);
import { finished, startPlayground, type Playground } from './harness.ts';
import { previewingProvider } from './previewing-provider.ts';

/** A person is a browser: a display name the page sends, and the session cookie the server gave it. */
interface Person {
  name: string;
  moderator?: boolean;
}
const ann: Person = { name: 'Ann' };
const bob: Person = { name: 'Bob' };
const sessions = new WeakMap<Playground, Map<Person, { cookie: string; id: string }>>();

/** The person's session on this playground, opened as a client without a page opens it. */
async function sessionOf(pg: Playground, person: Person): Promise<{ cookie: string; id: string }> {
  const mine = sessions.get(pg) ?? new Map<Person, { cookie: string; id: string }>();
  sessions.set(pg, mine);
  const known = mine.get(person);
  if (known) return known;
  const res = await fetch(`${pg.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const cookie = res.headers.get('set-cookie');
  expect(cookie).toMatch(/^atelier_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax/);
  const s = { cookie: cookie!.split(';')[0]!, id: ((await res.json()) as { user: { id: string } }).user.id };
  mine.set(person, s);
  return s;
}

const as = async (pg: Playground, person: Person): Promise<{ headers: Record<string, string> }> => ({ headers: { cookie: (await sessionOf(pg, person)).cookie } });

/** fetch cannot set Host; node:http can, as a rebound DNS name would. */
function rawGet(port: string, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: Number(port), path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

type Answer = ApiAnswer & { error?: { code: string; message: string } };

/** POSTs as `body.user`'s browser: with its session cookie (opened on first use). */
async function post(pg: Playground, path: string, body: { user?: unknown } & Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ status: number; data: Answer }> {
  const person = body.user as Person | undefined;
  const cookie = person && typeof person === 'object' ? (await sessionOf(pg, person)).cookie : undefined;
  const res = await fetch(`${pg.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}), ...headers }, body: JSON.stringify(body) });
  return { status: res.status, data: (await res.json()) as Answer };
}

describe('access: who may reach the playground', () => {
  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.5.0.1', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.4', 'example.com', '10.0.0.1']) expect(isLoopback(h), h).toBe(false);
  });

  it('needs PLAYGROUND_TOKEN beyond loopback, and names the fix', () => {
    expect(requiredToken('127.0.0.1', undefined)).toBeUndefined();
    expect(requiredToken('0.0.0.0', 'sekret')).toBe('sekret');
    expect(requiredToken('127.0.0.1', 'sekret')).toBe('sekret');
    expect(() => requiredToken('0.0.0.0', undefined)).toThrow(PlaygroundAccessError);
    expect(() => requiredToken('0.0.0.0', undefined)).toThrow(/PLAYGROUND_TOKEN/);
  });

  it('the app refuses to start the playground on 0.0.0.0 without a token', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'atelier-web-'));
    const app = await createApp(loadConfig({ PORT: '0', HOST: '0.0.0.0', DATA_DIR: dir, LOG_LEVEL: 'silent' }));
    try {
      await expect(app.start({ listen: true, platforms: true })).rejects.toThrow(/PLAYGROUND_TOKEN/);
      expect(app.platforms.some((p) => p.name === 'web')).toBe(false);
    } finally {
      await app.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('with a token', () => {
    let pg: Playground;
    beforeAll(async () => {
      pg = await startPlayground({ HOST: '0.0.0.0', PLAYGROUND_TOKEN: 'correct-horse-battery' });
    });
    afterAll(() => pg?.stop());

    it('the API and the feed need it as a bearer header or ?token=; the page itself loads', async () => {
      const base = pg.url.replace('0.0.0.0', '127.0.0.1');
      expect((await fetch(`${base}/api/commands`)).status).toBe(401);
      expect((await fetch(`${base}/api/commands`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetch(`${base}/api/commands`, { headers: { authorization: 'Bearer correct-horse-battery' } })).status).toBe(200);
      expect((await fetch(`${base}/api/commands?token=correct-horse-battery`)).status).toBe(200);
      expect((await fetch(`${base}/api/events`)).status).toBe(401);
      expect((await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
      const refused = await fetch(`${base}/api/command`, { method: 'POST', body: JSON.stringify({ user: ann, text: '/imagine a cat' }) });
      expect(refused.status).toBe(401);
      expect(await pg.atelier.store.listJobs({})).toHaveLength(0);
      expect((await fetch(`${base}/`)).status).toBe(200);
      expect((await fetch(`${base}/assets/app.js`)).status).toBe(200);
    });
  });
});

describe('the playground API', () => {
  let pg: Playground;
  beforeAll(async () => {
    pg = await startPlayground({}, [previewingProvider]);
  });
  afterAll(() => pg?.stop());

  it('without a token trusts only this machine: no other sites, no rebound host names, JSON only', async () => {
    const text = JSON.stringify({ user: ann, text: '/imagine a stolen cat' });
    const port = new URL(pg.url).port;
    const crossSite = await fetch(`${pg.url}/api/command`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: text });
    expect(crossSite.status).toBe(403);
    // A plain-text POST is what a cross-site form can send without a preflight.
    expect((await fetch(`${pg.url}/api/command`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text })).status).toBe(415);
    const rebound = await rawGet(port, '/api/commands', 'evil.example:' + port);
    expect(rebound).toBe(403);
    expect(await rawGet(port, '/api/commands', `localhost:${port}`)).toBe(200);
    const sameOrigin = await fetch(`${pg.url}/api/command`, { method: 'POST', headers: { 'content-type': 'application/json', origin: pg.url, ...(await as(pg, ann)).headers }, body: JSON.stringify({ user: ann, text: '/queue' }) });
    expect(sameOrigin.status).toBe(200);
    expect(await pg.atelier.store.listJobs({})).toHaveLength(0);
  });

  it('serves the page with a strict content security policy and only the files that exist', async () => {
    const page = await fetch(`${pg.url}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(await page.text()).toMatch(/<script type="module" src="\/assets\/app.js">/);
    expect((await fetch(`${pg.url}/assets/style.css`)).headers.get('content-type')).toMatch(/text\/css/);
    expect((await fetch(`${pg.url}/assets/..%2Fapi.ts`)).status).toBe(404);
    expect((await fetch(`${pg.url}/assets/nope.js`)).status).toBe(404);
  });

  it('lists commands with their options for completion', async () => {
    const { commands, promptFlags } = (await (await fetch(`${pg.url}/api/commands`)).json()) as {
      commands: { name: string; positional?: string; options: { name: string; enum?: string[] }[] }[];
      promptFlags: { name: string }[];
    };
    expect(commands.map((c) => c.name)).toEqual(expect.arrayContaining(['imagine', 'settings', 'queue', 'info', 'cancel', 'help']));
    const imagine = commands.find((c) => c.name === 'imagine')!;
    expect(imagine.positional).toBe('prompt');
    expect(imagine.options.find((o) => o.name === 'format')?.enum).toContain('16:9');
    expect(promptFlags.map((f) => f.name)).toEqual(expect.arrayContaining(['ar', 'no', 'seed']));
    // The playground has room for every option: the image weight and stylize are typed options here, and /help says so.
    expect(imagine.options.map((o) => o.name)).toEqual(expect.arrayContaining(['iw', 'stylize']));
    const { data } = await post(pg, '/api/command', { user: ann, text: '/help' });
    if (data.type !== 'text') throw new Error(`expected text, got ${JSON.stringify(data)}`);
    const lines = data.text.split('\n');
    const at = lines.findIndex((l) => l.includes('(provider:local)'));
    const options = lines.slice(at + 1).find((l) => l.trim().startsWith('options:'))!.split(/[:,]\s*/);
    expect(options).toEqual(expect.arrayContaining(['stylize', 'iw']));
    expect(lines.some((l) => l.includes('as flags'))).toBe(false);
  });

  it('bad input answers with what to change and queues nothing', async () => {
    const cases: [string, RegExp][] = [
      ['/imagin a cat', /Unknown command "\/imagin"\. Did you mean \/imagine/],
      ['/imagine a cat --count 99', /count/],
      ['/imagine a cat --bogus 3', /--bogus/],
      ['/imagine a cat --ar 16x9', /W:H/],
      ['/imagine', /prompt/],
      ['a cat', /start with "\/"/],
    ];
    for (const [text, message] of cases) {
      const { status, data } = await post(pg, '/api/command', { user: ann, text });
      expect(status, text).toBe(400);
      expect(data.error?.message, text).toMatch(message);
    }
    expect((await post(pg, '/api/command', { user: { id: 'x', name: '' }, text: '/imagine a cat' })).status).toBe(400);
    expect((await post(pg, '/api/press', { user: ann, id: 'a:reroll:0:../../etc' })).status).toBe(400);
    expect(await pg.atelier.store.listJobs({})).toHaveLength(0);
  });

  it('runs /imagine into the shared channel; images download full size; ℹ️ is for the presser only', async () => {
    const { status, data } = await post(pg, '/api/command', { user: ann, text: '/imagine a paper boat on a pond --ar 4:5 --count 2 --seed 11' });
    expect(status).toBe(200);
    if (data.type !== 'job') throw new Error(`expected a job, got ${data.type}`);
    const first: JobMessage = data.message;
    expect(first.attribution).toBe('by Ann');
    expect(first.buttons.flat().map((b) => b.kind)).toEqual(['cancel']);
    const job = await pg.atelier.getJob(first.id);
    expect(job?.where).toEqual({ platform: 'web', channelId: 'playground' });
    expect(job?.request.aspectRatio).toBe('4:5');

    await finished(pg, first.id);
    const done = (await pg.atelier.getJob(first.id))!;
    expect(done.state).toBe('succeeded');
    const imageId = done.result!.imageIds[1]!;
    const full = await fetch(`${pg.url}/api/images/${imageId}`);
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toMatch(/^image\//);
    expect(full.headers.get('content-disposition')).toBeNull();
    const download = await fetch(`${pg.url}/api/images/${imageId}?download=1`);
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="atelier-${done.id}-2.png"`);
    expect((await download.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    expect((await fetch(`${pg.url}/api/images/nope`)).status).toBe(404);
    expect((await fetch(`${pg.url}/api/images/%E0%A4%A`)).status).toBe(404);

    const details = await post(pg, '/api/press', { user: bob, id: `a:details:0:${done.id}` });
    expect(details.data).toMatchObject({ type: 'text', ephemeral: true });
    expect(details.data.type === 'text' && details.data.text).toMatch(/Seed: 11/);

    const remix = await post(pg, '/api/press', { user: bob, id: `a:remix:0:${done.id}` });
    expect(remix.data).toEqual({ type: 'remix', jobId: done.id, prompt: 'a paper boat on a pond --ar 4:5 --seed 11' });
    const empty = await post(pg, '/api/remix', { user: bob, jobId: done.id, prompt: '  ' });
    expect(empty.status).toBe(400);

    const refused = await post(pg, '/api/press', { user: bob, id: `a:delete:0:${done.id}` });
    expect(refused.status).toBe(403);
    expect(refused.data.error?.message).toMatch(/Only Ann/);
  });

  it('a moderator (the page\'s switch) may change channel settings and delete others\' jobs; others may not', async () => {
    const mod: Person = { name: 'Mo', moderator: true };
    const refused = await post(pg, '/api/command', { user: bob, text: '/settings --scope channel --buttons owner' });
    expect(refused.status).toBe(403);
    expect(refused.data.error?.message).toMatch(/Only visitors who ticked "moderator" may change this channel's settings/);
    const saved = await post(pg, '/api/command', { user: mod, text: '/settings --scope channel --buttons anyone' });
    expect(saved.status).toBe(200);
    expect(saved.data).toMatchObject({ type: 'text', ephemeral: true });
    expect(await pg.atelier.getSettings({ kind: 'channel', platform: 'web', id: 'playground' })).toMatchObject({ buttons: 'anyone' });

    const { data } = await post(pg, '/api/command', { user: ann, text: '/imagine a moderated meadow --count 1' });
    if (data.type !== 'job') throw new Error('expected a job');
    await finished(pg, data.message.id);
    expect((await post(pg, '/api/press', { user: mod, id: `a:delete:0:${data.message.id}` })).status).toBe(200);
    expect(await pg.atelier.getJob(data.message.id)).toBeUndefined();
  });

  it('a private job and its images are visible to its owner only', async () => {
    const { data } = await post(pg, '/api/command', { user: ann, text: '/imagine a secret garden --private --count 1' });
    if (data.type !== 'job') throw new Error('expected a job');
    expect(data.message.private).toBe(true);
    await finished(pg, data.message.id);
    const imageId = (await pg.atelier.getJob(data.message.id))!.result!.imageIds[0]!;
    expect((await fetch(`${pg.url}/api/images/${imageId}`, await as(pg, bob))).status).toBe(404);
    expect((await fetch(`${pg.url}/api/images/${imageId}`)).status).toBe(404);
    expect((await fetch(`${pg.url}/api/images/${imageId}`, await as(pg, ann))).status).toBe(200);
  });

  it('serves a running job\'s newest preview, and ⏹️ by its owner cancels it', async () => {
    const { data } = await post(pg, '/api/command', { user: bob, text: '/imagine a slow sunrise --provider previewing' });
    if (data.type !== 'job') throw new Error('expected a job');
    const id = data.message.id;
    // The first preview may already be stored by the time we listen, so the store is asked too.
    const withPreview = await new Promise<JobMessage>((resolve) => {
      const check = (job: Job | undefined) => {
        if (job?.id === id && job.state === 'running' && job.progress.previewKey) {
          off();
          resolve(renderRunning(job));
        }
      };
      const off = pg.atelier.events.subscribe((e) => check(e.job));
      void pg.atelier.getJob(id).then(check);
    });
    expect(withPreview.previewUrl).toMatch(new RegExp(`^/api/previews/${id}\\?v=\\d+$`));
    const res = await fetch(`${pg.url}${withPreview.previewUrl}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\/(png|jpeg|webp)$/);
    expect((await fetch(`${pg.url}/api/previews/nope`)).status).toBe(404);

    expect((await post(pg, '/api/press', { user: ann, id: `a:cancel:0:${id}` })).status).toBe(403);
    const canceled = await post(pg, '/api/press', { user: bob, id: `a:cancel:0:${id}` });
    expect(canceled.status).toBe(200);
    await finished(pg, id);
    expect((await pg.atelier.getJob(id))?.state).toBe('canceled');
  });

  it('the feed sends each person the channel so far, without the private jobs of others; it needs a session', async () => {
    expect((await fetch(`${pg.url}/api/events`)).status).toBe(401);
    const abort = new AbortController();
    const res = await fetch(`${pg.url}/api/events`, { ...(await as(pg, bob)), signal: abort.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('"type":"hello"')) text += (await reader.read()).value ?? '';
    // Bob's history has Ann's public job, not her private one.
    expect(text).toContain('a paper boat on a pond');
    expect(text).not.toContain('a secret garden');
    abort.abort();
  });
});

describe('the playground: who you are is the session the server issued', () => {
  let pg: Playground;
  beforeAll(async () => {
    pg = await startPlayground({}, [previewingProvider]);
  });
  afterAll(() => pg?.stop());

  /** The first `hello` of the feed as this request sees it. */
  async function hello(path: string, init: RequestInit = {}): Promise<string> {
    const abort = new AbortController();
    const res = await fetch(`${pg.url}${path}`, { ...init, signal: abort.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('"type":"hello"') || !text.includes('\n\n', text.indexOf('"type":"hello"'))) text += (await reader.read()).value ?? '';
    abort.abort();
    return text;
  }

  it('a visitor who knows another person\'s id reads none of their private jobs, images or previews', async () => {
    // Ann's id is public: it is on every job of hers that the channel sees.
    const open = await post(pg, '/api/command', { user: ann, text: '/imagine a public kite --count 1' });
    if (open.data.type !== 'job') throw new Error('expected a job');
    const annId = open.data.message.owner.id;
    expect(annId).toBe((await sessionOf(pg, ann)).id);
    const secret = await post(pg, '/api/command', { user: ann, text: '/imagine a private diary --private --count 1' });
    if (secret.data.type !== 'job') throw new Error('expected a job');
    await finished(pg, secret.data.message.id);
    const job = (await pg.atelier.getJob(secret.data.message.id))!;
    const imageId = job.result!.imageIds[0]!;

    // What used to be enough: Ann's id in the query or the body.
    expect(await hello(`/api/events?user=${annId}`, await as(pg, bob))).not.toContain('a private diary');
    expect((await fetch(`${pg.url}/api/events?user=${annId}`)).status).toBe(401);
    expect((await fetch(`${pg.url}/api/images/${imageId}?user=${annId}`, await as(pg, bob))).status).toBe(404);
    expect((await fetch(`${pg.url}/api/images/${imageId}?user=${annId}`)).status).toBe(404);
    const forged = { ...bob, id: annId };
    for (const kind of ['details', 'remix', 'upscale']) {
      const r = await post(pg, '/api/press', { user: forged, id: `a:${kind}:1:${job.id}` });
      expect(r.status, kind).toBe(404);
      expect(JSON.stringify(r.data)).not.toContain('a private diary');
    }
    expect((await pg.atelier.store.listJobs({ ownerId: (await sessionOf(pg, bob)).id })).length).toBe(0);
    // A cookie made up by the visitor is a new, empty person, not Ann.
    const madeUp = { headers: { cookie: `atelier_session=${'A'.repeat(43)}` } };
    expect(await hello('/api/events', madeUp)).not.toContain('a private diary');

    // Ann's own session sees all of it.
    expect(await hello('/api/events', await as(pg, ann))).toContain('a private diary');
    expect((await fetch(`${pg.url}/api/images/${imageId}`, await as(pg, ann))).status).toBe(200);
    const details = await post(pg, '/api/press', { user: ann, id: `a:details:0:${job.id}` });
    expect(details.data.type === 'text' && details.data.text).toMatch(/a private diary/);
  });

  it('a running private job\'s preview goes to its owner\'s session only', async () => {
    const { data } = await post(pg, '/api/command', { user: ann, text: '/imagine a hidden sunrise --private --provider previewing' });
    if (data.type !== 'job') throw new Error('expected a job');
    const id = data.message.id;
    await new Promise<void>((resolve) => {
      const check = (job: Job | undefined) => {
        if (job?.id === id && job.progress.previewKey) {
          off();
          resolve();
        }
      };
      const off = pg.atelier.events.subscribe((e) => check(e.job));
      void pg.atelier.getJob(id).then(check);
    });
    expect((await fetch(`${pg.url}/api/previews/${id}?user=${(await sessionOf(pg, ann)).id}`, await as(pg, bob))).status).toBe(404);
    expect((await fetch(`${pg.url}/api/previews/${id}`, await as(pg, ann))).status).toBe(200);
    expect((await post(pg, '/api/press', { user: ann, id: `a:cancel:0:${id}` })).status).toBe(200);
    await finished(pg, id);
  });

  it('the page load issues the session once (HttpOnly) and keeps it on later loads', async () => {
    const first = await fetch(`${pg.url}/`);
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^atelier_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax/);
    const again = await fetch(`${pg.url}/`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(again.headers.get('set-cookie')).toBeNull();
    const who = await fetch(`${pg.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: cookie.split(';')[0]! }, body: '{}' });
    expect(who.headers.get('set-cookie')).toBeNull();
    expect(((await who.json()) as { user: { id: string } }).user.id).toMatch(/^w-[\w-]{22}$/);
    // Without a session nothing acts on anyone's behalf.
    const none = await fetch(`${pg.url}/api/command`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: { name: 'Ann' }, text: '/imagine a cat' }) });
    expect(none.status).toBe(401);
    expect(((await none.json()) as Answer).error?.code).toBe('NO_SESSION');
  });
});
