import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockAgent } from 'undici';
import { createImageDownloader, type ImageDownloader } from '../../src/providers/download.ts';
import { sniffImage } from '../../src/providers/image-type.ts';
import { isPrivateAddress } from '../../src/providers/net-guard.ts';
import { FakeServer, type FakeReply } from '../fakes/providers/fake-server.ts';
import { makeJpeg, makePng } from '../fakes/providers/images.ts';
import { caught } from './helpers.ts';

let png: Uint8Array;
let provider: FakeServer;
let other: FakeServer;
let dl: ImageDownloader;

function imageRoutes(path: string): FakeReply {
  if (path === '/img.png') return { status: 200, bytes: png, headers: { 'content-type': 'image/png' } };
  if (path === '/octet.png') return { status: 200, bytes: png, headers: { 'content-type': 'application/octet-stream' } };
  if (path === '/page.html') return { status: 200, bytes: new TextEncoder().encode('<html>hi</html>'), headers: { 'content-type': 'text/html' } };
  if (path === '/liar.png') return { status: 200, bytes: new TextEncoder().encode('not really a png at all'), headers: { 'content-type': 'image/png' } };
  if (path === '/broken.png') return { status: 200, bytes: png.subarray(0, 40), headers: { 'content-type': 'image/png' } };
  if (path === '/missing.png') return { status: 404, body: { error: 'gone' } };
  return { status: 404 };
}

beforeAll(async () => {
  png = await makePng(48, 32);
  other = await new FakeServer((req) => imageRoutes(req.path)).start();
  provider = await new FakeServer((req) => {
    const to = req.query.get('to');
    if (req.path === '/redirect' && to) return { status: 302, headers: { location: to } };
    return imageRoutes(req.path);
  }).start();
  dl = createImageDownloader({ provider: 'TestVendor', baseUrl: `${provider.url}/api/v1`, maxBytes: 64 * 1024, timeoutMs: 5_000 });
});
afterAll(async () => {
  await dl.close();
  await provider.close();
  await other.close();
});

describe('safe image download', () => {
  it('fetches from the provider’s own configured host:port, sniffs and decodes', async () => {
    const img = await dl.download(`${provider.url}/img.png`);
    expect(img).toMatchObject({ mime: 'image/png', width: 48, height: 32 });
    expect(img.bytes).toEqual(png);
  });

  it('accepts octet-stream when the bytes are an image', async () => {
    expect((await dl.download(`${provider.url}/octet.png`)).mime).toBe('image/png');
  });

  it('follows a redirect that stays on allowed ground', async () => {
    const img = await dl.download(`${provider.url}/redirect?to=${encodeURIComponent('/img.png')}`);
    expect(img.width).toBe(48);
  });

  it('refuses another loopback port, by literal address', async () => {
    const err = await caught(() => dl.download(`${other.url}/img.png`));
    expect(err.message).toMatch(/127\.0\.0\.1 is a private or reserved address/);
    expect(other.requests).toHaveLength(0);
  });

  it('refuses another loopback port reached by name, at connect time', async () => {
    const err = await caught(() => dl.download(`http://localhost:${other.port}/img.png`));
    expect(err.message).toMatch(/resolves to (127\.0\.0\.1|::1), a private or reserved address/);
    expect(other.requests).toHaveLength(0);
  });

  it('refuses the cloud metadata address', async () => {
    const err = await caught(() => dl.download('http://169.254.169.254/latest/meta-data/'));
    expect(err.message).toMatch(/169\.254\.169\.254 is a private or reserved address/);
  });

  it('refuses a redirect to another loopback port or to 169.254.169.254', async () => {
    const toOther = await caught(() => dl.download(`${provider.url}/redirect?to=${encodeURIComponent(`${other.url}/img.png`)}`));
    expect(toOther.message).toMatch(/private or reserved/);
    expect(other.requests).toHaveLength(0);
    const toMeta = await caught(() => dl.download(`${provider.url}/redirect?to=${encodeURIComponent('http://169.254.169.254/latest/meta-data/')}`));
    expect(toMeta.message).toMatch(/169\.254\.169\.254/);
  });

  it('bounds redirects', async () => {
    const loop = `${provider.url}/redirect?to=${encodeURIComponent(`/redirect?to=${encodeURIComponent(`/redirect?to=${encodeURIComponent(`/redirect?to=${encodeURIComponent('/redirect?to=/img.png')}`)}`)}`)}`;
    const err = await caught(() => dl.download(loop));
    expect(err.message).toMatch(/more than 3 redirects/);
  });

  it('refuses http when the provider’s base URL is https', async () => {
    const strict = createImageDownloader({ provider: 'TestVendor', baseUrl: 'https://api.example.org/v1' });
    const err = await caught(() => strict.download('http://cdn.example.org/a.png'));
    expect(err.message).toMatch(/only https image URLs are allowed/);
    const internal = await caught(() => strict.download('https://10.0.0.5/a.png'));
    expect(internal.message).toMatch(/10\.0\.0\.5 is a private/);
    await strict.close();
  });

  it('upgrades http to https on the provider’s own https host (all-images.ai documents http image URLs)', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent.get('https://api.example.org').intercept({ path: '/v1/images/preview/a.jpg', method: 'GET' }).reply(200, Buffer.from(png), { headers: { 'content-type': 'image/png' } });
    const d = createImageDownloader({ provider: 'TestVendor', baseUrl: 'https://api.example.org', dispatcher: agent });
    expect((await d.download('http://api.example.org/v1/images/preview/a.jpg')).mime).toBe('image/png');
    agent.assertNoPendingInterceptors();
    await agent.close();
  });

  it('refuses an oversized image', async () => {
    const tiny = createImageDownloader({ provider: 'TestVendor', baseUrl: provider.url, maxBytes: 100 });
    const err = await caught(() => tiny.download(`${provider.url}/img.png`));
    expect(err.message).toMatch(/over the 100-byte limit/);
    await tiny.close();
  });

  it('refuses a non-image body, bytes that lie about their type, and an image that does not decode', async () => {
    expect((await caught(() => dl.download(`${provider.url}/page.html`))).message).toMatch(/"text\/html", not an image/);
    expect((await caught(() => dl.download(`${provider.url}/liar.png`))).message).toMatch(/not PNG, JPEG, WebP or GIF/);
    expect((await caught(() => dl.download(`${provider.url}/broken.png`))).message).toMatch(/could not be decoded/);
  });

  it('reports a missing image as rejected, not retried forever', async () => {
    const err = await caught(() => dl.download(`${provider.url}/missing.png`));
    expect(err).toMatchObject({ code: 'PROVIDER_REJECTED' });
  });
});

describe('address and type checks', () => {
  it('classifies addresses', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', 'localhost']) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) expect(isPrivateAddress(a), a).toBe(false);
  });

  it('sniffs PNG, JPEG, WebP and GIF by magic bytes', async () => {
    expect(sniffImage(png)).toBe('image/png');
    expect(sniffImage(await makeJpeg(8, 8))).toBe('image/jpeg');
    expect(sniffImage(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(sniffImage(new TextEncoder().encode('GIF89a....'))).toBe('image/gif');
    expect(sniffImage(new TextEncoder().encode('<svg></svg>'))).toBeUndefined();
  });
});
