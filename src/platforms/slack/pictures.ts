import type { ImageSource } from '../../core/ports.ts';
import type { ImageProvider } from '../../core/provider.ts';
import { MAX_INPUT_IMAGES } from '../../core/request.ts';

/** What the file inputs accept: Slack checks the extension as a convenience only, the core checks the bytes. */
export const PICTURE_FILETYPES = ['png', 'jpg', 'jpeg', 'webp', 'gif'] as const;
const PICTURE_MIMES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);
/** Slack's image blocks show png, jpg, jpeg and gif Slack files only (docs: Slack file object). */
const THUMB_TYPES = new Set(['png', 'jpg', 'jpeg', 'gif']);

/** A Slack file as a file input's view state or a message's `files` carries it; only what we read. */
export interface SlackFile {
  id?: string;
  name?: string;
  title?: string;
  mimetype?: string;
  filetype?: string;
  size?: number;
  url_private?: string;
  url_private_download?: string;
}

/** A user's Slack file as the core takes it, and what its thumbnail in the job message needs. */
export interface PictureFile {
  url: string;
  name: string;
  /** `url_private`, shown back as a small image (`slack_file`) when Slack can show the type. */
  thumb?: string;
}

/** What the configured providers can do with pictures: decides whether the forms offer a file input at all. */
export interface PictureChoices {
  /** Most pictures one /imagine can take (0: no provider takes any). */
  maxImages: number;
  /** Providers that can /blend. */
  blenders: readonly ImageProvider[];
}

export function pictureChoices(providers: readonly ImageProvider[]): PictureChoices {
  let maxImages = 0;
  for (const p of providers) {
    const caps = p.capabilities.imageInput;
    if (!caps) continue;
    maxImages = Math.max(maxImages, Math.min(caps.maxImages, MAX_INPUT_IMAGES));
  }
  return { maxImages, blenders: providers.filter((p) => p.capabilities.imageInput?.blend) };
}

const clipName = (s: string) => (s.length > 100 ? `${s.slice(0, 99)}…` : s);

/**
 * A Slack file as a picture for the core, or why it is not one. The download URL is what the bot fetches with
 * its token; a file Slack says is not an image is refused here, before anything is fetched or queued.
 */
export function pictureOf(file: SlackFile): PictureFile | { error: string } {
  const name = clipName(file.name || file.title || 'a file');
  const url = file.url_private_download || file.url_private;
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) return { error: `Slack gave no download address for ${name}: upload it again.` };
  if (file.mimetype && !PICTURE_MIMES.has(file.mimetype)) return { error: `${name} is not a picture (Slack says ${file.mimetype}): attach a PNG, JPEG, WebP or GIF.` };
  const thumbable = typeof file.url_private === 'string' && THUMB_TYPES.has((file.filetype ?? '').toLowerCase());
  return { url, name, ...(thumbable ? { thumb: file.url_private } : {}) };
}

/** The files of a file input in a submitted view (`state.values[block][action].files`). */
export function filesOf(values: Record<string, Record<string, { files?: unknown }>>, blockId: string): SlackFile[] {
  const v = Object.hasOwn(values, blockId) ? values[blockId]?.[blockId] : undefined;
  return Array.isArray(v?.files) ? (v.files.filter((f) => f && typeof f === 'object') as SlackFile[]) : [];
}

/** The pictures of a message (a message shortcut's payload carries the message with its `files`). */
export function picturesOfMessage(message: { files?: unknown } | undefined): { pictures: PictureFile[]; refused: string[] } {
  const files = Array.isArray(message?.files) ? (message.files as SlackFile[]) : [];
  const pictures: PictureFile[] = [];
  const refused: string[] = [];
  for (const f of files) {
    const p = pictureOf(f);
    if ('error' in p) refused.push(p.error);
    else pictures.push(p);
  }
  return { pictures, refused };
}

/**
 * Pictures as the core takes them. Every one came from Slack itself (a signed payload's file object, or a form's
 * metadata the app wrote from one), so the fetcher may send the bot token for it to Slack's file host.
 */
export const sourcesOf = (pictures: readonly PictureFile[]): ImageSource[] => pictures.map((p) => ({ url: p.url, name: p.name, platformFile: true }));
