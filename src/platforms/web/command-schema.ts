import type { CommandDefinition } from '../../core/command.ts';
import type { CapabilityChoices } from '../capability-choices.ts';
import { optionShapes, usageHint, type OptionShape } from '../command-text.ts';

export type OptionInfo = OptionShape;

/** A command as the composer needs it: for completion and the usage line. */
export interface CommandInfo {
  name: string;
  description: string;
  positional?: string;
  options: OptionInfo[];
  usage: string;
}

/**
 * The command's options read from its zod schema, the same derivation every platform uses; with
 * `choices`, only the options the configured providers accept, with their declared values.
 */
export function describeCommand(def: CommandDefinition, choices?: CapabilityChoices): CommandInfo {
  const options = optionShapes(def)
    .filter((o) => !choices?.only || choices.only.includes(o.name))
    .map((o) => (choices?.dynamic?.[o.name]?.length ? { ...o, enum: [...choices.dynamic[o.name]!] } : o));
  return {
    name: def.name,
    description: def.description,
    ...(def.positional ? { positional: def.positional } : {}),
    options,
    usage: `/${def.name} ${usageHint(def)}`.trim(),
  };
}
