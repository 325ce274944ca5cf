import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../../src/core/job.ts';
import { BOT_TOKEN, blockActionBody, messageShortcutBody, postSigned, slashCommandBody, viewSubmissionBody, type FakeUser, type SlackMessage } from '../../fakes/slack/slack-fake.ts';
import type { SlackFileObject } from '../../fakes/slack/files-host.ts';
import { eventually, startHarness, type Harness } from './harness.ts';

/** A loopback picture host that is not Slack's: it must never see the bot token. */
class PictureHost {
  readonly auth: (string | undefined)[] = [];
  private server: Server | undefined;
  url = '';
  /** `tls`: serve https with the loopback test certificate (test/fixtures/tls), as a public picture host would. */
  constructor(
    private readonly png: Uint8Array,
    private readonly tls = false,
  ) {}
  async listen(): Promise<void> {
    const answer = (req: { headers: { authorization?: string } }, res: { writeHead(s: number, h: Record<string, string>): unknown; end(b: Uint8Array): unknown }) => {
      this.auth.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(this.png);
    };
    const fixture = (name: string) => readFileSync(new URL(`../../fixtures/tls/${name}`, import.meta.url));
    this.server = this.tls ? createTlsServer({ key: fixture('loopback.key'), cert: fixture('loopback.crt') }, answer) : createServer(answer);
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `${this.tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }
}

const noisy = (w: number, h: number) => sharp(randomBytes(w * h * 3), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer().then((b) => new Uint8Array(b));

let h: Harness;
let other: PictureHost;
let secure: PictureHost;
let photo: Uint8Array;
/** Where PUBLIC_URL says this bot is reached: its signed links to stored pictures start here. */
const PUBLIC_URL = 'https://atelier.example';
const tlsCheck = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
beforeAll(async () => {
  photo = await noisy(48, 32);
  other = new PictureHost(photo);
  await other.listen();
  secure = new PictureHost(photo, true);
  await secure.listen();
  // The fetcher checks certificates, and a loopback host cannot have a public one: this file's worker process
  // accepts the test certificate (restored after). Nothing else here speaks TLS.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  // 1 MiB makes "too large" cheap to provoke; the other hosts are public picture hosts in this test's world.
  h = await startHarness({ IMAGE_INPUT_MAX_MB: '1', IMAGE_FETCH_ALLOW_ORIGINS: `${other.url},${secure.url}`, PUBLIC_URL });
});
afterAll(async () => {
  await h?.stop();
  await other?.close();
  await secure?.close();
  if (tlsCheck === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  else process.env.NODE_TLS_REJECT_UNAUTHORIZED = tlsCheck;
});

const jobs = () => h.app.atelier.store.listJobs({});
const textOf = (m: SlackMessage) => [m.text ?? '', ...(m.blocks ?? []).flatMap((b) => [b.text?.text ?? '', ...(b.elements ?? []).map((e) => (typeof e.text === 'string' ? e.text : (e.text?.text ?? '')))])].join('\n');

interface OpenedView {
  id: string;
  callback_id: string;
  private_metadata: string;
  blocks: { type: string; block_id: string; optional?: boolean; elements?: { text?: string }[]; element?: { type: string; filetypes?: string[]; max_files?: number } }[];
}

async function command(name: string, text: string, user: FakeUser = h.fake.users.alice) {
  const response = h.fake.responseUrl();
  const before = h.fake.proxy.callsOf('views.open').length;
  const res = await postSigned(h.eventsUrl, slashCommandBody({ command: name, text, user, teamId: h.fake.teamId, channel: h.fake.channel, triggerId: await h.fake.triggerFor(user.id), responseUrl: response.url }));
  return { res, response, before };
}

const openedAfter = (before: number) =>
  eventually(async () => h.fake.proxy.callsOf('views.open').slice(before).find((c) => c.answer.ok), Boolean, 'views.open').then((c) => c!.answer.view as OpenedView);

const files = (list: SlackFileObject[]) => ({ type: 'file_input', files: list });
const text = (value: string | null) => ({ type: 'plain_text_input', value });

async function submit(view: OpenedView, values: Record<string, Record<string, unknown>>, user: FakeUser = h.fake.users.alice) {
  const state = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { [k]: v }]));
  const res = await postSigned(h.eventsUrl, viewSubmissionBody({ user, teamId: h.fake.teamId, view, values: state }));
  expect(res.status).toBe(200);
  return res.body ? (JSON.parse(res.body) as { response_action?: string; errors?: Record<string, string> }) : undefined;
}

/** /imagine's form, submitted with these files and this prompt. */
async function imagineWith(prompt: string, list: SlackFileObject[]) {
  const { before } = await command('/imagine', '');
  const view = await openedAfter(before);
  return submit(view, { prompt: text(prompt), images: files(list), provider: { type: 'static_select', selected_option: { value: 'local', text: { type: 'plain_text', text: 'local' } } } });
}

const ephemeralTo = (user: FakeUser, pattern: RegExp) =>
  eventually(async () => h.fake.proxy.callsOf('chat.postEphemeral').find((c) => c.args.user === user.id && pattern.test(String(c.args.text))), Boolean, `ephemeral ${pattern}`);

const doneMessage = (prompt: string, also: RegExp = /./) =>
  eventually(async () => (await h.fake.history()).find((m) => textOf(m).includes(prompt) && /Done in/.test(textOf(m)) && also.test(textOf(m))), Boolean, `result of ${prompt}`).then((m) => m!);

/** The image elements beside "Started from…" in a job's message. */
const thumbsOf = (m: SlackMessage) =>
  ((m.blocks?.find((b) => b.block_id === 'inputs')?.elements ?? []) as { type: string; image_url?: string; slack_file?: { url: string }; alt_text?: string }[]).filter((e) => e.type === 'image');

const buttonOf = (m: SlackMessage, label: string) => {
  const all = (m.blocks ?? []).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
  const hit = all.find((e) => (typeof e.text === 'string' ? e.text : e.text?.text)?.endsWith(label));
  if (!hit?.action_id) throw new Error(`no ${label} on the message`);
  return hit.action_id;
};

/** Presses a button of a job's message and waits for the finished child it makes (its byline says what it is). */
async function pressForChild(parent: SlackMessage, label: string, prompt: string, byline: RegExp, user: FakeUser = h.fake.users.alice) {
  const res = await postSigned(h.eventsUrl, blockActionBody({ user, teamId: h.fake.teamId, channel: h.fake.channel, messageTs: parent.ts, actionId: buttonOf(parent, label), triggerId: await h.fake.triggerFor(user.id), responseUrl: h.fake.responseUrl().url }));
  expect(res.status).toBe(200);
  return eventually(async () => (await h.fake.history()).find((m) => m.ts !== parent.ts && textOf(m).includes(prompt) && byline.test(textOf(m)) && /Done in/.test(textOf(m))), Boolean, `${label} of ${prompt}`).then((m) => m!);
}

describe('pictures in the /imagine form', () => {
  it('offers a file input for pictures right after the prompt, as Slack allows it (png, jpg, jpeg, webp, gif; as many as /imagine takes)', async () => {
    const { before } = await command('/imagine', '');
    const view = await openedAfter(before);
    const at = view.blocks.findIndex((b) => b.block_id === 'images');
    expect(view.blocks[at - 1]?.block_id).toBe('prompt');
    expect(view.blocks[at]).toMatchObject({ type: 'input', optional: true, element: { type: 'file_input', filetypes: ['png', 'jpg', 'jpeg', 'webp', 'gif'], max_files: 3 } });
    expect(h.fake.proxy.violations).toEqual([]);
  });

  it('a file uploaded in the form starts the job: fetched with the bot token from Slack\'s file host, named and shown small in the message', async () => {
    const file = h.fake.files.add(h.fake.users.alice.id, { name: 'harbour.png', bytes: photo });
    expect(await imagineWith('a watercolour of this harbour', [file])).toBeUndefined();
    const done = await doneMessage('a watercolour of this harbour');
    expect(textOf(done)).toContain('Started from 1 picture: harbour.png');
    const inputs = done.blocks?.find((b) => b.block_id === 'inputs') as unknown as { elements: { type: string; slack_file?: { url: string } }[] };
    expect(inputs.elements[0]).toMatchObject({ type: 'image', slack_file: { url: file.url_private } });
    const job = (await jobs()).find((j) => j.request.prompt === 'a watercolour of this harbour')!;
    expect(job.inputs?.map((i) => i.source)).toEqual(['harbour.png']);
    const fetched = h.fake.files.requests.filter((r) => r.path.includes(file.id));
    expect(fetched).toEqual([expect.objectContaining({ status: 200, authorization: `Bearer ${BOT_TOKEN}` })]);
    expect(h.fake.proxy.violations).toEqual([]);
  });

  it('a file Slack says is not a picture keeps the form open with the error under the file input; nothing queued', async () => {
    const before = (await jobs()).length;
    const pdf = h.fake.files.add(h.fake.users.alice.id, { name: 'notes.pdf', bytes: new TextEncoder().encode('%PDF-1.4 not a picture') });
    const answer = await imagineWith('a lighthouse from my notes', [pdf]);
    expect(answer?.response_action).toBe('errors');
    expect(Object.keys(answer?.errors ?? {})).toEqual(['images']);
    expect(answer?.errors?.images).toMatch(/notes\.pdf is not a picture.*PNG, JPEG, WebP or GIF/);
    expect((await jobs()).length).toBe(before);
  });

  it('a file that only claims to be a picture: a private error saying what to send, nothing queued', async () => {
    const before = (await jobs()).length;
    const fake = h.fake.files.add(h.fake.users.bob.id, { name: 'diagram.png', bytes: new TextEncoder().encode('these are my notes, not a picture') });
    expect(await imagineWith('a diagram redrawn', [fake])).toBeUndefined();
    const said = await ephemeralTo(h.fake.users.alice, /diagram\.png is not a picture we can read/);
    expect(String(said!.args.text)).toMatch(/PNG, JPEG, WebP or GIF/);
    expect((await jobs()).length).toBe(before);
  });

  it('a picture over the size limit: a private error naming the limit, nothing queued', async () => {
    const before = (await jobs()).length;
    const big = h.fake.files.add(h.fake.users.alice.id, { name: 'huge.png', bytes: await noisy(720, 720) });
    expect(big.size).toBeGreaterThan(1024 * 1024);
    expect(await imagineWith('a huge harbour', [big])).toBeUndefined();
    // The fetcher stops reading at the cap and names the limit (it knows the address, not the file's name).
    await ephemeralTo(h.fake.users.alice, /larger than the 1 MiB limit/);
    expect((await jobs()).length).toBe(before);
  });
});

describe('the bot token goes to Slack\'s file host only', () => {
  it('a picture URL typed in the prompt is fetched without it', async () => {
    const auth = other.auth.length;
    const { res } = await command('/imagine', `${other.url}/cat.png a cat in a teacup --provider local`);
    expect(res.status).toBe(200);
    await doneMessage('a cat in a teacup');
    expect(other.auth.length).toBeGreaterThan(auth);
    expect(other.auth.slice(auth).every((a) => a === undefined)).toBe(true);
  });

  it('a Slack file whose host redirects elsewhere: the token stays behind', async () => {
    const file = h.fake.files.add(h.fake.users.alice.id, { name: 'moved.png', bytes: photo });
    h.fake.files.redirects.set(file.id, `${other.url}/moved.png`);
    const auth = other.auth.length;
    expect(await imagineWith('a moved picture of a boat', [file])).toBeUndefined();
    await doneMessage('a moved picture of a boat');
    expect(h.fake.files.requests.find((r) => r.path.includes(file.id))?.authorization).toBe(`Bearer ${BOT_TOKEN}`);
    expect(other.auth.slice(auth)).toEqual([undefined]);
  });

  it('a Slack file link pasted into the prompt is refused, and Slack\'s host never sees the token for it', async () => {
    const file = h.fake.files.add(h.fake.users.bob.id, { name: 'private.png', bytes: photo });
    const before = (await jobs()).length;
    const { response } = await command('/imagine', `${file.url_private} a copy of bob's picture --provider local`);
    const answer = await eventually(async () => h.fake.proxy.responses.find((r) => r.id === response.id), Boolean, 'refusal');
    expect(String(answer!.body.text)).toMatch(/Slack file links|attach/i);
    expect(h.fake.files.requests.filter((r) => r.path.includes(file.id) && r.authorization)).toEqual([]);
    expect((await jobs()).length).toBe(before);
  });
});

describe('the "Imagine from this image" message shortcut', () => {
  const shortcut = async (message: { ts: string; user: string; files?: SlackFileObject[] }, user: FakeUser = h.fake.users.bob) => {
    const response = h.fake.responseUrl();
    const before = h.fake.proxy.callsOf('views.open').length;
    const res = await postSigned(
      h.eventsUrl,
      messageShortcutBody({ user, teamId: h.fake.teamId, channel: h.fake.channel, callbackId: 'imagine_from_image', triggerId: await h.fake.triggerFor(user.id), responseUrl: response.url, message }),
    );
    expect(res.status).toBe(200);
    return { response, before };
  };

  it('opens the /imagine form with the message\'s picture chosen; the job starts from it', async () => {
    const file = h.fake.files.add(h.fake.users.alice.id, { name: 'sunset.png', bytes: photo });
    const { before } = await shortcut({ ts: '1700000000.000100', user: h.fake.users.alice.id, files: [file] });
    const view = await openedAfter(before);
    expect(view.callback_id).toBe('atelier:imagine');
    expect(view.blocks.find((b) => b.block_id === 'given')?.elements?.[0]?.text).toMatch(/Starting from this picture: sunset\.png/);
    expect(await submit(view, { prompt: text('the same sunset in winter'), images: files([]) }, h.fake.users.bob)).toBeUndefined();
    const done = await doneMessage('the same sunset in winter');
    expect(textOf(done)).toContain('Started from 1 picture: sunset.png');
    const job = (await jobs()).find((j: Job) => j.request.prompt === 'the same sunset in winter')!;
    expect(job.owner.userId).toBe(h.fake.users.bob.id);
    expect(h.fake.files.requests.find((r) => r.path.includes(file.id))?.authorization).toBe(`Bearer ${BOT_TOKEN}`);
  });

  it('on a message without a picture: a private answer, no form, nothing queued', async () => {
    const before = (await jobs()).length;
    const pdf = h.fake.files.add(h.fake.users.alice.id, { name: 'minutes.pdf', bytes: new TextEncoder().encode('%PDF') });
    const { response, before: views } = await shortcut({ ts: '1700000000.000200', user: h.fake.users.alice.id, files: [pdf] });
    const answer = await eventually(async () => h.fake.proxy.responses.find((r) => r.id === response.id), Boolean, 'answer');
    expect(answer!.body.response_type).toBe('ephemeral');
    expect(String(answer!.body.text)).toMatch(/minutes\.pdf is not a picture/);
    expect(h.fake.proxy.callsOf('views.open').length).toBe(views);
    expect((await jobs()).length).toBe(before);
  });
});

describe('/blend', () => {
  it('opens a form with a required file input; fewer than two pictures keep it open', async () => {
    const { before } = await command('/blend', '');
    const view = await openedAfter(before);
    expect(view.callback_id).toBe('atelier:blend');
    expect(view.blocks.find((b) => b.block_id === 'images')).toMatchObject({ optional: false, element: { type: 'file_input', max_files: 5 } });
    const one = h.fake.files.add(h.fake.users.alice.id, { name: 'one.png', bytes: photo });
    const answer = await submit(view, { images: files([one]), dimensions: { type: 'static_select', selected_option: null } });
    expect(answer?.errors?.images).toMatch(/at least two pictures/);
  });

  it('what is typed after /blend fills the form in; a wrong value is refused in the answer, with the usage', async () => {
    const { before } = await command('/blend', '--dimensions landscape');
    const view = await openedAfter(before);
    const dims = view.blocks.find((b) => b.block_id === 'dimensions') as unknown as { element: { initial_option?: { value: string } } };
    expect(dims.element.initial_option?.value).toBe('landscape');
    const { res } = await command('/blend', '--dimensions round');
    const body = JSON.parse(res.body) as { response_type: string; text: string };
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toMatch(/dimensions[\s\S]*Usage: \/blend/);
  });

  it('blends two pictures in the chosen dimensions', async () => {
    const { before } = await command('/blend', '');
    const view = await openedAfter(before);
    const a = h.fake.files.add(h.fake.users.alice.id, { name: 'a.png', bytes: photo });
    const b = h.fake.files.add(h.fake.users.alice.id, { name: 'b.png', bytes: await noisy(32, 32) });
    expect(await submit(view, { images: files([a, b]), dimensions: { type: 'static_select', selected_option: { value: 'landscape', text: { type: 'plain_text', text: 'Landscape (3:2)' } } } })).toBeUndefined();
    const job = await eventually(async () => (await jobs()).find((j) => j.request.blend && j.inputs?.length === 2), (j) => j?.state === 'succeeded', 'blend');
    expect(job!.request.aspectRatio).toBe('3:2');
    expect(job!.inputs?.map((i) => i.source)).toEqual(['a.png', 'b.png']);
  });
});

describe('Custom Zoom and Vary (Region) forms', () => {
  const press = async (ts: string, actionId: string, user: FakeUser = h.fake.users.alice) => {
    const before = h.fake.proxy.callsOf('views.open').length;
    const res = await postSigned(h.eventsUrl, blockActionBody({ user, teamId: h.fake.teamId, channel: h.fake.channel, messageTs: ts, actionId, triggerId: await h.fake.triggerFor(user.id), responseUrl: h.fake.responseUrl().url }));
    expect(res.status).toBe(200);
    return before;
  };
  it('a factor or region out of range keeps the form open with the error under it; a valid one makes the job', async () => {
    await command('/imagine', 'a lighthouse on a cliff --provider local --count 1');
    const grid = await doneMessage('a lighthouse on a cliff');
    await press(grid.ts, buttonOf(grid, 'U1'));
    const up = await eventually(async () => (await h.fake.history()).find((m) => textOf(m).includes('a lighthouse on a cliff') && /Upscale of image 1/.test(textOf(m)) && /Done in/.test(textOf(m))), Boolean, 'upscale').then((m) => m!);

    const zoomForm = await openedAfter(await press(up.ts, buttonOf(up, 'Custom Zoom')));
    expect(zoomForm.callback_id).toBe('atelier:zoom');
    const tooFar = await submit(zoomForm, { zoom: text('3'), prompt: text('a lighthouse on a cliff') });
    expect(tooFar?.errors?.zoom).toMatch(/1\.1 to 2/);
    expect(await submit(zoomForm, { zoom: text('1.5x'), prompt: text('a lighthouse on a cliff') })).toBeUndefined();
    const zoomed = await eventually(async () => (await jobs()).find((j) => j.action.kind === 'zoom' && j.request.prompt === 'a lighthouse on a cliff'), Boolean, 'zoom job');
    expect(zoomed!.action).toMatchObject({ kind: 'zoom', index: 1, factor: 1.5 });
    // The prompt was left as it was: the job keeps the parent's words (no prompt in the press).
    expect((zoomed!.action as { prompt?: string }).prompt).toBeUndefined();

    const regionForm = await openedAfter(await press(up.ts, buttonOf(up, 'Vary (Region)')));
    const outside = await submit(regionForm, { region: text('60, 60, 50, 50'), prompt: text('a lighthouse on a cliff') });
    expect(outside?.errors?.region).toMatch(/inside the picture/);
    expect(await submit(regionForm, { region: text('25, 25, 50, 50'), prompt: text('a red lighthouse on a cliff') })).toBeUndefined();
    const region = await eventually(async () => (await jobs()).find((j) => j.action.kind === 'region'), Boolean, 'region job');
    expect(region!.action).toMatchObject({ kind: 'region', index: 1, region: { x: 0.25, y: 0.25, width: 0.5, height: 0.5 }, prompt: 'a red lighthouse on a cliff' });
  });
});

describe('thumbnails Slack will not show', () => {
  it('the job message goes without them and still names the pictures', async () => {
    h.fake.proxy.failNext('chat.postMessage', { error: 'invalid_blocks', when: (args) => String(args.blocks ?? '').includes('slack_file') });
    const file = h.fake.files.add(h.fake.users.alice.id, { name: 'unshown.png', bytes: photo });
    expect(await imagineWith('a picture slack will not show', [file])).toBeUndefined();
    const done = await doneMessage('a picture slack will not show');
    expect(textOf(done)).toContain('Started from 1 picture: unshown.png');
    expect(JSON.stringify(done.blocks)).not.toContain(file.url_private);
  });
});

describe('thumbnails of the pictures a job started from, beyond the user\'s Slack files', () => {
  it('a public https URL typed in the prompt: Slack shows the picture from that address, and so does every reroll of the job', async () => {
    const url = `${secure.url}/fox.png`;
    await command('/imagine', `${url} a fox in the snow --provider local --count 1`);
    const done = await doneMessage('a fox in the snow');
    expect(textOf(done)).toContain(`Started from 1 picture: ${url}`);
    expect(thumbsOf(done)).toEqual([{ type: 'image', image_url: url, alt_text: url }]);
    const job = (await jobs()).find((j) => j.request.prompt === 'a fox in the snow' && j.action.kind === 'imagine')!;
    expect(job.inputs).toEqual([{ imageId: `${job.id}-in1`, source: url, url }]);

    // The reroll has its own copy of the picture, and keeps where it came from.
    const reroll = await pressForChild(done, 'Reroll', 'a fox in the snow', /Reroll by/);
    expect(thumbsOf(reroll)).toEqual([{ type: 'image', image_url: url, alt_text: url }]);
    const child = (await jobs()).find((j) => j.action.kind === 'reroll' && j.request.prompt === 'a fox in the snow')!;
    expect(child.inputs).toEqual([{ imageId: `${child.id}-in1`, source: url, url }]);
    expect(h.fake.proxy.violations).toEqual([]);
  });

  it('a copy with no Slack file or https URL behind it (a reroll of a Slack file, an http link): shown through the signed public link, which serves the stored picture', async () => {
    const file = h.fake.files.add(h.fake.users.alice.id, { name: 'lake.png', bytes: photo });
    expect(await imagineWith('a lake at dawn', [file])).toBeUndefined();
    const done = await doneMessage('a lake at dawn');
    expect(thumbsOf(done)).toEqual([{ type: 'image', slack_file: { url: file.url_private }, alt_text: 'lake.png' }]);

    const reroll = await pressForChild(done, 'Reroll', 'a lake at dawn', /Reroll by/);
    expect(textOf(reroll)).toContain('Started from 1 picture: lake.png');
    const [thumb] = thumbsOf(reroll);
    expect(thumb).toMatchObject({ type: 'image', alt_text: 'lake.png' });
    expect(thumb!.image_url).toMatch(/^https:\/\/atelier\.example\/files\/[A-Za-z0-9_.-]+\.png$/);
    // The link is this bot's own: the same path on its server gives the child's stored copy.
    const served = await fetch(`${h.app.server.url}${new URL(thumb!.image_url!).pathname}`);
    expect(served.status).toBe(200);
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(photo);

    // A typed http link is not one Slack is given to fetch: the stored copy goes by the signed link too.
    await command('/imagine', `${other.url}/owl.png an owl at night --provider local --count 1`);
    const owl = await doneMessage('an owl at night');
    expect(thumbsOf(owl).map((t) => t.image_url)).toEqual([expect.stringMatching(/^https:\/\/atelier\.example\/files\//)]);
    expect(h.fake.proxy.violations).toEqual([]);
  });
});

describe('without PUBLIC_URL', () => {
  let bare: Harness;
  beforeAll(async () => {
    bare = await startHarness();
  });
  afterAll(async () => {
    await bare?.stop();
  });

  it('a reroll of a Slack file has no address Slack could fetch: no thumbnail, and the text still names the picture', async () => {
    const file = bare.fake.files.add(bare.fake.users.alice.id, { name: 'pier.png', bytes: photo });
    const { before } = await (async () => {
      const n = bare.fake.proxy.callsOf('views.open').length;
      await postSigned(bare.eventsUrl, slashCommandBody({ command: '/imagine', text: '', user: bare.fake.users.alice, teamId: bare.fake.teamId, channel: bare.fake.channel, triggerId: await bare.fake.triggerFor(bare.fake.users.alice.id), responseUrl: bare.fake.responseUrl().url }));
      return { before: n };
    })();
    const view = await eventually(async () => bare.fake.proxy.callsOf('views.open').slice(before).find((c) => c.answer.ok), Boolean, 'views.open').then((c) => c!.answer.view as OpenedView);
    const state = { prompt: { prompt: text('a pier in fog') }, images: { images: files([file]) }, provider: { provider: { type: 'static_select', selected_option: { value: 'local', text: { type: 'plain_text', text: 'local' } } } } };
    expect((await postSigned(bare.eventsUrl, viewSubmissionBody({ user: bare.fake.users.alice, teamId: bare.fake.teamId, view, values: state }))).status).toBe(200);
    const find = (also: RegExp) => eventually(async () => (await bare.fake.history()).find((m) => textOf(m).includes('a pier in fog') && /Done in/.test(textOf(m)) && also.test(textOf(m))), Boolean, `pier ${also}`).then((m) => m!);
    const done = await find(/^(?![\s\S]*Reroll by)/);
    expect(thumbsOf(done)).toEqual([{ type: 'image', slack_file: { url: file.url_private }, alt_text: 'pier.png' }]);
    const res = await postSigned(bare.eventsUrl, blockActionBody({ user: bare.fake.users.alice, teamId: bare.fake.teamId, channel: bare.fake.channel, messageTs: done.ts, actionId: buttonOf(done, 'Reroll'), triggerId: await bare.fake.triggerFor(bare.fake.users.alice.id), responseUrl: bare.fake.responseUrl().url }));
    expect(res.status).toBe(200);
    const reroll = await find(/Reroll by/);
    expect(textOf(reroll)).toContain('Started from 1 picture: pier.png');
    expect(thumbsOf(reroll)).toEqual([]);
    expect(bare.fake.proxy.violations).toEqual([]);
  });
});
