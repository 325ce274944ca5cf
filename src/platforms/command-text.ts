import { z } from 'zod';
import type { CommandDefinition } from '../core/command.ts';
import { UserError } from '../core/errors.ts';

/**
 * Command text -> typed input, for the platforms where commands arrive as text (Slack, the playground).
 * Discord sends typed options and does not need this. One parser, so `/imagine a fox --count 2` means
 * the same wherever it is typed.
 */

/** One option of a command as JSON Schema describes it (with `io: 'input'`, defaulted fields are optional). */
export interface OptionShape {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean';
  description: string;
  required: boolean;
  enum?: readonly string[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
}

interface JsonProp {
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  description?: string;
  anyOf?: JsonProp[];
}

const shapesCache = new WeakMap<CommandDefinition, OptionShape[]>();

/** The command's options, read once from its zod schema; the same source as Discord's option list. */
export function optionShapes(def: CommandDefinition): OptionShape[] {
  let shapes = shapesCache.get(def);
  // Converting a schema is slow next to a slash command's 3 s budget; definitions never change.
  if (!shapes) shapesCache.set(def, (shapes = readShapes(def)));
  return shapes;
}

function readShapes(def: CommandDefinition): OptionShape[] {
  const schema = z.toJSONSchema(def.options, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, JsonProp>; required?: string[] };
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, raw]) => {
    const p = raw.anyOf?.find((x) => x.type !== 'null') ?? raw;
    const t = Array.isArray(p.type) ? p.type.find((x) => x !== 'null') : p.type;
    const type = t === 'integer' || t === 'number' || t === 'boolean' ? t : 'string';
    return {
      name,
      type,
      description: raw.description ?? p.description ?? '',
      required: required.has(name),
      ...(p.enum ? { enum: p.enum.map(String) } : {}),
      ...(p.minimum !== undefined ? { minimum: p.minimum } : {}),
      ...(p.maximum !== undefined ? { maximum: p.maximum } : {}),
      ...(p.maxLength !== undefined ? { maxLength: p.maxLength } : {}),
    };
  });
}

export interface Token {
  /** Quotes removed: for typed option values. */
  value: string;
  /** As typed: for the free text, so a prompt keeps its quotes. */
  raw: string;
}

const QUOTES: Record<string, string> = { '"': '"', "'": "'", '“': '”', '„': '“', '‘': '’', '«': '»' };

/**
 * Splits command text into words. A quote opens a group only at the start of a word and closes only at
 * the end of one, so apostrophes ("a cat's hat") stay as typed; an unclosed quote is kept literally.
 * Slack clients and phones auto-correct quotes into curly ones, so those count too.
 */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const words = text.trim().split(/\s+/).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const close = QUOTES[w[0]!];
    if (!close) {
      out.push({ value: w, raw: w });
      continue;
    }
    if (w.length > 1 && w.endsWith(close)) {
      out.push({ value: w.slice(1, -1), raw: w });
      continue;
    }
    const end = words.findIndex((x, j) => j > i && x.endsWith(close));
    if (end === -1) {
      out.push({ value: w, raw: w });
      continue;
    }
    const group = words.slice(i, end + 1).join(' ');
    out.push({ value: group.slice(1, -1), raw: group });
    i = end;
  }
  return out;
}

export interface ParseOptions {
  /**
   * `--names` that belong to the free text rather than to the command: for /imagine, the Midjourney flags
   * (`--ar`, `--seed`, `--style`), so the core's one flag parser reads them exactly as on every platform.
   */
  keepInText?: (name: string) => boolean;
}

const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);
const FLAG = /^--([a-zA-Z][\w-]*)(?:=(.*))?$/;

/**
 * Text -> the command's raw input, before zod: `--option value` (or `--option=value`) for typed options,
 * every other word into the `positional` option. Throws a UserError naming the option on anything it
 * cannot place; callers add the usage line once, for this and for zod's complaints alike.
 */
export function parseCommandText(def: CommandDefinition, text: string, opts: ParseOptions = {}): Record<string, unknown> {
  const shapes = new Map(optionShapes(def).map((s) => [s.name, s]));
  // Phones and some keyboards turn "--" into a dash.
  const tokens = tokenize(text.replace(/[—–](?=[a-zA-Z])/g, '--'));
  // Null prototype: option names come from the text, and `__proto__` or `constructor` are just names here.
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const free: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    const m = FLAG.exec(tok.raw);
    const name = m?.[1]?.toLowerCase();
    const shape = name === undefined ? undefined : shapes.get(name);
    // `--prompt a cat` names the free text explicitly: the marker goes, the words stay free.
    if (shape && shape.name === def.positional && m?.[2] === undefined) continue;
    // Midjourney flags belong to the prompt even where a typed option shares the name (--no, --seed).
    if (name === undefined || opts.keepInText?.(name) || (!shape && def.positional && opts.keepInText)) {
      free.push(tok.raw);
      continue;
    }
    if (!shape || shape.name === def.positional) {
      const known = [...shapes.keys()].filter((n) => n !== def.positional).map((n) => `--${n}`);
      throw new UserError('INVALID_OPTIONS', `/${def.name} has no option --${name}.${known.length ? ` Options: ${known.join(', ')}.` : ''}`);
    }
    if (shape.name in out) throw new UserError('CONFLICT', `--${shape.name} is given twice: keep one.`);
    let raw = m?.[2];
    const next = tokens[i + 1];
    if (raw === undefined && shape.type === 'boolean') {
      if (next && (TRUE.has(next.value.toLowerCase()) || FALSE.has(next.value.toLowerCase()))) {
        raw = next.value;
        i++;
      } else raw = 'true';
    } else if (raw === undefined) {
      if (!next || FLAG.test(next.raw)) throw new UserError('INVALID_OPTIONS', `--${shape.name} needs a value${valueHint(shape)}.`);
      raw = next.value;
      i++;
    }
    out[shape.name] = coerce(shape, raw);
  }
  if (free.length) {
    if (!def.positional) {
      throw new UserError('INVALID_OPTIONS', `/${def.name} takes no free text ("${free.join(' ').slice(0, 60)}"): use --options.`);
    }
    out[def.positional] = free.join(' ');
  }
  return out;
}

function valueHint(s: OptionShape): string {
  if (s.enum) return `: one of ${s.enum.join(', ')}`;
  if (s.minimum !== undefined && s.maximum !== undefined) return ` from ${s.minimum} to ${s.maximum}`;
  return '';
}

function coerce(s: OptionShape, raw: string): unknown {
  switch (s.type) {
    case 'boolean': {
      const v = raw.toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      throw new UserError('INVALID_OPTIONS', `--${s.name} is yes or no, not "${raw}".`);
    }
    case 'integer':
    case 'number': {
      // Decimal only: Number() would read "0x10" as 16 and "1e21" as a number no option can hold.
      const n = (s.type === 'integer' ? /^[+-]?\d{1,16}$/ : /^[+-]?\d{1,16}(\.\d{1,16})?$/).test(raw) ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw new UserError('INVALID_OPTIONS', `--${s.name} takes a ${s.type === 'integer' ? 'whole number' : 'number'}${valueHint(s)}, not "${raw}".`);
      return n;
    }
    default:
      return raw;
  }
}

/** `<prompt> [--format 1:1|16:9] [--count 1-8] [--private]`: the usage hint, from the option schema. */
export function usageHint(def: CommandDefinition): string {
  const parts: string[] = [];
  for (const s of optionShapes(def)) {
    if (s.name === def.positional) {
      parts.unshift(s.required ? `<${s.name}>` : `[${s.name}]`);
      continue;
    }
    let value: string;
    if (s.type === 'boolean') value = '';
    else if (s.enum) value = s.enum.length <= 6 ? ` ${s.enum.map((v) => (v.includes(' ') ? `"${v}"` : v)).join('|')}` : ` <${s.name}>`;
    else if ((s.type === 'integer' || s.type === 'number') && s.minimum !== undefined && s.maximum !== undefined) value = ` ${s.minimum}-${s.maximum}`;
    else value = ` <${s.type === 'string' ? 'text' : 'number'}>`;
    parts.push(s.required ? `--${s.name}${value}` : `[--${s.name}${value}]`);
  }
  return parts.join(' ');
}
