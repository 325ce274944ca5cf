import { z } from 'zod';
import { acceptedOptions, countText, declaredValues, FIELDS_WITHOUT_OPTION } from '../src/core/capability-options.ts';
import { defineCommand } from '../src/core/command.ts';
import { imagine } from './imagine.ts';
import { hasToolbox } from '../src/core/present.ts';
import { WHO_MAY_CHANGE } from '../src/core/permissions.ts';
import type { ImageProvider, ProviderCapabilities } from '../src/core/provider.ts';

export const help = defineCommand({
  name: 'help',
  description: 'How to use Atelier, and what each configured provider accepts',
  options: z.object({
    provider: z.string().trim().min(1).max(32).optional().describe('Show one provider only'),
  }),
  run: async (input, ctx) => {
    const providers = input.provider ? [ctx.atelier.providers.get(input.provider)] : ctx.atelier.providers.all();
    const lines = [
      '/imagine <prompt> — describe a picture; add flags like --ar 16:9 --seed 7 --chaos 30 --no text, or use the typed options.',
      'Buttons: U upscales an image (where the provider has no upscaler, U picks the image out of the grid, as Midjourney\'s U does), V makes a variation (where the provider can), 🔄 rerolls, ✏️ remixes with an edited prompt, ℹ️ shows details, 🗑️ deletes. After U (or under a single picture where the provider has no upscaler), the provider\'s toolbox: zoom, pan, Make Square, Vary (Subtle / Strong / Region), Upscale (Subtle / Creative), each where it can.',
      'Pictures: attach them to /imagine or start the prompt with image URLs (--sref / --cref URLs for style and character, --iw 0-3 to weigh them); /blend combines 2-5 pictures.',
      ...(ctx.actor.platform === 'slack' ? ['On Slack: a bare /imagine and /blend open a form with a file input; on a message with a picture, choose "Imagine from this image" in its ⋮ menu.'] : []),
      '/queue shows the channel queue, /cancel stops your jobs, /info shows details, /settings sets your defaults.',
      `/settings scope:channel or scope:server sets policy. Who may: channel settings: ${WHO_MAY_CHANGE[ctx.actor.platform].channel}; server settings: ${WHO_MAY_CHANGE[ctx.actor.platform].server}.`,
      '',
    ];
    // Where the platform has no typed option for some (Discord's 25-option room), they are named as flags.
    const asFlags = ctx.flagsOnly?.(imagine) ?? {};
    for (const p of providers) lines.push(...describeProvider(p, asFlags));
    return { type: 'message', ephemeral: true, text: lines.join('\n') };
  },
});

/**
 * One provider's entry, generated from its declared capabilities only; `asFlags` (option -> prompt flag) are
 * the options this platform offers as the flag only, listed as flags rather than as options.
 */
export function describeProvider(p: ImageProvider, asFlags: Readonly<Record<string, string>> = {}): string[] {
  const c = p.capabilities;
  const accepted = acceptedOptions(c);
  const flags = accepted.flatMap((o) => (Object.hasOwn(asFlags, o) ? [asFlags[o]!] : []));
  const u = c.upscale ? 'U (upscale)' : hasToolbox(c) ? 'U (picks an image for the toolbox; no upscale)' : '';
  const buttons = [u, c.variations && 'V (variations)', ...toolboxNames(c)].filter(Boolean).join(', ');
  const extras = [c.progressPercent && 'progress %', c.previews && 'previews', picturesText(c)].filter(Boolean).join(', ');
  const out = [
    `• ${p.displayName} (provider:${p.id}) — modes: ${c.modes.join('/')}; ${countText(c)}${buttons ? `; buttons: ${buttons}` : ''}${extras ? `; ${extras}` : ''}.`,
    `  options: ${accepted.filter((o) => !Object.hasOwn(asFlags, o)).join(', ')}`,
  ];
  if (flags.length) out.push(`  typed in the prompt as flags (no option for them here): ${flags.join(', ')}`);
  const ranges = [
    c.steps && `steps ${c.steps.min}–${c.steps.max}`,
    c.guidance && `guidance ${c.guidance.min}–${c.guidance.max}`,
    c.size && `width/height ${c.size.min}–${c.size.max} in steps of ${c.size.multipleOf}`,
    c.aspectRatios !== 'any' && c.fields.includes('aspectRatio') && `format ${c.aspectRatios.join(' ')}`,
  ].filter(Boolean);
  if (ranges.length) out.push(`  ranges: ${ranges.join('; ')}`);
  for (const option of ['model', 'style'] as const) {
    const values = declaredValues(c, option);
    if (values?.length && c.fields.includes(option)) out.push(`  ${option}s: ${values.join(', ')}`);
  }
  for (const m of c.models ?? []) if (m.note) out.push(`  ${m.name}: ${m.note}`);
  const other = c.fields.filter((f) => FIELDS_WITHOUT_OPTION[f]).map((f) => FIELDS_WITHOUT_OPTION[f]);
  if (other.length) out.push(`  also through: ${other.join('; ')}`);
  for (const note of c.notes ?? []) out.push(`  ${note}`);
  return out;
}

/** The after-U buttons this provider offers, by the names the buttons carry. */
function toolboxNames(c: ProviderCapabilities): string[] {
  return [
    c.upscale && c.upscaleModes?.length ? `Upscale (${c.upscaleModes.map((m) => (m === 'subtle' ? 'Subtle' : 'Creative')).join(' / ')})` : '',
    c.variations && c.varyStrength ? 'Vary (Subtle / Strong)' : '',
    c.inpaint ? 'Vary (Region)' : '',
    c.outpaint ? 'Zoom Out, Custom Zoom, Make Square, pan' : '',
  ].filter(Boolean);
}

/** What the provider does with a user's pictures, from `imageInput`. */
function picturesText(c: ProviderCapabilities): string {
  const i = c.imageInput;
  if (!i) return '';
  const roles = i.roles.map((r) => (r === 'prompt' ? 'image prompts' : r === 'style' ? '--sref' : '--cref'));
  const more = [i.weight && '--iw', i.blend && '/blend', i.needsPublicUrl && 'needs PUBLIC_URL'].filter(Boolean);
  return `your pictures (up to ${i.maxImages}: ${[...roles, ...more].join(', ')})`;
}
