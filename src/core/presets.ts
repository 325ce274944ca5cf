import { UserError } from './errors.ts';
import { isKnownFlag } from './prompt.ts';

/** A user's personal presets, kept with their user-scope settings (Midjourney's /prefer). */
export interface Presets {
  /** Appended to every prompt the user sends. */
  promptSuffix?: string;
  /** `--name` in a prompt stands for these flags. */
  optionSets?: Record<string, string>;
}

export const MAX_OPTION_SETS = 20;
export const MAX_PRESET_LENGTH = 500;

/** Checks a new option-set name: a plain word that does not shadow a flag Atelier already reads. */
export function checkOptionSetName(raw: string): string {
  const name = raw.trim().replace(/^--/, '').toLowerCase();
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(name)) throw new UserError('INVALID_OPTIONS', `"${raw}" cannot be an option name: use letters, digits and dashes, starting with a letter (at most 32).`);
  if (isKnownFlag(name) || name === 'yes') throw new UserError('INVALID_OPTIONS', `--${name} is already a flag; pick another name for your option set.`);
  return name;
}

/**
 * The user's suffix appended and their `--name` option sets replaced by their flags, before any parsing
 * or checking, so a preset that clashes with what was typed is reported like any other clash.
 */
export function applyPresets(prompt: string, presets: Presets): string {
  const sets = presets.optionSets ?? {};
  const withSuffix = presets.promptSuffix?.trim() ? `${prompt.trim()} ${presets.promptSuffix.trim()}` : prompt;
  if (!Object.keys(sets).length) return withSuffix;
  return withSuffix
    .split(/(\s+)/)
    .map((tok) => {
      const m = /^(?:--|[—–])([a-zA-Z][\w-]*)$/.exec(tok);
      const name = m?.[1]?.toLowerCase();
      return name !== undefined && !isKnownFlag(name) && Object.hasOwn(sets, name) ? sets[name]! : tok;
    })
    .join('');
}

export function describePresets(presets: Presets): string {
  const lines = [`• suffix: ${presets.promptSuffix?.trim() ? presets.promptSuffix : '(none)'}`];
  const sets = Object.entries(presets.optionSets ?? {});
  lines.push(sets.length ? `• option sets:\n${sets.map(([k, v]) => `  --${k} = ${v}`).join('\n')}` : '• option sets: (none)');
  return lines.join('\n');
}
