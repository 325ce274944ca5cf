import { z } from 'zod';
import { defineCommand } from '../src/core/command.ts';
import { WHO_MAY_CHANGE } from '../src/core/permissions.ts';
import { FIELD_LABELS, type RequestField } from '../src/core/request.ts';

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
      'Buttons: U upscales an image, V makes a variation, 🔄 rerolls, ✏️ remixes with an edited prompt, ℹ️ shows details, 🗑️ deletes.',
      '/queue shows the channel queue, /cancel stops your jobs, /info shows details, /settings sets your defaults.',
      `/settings scope:channel or scope:server sets policy. Who may: channel settings: ${WHO_MAY_CHANGE[ctx.actor.platform].channel}; server settings: ${WHO_MAY_CHANGE[ctx.actor.platform].server}.`,
      '',
    ];
    for (const p of providers) {
      const c = p.capabilities;
      const fields = c.fields.map((f: RequestField) => FIELD_LABELS[f]).join(', ');
      const actions = [c.upscale && 'upscale', c.variations && 'variations', c.progressPercent && 'progress %', c.previews && 'previews'].filter(Boolean).join(', ');
      lines.push(`• ${p.displayName} (provider:${p.id}) — modes: ${c.modes.join('/')}; up to ${c.fixedCount ?? c.maxCount} images; accepts: ${fields || 'prompt only'}${actions ? `; ${actions}` : ''}.`);
    }
    return { type: 'message', ephemeral: true, text: lines.join('\n') };
  },
});
