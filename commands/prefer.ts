import { z } from 'zod';
import { defineCommand } from '../src/core/command.ts';
import { UserError } from '../src/core/errors.ts';
import { checkOptionSetName, describePresets, MAX_OPTION_SETS, MAX_PRESET_LENGTH } from '../src/core/presets.ts';
import type { SettingsScope } from '../src/core/settings.ts';

const ACTIONS = ['suffix', 'option-set', 'option-delete', 'list'] as const;
type Action = (typeof ACTIONS)[number];

const options = z.object({
  action: z.enum(ACTIONS).optional().describe('suffix, option-set, option-delete or list (default: list)'),
  name: z.string().trim().min(1).max(40).optional().describe('Option set name, used as --name in prompts'),
  value: z.string().trim().max(MAX_PRESET_LENGTH).optional().describe('Suffix text or the option set\'s flags ("-" clears the suffix)'),
});

/**
 * Where only text can be typed (Slack, the playground) the action may lead the text, as in Midjourney:
 * `/prefer suffix --ar 16:9`, `/prefer option set wide --ar 16:9`, `/prefer option delete wide`, `/prefer list`.
 */
function readText(input: z.output<typeof options>): { action: Action; name?: string; value?: string } {
  // Typed text keeps its quotes (`--value "--ar 16:9"`); a value wholly in quotes means what is inside.
  const value = input.value === undefined ? undefined : (/^"(.*)"$/s.exec(input.value)?.[1]?.trim() ?? input.value);
  if (input.action) return { action: input.action, name: input.name, value };
  const text = value ?? '';
  const m = /^(list|suffix|option[\s-]+(set|delete|list))\b\s*(.*)$/is.exec(text);
  if (!m) {
    if (!text) return { action: 'list' };
    throw new UserError('INVALID_OPTIONS', 'Say what to change: /prefer suffix <text>, /prefer option set <name> <flags>, /prefer option delete <name>, or /prefer list.');
  }
  const head = m[1]!.toLowerCase();
  const rest = m[3]!.trim();
  if (head === 'list' || m[2]?.toLowerCase() === 'list') return { action: 'list' };
  if (head === 'suffix') return { action: 'suffix', value: rest };
  const action: Action = m[2]!.toLowerCase() === 'set' ? 'option-set' : 'option-delete';
  if (input.name) return { action, name: input.name, value: rest };
  const [name, ...flags] = rest.split(/\s+/);
  return { action, name: name || undefined, value: flags.join(' ') };
}

export const prefer = defineCommand({
  name: 'prefer',
  description: 'Your personal presets: a suffix for every prompt, and named option sets used as --name',
  positional: 'value',
  flagsInText: true,
  options,
  run: async (input, ctx) => {
    const scope: SettingsScope = { kind: 'user', platform: ctx.actor.platform, id: ctx.actor.userId };
    const current = await ctx.atelier.getSettings(scope);
    const { action, name, value } = readText(input);
    const done = (text: string, saved = current) => ({ type: 'message' as const, ephemeral: true, text: `${text}\n${describePresets(saved)}` });
    switch (action) {
      case 'list':
        return done('Your presets:');
      case 'suffix': {
        if (!value) throw new UserError('INVALID_OPTIONS', 'Give the suffix text, e.g. /prefer suffix --ar 16:9, or "-" to clear it.');
        const saved = await ctx.atelier.setSettings(scope, { promptSuffix: value === '-' ? '' : value }, ctx.actor);
        return done(value === '-' ? 'Suffix cleared.' : 'Suffix saved: it is added to the end of every prompt you send.', saved);
      }
      case 'option-set': {
        if (!name) throw new UserError('INVALID_OPTIONS', 'Give the option set a name, e.g. name:wide value:--ar 16:9 --stylize 50.');
        const key = checkOptionSetName(name);
        if (!value) throw new UserError('INVALID_OPTIONS', `Give the flags --${key} stands for, e.g. value:--ar 16:9 --stylize 50.`);
        const sets = { ...(current.optionSets ?? {}), [key]: value };
        if (Object.keys(sets).length > MAX_OPTION_SETS) throw new UserError('INVALID_OPTIONS', `You can keep at most ${MAX_OPTION_SETS} option sets; delete one first (/prefer option-delete).`);
        const saved = await ctx.atelier.setSettings(scope, { optionSets: sets }, ctx.actor);
        return done(`Saved: --${key} in a prompt now stands for ${value}.`, saved);
      }
      case 'option-delete': {
        const key = name?.trim().replace(/^--/, '').toLowerCase();
        if (!key || !current.optionSets || !Object.hasOwn(current.optionSets, key)) {
          throw new UserError('NOT_FOUND', `You have no option set${key ? ` --${key}` : ''}. See yours with /prefer list.`);
        }
        const { [key]: _gone, ...sets } = current.optionSets;
        const saved = await ctx.atelier.setSettings(scope, { optionSets: sets }, ctx.actor);
        return done(`Deleted --${key}.`, saved);
      }
    }
  },
});
