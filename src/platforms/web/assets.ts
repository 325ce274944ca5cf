import { readFile, readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RawResponse } from '../../server.ts';

const DIR = fileURLToPath(new URL('./assets/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
};

/** The page allows only itself: no CDN, no inline script, images from here (and object URLs). */
export const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * The hand-written page, read once at start. Only the files that exist are served, so no request
 * path ever reaches the file system.
 */
export async function loadAssets(): Promise<Map<string, RawResponse>> {
  const out = new Map<string, RawResponse>();
  for (const name of await readdir(DIR)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = await readFile(join(DIR, name));
    out.set(name, { status: 200, headers: { ...PAGE_HEADERS, 'content-type': type, 'cache-control': 'no-cache' }, body });
  }
  return out;
}

/** PNG, JPEG, WebP or GIF by their magic bytes: blob keys carry no type. */
export function sniffImage(bytes: Uint8Array): string {
  if (bytes[0] === 0x89 && bytes[1] === 0x50) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  if (bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[8] === 0x57 && bytes[9] === 0x45) return 'image/webp';
  if (bytes[0] === 0x47 && bytes[1] === 0x49) return 'image/gif';
  return 'application/octet-stream';
}
