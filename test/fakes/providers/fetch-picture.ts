/** A picture a provider fake fetched from a URL it was given, as the real service would before painting. */
export interface FetchedPicture {
  url: string;
  status: number;
  type: string;
  bytes: Uint8Array;
  ok: boolean;
}

const MAX_BYTES = 20 * 1024 * 1024;

/** GET with a deadline and a size bound; `ok` only for a 200 answer that says it is an image. */
export async function fetchPicture(url: string): Promise<FetchedPicture> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const type = res.headers.get('content-type') ?? '';
    return { url, status: res.status, type, bytes, ok: res.status === 200 && type.startsWith('image/') && bytes.byteLength > 0 && bytes.byteLength <= MAX_BYTES };
  } catch {
    return { url, status: 0, type: '', bytes: new Uint8Array(), ok: false };
  }
}
