import { z } from 'zod';
import type { CommandDefinition } from '../../core/command.ts';
import { UserError } from '../../core/errors.ts';

/** One option of a command as JSON Schema describes it (with `io: 'input'`, defaulted fields are optional). */
export interface OptionShape {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean';
  enum?: readonly string[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  description?: string;
  required: boolean;
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
      ...(p.enum ? { enum: p.enum.map(String) } : {}),
      ...(p.minimum !== undefined ? { minimum: p.minimum } : {}),
      ...(p.maximum !== undefined ? { maximum: p.maximum } : {}),
      ...(p.maxLength !== undefined ? { maxLength: p.maxLength } : {}),
      ...(p.description ? { description: p.description } : {}),
      required: required.has(name),
    };
  });
}

const QUOTES: Record<string, string> = { '"': '"', "'": "'", '“': '”', '„': '“', '‘': '’', '«': '»' };

/**
 * Splits command text into words. A quote opens a group only at the start of a word and closes only at
 * the end of one, so apostrophes ("a cat's hat") stay as typed; an unclosed quote is kept literally.
 * Slack clients auto-correct quotes into curly ones, so those count too.
 */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  const words = text.trim().split(/\s+/).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const close = QUOTES[w[0]!];
    if (!close) {
      out.push(w);
      continue;
    }
    if (w.length > 1 && w.endsWith(close)) {
      out.push(w.slice(1, -1));
      continue;
    }
    const end = words.findIndex((x, j) => j > i && x.endsWith(close));
    if (end === -1) {
      out.push(w);
      continue;
    }
    out.push([w.slice(1), ...words.slice(i + 1, end), words[end]!.slice(0, -1)].join(' '));
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

/**
 * Slack text -> the command's raw input, before zod: `--option value` pairs for typed options, every
 * other word into the `positional` option. Throws a UserError naming the option and the usage on
 * anything it cannot place.
 */
export function parseCommandText(def: CommandDefinition, text: string, opts: ParseOptions = {}): Record<string, unknown> {
  const shapes = new Map(optionShapes(def).map((s) => [s.name, s]));
  const tokens = tokenize(text.replace(/[—–](?=[a-zA-Z])/g, '--'));
  const out: Record<string, unknown> = {};
  const free: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    const m = /^--([a-zA-Z][\w-]*)$/.exec(tok);
    const name = m?.[1]?.toLowerCase();
    const shape = name ? shapes.get(name) : undefined;
    // `--prompt a cat` names the free text explicitly: the marker goes, the words stay free.
    if (shape && shape.name === def.positional) continue;
    if (!m || !name || opts.keepInText?.(name) || !shape) {
      if (m && name && !shape && !opts.keepInText && !def.positional) {
        throw new UserError('INVALID_OPTIONS', `/${def.name} has no option --${name}. Usage: /${def.name} ${usageHint(def)}`);
      }
      free.push(tok);
      continue;
    }
    const next = tokens[i + 1];
    if (shape.type === 'boolean') {
      const b = next === undefined ? undefined : parseBoolean(next);
      if (b === undefined) out[name] = true;
      else {
        out[name] = b;
        i++;
      }
      continue;
    }
    if (next === undefined || /^--[a-zA-Z]/.test(next)) {
      throw new UserError('INVALID_OPTIONS', `--${name} needs a value${shape.enum ? `: one of ${shape.enum.join(', ')}` : ''}. Usage: /${def.name} ${usageHint(def)}`);
    }
    i++;
    out[name] = shape.type === 'integer' || shape.type === 'number' ? toNumber(next) : next;
  }
  if (free.length) {
    if (!def.positional) {
      throw new UserError('INVALID_OPTIONS', `/${def.name} does not take free text ("${free.join(' ').slice(0, 60)}"). Usage: /${def.name} ${usageHint(def)}`);
    }
    out[def.positional] = free.join(' ');
  }
  return out;
}

/** Numbers stay strings when they are not numbers, so zod names the option and says what it expects. */
const toNumber = (s: string): number | string => (/^-?\d+(\.\d+)?$/.test(s) ? Number(s) : s);

function parseBoolean(s: string): boolean | undefined {
  const v = s.toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(v)) return true;
  if (['false', 'no', 'off', '0'].includes(v)) return false;
  return undefined;
}

/** `[prompt] --format 1:1|16:9 --count 1-8 --private`: Slack's usage hint, from the option schema. */
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
