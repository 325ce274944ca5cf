import type { CommandDefinition } from '../../core/command.ts';
import { UserError, formatZodIssues } from '../../core/errors.ts';
import { isKnownFlag } from '../../core/prompt.ts';
import { parseCommandText, usageHint } from '../command-text.ts';

export interface ParsedCommand {
  command: CommandDefinition;
  /** The schema's output: what `command.run` takes. */
  input: Record<string, unknown>;
}

/**
 * Composer text -> a command and its validated input, through the same text parser as Slack. A prompt
 * keeps its Midjourney flags (`--ar 16:9`, `--no text`) so the core reads them with the one prompt parser.
 * Throws `UserError` naming what to change; nothing runs on a parse error.
 */
export function parseCommand(text: string, commands: readonly CommandDefinition[]): ParsedCommand {
  const line = text.trim();
  const head = /^\/([\w-]*)\s*/.exec(line);
  if (!head) {
    throw new UserError('INVALID_OPTIONS', `Commands start with "/": try /imagine ${line.slice(0, 60) || 'a lighthouse at dusk'}`);
  }
  const name = head[1]!.toLowerCase();
  const command = commands.find((c) => c.name === name);
  if (!command) {
    const near = commands.filter((c) => name && (c.name.startsWith(name) || name.startsWith(c.name)));
    const list = (near.length ? near : commands).map((c) => `/${c.name}`).join(', ');
    throw new UserError('INVALID_OPTIONS', `Unknown command "/${name}". ${near.length ? 'Did you mean' : 'Commands here:'} ${list}?`);
  }
  const usage = `\nUsage: /${command.name} ${usageHint(command)}`;
  let raw: Record<string, unknown>;
  try {
    raw = parseCommandText(command, line.slice(head[0].length), command.positional === 'prompt' || command.flagsInText ? { keepInText: isKnownFlag } : {});
  } catch (err) {
    if (err instanceof UserError) throw new UserError(err.code, `${err.message}${usage}`);
    throw err;
  }
  const parsed = command.options.safeParse(raw);
  if (!parsed.success) throw new UserError('INVALID_OPTIONS', `${formatZodIssues(parsed.error.issues)}${usage}`);
  return { command, input: parsed.data as Record<string, unknown> };
}
