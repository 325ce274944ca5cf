import type { CommandDefinition } from '../../core/command.ts';
import { UserError, formatZodIssues } from '../../core/errors.ts';
import { isKnownFlag } from '../../core/prompt.ts';
import { describeCommand, type OptionInfo } from './command-schema.ts';

export interface ParsedCommand {
  command: CommandDefinition;
  /** The schema's output: what `command.run` takes. */
  input: Record<string, unknown>;
}

interface Token {
  /** Quotes removed: for typed option values. */
  value: string;
  /** As typed: for the free text, so a prompt keeps its quotes. */
  raw: string;
}

/** Splits on whitespace, keeping "quoted words" together. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of text.matchAll(re)) out.push({ value: m[1] ?? m[2] ?? m[3] ?? '', raw: m[0] });
  return out;
}

const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);
const FLAG = /^--([a-zA-Z][\w-]*)(?:=(.*))?$/;

/**
 * Composer text -> a command and its validated input. `--option value` pairs fill typed options; the
 * other words are the command's `positional` option. A prompt keeps its Midjourney flags (`--ar 16:9`,
 * `--no text`) so the core reads them with the one prompt parser every platform shares.
 * Throws `UserError` naming what to change; nothing runs on a parse error.
 */
export function parseCommand(text: string, commands: readonly CommandDefinition[]): ParsedCommand {
  // Phones and some keyboards turn "--" into a dash.
  const line = text.replace(/[—–]/g, '--').trim();
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
  const info = describeCommand(command);
  const byName = new Map(info.options.map((o) => [o.name, o]));
  const promptTakesFlags = info.positional === 'prompt';
  const usage = `\nUsage: ${info.usage}`;

  const tokens = tokenize(line.slice(head[0].length));
  const input: Record<string, unknown> = {};
  const free: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    const m = FLAG.exec(tok.raw);
    const flag = m?.[1]?.toLowerCase();
    const option = flag === undefined ? undefined : byName.get(flag);
    // Midjourney flags belong to the prompt even where a typed option shares the name (--no, --seed).
    if (flag === undefined || (promptTakesFlags && (isKnownFlag(flag) || !option))) {
      free.push(tok.raw);
      continue;
    }
    if (!option || option.name === info.positional) {
      const known = info.options.filter((o) => o.name !== info.positional).map((o) => `--${o.name}`);
      throw new UserError('INVALID_OPTIONS', `/${command.name} has no option --${flag}.${known.length ? ` Options: ${known.join(', ')}.` : ''}${usage}`);
    }
    if (option.name in input) throw new UserError('CONFLICT', `--${option.name} is given twice: keep one.${usage}`);
    let raw = m?.[2];
    const next = tokens[i + 1];
    if (raw === undefined && option.type === 'boolean') {
      if (next && (TRUE.has(next.value.toLowerCase()) || FALSE.has(next.value.toLowerCase()))) {
        raw = next.value;
        i++;
      } else raw = 'true';
    } else if (raw === undefined) {
      if (!next || FLAG.test(next.raw)) throw new UserError('INVALID_OPTIONS', `--${option.name} needs a value${hint(option)}.${usage}`);
      raw = next.value;
      i++;
    }
    input[option.name] = coerce(option, raw, usage);
  }

  const rest = free.join(' ').trim();
  if (rest) {
    if (!info.positional) {
      throw new UserError('INVALID_OPTIONS', `/${command.name} takes no free text ("${rest.slice(0, 40)}"): use --options.${usage}`);
    }
    input[info.positional] = rest;
  }
  const parsed = command.options.safeParse(input);
  if (!parsed.success) throw new UserError('INVALID_OPTIONS', `${formatZodIssues(parsed.error.issues)}${usage}`);
  return { command, input: parsed.data as Record<string, unknown> };
}

function hint(o: OptionInfo): string {
  if (o.enum) return `: one of ${o.enum.join(', ')}`;
  if (o.minimum !== undefined && o.maximum !== undefined) return ` from ${o.minimum} to ${o.maximum}`;
  return '';
}

function coerce(o: OptionInfo, raw: string, usage: string): unknown {
  switch (o.type) {
    case 'boolean': {
      const v = raw.toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      throw new UserError('INVALID_OPTIONS', `--${o.name} is yes or no, not "${raw}".${usage}`);
    }
    case 'integer':
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new UserError('INVALID_OPTIONS', `--${o.name} takes a number${hint(o)}, not "${raw}".${usage}`);
      return n;
    }
    case 'array':
      return raw.split(',').map((s) => s.trim()).filter(Boolean);
    default:
      return raw;
  }
}
