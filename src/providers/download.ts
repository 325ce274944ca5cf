import sharp from 'sharp';
import { request, type Dispatcher } from 'undici';
import { UserError } from '../core/errors.ts';
import { createGuardedAgent, findBlocked, readCapped, effectivePort, isExempt, isPrivateAddress, policyForBaseUrl, type AddressPolicy } from './net-guard.ts';
import { sniffImage } from './image-type.ts';
import { ProviderHttpError } from './provider-error.ts';
import { backoffDelay, sleep } from './timing.ts';
import { isIP } from 'node:net';

export interface DownloadedImage {
  bytes: Uint8Array;
  mime: string;
  width: number;
  height: number;
}

export interface ImageDownloaderOptions {
  /** The provider's name as users know it. */
  provider: string;
  /** The provider's configured base URL: decides whether http is allowed and which private origin is exempt. */
  baseUrl: string;
  maxBytes?: number;
  maxRedirects?: number;
  /** Whole-download deadline, redirects included. */
  timeoutMs?: number;
  maxAttempts?: number;
  /** Tests may inject a dispatcher; by default a guarded Agent checks every resolved address. */
  dispatcher?: Dispatcher;
}

export interface ImageDownloader {
  download(url: string, signal?: AbortSignal): Promise<DownloadedImage>;
  close(): Promise<void>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const ACCEPTED_TYPES = /^(image\/(png|jpeg|jpg|webp|gif)|application\/octet-stream|binary\/octet-stream)\b/i;

/**
 * Copies a provider's image into memory so we can store it: provider URLs expire, and hot-linking would
 * let a provider (or whoever controls its answers) point us at our own network.
 */
export function createImageDownloader(options: ImageDownloaderOptions): ImageDownloader {
  const base = new URL(options.baseUrl);
  const policy: AddressPolicy = policyForBaseUrl(options.baseUrl);
  const maxBytes = options.maxBytes ?? 25 * 1024 * 1024;
  const maxRedirects = options.maxRedirects ?? 3;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxAttempts = options.maxAttempts ?? 3;
  const ownsDispatcher = !options.dispatcher;
  const dispatcher = options.dispatcher ?? createGuardedAgent(policy, { headersTimeoutMs: timeoutMs, bodyTimeoutMs: timeoutMs });
  const name = options.provider;

  const refuse = (url: URL | string, why: string) =>
    new ProviderHttpError('PROVIDER_UNAVAILABLE', `${name} sent an image we will not fetch (${String(url).slice(0, 120)}): ${why}.`, name, { phase: 'not-sent' });

  /** Scheme and literal-address checks, done for the first URL and after every redirect. */
  function vet(raw: string, from?: URL): URL {
    let url: URL;
    try {
      url = new URL(raw, from);
    } catch {
      throw refuse(raw, 'not a valid URL');
    }
    if (url.username || url.password) throw refuse(url, 'URLs with credentials are not allowed');
    // all-images.ai documents its own image URLs as http:// although its API is https: upgrade our provider's own host.
    if (url.protocol === 'http:' && base.protocol === 'https:' && url.hostname === base.hostname) {
      url = new URL(url.href.replace(/^http:/, 'https:'));
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && base.protocol === 'http:')) {
      throw refuse(url, 'only https image URLs are allowed');
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && isPrivateAddress(host) && !isExempt(policy, host, effectivePort(url))) {
      throw refuse(url, `${host} is a private or reserved address`);
    }
    return url;
  }

  async function fetchOnce(start: string, signal: AbortSignal): Promise<DownloadedImage> {
    let url = vet(start);
    for (let hop = 0; ; hop++) {
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, { dispatcher, method: 'GET', headers: { accept: 'image/png, image/jpeg, image/webp, image/gif' }, signal });
      } catch (err) {
        throw mapNetworkError(err, url, signal);
      }
      if (REDIRECTS.has(res.statusCode)) {
        res.body.resume();
        const location = res.headers.location;
        if (typeof location !== 'string') throw refuse(url, `HTTP ${res.statusCode} without a Location`);
        if (hop >= maxRedirects) throw refuse(url, `more than ${maxRedirects} redirects`);
        url = vet(location, url);
        continue;
      }
      if (res.statusCode < 200 || res.statusCode >= 300) {
        res.body.resume();
        const code = res.statusCode >= 500 || res.statusCode === 429 ? 'PROVIDER_UNAVAILABLE' : 'PROVIDER_REJECTED';
        throw new ProviderHttpError(code, `${name}'s image could not be downloaded (HTTP ${res.statusCode}).`, name, { status: res.statusCode, phase: 'answered' });
      }
      const type = String(res.headers['content-type'] ?? '');
      if (!ACCEPTED_TYPES.test(type)) {
        res.body.resume();
        throw refuse(url, `the server says it is "${type || 'untyped'}", not an image`);
      }
      const bytes = await readCapped(res, maxBytes, () => refuse(url, `it is over the ${maxBytes}-byte limit`), (err) => mapNetworkError(err, url, signal));
      return verify(bytes, url);
    }
  }

  async function verify(bytes: Buffer, url: URL): Promise<DownloadedImage> {
    const mime = sniffImage(bytes);
    if (!mime) throw refuse(url, 'its bytes are not PNG, JPEG, WebP or GIF');
    let meta: sharp.Metadata;
    try {
      meta = await sharp(bytes, { limitInputPixels: 16384 * 16384 }).metadata();
    } catch {
      throw refuse(url, 'the image could not be decoded');
    }
    const format = meta.format === 'jpg' ? 'jpeg' : meta.format;
    if (!meta.width || !meta.height || `image/${format}` !== mime) throw refuse(url, 'the image could not be decoded');
    return { bytes: new Uint8Array(bytes), mime, width: meta.width, height: meta.height };
  }

  function mapNetworkError(err: unknown, url: URL, signal: AbortSignal): unknown {
    const blockedErr = findBlocked(err);
    if (blockedErr) return refuse(url, `${blockedErr.host} resolves to ${blockedErr.address}, a private or reserved address`);
    if (signal.aborted) {
      const reason: unknown = signal.reason;
      if (reason instanceof UserError) return reason;
      return new ProviderHttpError('PROVIDER_TIMEOUT', `${name}'s image did not download within ${Math.round(timeoutMs / 1000)} s.`, name, { phase: 'maybe-sent' });
    }
    const code = String((err as { code?: unknown })?.code ?? 'network error');
    const timeout = code.includes('TIMEOUT');
    return new ProviderHttpError(timeout ? 'PROVIDER_TIMEOUT' : 'PROVIDER_UNAVAILABLE', `${name}'s image could not be downloaded (${code}).`, name, { phase: 'maybe-sent' });
  }

  return {
    async download(url, outer) {
      const deadline = AbortSignal.timeout(timeoutMs);
      const signal = outer ? AbortSignal.any([outer, deadline]) : deadline;
      for (let n = 1; ; n++) {
        try {
          return await fetchOnce(url, signal);
        } catch (err) {
          const transient = err instanceof ProviderHttpError && err.info.phase !== 'not-sent' && err.code === 'PROVIDER_UNAVAILABLE' && !signal.aborted;
          if (!transient || n >= maxAttempts) {
            if (outer?.aborted && outer.reason instanceof Error) throw outer.reason;
            throw err;
          }
          await sleep(backoffDelay(n, 250, 2_000), signal).catch(() => undefined);
        }
      }
    },
    async close() {
      if (ownsDispatcher) await dispatcher.close();
    },
  };
}

