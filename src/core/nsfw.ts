import { UserError } from './errors.ts';
import type { ProviderResult } from './provider.ts';

/**
 * A provider's own NSFW verdict per image (Leonardo's `nsfw`, AI Horde's `censored`, …: an adapter maps
 * it to `ProviderImage.nsfw`) is honoured here, once for every provider: where NSFW is not allowed,
 * flagged images are withheld with a note, and a result of nothing but flagged images is a refusal.
 */
export function withholdFlagged(result: ProviderResult, allowNsfw: boolean, providerName: string): ProviderResult {
  if (allowNsfw) return result;
  const shown = result.images.filter((i) => i.nsfw !== true);
  const withheld = result.images.length - shown.length;
  if (withheld === 0) return result;
  if (shown.length === 0) {
    throw new UserError('MODERATION', `${providerName} flagged every image as NSFW, and NSFW is not allowed here. Rephrase the prompt.`, { blockedBy: `${providerName}'s NSFW flag` });
  }
  const note = `${withheld} image${withheld > 1 ? 's' : ''} withheld: flagged NSFW by ${providerName}, and NSFW is not allowed here.`;
  return { ...result, images: shown, note: result.note ? `${result.note} ${note}` : note };
}
