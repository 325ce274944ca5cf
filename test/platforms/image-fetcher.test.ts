import { createServer, type IncomingHttpHeaders, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.ts';
import { loadConfig } from '../../src/config.ts';
import { createImageFetcher, imageFetcherFromConfig, type ClosableImageFetcher, type ImageFetcherOptions } from '../../src/platforms/image-fetcher.ts';
import { alice, createHarness, here, type Harness } from '../helpers/harness.ts';
import { pictureProvider } from '../helpers/capability-providers.ts';
import { solidPng } from '../images/helpers.ts';

/** A loopback server that records what reached it; `reply` writes the answer. */
class Loopback {
  readonly seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  /** Bytes of the streamed body written so far, and whether the client hung up before the end. */
  streamed = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  url = '';
  constructor(private readonly reply: (path: string, res: ServerResponse, self: Loopback) => void) {}
  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const path = req.url ?? '/';
      this.seen.push({ path, headers: req.headers });
      this.reply(path, res, this);
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }
  get origin() {
    return this.url;
  }
  paths() {
    return this.seen.map((s) => s.path);
  }
  async close() {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

let png: Uint8Array;
/** A server that answers the usual picture routes; `/to?u=` redirects, `/stream` never stops, `/hang` never answers. */
const routes = (path: string, res: ServerResponse, self: Loopback) => {
  const u = new URL(path, 'http://x');
  switch (u.pathname) {
    case '/pic.png':
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(png.byteLength) }).end(png);
      return;
    case '/untyped':
      res.writeHead(200).end(png);
      return;
    case '/page':
      // Slack answers a file request without a usable token with its sign-in page, 200 text/html (a public client's
      // notes on fetching url_private, ErikKalkoken's gist; Slack documents only that the header is required).
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html><body>a gallery</body></html>');
      return;
    case '/to':
      res.writeHead(302, { location: u.searchParams.get('u')! }).end();
      return;
    case '/loop':
      res.writeHead(302, { location: `/loop?n=${Number(u.searchParams.get('n') ?? 0) + 1}` }).end();
      return;
    case '/declared-huge':
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(500 * 1024 * 1024) });
      res.write(png);
      return;
    case '/stream': {
      // No Content-Length: only counting while reading can stop this. Writes until the client hangs up (or 64 MiB).
      res.writeHead(200, { 'content-type': 'image/png' });
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (self.streamed < 64 * 1024 * 1024 && !res.destroyed) {
          self.streamed += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    case '/flaky':
      if (self.seen.filter((s) => s.path === path).length < 2) res.writeHead(503, { 'retry-after': '0' }).end('busy');
      else res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      return;
    case '/hang':
      return;
    default:
      // Discord past a signed link's `ex`: 404 "This content is no longer available." (Discord API reference, "Signed
      // Attachment CDN URLs"; useapi/discord-cdn-proxy README; a second public bot's notes agree on the 404).
      res.writeHead(404, { 'content-type': 'text/plain' }).end('This content is no longer available.');
  }
};

let pics: Loopback;
let internal: Loopback;
let slack: Loopback;
let discord: Loopback;
const fetchers: ClosableImageFetcher[] = [];
const TOKEN = 'xoxb-test-token';

function fetcher(extra: Partial<ImageFetcherOptions> = {}): ClosableImageFetcher {
  const f = createImageFetcher({
    maxBytes: 1024 * 1024,
    allowOrigins: [pics.origin],
    slack: { filesOrigin: slack.origin, token: TOKEN },
    discord: { cdnOrigins: [discord.origin] },
    timeoutMs: 5_000,
    ...extra,
  });
  fetchers.push(f);
  return f;
}

const failure = async (p: Promise<unknown>): Promise<UserError> => {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('INVALID_IMAGE');
    return err as UserError;
  }
  throw new Error('expected a failure');
};
const signal = () => new AbortController().signal;
const portOf = (l: Loopback) => new URL(l.url).port;

beforeAll(async () => {
  png = await solidPng(24, 16, { r: 10, g: 200, b: 30 });
  pics = await new Loopback(routes).start();
  internal = await new Loopback(routes).start();
  slack = await new Loopback(routes).start();
  discord = await new Loopback(routes).start();
});
afterEach(async () => {
  await Promise.all(fetchers.splice(0).map((f) => f.close()));
});
afterAll(async () => {
  for (const l of [pics, internal, slack, discord]) await l.close();
});

describe('image fetcher: what a URL may reach', () => {
  it('fetches a picture from an allowed origin, typed or untyped', async () => {
    const f = fetcher();
    expect(Buffer.from(await f.fetch(`${pics.url}/pic.png`, signal()))).toEqual(Buffer.from(png));
    expect(Buffer.from(await f.fetch(`${pics.url}/untyped`, signal()))).toEqual(Buffer.from(png));
    expect(pics.seen.at(-1)!.headers['user-agent']).toMatch(/^Atelier\//);
  });

  it('refuses a literal private address before connecting', async () => {
    const f = fetcher();
    const before = internal.seen.length;
    for (const url of [`https://127.0.0.1:${portOf(internal)}/pic.png`, `${internal.url}/pic.png`, 'https://10.1.2.3/pic.png', 'https://[::1]/pic.png', `https://[::ffff:127.0.0.1]:${portOf(internal)}/pic.png`, `https://2130706433:${portOf(internal)}/pic.png`, 'https://169.254.169.254/latest/meta-data']) {
      const err = await failure(f.fetch(url, signal()));
      expect(err.message).toMatch(/points at a private network address; use a public picture URL or attach the picture\.$/);
    }
    expect(internal.seen.length).toBe(before);
  });

  it('refuses a host name that resolves to a private address (checked on the resolved address)', async () => {
    const f = fetcher();
    const before = internal.seen.length;
    const err = await failure(f.fetch(`https://localhost:${portOf(internal)}/pic.png`, signal()));
    expect(err.message).toBe(`The picture link localhost:${portOf(internal)}/pic.png points at a private network address; use a public picture URL or attach the picture.`);
    expect(internal.seen.length).toBe(before);
  });

  it('refuses a redirect from an allowed origin to a private one, literal or by name', async () => {
    const f = fetcher();
    const before = internal.seen.length;
    for (const target of [`${internal.url}/pic.png`, `https://localhost:${portOf(internal)}/pic.png`]) {
      const err = await failure(f.fetch(`${pics.url}/to?u=${encodeURIComponent(target)}`, signal()));
      expect(err.message).toMatch(/^The picture link 127\.0\.0\.1:\d+\/to redirects to (127\.0\.0\.1|localhost):\d+\/pic\.png, which points at a private network address; use a public picture URL or attach the picture\.$/);
    }
    expect(internal.seen.length).toBe(before);
  });

  it('refuses http, credentials in the URL and other schemes', async () => {
    const f = fetcher();
    expect((await failure(f.fetch('http://example.com/pic.png', signal()))).message).toMatch(/is not https:\/\//);
    expect((await failure(f.fetch('ftp://example.com/pic.png', signal()))).message).toMatch(/is not https:\/\//);
    expect((await failure(f.fetch('https://user:pw@example.com/pic.png', signal()))).message).toMatch(/carries a user name or password/);
    expect((await failure(f.fetch('not a url', signal()))).message).toMatch(/is not a link we can read/);
  });

  it('stops after three redirects', async () => {
    const f = fetcher();
    const err = await failure(f.fetch(`${pics.url}/loop`, signal()));
    expect(err.message).toMatch(/redirects more than 3 times/);
    expect(pics.paths().filter((p) => p.startsWith('/loop')).length).toBe(4);
  });
});

describe('image fetcher: what comes back', () => {
  it('stops reading a body past the size cap and says the limit', async () => {
    const f = fetcher();
    pics.streamed = 0;
    const err = await failure(f.fetch(`${pics.url}/stream`, signal()));
    expect(err.message).toBe(`The picture at 127.0.0.1:${portOf(pics)}/stream is larger than the 1 MiB limit. Send a smaller one.`);
    // Socket buffers let some more through, but nowhere near the 64 MiB the server would send to a reader that kept going.
    await expect.poll(() => pics.streamed).toBeGreaterThan(0);
    expect(pics.streamed).toBeLessThan(16 * 1024 * 1024);
  });

  it("a platform's file is named by its file name, not its signed address", async () => {
    const err = await failure(fetcher().fetch(`${pics.url}/stream`, signal(), { name: 'holiday.png' }));
    expect(err.message).toBe('holiday.png is larger than the 1 MiB limit. Send a smaller one.');
  });

  it('refuses a declared size over the cap without reading it', async () => {
    const err = await failure(fetcher().fetch(`${pics.url}/declared-huge`, signal()));
    expect(err.message).toMatch(/is larger than the 1 MiB limit/);
  });

  it('refuses a web page with a message that says to use the picture itself', async () => {
    const err = await failure(fetcher().fetch(`${pics.url}/page`, signal()));
    expect(err.message).toBe(`127.0.0.1:${portOf(pics)}/page is a web page text/html, not a picture. Use the picture's own address (right-click it, "Copy image address"), or attach the picture.`);
  });

  it('retries a transient failure, and not a missing picture', async () => {
    const f = fetcher();
    expect(Buffer.from(await f.fetch(`${pics.url}/flaky`, signal()))).toEqual(Buffer.from(png));
    expect(pics.paths().filter((p) => p === '/flaky')).toHaveLength(2);
    const err = await failure(f.fetch(`${pics.url}/gone.png`, signal()));
    expect(err.message).toMatch(/could not be fetched \(there is no picture there\)/);
    expect(pics.paths().filter((p) => p === '/gone.png')).toHaveLength(1);
  });

  it('gives up at the deadline with a clear message', async () => {
    const err = await failure(fetcher({ timeoutMs: 300 }).fetch(`${pics.url}/hang`, signal()));
    expect(err.message).toMatch(/^The picture at 127\.0\.0\.1:\d+\/hang did not arrive in time\. Try a faster host, or attach the picture\.$/);
  });

  it("gives the caller's own abort reason when the caller gives up", async () => {
    const ac = new AbortController();
    const p = fetcher().fetch(`${pics.url}/hang`, ac.signal);
    const reason = new UserError('CANCELED', 'gone');
    setTimeout(() => ac.abort(reason), 50);
    await expect(p).rejects.toBe(reason);
    // The core's own deadline across several pictures is a bare timeout: the user still reads what happened.
    const err = await failure(fetcher().fetch(`${pics.url}/hang`, AbortSignal.timeout(100)));
    expect(err.message).toMatch(/did not arrive in time/);
  });
});

describe('image fetcher: platform file hosts', () => {
  it('says an expired Discord link has expired (404 from the configured CDN), and sends Discord no token', async () => {
    const err = await failure(fetcher().fetch(`${discord.url}/attachments/1/2/cat.png?ex=65a1b2c3&is=65a06143&hm=abc`, signal(), { platformFile: true }));
    expect(err.message).toBe('That Discord link has expired; attach the picture again.');
    expect(discord.seen.at(-1)!.headers.authorization).toBeUndefined();
    expect(Buffer.from(await fetcher().fetch(`${discord.url}/pic.png`, signal()))).toEqual(Buffer.from(png));
  });

  it("sends the bot token to Slack's file host for a file Slack gave us, and to no other host", async () => {
    const f = fetcher();
    expect(Buffer.from(await f.fetch(`${slack.url}/pic.png`, signal(), { platformFile: true }))).toEqual(Buffer.from(png));
    expect(slack.seen.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    await f.fetch(`${pics.url}/pic.png`, signal(), { platformFile: true });
    expect(pics.seen.at(-1)!.headers.authorization).toBeUndefined();
  });

  it('drops the token on a redirect off the Slack host', async () => {
    const f = fetcher();
    const before = pics.seen.length;
    await f.fetch(`${slack.url}/to?u=${encodeURIComponent(`${pics.url}/pic.png`)}`, signal(), { platformFile: true });
    expect(slack.seen.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(pics.seen.slice(before).map((s) => [s.path, s.headers.authorization])).toEqual([['/pic.png', undefined]]);
  });

  it('never opens a pasted Slack file link with the token, nor one a redirect leads to', async () => {
    const f = fetcher();
    const before = slack.seen.length;
    expect((await failure(f.fetch(`${slack.url}/files-pri/T1-F1/secret.png`, signal()))).message).toMatch(/^Slack file links open only inside Slack: attach the picture/);
    expect((await failure(f.fetch(`${pics.url}/to?u=${encodeURIComponent(`${slack.url}/pic.png`)}`, signal(), { platformFile: true }))).message).toMatch(/^Slack file links open only inside Slack/);
    expect(slack.seen.length).toBe(before);
  });

  it('explains a Slack sign-in page (the token lacks access)', async () => {
    const err = await failure(fetcher().fetch(`${slack.url}/page`, signal(), { platformFile: true }));
    expect(err.message).toMatch(/^Slack answered with a sign-in page instead of the file: the bot may lack the files:read scope/);
  });
});

describe('image fetcher from configuration', () => {
  it('reads the limit, the allowed origins and the platform hosts', async () => {
    const config = loadConfig({ IMAGE_INPUT_MAX_MB: '1', IMAGE_FETCH_ALLOW_ORIGINS: `${pics.url}/ignored/path, https://pics.lan`, SLACK_FILES_URL: slack.url, SLACK_BOT_TOKEN: TOKEN, DISCORD_CDN_URL: discord.url });
    expect(config.IMAGE_FETCH_ALLOW_ORIGINS).toEqual([pics.url, 'https://pics.lan']);
    const f = imageFetcherFromConfig(config);
    fetchers.push(f);
    expect(Buffer.from(await f.fetch(`${pics.url}/pic.png`, signal()))).toEqual(Buffer.from(png));
    expect((await failure(f.fetch(`${pics.url}/stream`, signal()))).message).toMatch(/larger than the 1 MiB limit/);
    expect((await failure(f.fetch(`${discord.url}/attachments/x.png`, signal()))).message).toBe('That Discord link has expired; attach the picture again.');
    await f.fetch(`${slack.url}/pic.png`, signal(), { platformFile: true });
    expect(slack.seen.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(() => loadConfig({ IMAGE_FETCH_ALLOW_ORIGINS: 'pics.lan' })).toThrow(/IMAGE_FETCH_ALLOW_ORIGINS: expects comma-separated http\(s\) origins/);
    const defaults = loadConfig({});
    expect(defaults).toMatchObject({ IMAGE_INPUT_MAX_MB: 20, IMAGE_FETCH_ALLOW_ORIGINS: [], DISCORD_CDN_URL: 'https://cdn.discordapp.com', SLACK_FILES_URL: 'https://files.slack.com' });
  });
});

describe('image fetcher through the core', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a private-address link, an expired Discord link or a web page queue nothing, with the fetcher\'s message', async () => {
    h = await createHarness({ providers: [pictureProvider()], imageInput: { fetcher: fetcher() } });
    const cases: [Parameters<Harness['atelier']['imagine']>[0], RegExp][] = [
      [{ prompt: `https://127.0.0.1:${portOf(internal)}/pic.png a fox`, provider: 'pictures' }, /points at a private network address; use a public picture URL or attach the picture\./],
      [{ prompt: `${pics.url}/to?u=${encodeURIComponent(`${internal.url}/pic.png`)} a fox`, provider: 'pictures' }, /redirects to 127\.0\.0\.1:\d+\/pic\.png, which points at a private network address/],
      [{ prompt: 'a fox', provider: 'pictures', images: [{ url: `${discord.url}/attachments/1/2/old.png?ex=1&is=0&hm=ff`, platformFile: true }] }, /^That Discord link has expired; attach the picture again\.$/],
      [{ prompt: `${pics.url}/page a fox`, provider: 'pictures' }, /is a web page text\/html, not a picture/],
    ];
    for (const [options, message] of cases) {
      const err = await failure(h.atelier.imagine(options, alice, here));
      expect(err.message).toMatch(message);
    }
    expect(await h.atelier.store.listJobs({})).toEqual([]);
  });

  it('a Slack file the platform handed over arrives with the token and is stored as the job\'s input', async () => {
    const pics2 = pictureProvider();
    h = await createHarness({ providers: [pics2], imageInput: { fetcher: fetcher() } });
    const job = await h.atelier.imagine({ prompt: 'a fox', provider: 'pictures', images: [{ url: `${slack.url}/pic.png`, name: 'fox.png', platformFile: true }] }, alice, here);
    expect(slack.seen.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect((await h.settle(job.id)).state).toBe('succeeded');
    expect((await h.atelier.inputs(job.id)).map((i) => [i.meta.width, i.meta.height])).toEqual([[24, 16]]);
  });
});
