import { UserError } from '../core/errors.ts';
import type { ProviderRunContext } from '../core/provider.ts';
import type { GenerationRequest, ImageRole } from '../core/request.ts';

/**
 * A user's pictures in a Midjourney prompt, as Midjourney reads them (docs.midjourney.com "Image Prompts",
 * "Style Reference"; ANCHORS.md): image prompt URLs lead the prompt, `--sref URL…` names style references,
 * `--iw N` weighs the image prompts; two or more image URLs and no text blend them (what /blend does). Other
 * Midjourney gateways document the same reading of their prompt (imaginepro.ai "Imagine": "include an image URL
 * in the prompt … same like you using Midjourney in Discord"; imagineapi.dev: "including image urls").
 * Character references are left out: `--cref` exists in V6 only and V7 replaced it with `--oref`, and which
 * version a gateway's account runs is not known here.
 */
export const MIDJOURNEY_PICTURE_ROLES: readonly ImageRole[] = ['prompt', 'style'];

export interface PictureUrl {
  url: string;
  role: ImageRole;
}

/** The public URLs of the request's pictures, in order; a provider that fetches pictures needs PUBLIC_URL. */
export async function publicPictures(req: GenerationRequest, ctx: ProviderRunContext, provider: string): Promise<PictureUrl[]> {
  if (!req.images?.length) return [];
  if (!ctx.publicImageUrl) {
    throw new UserError('NOT_CONFIGURED', `${provider} fetches your pictures from a public address, and this bot has none: the operator must set PUBLIC_URL.`);
  }
  const out: PictureUrl[] = [];
  for (const picture of req.images) {
    const url = await ctx.publicImageUrl(picture.imageId);
    // A prompt is split on spaces: a URL with one would lose its tail to the description.
    if (!/^https?:\/\/\S+$/.test(url)) throw new Error(`publicImageUrl gave an unusable URL: ${url}`);
    out.push({ url, role: picture.role });
  }
  return out;
}

/** Midjourney versions as a number (6.1, 7), from `--v N` in a raw prompt or a model option; undefined when unknown. */
export function midjourneyVersion(model: string | undefined, rawPrompt?: string): number | undefined {
  const typed = rawPrompt ? /(?:^|\s)--(?:v|version)\s+(\d+(?:\.\d+)?)/i.exec(rawPrompt)?.[1] : undefined;
  const v = Number(typed ?? model);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/**
 * The prompt with the pictures in Midjourney's places. `text` is the description (with any flags after it);
 * for a blend it is dropped, as /blend has no words. Range rules per version: --iw 0.5–2 before V6, 0–2 in V6,
 * 0–3 in V7; --sref from V6.
 */
export function promptWithPictures(text: string, pictures: readonly PictureUrl[], o: { weight?: number; blend?: boolean; version?: number; provider: string }): string {
  const lead = pictures.filter((p) => p.role === 'prompt').map((p) => p.url);
  const styles = pictures.filter((p) => p.role === 'style').map((p) => p.url);
  const other = pictures.find((p) => !MIDJOURNEY_PICTURE_ROLES.includes(p.role));
  if (other) throw new UserError('UNSUPPORTED', `${o.provider} takes no character references (--cref): Midjourney V7 has none. Remove them.`);
  if (styles.length && o.version !== undefined && o.version < 6) {
    throw new UserError('UNSUPPORTED', `Style references (--sref) need Midjourney 6 or later, and this asks for version ${o.version}: set the model to 6.1 or 7, or remove them.`);
  }
  if (o.weight !== undefined) {
    if (!lead.length) throw new UserError('INVALID_OPTIONS', '--iw weighs image prompts, and only style references were given: add an image prompt or remove --iw.');
    const [lo, hi] = o.version === undefined || o.version >= 7 ? [0, 3] : o.version >= 6 ? [0, 2] : [0.5, 2];
    if (o.weight < lo || o.weight > hi) throw new UserError('INVALID_OPTIONS', `--iw is ${lo} to ${hi} for Midjourney ${o.version ?? 7}, not ${o.weight}.`);
  }
  let rest = o.blend ? flagsOf(text) : text.trim();
  if (o.blend && lead.length < 2) throw new UserError('INVALID_OPTIONS', 'A blend needs at least two pictures.');
  if (!o.blend && !rest.replace(/(^|\s)--\S.*$/, '').trim() && lead.length < 2) {
    throw new UserError('INVALID_OPTIONS', 'Midjourney needs a description with one picture (or two or more pictures alone): add what to make of it.');
  }
  if (styles.length) rest = `${rest} --sref ${styles.join(' ')}`;
  if (o.weight !== undefined) rest = `${rest} --iw ${o.weight}`;
  return [...lead, rest].filter(Boolean).join(' ').trim();
}

/** The flags at the end of a prompt (from the first ` --`), or nothing. */
function flagsOf(text: string): string {
  const i = text.search(/(^|\s)--[a-zA-Z]/);
  return i < 0 ? '' : text.slice(i).trim();
}
