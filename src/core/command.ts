import type { z } from 'zod';
import type { Actor, Job, Where } from './job.ts';
import type { Atelier } from './atelier.ts';
import type { ImageSource } from './ports.ts';

/** What a command answers; each platform renders it its own way. */
export type CommandResult =
  | { type: 'job'; job: Job }
  /** `live`: new jobs (a permutation), each shown as its own job message; otherwise a text listing. */
  | { type: 'jobs'; jobs: Job[]; text: string; ephemeral: boolean; live?: boolean }
  | { type: 'message'; text: string; ephemeral: boolean };

export interface CommandContext {
  readonly atelier: Atelier;
  readonly actor: Actor;
  readonly where: Where;
  /**
   * The options this platform offers only as their prompt flag, for a command (option name -> flag): what its
   * registration leaves out. Absent where every option is typed. /help reads it so it never names an option
   * the user cannot find.
   */
  readonly flagsOnly?: (def: CommandDefinition) => Readonly<Record<string, string>>;
}

/**
 * A slash command as plain data: both registration formats (Discord JSON, Slack manifest) are derived
 * from it, and every platform runs the same `run`.
 */
export interface CommandDefinition<S extends z.ZodObject = z.ZodObject> {
  /** /^[a-z0-9-]{1,32}$/, so "/" + name fits Slack's limit too. */
  readonly name: string;
  /** At most 100 characters (Discord's limit). */
  readonly description: string;
  /** Every field `.describe()`d; scalars and enums only. */
  readonly options: S;
  /** Slack and the playground: the string option that takes the free text. */
  readonly positional?: keyof z.input<S> & string;
  /** String options whose values depend on the chosen provider: suggested as the user types, never a fixed list. */
  readonly autocomplete?: readonly (keyof z.input<S> & string)[];
  /** The positional text may carry Midjourney `--flags` (kept in the text, not read as options). */
  readonly flagsInText?: boolean;
  /** Display labels for enum values where the value alone reads badly. */
  readonly labels?: Record<string, string>;
  /**
   * Pictures the command takes besides its typed options (which are scalars only). Each platform gathers
   * them its own way (Discord: one ATTACHMENT option per name; Slack: a modal file input; the playground:
   * uploads) and hands them to `run` in order.
   */
  readonly pictures?: CommandPictures;
  /**
   * Options that have a prompt flag saying the same (`iw` is `--iw`): a surface short of room (Discord's 25
   * options a command, pictures included) may offer them as the flag only.
   */
  readonly flagOnly?: Partial<Record<keyof z.input<S> & string, string>>;
  run(input: z.output<S>, ctx: CommandContext, pictures?: readonly ImageSource[]): Promise<CommandResult>;
}

export interface CommandPictures {
  /** Option names, in order (Discord registers one attachment option each; the first `required` are required). */
  readonly names: readonly string[];
  readonly required: number;
  /** Describes each picture option (at most 100 characters). */
  readonly description: string;
}

export const defineCommand = <S extends z.ZodObject>(def: CommandDefinition<S>): CommandDefinition<S> => def;
