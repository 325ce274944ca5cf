import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImageProvider } from '../../src/core/provider.ts';
import { createPublicFiles } from '../../src/public-files.ts';
import { createServer, type HttpServer } from '../../src/server.ts';
import { createFolderBlobStore } from '../../src/store/index.ts';
import { AllImagesFake } from '../fakes/providers/allimages-fake.ts';
import { PomeloFake } from '../fakes/providers/pomelo-fake.ts';
import { alice, createHarness, here, type Harness } from '../helpers/harness.ts';
import { providersFor } from './helpers.ts';

/**
 * The whole path for providers that fetch pictures themselves: a user's picture is stored with the job, the
 * runner hands the provider a real PUBLIC_URL/files link, and the provider's fake fetches it as the service would.
 */
let h: Harness | undefined;
let server: HttpServer | undefined;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  await server?.close();
  await h?.close();
  h = undefined;
  server = undefined;
});

const png = async (rgb: [number, number, number]) => new Uint8Array(await sharp({ create: { width: 48, height: 32, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer());

async function withPublicFiles(provider: ImageProvider, publicUrl = true, link = (url: string) => url): Promise<Harness> {
  server = createServer({ host: '127.0.0.1', port: 0 });
  const base = await server.listen();
  // The links need the harness's store, and the harness needs the links: the runner asks only once a job runs.
  const links: { files?: ReturnType<typeof createPublicFiles> } = {};
  h = await createHarness({ providers: [provider], imageInput: { publicUrl }, ...(publicUrl ? { publicImageUrl: async (id: string) => link(await links.files!.urlFor(id)) } : {}) });
  const files = createPublicFiles({ store: h.atelier.store, blobs: createFolderBlobStore(join(h.dir, 'images')), publicUrl: base, secret: 'a-test-secret-of-enough-length' });
  files.mount(server);
  links.files = files;
  return h;
}

describe('pictures reach providers that fetch them, through PUBLIC_URL links', () => {
  it('all-images.ai fetches the stored picture from its fromImageUrl link; the bytes are the user\'s', async () => {
    const fake = await new AllImagesFake().start();
    fake.lifecycle = 'instant';
    fake.fetchPictures = true;
    const configured = providersFor({ ALLIMAGES_API_KEY: fake.apiKey, ALLIMAGES_API_URL: fake.url });
    closers.push(() => configured.close(), () => fake.close());
    const harness = await withPublicFiles(configured.providers.find((p) => p.id === 'allimages')!);
    const picture = await png([200, 30, 30]);
    const job = await harness.atelier.imagine({ prompt: 'a cat in a hat', provider: 'allimages', images: [{ bytes: picture, name: 'cat.png' }] }, alice, here);
    const done = await harness.settle(job.id);
    expect(done.state).toBe('succeeded');
    expect(fake.fetched).toHaveLength(1);
    expect(fake.fetched[0]).toMatchObject({ status: 200, type: 'image/png', ok: true });
    expect(Buffer.from(fake.fetched[0]!.bytes).equals(Buffer.from(picture))).toBe(true);
    expect(fake.fetched[0]!.url).toMatch(/\/files\/[\w.-]+\.png$/);
  });

  it('/blend on the Midjourney gateway: Midjourney fetches both pictures from the prompt\'s links', async () => {
    const fake = await new PomeloFake().start();
    fake.fetchPictures = true;
    const configured = providersFor({ POMELO_API_KEY: fake.apiKey, POMELO_API_URL: fake.url });
    closers.push(() => configured.close(), () => fake.close());
    const harness = await withPublicFiles(configured.providers.find((p) => p.id === 'midjourney')!);
    const a = await png([10, 200, 10]);
    const b = await png([10, 10, 200]);
    const job = await harness.atelier.blend([{ bytes: a }, { bytes: b }], { provider: 'midjourney', dimensions: 'square' }, alice, here);
    expect((await harness.settle(job.id)).state).toBe('succeeded');
    expect(fake.fetched.map((f) => f.ok)).toEqual([true, true]);
    expect(fake.fetched.map((f) => Buffer.from(f.bytes).equals(Buffer.from(a)) || Buffer.from(f.bytes).equals(Buffer.from(b)))).toEqual([true, true]);
  });

  it('a link the service cannot read (here a tampered token: 404) fails the job with the gateway\'s reason, it does not hang', async () => {
    const fake = await new PomeloFake().start();
    fake.fetchPictures = true;
    const configured = providersFor({ POMELO_API_KEY: fake.apiKey, POMELO_API_URL: fake.url });
    closers.push(() => configured.close(), () => fake.close());
    const harness = await withPublicFiles(configured.providers.find((p) => p.id === 'midjourney')!, true, (url) => url.replace('/files/', '/files/x'));
    const job = await harness.atelier.imagine({ prompt: 'a fox', provider: 'midjourney', images: [{ bytes: await png([1, 2, 3]) }] }, alice, here);
    const done = await harness.settle(job.id);
    expect(fake.fetched[0]).toMatchObject({ status: 404, ok: false });
    expect(done.state).toBe('failed');
    expect(done.error?.message).toMatch(/could not read the image/);
  });

  it('without PUBLIC_URL the core refuses the picture before anything is queued or sent', async () => {
    const fake = await new AllImagesFake().start();
    const configured = providersFor({ ALLIMAGES_API_KEY: fake.apiKey, ALLIMAGES_API_URL: fake.url });
    closers.push(() => configured.close(), () => fake.close());
    const harness = await withPublicFiles(configured.providers.find((p) => p.id === 'allimages')!, false);
    await expect(harness.atelier.imagine({ prompt: 'a cat', provider: 'allimages', images: [{ bytes: await png([5, 5, 5]) }] }, alice, here)).rejects.toThrow(/PUBLIC_URL/);
    expect(await harness.atelier.store.listJobs({})).toEqual([]);
    expect(fake.creates).toBe(0);
  });
});
