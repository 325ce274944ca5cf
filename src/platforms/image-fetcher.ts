import { isIP } from 'node:net';
import { request, type Dispatcher } from 'undici';
import { UserError } from '../core/errors.ts';
import type { ImageFetcher } from '../core/ports.ts';
import type { Config } from '../config.ts';
import { createGuardedAgent, discard, findBlocked, readCapped, isPrivateAddress, policyForBaseUrl } from '../providers/net-guard.ts';
import { backoffDelay, parseRetryAfter, sleep } from '../providers/timing.ts';

export interface ImageFetcherOptions {
  /** Largest picture read, in bytes: reading stops as soon as a body grows past it. */
  maxBytes: number;
  /**
   * Exact origins (`http://127.0.0.1:1234`) exempt from the public-address rule and allowed over http: an
   * operator's own image host, or a test's loopback server. Nothing else on a private network is reachable.
   */
  allowOrigins?: readonly string[];
  /** Slack's file host: `url_private` links there get the bot token, when the platform handed us the file. */
  slack?: { filesOrigin: string; token?: string };
  /** Discord's attachment hosts: no credentials (the links are signed), but a 404 there means the link expired. */
  discord?: { cdnOrigins: readonly string[] };
  /** The whole fetch, redirects and retries included. */
  timeoutMs?: number;
  maxRedirects?: number;
  /** Attempts for transient failures (connection reset, 5xx, 429); nothing else is retried. */
  maxAttempts?: number;
}

export interface ClosableImageFetcher extends ImageFetcher {
  close(): Promise<void>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'Atelier/1 (chat bot fetching a picture a user linked)';
/** What a server may call a picture; the core decodes the bytes and decides for itself. An untyped answer is let through to that check. */
const PICTURE_TYPES = /^(image\/(?!svg)[\w.+-]+|application\/octet-stream|binary\/octet-stream)$/i;

const origin = (raw: string) => new URL(raw).origin;

/**
 * Fetches users' pictures (typed URLs, Discord attachments, Slack files) without letting a URL reach what it
 * must not: https only (http just for `allowOrigins` and configured platform hosts), no credentials in URLs,
 * public addresses only (every resolved address, after every redirect: the guarded Agent), at most
 * `maxRedirects` hops, a size cap while streaming, one deadline for everything, retries for transient
 * failures only. The bot's Slack token goes to Slack's file host and nowhere else, and only for files Slack
 * itself gave us for this user: a pasted link would let anyone read any file the bot can see.
 */
export function createImageFetcher(options: ImageFetcherOptions): ClosableImageFetcher {
  const maxBytes = options.maxBytes;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const maxRedirects = options.maxRedirects ?? 3;
  const maxAttempts = options.maxAttempts ?? 3;
  const slackOrigin = options.slack ? origin(options.slack.filesOrigin) : undefined;
  const discordOrigins = new Set((options.discord?.cdnOrigins ?? []).map(origin));
  // Configured platform hosts are the operator's word, like a provider's base URL: tests point them at loopback fakes.
  const trusted = new Set([...(options.allowOrigins ?? []).map(origin), ...(slackOrigin ? [slackOrigin] : []), ...discordOrigins]);
  const publicAgent = createGuardedAgent({}, { headersTimeoutMs: timeoutMs, bodyTimeoutMs: timeoutMs });
  const trustedAgents = new Map<string, Dispatcher>();
  const dispatcherFor = (url: URL): Dispatcher => {
    if (!trusted.has(url.origin)) return publicAgent;
    let agent = trustedAgents.get(url.origin);
    if (!agent) {
      agent = createGuardedAgent(policyForBaseUrl(url.origin), { headersTimeoutMs: timeoutMs, bodyTimeoutMs: timeoutMs });
      trustedAgents.set(url.origin, agent);
    }
    return agent;
  };
  const mib = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;

  /** Scheme, credentials and literal-address checks, for the first URL and after every redirect. */
  function vet(raw: string, from?: URL): URL {
    let url: URL;
    try {
      url = new URL(raw, from);
    } catch {
      throw new UserError('INVALID_IMAGE', `"${raw.slice(0, 100)}" is not a link we can read. Paste the picture's full https:// address, or attach the picture.`);
    }
    const via = from ? ` (${shown(from)} redirects there)` : '';
    if (url.username || url.password) {
      throw new UserError('INVALID_IMAGE', `The picture link ${shown(url)}${via} carries a user name or password; we never send those. Use a link that opens without signing in, or attach the picture.`);
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const isTrusted = trusted.has(url.origin);
    if (!isTrusted && isIP(host) && isPrivateAddress(host)) throw privateAddress(url, from);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isTrusted)) {
      throw new UserError('INVALID_IMAGE', `The picture link ${shown(url)}${via} is not https://. Use the picture's https:// address, or attach the picture.`);
    }
    return url;
  }

  const privateAddress = (url: URL, from?: URL) =>
    new UserError(
      'INVALID_IMAGE',
      from
        ? `The picture link ${shown(from)} redirects to ${shown(url)}, which points at a private network address; use a public picture URL or attach the picture.`
        : `The picture link ${shown(url)} points at a private network address; use a public picture URL or attach the picture.`,
    );

  /** One attempt: follows redirects, returns the bytes or throws a UserError; `transient` marks what another attempt may fix. */
  async function attempt(start: string, platformFile: boolean, signal: AbortSignal, name: string | undefined): Promise<Uint8Array> {
    let url = vet(start);
    let previous: URL | undefined;
    // The token goes with a file Slack gave us, to Slack's host, until a redirect leaves that host: then never again.
    let withToken = platformFile && url.origin === slackOrigin && Boolean(options.slack?.token);
    for (let hop = 0; ; hop++) {
      if (url.origin !== slackOrigin) withToken = false;
      else if (!withToken) {
        throw new UserError(
          'INVALID_IMAGE',
          options.slack?.token
            ? 'Slack file links open only inside Slack: attach the picture to your message (or choose it in the form) instead of pasting its link.'
            : 'This bot is not connected to Slack, so it cannot open Slack file links: attach the picture or use a public picture URL.',
        );
      }
      // Some hosts (Wikimedia) refuse requests that do not say who they are.
      const headers: Record<string, string> = { accept: 'image/png, image/jpeg, image/webp, image/gif;q=0.9, */*;q=0.1', 'user-agent': USER_AGENT };
      if (withToken) headers.authorization = `Bearer ${options.slack!.token!}`;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, { dispatcher: dispatcherFor(url), method: 'GET', headers, signal });
      } catch (err) {
        throw networkError(err, url, previous, signal);
      }
      if (REDIRECTS.has(res.statusCode)) {
        discard(res.body);
        const location = res.headers.location;
        if (typeof location !== 'string') throw new UserError('INVALID_IMAGE', `${called(url, name)} answered with a redirect to nowhere. Use the picture's own address, or attach the picture.`);
        if (hop >= maxRedirects) {
          throw new UserError('INVALID_IMAGE', `The picture link ${shown(start)} redirects more than ${maxRedirects} times. Open it in a browser and use the address the picture finally has, or attach the picture.`);
        }
        previous = url;
        url = vet(location, url);
        continue;
      }
      if (res.statusCode < 200 || res.statusCode >= 300) {
        discard(res.body);
        throw statusError(res.statusCode, url, res.headers['retry-after'], name);
      }
      const type = String(res.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim();
      if (type && !PICTURE_TYPES.test(type)) {
        discard(res.body);
        if (url.origin === slackOrigin && /html/i.test(type)) {
          throw new UserError('INVALID_IMAGE', 'Slack answered with a sign-in page instead of the file: the bot may lack the files:read scope or access to that channel. Ask the operator, or attach the picture where the bot is a member.');
        }
        const page = /html/i.test(type) ? ' a web page' : '';
        throw new UserError('INVALID_IMAGE', `${called(url, name)} is${page} ${type}, not a picture. Use the picture's own address (right-click it, "Copy image address"), or attach the picture.`);
      }
      return new Uint8Array(await readCapped(res, maxBytes, () => tooLarge(url, name), (err) => networkError(err, url, previous, signal, name)));
    }
  }

  const tooLarge = (url: URL, name?: string) => new UserError('INVALID_IMAGE', `${pictureAt(url, name)} is larger than the ${mib(maxBytes)} limit. Send a smaller one.`);

  function statusError(status: number, url: URL, retryAfter: string | string[] | undefined, name?: string): UserError {
    if (discordOrigins.has(url.origin) && (status === 404 || status === 403)) {
      // Discord signs attachment links with an expiry (ex/is/hm: API reference, "Signed Attachment CDN URLs") and
      // answers 404 once it has passed; a 403 (a signature it refuses) needs the same fix: a fresh attachment.
      return new UserError('INVALID_IMAGE', 'That Discord link has expired; attach the picture again.');
    }
    if (status === 429 || status >= 500) {
      return transient(new UserError('INVALID_IMAGE', `${called(url, name)} is not answering properly (HTTP ${status}). Try again in a moment, or attach the picture.`), parseRetryAfter(retryAfter));
    }
    const why = status === 404 || status === 410 ? 'there is no picture there' : status === 401 || status === 403 ? 'it needs signing in' : `HTTP ${status}`;
    return new UserError('INVALID_IMAGE', `${pictureAt(url, name)} could not be fetched (${why}). Check the link opens in a private browser window, or attach the picture.`);
  }

  function networkError(err: unknown, url: URL, from: URL | undefined, signal: AbortSignal, name?: string): UserError {
    if (findBlocked(err)) return privateAddress(url, from);
    if (signal.aborted) {
      return new UserError('INVALID_IMAGE', `${pictureAt(url, name)} did not arrive in time. Try a faster host, or attach the picture.`);
    }
    const code = String((err as { code?: unknown })?.code ?? '');
    if (code === 'ENOTFOUND') {
      return new UserError('INVALID_IMAGE', `${url.hostname} does not exist (no such host). Check the picture link, or attach the picture.`);
    }
    if (code.includes('TIMEOUT')) {
      return new UserError('INVALID_IMAGE', `${pictureAt(url, name)} did not arrive in time. Try a faster host, or attach the picture.`);
    }
    return transient(new UserError('INVALID_IMAGE', `${called(url, name)} could not be reached (${code || 'network error'}). Check the link, or attach the picture.`));
  }

  return {
    async fetch(url, outer, fetchOptions) {
      const deadline = AbortSignal.timeout(timeoutMs);
      const signal = AbortSignal.any([outer, deadline]);
      for (let n = 1; ; n++) {
        try {
          return await attempt(url, fetchOptions?.platformFile === true, signal, fetchOptions?.name);
        } catch (err) {
          // A caller's own reason (a cancel) wins; a bare timeout of the caller's reads as ours, said to the user.
          if (outer.aborted) throw outer.reason instanceof UserError ? outer.reason : err;
          const wait = transientWait.get(err as object);
          if (wait === undefined || n >= maxAttempts || signal.aborted) throw err;
          const delay = Math.max(wait, backoffDelay(n, 250, 2_000));
          try {
            await sleep(delay, signal);
          } catch {
            throw err;
          }
        }
      }
    },
    async close() {
      await Promise.all([publicAgent.close(), ...[...trustedAgents.values()].map((a) => a.close())]);
    },
  };
}

/** Errors another attempt may fix, with the wait the server asked for (0: none). */
const transientWait = new WeakMap<object, number>();
const transient = (err: UserError, waitMs?: number) => {
  transientWait.set(err, waitMs ?? 0);
  return err;
};

/** Host and the start of the path: enough to recognise the link, never its query (signatures, tokens). */
/**
 * How a message names the picture: a platform's file by the file name the user knows, not by its signed
 * address they never saw; a typed link by its address.
 */
const called = (url: URL, name: string | undefined): string => name ?? shown(url);
const pictureAt = (url: URL, name: string | undefined): string => name ?? `The picture at ${shown(url)}`;

function shown(url: URL | string): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    const path = u.pathname.length > 40 ? `${u.pathname.slice(0, 40)}…` : u.pathname;
    return `${u.host}${path === '/' ? '' : path}`;
  } catch {
    return String(url).slice(0, 60);
  }
}


/** The fetcher a deployment's configuration asks for. */
export function imageFetcherFromConfig(config: Pick<Config, 'IMAGE_INPUT_MAX_MB' | 'IMAGE_FETCH_ALLOW_ORIGINS' | 'DISCORD_CDN_URL' | 'SLACK_FILES_URL' | 'SLACK_BOT_TOKEN'>, tuning: Pick<ImageFetcherOptions, 'timeoutMs' | 'maxAttempts'> = {}): ClosableImageFetcher {
  return createImageFetcher({
    maxBytes: config.IMAGE_INPUT_MAX_MB * 1024 * 1024,
    allowOrigins: config.IMAGE_FETCH_ALLOW_ORIGINS,
    slack: { filesOrigin: config.SLACK_FILES_URL, ...(config.SLACK_BOT_TOKEN ? { token: config.SLACK_BOT_TOKEN } : {}) },
    discord: { cdnOrigins: [config.DISCORD_CDN_URL, DISCORD_MEDIA_PROXY] },
    ...tuning,
  });
}

/** Discord serves the same attachments through its media proxy, signed the same way. */
const DISCORD_MEDIA_PROXY = 'https://media.discordapp.net';
