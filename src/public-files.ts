import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { BlobStore, Store, StoredImage } from './core/ports.ts';
import type { HttpServer, RawResponse } from './server.ts';

export interface PublicFilesOptions {
  store: Store;
  blobs: BlobStore;
  /** PUBLIC_URL: where providers reach this server. */
  publicUrl: string;
  /** FILES_SECRET; unset, a secret is generated once and kept in the store, so every process sharing it agrees. */
  secret?: string;
  /** How long a link works (default one hour: long enough for a provider's queue, short enough that a leaked link dies). */
  ttlMs?: number;
  now?: () => number;
}

export interface PublicFiles {
  /** `${PUBLIC_URL}/files/<token>.<ext>`: an unguessable link to one stored picture that stops working after `ttlMs`. */
  urlFor(imageId: string): Promise<string>;
  /** Serves `GET /files/<token>` on the server. */
  mount(server: HttpServer): void;
}

export const FILES_PATH = '/files/';
const SECRET_KEY = 'public-files.secret';
const SECRET_LOCK = 'public-files.secret.lock';
/**
 * Only the user's own pictures (kind 'input') and results (kind 'image') are ever served: those are what providers
 * are handed (image prompts, edit sources, the picture to vary or upscale). Grids are no provider's input, and
 * previews are not stored images at all, so neither can be reached by any link.
 */
const SERVED_KINDS: ReadonlySet<StoredImage['kind']> = new Set(['input', 'image']);
const EXT: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif' };

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * Links to stored pictures for providers that fetch pictures themselves (all-images.ai's image URLs). The token is
 * the image id and an expiry, signed with HMAC-SHA256: nothing is stored per link, any process holding the secret
 * can check it, and without the secret no id can be turned into a link.
 */
export function createPublicFiles(options: PublicFilesOptions): PublicFiles {
  const ttlMs = options.ttlMs ?? 60 * 60 * 1000;
  const now = options.now ?? Date.now;
  const base = options.publicUrl.replace(/\/+$/, '');
  let key: Promise<Buffer> | undefined;

  const secret = (): Promise<Buffer> => {
    key ??= (options.secret ? Promise.resolve(options.secret) : sharedSecret(options.store, now)).then((s) =>
      // Its own key, derived, so FILES_SECRET reused elsewhere signs nothing there.
      createHmac('sha256', s).update('atelier public files v1').digest(),
    );
    key.catch(() => (key = undefined));
    return key;
  };
  const sign = (k: Buffer, imageId: string, expires: number) => createHmac('sha256', k).update(`${imageId}\n${expires}`).digest();

  /** What the token grants, or undefined for anything malformed, tampered with or expired. */
  async function verify(token: string): Promise<{ imageId: string; expiresMs: number } | undefined> {
    const m = /^([A-Za-z0-9_-]{1,400})\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})(?:\.[a-z]{3,4})?$/.exec(token);
    if (!m) return undefined;
    const imageId = Buffer.from(m[1]!, 'base64url').toString('utf8');
    const expires = parseInt(m[2]!, 36);
    const given = Buffer.from(m[3]!, 'base64url');
    const expected = sign(await secret(), imageId, expires);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    if (expires * 1000 <= now()) return undefined;
    return { imageId, expiresMs: expires * 1000 };
  }

  const notFound: RawResponse = { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, body: 'not found' };

  return {
    async urlFor(imageId) {
      const meta = await options.store.getImage(imageId);
      const expires = Math.ceil((now() + ttlMs) / 1000);
      const sig = sign(await secret(), imageId, expires);
      const ext = meta ? EXT[meta.mime] : undefined;
      // The extension is not signed (the type served is the stored one): some fetchers judge a link by its ending.
      return `${base}${FILES_PATH}${b64url(imageId)}.${expires.toString(36)}.${b64url(sig)}${ext ? `.${ext}` : ''}`;
    },
    mount(server) {
      server.routePrefix('GET', FILES_PATH, async (req) => {
        const grant = await verify(req.path.slice(FILES_PATH.length));
        if (!grant) return notFound;
        const meta = await options.store.getImage(grant.imageId);
        if (!meta || !SERVED_KINDS.has(meta.kind)) return notFound;
        const bytes = await options.blobs.get(meta.blobKey);
        if (!bytes) return notFound;
        const maxAge = Math.max(0, Math.floor((grant.expiresMs - now()) / 1000));
        return {
          status: 200,
          headers: {
            'content-type': meta.mime,
            'content-length': String(bytes.byteLength),
            'cache-control': `private, max-age=${maxAge}`,
            'x-content-type-options': 'nosniff',
            'referrer-policy': 'no-referrer',
          },
          body: bytes,
        };
      });
    },
  };
}

/**
 * The secret kept in the store. The first process to need it takes a short claim, generates it and stores it;
 * others wait for it rather than store their own (the key/value write is an upsert: two writers would each keep a
 * different secret and refuse each other's links).
 */
async function sharedSecret(store: Store, now: () => number): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const stored = await store.getValue(SECRET_KEY);
    if (stored) return stored;
    // A claim outlives a crashed writer by seconds, then someone else takes over.
    if (await store.claimOnce(SECRET_LOCK, now() + 5_000, now())) {
      const again = await store.getValue(SECRET_KEY);
      if (again) return again;
      const fresh = randomBytes(32).toString('base64url');
      await store.setValue(SECRET_KEY, fresh);
      return fresh;
    }
    if (Date.now() > deadline) throw new Error('the public files secret was not written by the process that claimed it');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
