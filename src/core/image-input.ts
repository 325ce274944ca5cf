import { UserError } from './errors.ts';
import { jobFolder, type JobInput } from './job.ts';
import type { BlobStore, ImageFetcher, ImageSource, ImageTools, Store, StoredImage } from './ports.ts';
import type { ImageProvider } from './provider.ts';
import { MAX_INPUT_IMAGES, type GenerationRequest, type ImageRole } from './request.ts';

/** A picture the user asked for, before it is fetched: where it comes from and what it is for. */
export interface ImageRef {
  source: ImageSource;
  role: ImageRole;
}

/** A fetched, decoded and checked picture, not yet stored with a job. */
export interface FetchedImage {
  bytes: Uint8Array;
  mime: string;
  width: number;
  height: number;
  role: ImageRole;
  /** What /info shows: the URL as typed, or the file name. */
  label: string;
  /** The URL the user typed, when the picture came from one (not a platform's file): kept on the job's inputs. */
  url?: string;
}

export interface ImageInputLimits {
  /** Largest picture accepted, in bytes (20 MiB by default). */
  maxBytes: number;
  /** Largest picture accepted, in pixels (decompression bombs are refused before decoding). */
  maxPixels: number;
}

export const DEFAULT_IMAGE_INPUT_LIMITS: ImageInputLimits = { maxBytes: 20 * 1024 * 1024, maxPixels: 64 * 1024 * 1024 };

const URL_TOKEN = /^<?(https?:\/\/\S+?)>?$/i;
/** The picture types accepted; a platform that knows a file's declared type can refuse others before fetching. */
export const ACCEPTED_IMAGE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);
const ACCEPTED = ACCEPTED_IMAGE_TYPES;

/**
 * Midjourney's reading of a prompt: URLs before the description are image prompts; `--sref` and `--cref`
 * followed by URLs are style and character references; `--iw N` weighs the image prompts. Returns the prompt
 * without them. A `--sref` with something other than URLs (a Midjourney style code) stays in the prompt.
 */
export function extractImageRefs(prompt: string): { prompt: string; refs: ImageRef[]; weight?: number } {
  const tokens = prompt.trim().split(/\s+/).filter(Boolean);
  const refs: ImageRef[] = [];
  let i = 0;
  for (; i < tokens.length; i++) {
    const m = URL_TOKEN.exec(tokens[i]!);
    if (!m) break;
    refs.push({ source: { url: m[1]! }, role: 'prompt' });
  }
  const rest: string[] = [];
  let weight: number | undefined;
  while (i < tokens.length) {
    const tok = tokens[i]!;
    const flag = /^(?:--|[—–])(sref|cref|iw)$/i.exec(tok)?.[1]?.toLowerCase();
    if (flag === 'iw') {
      const n = Number(tokens[i + 1]);
      if (tokens[i + 1] === undefined || !/^\d+(\.\d+)?$/.test(tokens[i + 1]!) || n > 3) {
        throw new UserError('INVALID_OPTIONS', `--iw takes an image weight from 0 to 3 (e.g. --iw 1.5), not "${tokens[i + 1] ?? ''}".`);
      }
      if (weight !== undefined) throw new UserError('CONFLICT', '--iw is given twice: keep one.');
      weight = n;
      i += 2;
      continue;
    }
    if (flag) {
      let j = i + 1;
      const urls: string[] = [];
      while (j < tokens.length && URL_TOKEN.test(tokens[j]!)) {
        urls.push(URL_TOKEN.exec(tokens[j]!)![1]!);
        j++;
      }
      const nextIsFlag = j >= tokens.length || /^(?:--|[—–])[a-z]/i.test(tokens[j]!);
      if (urls.length && nextIsFlag) {
        for (const url of urls) refs.push({ source: { url }, role: flag === 'sref' ? 'style' : 'character' });
        i = j;
        continue;
      }
    }
    rest.push(tok);
    i++;
  }
  return { prompt: rest.join(' '), refs, ...(weight !== undefined ? { weight } : {}) };
}

const ROLE_NAMES: Record<ImageRole, string> = { prompt: 'image prompts', style: 'style references (--sref)', character: 'character references (--cref)' };

/**
 * Refuses, before anything is fetched or queued, pictures the provider cannot take: none at all, too many,
 * a use it lacks, --iw without a strength, /blend without blending, a public URL it needs and we lack.
 */
export function checkImageInput(provider: ImageProvider, ask: { refs: readonly ImageRef[]; weight?: number; blend?: boolean }, others: () => string[], publicUrl: boolean): void {
  const caps = provider.capabilities.imageInput;
  const n = ask.refs.length;
  if (n === 0) {
    if (ask.weight !== undefined) throw new UserError('INVALID_OPTIONS', '--iw weighs image prompts, and this prompt has none: start it with an image URL or attach a picture, or remove --iw.');
    return;
  }
  const elsewhere = () => {
    const able = others();
    return able.length ? ` Choose a provider that can (provider option): ${able.join(', ')}.` : '';
  };
  if (!caps) throw new UserError('UNSUPPORTED', `${provider.displayName} cannot start from your pictures.${elsewhere()}`);
  if (n > Math.min(caps.maxImages, MAX_INPUT_IMAGES)) throw new UserError('UNSUPPORTED', `${provider.displayName} takes at most ${caps.maxImages} picture${caps.maxImages === 1 ? '' : 's'} at a time, and you gave ${n}. Remove some.`);
  for (const role of new Set(ask.refs.map((r) => r.role))) {
    if (!caps.roles.includes(role)) throw new UserError('UNSUPPORTED', `${provider.displayName} has no ${ROLE_NAMES[role]}. Remove them, or choose another provider.`);
  }
  if (caps.perRole !== undefined) {
    for (const role of caps.roles) {
      const given = ask.refs.filter((r) => r.role === role).length;
      if (given > caps.perRole) throw new UserError('UNSUPPORTED', `${provider.displayName} takes ${caps.perRole} of its ${ROLE_NAMES[role]} at a time, and you gave ${given}. Remove some.`);
    }
  }
  if (ask.weight !== undefined && !caps.weight) throw new UserError('UNSUPPORTED', `${provider.displayName} has no image weight: remove --iw.`);
  if (ask.blend && !caps.blend) throw new UserError('UNSUPPORTED', `${provider.displayName} cannot blend pictures.${elsewhere()}`);
  if (caps.needsPublicUrl && !publicUrl) {
    throw new UserError('NOT_CONFIGURED', `${provider.displayName} fetches your pictures from a public address, and this bot has none: the operator must set PUBLIC_URL. Choose another provider meanwhile.`);
  }
}

/** A platform's file comes by URL with its name (a private URL means nothing to a reader); a typed URL is its own label. */
const labelOf = (source: ImageSource, n: number) => ('url' in source ? (source.name ?? source.url) : (source.name ?? `picture ${n}`)).slice(0, 300);

/** Fetches and checks each picture; the first bad one stops everything with a message naming it. */
export async function fetchImages(refs: readonly ImageRef[], deps: { fetcher?: ImageFetcher; images: ImageTools; limits: ImageInputLimits }, signal: AbortSignal): Promise<FetchedImage[]> {
  const out: FetchedImage[] = [];
  for (const [i, ref] of refs.entries()) {
    const label = labelOf(ref.source, i + 1);
    const name = 'url' in ref.source ? (ref.source.name ?? shortUrl(ref.source.url)) : label;
    let bytes: Uint8Array;
    if ('url' in ref.source) {
      if (!deps.fetcher) throw new UserError('UNSUPPORTED', 'This bot does not fetch pictures from URLs. Attach the picture instead.');
      bytes = await deps.fetcher.fetch(ref.source.url, signal, { ...(ref.source.platformFile ? { platformFile: true } : {}), ...(ref.source.name ? { name: ref.source.name } : {}) });
    } else bytes = ref.source.bytes;
    if (bytes.byteLength === 0) throw new UserError('INVALID_IMAGE', `${name} is empty. Send the picture again.`);
    if (bytes.byteLength > deps.limits.maxBytes) {
      throw new UserError('INVALID_IMAGE', `${name} is ${mib(bytes.byteLength)}; pictures may be at most ${mib(deps.limits.maxBytes)}. Send a smaller one.`);
    }
    let probed: { mime: string; width: number; height: number };
    try {
      probed = await deps.images.probe(bytes);
    } catch {
      throw new UserError('INVALID_IMAGE', `${name} is not a picture we can read: send a PNG, JPEG, WebP or GIF that opens in an image viewer.`);
    }
    if (!ACCEPTED.has(probed.mime)) throw new UserError('INVALID_IMAGE', `${name} is ${probed.mime}; send a PNG, JPEG, WebP or GIF.`);
    if (probed.width * probed.height > deps.limits.maxPixels) {
      throw new UserError('INVALID_IMAGE', `${name} is ${probed.width}×${probed.height} pixels, more than we take (${Math.round(deps.limits.maxPixels / 1e6)} megapixels). Send a smaller one.`);
    }
    const typed = 'url' in ref.source && !ref.source.platformFile ? ref.source.url : undefined;
    out.push({ bytes, mime: probed.mime, width: probed.width, height: probed.height, role: ref.role, label, ...(typed ? { url: typed } : {}) });
  }
  return out;
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n < 1024 * 1024 ? 2 : 1)} MiB`;
const shortUrl = (url: string) => {
  try {
    const u = new URL(url);
    return `the picture at ${u.host}${u.pathname.length > 40 ? `${u.pathname.slice(0, 40)}…` : u.pathname}`;
  } catch {
    return 'that picture';
  }
};

const ext = (mime: string) => mime.split('/')[1] ?? 'bin';
const inputId = (jobId: string, n: number) => `${jobId}-in${n}`;

/** The request's `images` and the job's `inputs` for pictures stored with it by `storeInputs`: ids are known before storing. */
export function plannedInputs(jobId: string, fetched: readonly Pick<FetchedImage, 'role' | 'label' | 'url'>[]): { images: NonNullable<GenerationRequest['images']>; inputs: JobInput[] } {
  return {
    images: fetched.map((f, i) => ({ imageId: inputId(jobId, i + 1), role: f.role })),
    inputs: fetched.map((f, i) => ({ imageId: inputId(jobId, i + 1), source: f.label, ...(f.url ? { url: f.url } : {}) })),
  };
}

/** Stores the pictures in the job's folder (kind 'input'), after its row exists: they live and go with the job. */
export async function storeInputs(jobId: string, fetched: readonly FetchedImage[], deps: { store: Store; blobs: BlobStore }, at: number): Promise<void> {
  for (const [i, f] of fetched.entries()) {
    const blobKey = `${jobFolder(jobId)}/input-${i + 1}.${ext(f.mime)}`;
    await deps.blobs.put(blobKey, f.bytes);
    await deps.store.addImage({ id: inputId(jobId, i + 1), jobId, index: i + 1, kind: 'input', mime: f.mime, width: f.width, height: f.height, size: f.bytes.byteLength, blobKey, createdAt: at });
  }
}

/**
 * A child job (🔄, ✏️, U, V, zoom…) gets its own copies of its parent's pictures, and of an edit's source:
 * deleting the parent, or its retention, never breaks a child, and a restart finds everything in the child's
 * folder. `plan` gives the new id of each old one; `copy` stores them once the child's row exists.
 */
export function planCopies(childId: string, sources: readonly { imageId: string; label: string; url?: string }[]): { ids: Map<string, string>; inputs: JobInput[] } {
  const ids = new Map<string, string>();
  const inputs: JobInput[] = [];
  for (const s of sources) {
    if (ids.has(s.imageId)) continue;
    const id = inputId(childId, ids.size + 1);
    ids.set(s.imageId, id);
    inputs.push({ imageId: id, source: s.label, ...(s.url ? { url: s.url } : {}) });
  }
  return { ids, inputs };
}

/** Reads what a child will copy, before anything is written: a source that is gone stops the press. */
export async function readCopies(ids: ReadonlyMap<string, string>, deps: { store: Store; blobs: BlobStore }): Promise<{ meta: StoredImage; bytes: Uint8Array; newId: string }[]> {
  const out = [];
  for (const [oldId, newId] of ids) {
    const meta = await deps.store.getImage(oldId);
    const bytes = meta ? await deps.blobs.get(meta.blobKey) : undefined;
    if (!meta || !bytes) throw new UserError('NOT_FOUND', 'A picture this job started from is no longer stored (it may have been deleted). Start again with /imagine.');
    out.push({ meta, bytes, newId });
  }
  return out;
}

export async function storeCopies(childId: string, copies: readonly { meta: StoredImage; bytes: Uint8Array; newId: string }[], deps: { store: Store; blobs: BlobStore }, at: number): Promise<void> {
  for (const [i, c] of copies.entries()) {
    const blobKey = `${jobFolder(childId)}/input-${i + 1}.${ext(c.meta.mime)}`;
    await deps.blobs.put(blobKey, c.bytes);
    await deps.store.addImage({ id: c.newId, jobId: childId, index: i + 1, kind: 'input', mime: c.meta.mime, width: c.meta.width, height: c.meta.height, size: c.bytes.byteLength, blobKey, createdAt: at });
  }
}
