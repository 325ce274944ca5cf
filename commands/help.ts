import { z } from 'zod';
import { acceptedOptions, countText, declaredValues, FIELDS_WITHOUT_OPTION } from '../src/core/capability-options.ts';
import { defineCommand } from '../src/core/command.ts';
import { WHO_MAY_CHANGE } from '../src/core/permissions.ts';
import type { ImageProvider } from '../src/core/provider.ts';

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
      'Buttons: U upscales an image, V makes a variation (where the provider can), 🔄 rerolls, ✏️ remixes with an edited prompt, ℹ️ shows details, 🗑️ deletes.',
      '/queue shows the channel queue, /cancel stops your jobs, /info shows details, /settings sets your defaults.',
      `/settings scope:channel or scope:server sets policy. Who may: channel settings: ${WHO_MAY_CHANGE[ctx.actor.platform].channel}; server settings: ${WHO_MAY_CHANGE[ctx.actor.platform].server}.`,
      '',
    ];
    for (const p of providers) lines.push(...describeProvider(p));
    return { type: 'message', ephemeral: true, text: lines.join('\n') };
  },
});

/** One provider's entry, generated from its declared capabilities only. */
export function describeProvider(p: ImageProvider): string[] {
  const c = p.capabilities;
  const buttons = [c.upscale && 'U (upscale)', c.variations && 'V (variations)'].filter(Boolean).join(', ');
  const extras = [c.progressPercent && 'progress %', c.previews && 'previews', c.imageInput && 'image input (a picture of yours)'].filter(Boolean).join(', ');
  const out = [
    `• ${p.displayName} (provider:${p.id}) — modes: ${c.modes.join('/')}; ${countText(c)}${buttons ? `; buttons: ${buttons}` : ''}${extras ? `; ${extras}` : ''}.`,
    `  options: ${acceptedOptions(c).join(', ')}`,
  ];
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
