import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { APIAttachment } from 'discord-api-types/v10';
import { ChannelBudget } from '../../../src/platforms/discord/channel-budget.ts';
import { loadRef } from '../../../src/platforms/discord/message-ref.ts';
import { JobMessage } from '../../../src/platforms/discord/message-sink.ts';
import { createRest } from '../../../src/platforms/discord/rest.ts';
import { slashCommandWithFiles } from '../../fakes/discord/interactions.ts';
import type { FakeMessage } from '../../fakes/discord/fake-discord.ts';
import { alice, startHarness, type Harness } from './harness.ts';

/**
 * Bad pictures on Discord, through real interactions: each gets a clear private message saying what to change,
 * and nothing is queued. Oversize and a declared wrong type are refused from what Discord says about the file,
 * before it is fetched; the rest once fetched (the fetcher and the core's checks).
 */
describe('Discord: bad pictures give a clear ephemeral error and queue nothing', () => {
  let h: Harness;
  let redirector: Server;
  let redirectorUrl = '';
  let png: Uint8Array;

  beforeAll(async () => {
    // A picture host the operator allows (loopback, as every test server is) that sends one path to a private address.
    redirector = createServer((req, res) => {
      res.writeHead(302, { location: req.url === '/to-private' ? 'http://192.168.7.7/cat.png' : 'https://10.9.8.7/x.png' });
      res.end();
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', () => r()));
    redirectorUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
    h = await startHarness({ env: { IMAGE_INPUT_MAX_MB: '1', IMAGE_FETCH_ALLOW_ORIGINS: redirectorUrl } });
    png = new Uint8Array(await sharp({ create: { width: 48, height: 32, channels: 3, background: { r: 30, g: 90, b: 200 } } }).png().toBuffer());
  }, 30_000);
  afterAll(async () => {
    await h.close();
    await new Promise<void>((r) => redirector.close(() => r()));
  });

  const jobCount = async () => (await h.app.atelier.store.listJobs({})).length;

  /** Sends /imagine with `files` in its attachment options; returns the first answer and the private message alice got. */
  async function imagine(prompt: string, files: Record<string, APIAttachment> = {}): Promise<{ answerType: number; message: FakeMessage }> {
    const before = new Set(h.fake.messages.keys());
    const i = slashCommandWithFiles(h.fake.applicationId, alice, 'imagine', { prompt, provider: 'local' }, files, h.fake.attachmentLimit);
    const res = await h.fake.post(i);
    expect(res.status).toBe(200);
    const message = await h.waitFor((m) => !before.has(m.id) && m.ephemeral && !m.loading && m.content.length > 0, `the private answer to "${prompt}"`);
    expect(message.visibleTo).toBe(alice.id);
    return { answerType: Number(res.body?.type), message };
  }

  it('oversize: refused from the declared size, before anything is fetched', async () => {
    const before = await jobCount();
    const big = h.fake.hostAttachment({ name: 'huge.png', bytes: new Uint8Array(1536 * 1024), contentType: 'image/png' });
    const { answerType, message } = await imagine('a huge harbour', { image: big });
    expect(answerType).toBe(4);
    expect(message.content).toBe('huge.png is 1.5 MiB; pictures may be at most 1.0 MiB. Send a smaller one.');
    expect(h.fake.cdnRequests.some((r) => r.path.endsWith('/huge.png'))).toBe(false);
    expect(await jobCount()).toBe(before);
  });

  it('wrong type declared by Discord: refused before fetching, naming the types to send', async () => {
    const before = await jobCount();
    const pdf = h.fake.hostAttachment({ name: 'plan.pdf', bytes: new TextEncoder().encode('%PDF-1.4 not a picture'), contentType: 'application/pdf' });
    const { answerType, message } = await imagine('a harbour from my plan', { image: pdf });
    expect(answerType).toBe(4);
    expect(message.content).toBe('plan.pdf is application/pdf; send a PNG, JPEG, WebP or GIF.');
    expect(h.fake.cdnRequests.some((r) => r.path.endsWith('/plan.pdf'))).toBe(false);
    expect(await jobCount()).toBe(before);
  });

  it('wrong type found in the bytes (Discord declared none): a TIFF is refused once fetched, naming the types to send', async () => {
    const before = await jobCount();
    const tiff = new Uint8Array(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).tiff().toBuffer());
    const { message } = await imagine('a harbour in tiff', { image: h.fake.hostAttachment({ name: 'scan.tiff', bytes: tiff }) });
    // The core reads only the four types it takes; anything else, TIFF included, is "not a picture we can read".
    expect(message.content).toBe('scan.tiff is not a picture we can read: send a PNG, JPEG, WebP or GIF that opens in an image viewer.');
    expect(await jobCount()).toBe(before);
  });

  it('undecodable: a file called a PNG that is not one', async () => {
    const before = await jobCount();
    const junk = h.fake.hostAttachment({ name: 'broken.png', bytes: new TextEncoder().encode('\x89PNG but then nothing a decoder can use'), contentType: 'image/png' });
    const { message } = await imagine('a broken harbour', { image: junk });
    expect(message.content).toBe('broken.png is not a picture we can read: send a PNG, JPEG, WebP or GIF that opens in an image viewer.');
    expect(await jobCount()).toBe(before);
  });

  it('a private-range URL at the start of the prompt is never fetched', async () => {
    const before = await jobCount();
    const { message } = await imagine('https://10.0.0.7/cat.png a cat like this one');
    expect(message.content).toMatch(/^The picture link .*10\.0\.0\.7.* points at a private network address; use a public picture URL or attach the picture\.$/);
    expect(await jobCount()).toBe(before);
  });

  it('a URL that redirects to a private range is stopped at the redirect', async () => {
    const before = await jobCount();
    const { message } = await imagine(`${redirectorUrl}/to-private a cat like this one`);
    expect(message.content).toMatch(/redirects to .*192\.168\.7\.7.*, which points at a private network address; use a public picture URL or attach the picture\.$/);
    expect(await jobCount()).toBe(before);
  });

  it('an expired Discord CDN link: asked to attach again', async () => {
    const before = await jobCount();
    const old = h.fake.hostAttachment({ name: 'yesterday.png', bytes: png, contentType: 'image/png' });
    h.fake.expireAttachments();
    const { message } = await imagine('a harbour from yesterday', { image: old });
    expect(message.content).toBe('That Discord link has expired; attach the picture again.');
    expect(h.fake.cdnRequests.filter((r) => r.path.endsWith('/yesterday.png')).map((r) => r.status)).toEqual([404]);
    expect(await jobCount()).toBe(before);
  });

  it('a good attachment, for contrast, is fetched once and queued', async () => {
    const before = await jobCount();
    const fresh = h.fake.hostAttachment({ name: 'today.png', bytes: png, contentType: 'image/png' });
    const i = slashCommandWithFiles(h.fake.applicationId, alice, 'imagine', { prompt: 'a harbour from today', provider: 'local', count: 1 }, { image: fresh }, h.fake.attachmentLimit);
    expect((await h.fake.post(i)).body).toMatchObject({ type: 5 });
    const done = await h.waitFor((m) => m.content.includes('a harbour from today') && m.content.includes('Done in'), 'the result');
    expect(done.content).toContain('Started from 1 picture: today.png');
    expect(await jobCount()).toBe(before + 1);
  });

  it('the thumbnail of the starting picture goes up once per message: every later edit keeps it by id', async () => {
    const pic = h.fake.hostAttachment({ name: 'quay.png', bytes: png, contentType: 'image/png' });
    const i = slashCommandWithFiles(h.fake.applicationId, alice, 'imagine', { prompt: 'a quay at dusk', provider: 'local', count: 1 }, { image: pic }, h.fake.attachmentLimit);
    expect((await h.fake.post(i)).body).toMatchObject({ type: 5 });
    const done = await h.waitFor((m) => m.content.includes('a quay at dusk') && m.content.includes('Done in'), 'the result');
    const uploads = h.fake.uploads.filter((u) => u.messageId === done.id);
    // Written at least twice (a state before the result, then the result with its files)...
    expect(done.edits).toBeGreaterThanOrEqual(2);
    expect(uploads.some((u) => u.filename.startsWith('grid') || u.filename.startsWith('image-'))).toBe(true);
    // ...yet the thumbnail was uploaded once, and is still on the message with the embed that shows it.
    expect(uploads.filter((u) => u.filename.startsWith('input-')).map((u) => u.filename)).toEqual(['input-1.jpg']);
    expect(done.attachments.filter((a) => a.filename.startsWith('input-')).map((a) => a.filename)).toEqual(['input-1.jpg']);
    expect(done.embeds.map((e) => e.thumbnail?.url)).toEqual(['attachment://input-1.jpg']);
    expect(h.fake.violations).toEqual([]);
  });

  // Last in this file: it expires every interaction token.
  it('after a restart and with the token expired, edits through the bot token still keep the thumbnail by the id the stored ref holds', async () => {
    const pic = h.fake.hostAttachment({ name: 'dock.png', bytes: png, contentType: 'image/png' });
    const i = slashCommandWithFiles(h.fake.applicationId, alice, 'imagine', { prompt: 'a dock in rain', provider: 'local', count: 1 }, { image: pic }, h.fake.attachmentLimit);
    expect((await h.fake.post(i)).body).toMatchObject({ type: 5 });
    const done = await h.waitFor((m) => m.content.includes('a dock in rain') && m.content.includes('Done in'), 'the result');
    await h.discord.messages.idle();
    const jobId = (await h.app.atelier.store.listJobs({})).find((j) => j.request.prompt === 'a dock in rain')!.id;
    const ref = (await loadRef(h.app.atelier.store, jobId))!;
    const [thumbId] = done.attachments.filter((a) => a.filename === 'input-1.jpg').map((a) => a.id);
    expect(ref.thumbnailIds).toEqual({ messageId: done.id, ids: { 'input-1.jpg': thumbId } });

    // A new process's message object (nothing in memory) writes the job again once the token is gone.
    h.fake.expireTokens();
    const before = h.fake.requests.length;
    const deps = { rest: createRest({ api: h.fake.apiUrl, token: h.fake.botToken }), atelier: h.app.atelier, images: h.app.images, logger: h.app.logger, budget: new ChannelBudget(), hasBotToken: true };
    const msg = new JobMessage(deps, jobId, ref);
    const job = (await h.app.atelier.getJob(jobId))!;
    msg.push({ ...job, version: job.version + 1, notes: ['written again after a restart'] });
    await msg.idle();
    expect(h.fake.requests.slice(before).some((r) => r.method === 'PATCH' && r.route === '/channels/{channel_id}/messages/{message_id}' && r.auth === 'bot' && r.status === 200)).toBe(true);
    const after = h.fake.messages.get(done.id)!;
    expect(after.content).toContain('written again after a restart');
    expect(h.fake.uploads.filter((u) => u.messageId === done.id && u.filename.startsWith('input-')).length).toBe(1);
    expect(after.attachments.filter((a) => a.filename.startsWith('input-')).map((a) => a.id)).toEqual([thumbId]);
    expect(h.fake.violations).toEqual([]);
  });
});
