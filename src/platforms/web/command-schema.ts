import type { CommandDefinition } from '../../core/command.ts';
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

/** The command's options read from its zod schema, the same derivation every platform uses. */
export function describeCommand(def: CommandDefinition): CommandInfo {
  return {
    name: def.name,
    description: def.description,
    ...(def.positional ? { positional: def.positional } : {}),
    options: optionShapes(def),
    usage: `/${def.name} ${usageHint(def)}`.trim(),
  };
}
