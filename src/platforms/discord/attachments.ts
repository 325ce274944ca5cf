import { ApplicationCommandOptionType, type APIApplicationCommandInteractionDataOption, type APIAttachment } from 'discord-api-types/v10';
import type { CommandDefinition } from '../../core/command.ts';
import { ACCEPTED_IMAGE_TYPES } from '../../core/image-input.ts';
import type { ImageSource } from '../../core/ports.ts';

/**
 * A slash command's typed values by name, as the command's zod schema reads them, and its attachment options
 * (`def.pictures.names`) as pictures `{ url, name }` in the order of those names. Discord sends an attachment
 * option's value as the attachment's id and the file itself in `data.resolved.attachments[id]`
 * (interactions/receiving-and-responding.mdx "Resolved Data Structure"; discord-api-types
 * `APIInteractionDataResolved.attachments`). What the resolved file declares (size, content_type) is checked
 * here, before anything is fetched or queued; the core still checks the bytes it fetches.
 *
 * Returns the input and pictures, or the sentence to show the user.
 */
export function readCommandInput(
  def: CommandDefinition,
  options: readonly APIApplicationCommandInteractionDataOption[],
  resolved: Record<string, APIAttachment> | undefined,
  maxBytes: number,
): { input: Record<string, unknown>; pictures: ImageSource[] } | { error: string } {
  // A null-prototype object: an option named `__proto__` must stay an unknown key, not become the prototype.
  const input: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const pictures: ImageSource[] = [];
  const names = new Set(def.pictures?.names ?? []);
  for (const o of options) {
    if (!('value' in o)) continue;
    if (!names.has(o.name)) {
      input[o.name] = o.value;
      continue;
    }
    const file = o.type === ApplicationCommandOptionType.Attachment ? resolved?.[String(o.value)] : undefined;
    if (!file) return { error: `${o.name}: Discord did not send the attached file. Attach it again.` };
    const problem = fileProblem(file, maxBytes);
    if (problem) return { error: problem };
    // Discord handed us this file as the user's: its CDN link is signed, and a 404 there means it expired.
    pictures.push({ url: file.url, name: file.filename.slice(0, 200), platformFile: true });
  }
  // In the order of the option names (image, image2…), whatever order Discord lists them in.
  return { input, pictures: def.pictures ? order(pictures, options, def.pictures.names) : [] };
}

function order(pictures: ImageSource[], options: readonly APIApplicationCommandInteractionDataOption[], names: readonly string[]): ImageSource[] {
  const given = options.filter((o) => names.includes(o.name)).map((o) => o.name);
  return pictures.map((p, i) => ({ p, at: names.indexOf(given[i]!) })).sort((a, b) => a.at - b.at).map((x) => x.p);
}

/** What the file declares that no fetch can fix: too large, or not a picture type we take. */
function fileProblem(file: APIAttachment, maxBytes: number): string | undefined {
  const name = file.filename || 'That file';
  if (file.size > maxBytes) return `${name} is ${mib(file.size)}; pictures may be at most ${mib(maxBytes)}. Send a smaller one.`;
  // Discord leaves content_type out when it cannot tell; then the bytes decide, once fetched.
  const type = file.content_type?.split(';')[0]?.trim().toLowerCase();
  if (type && !ACCEPTED_IMAGE_TYPES.has(type)) return `${name} is ${type}; send a PNG, JPEG, WebP or GIF.`;
  return undefined;
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n < 1024 * 1024 ? 2 : 1)} MiB`;
