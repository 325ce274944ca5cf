import { z } from 'zod';
import type { CommandDefinition } from '../../core/command.ts';

/** One typed option of a command as the composer needs it: for parsing, completion and the usage line. */
export interface OptionInfo {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'array';
  description: string;
  required: boolean;
  enum?: string[];
  minimum?: number;
  maximum?: number;
}

export interface CommandInfo {
  name: string;
  description: string;
  positional?: string;
  options: OptionInfo[];
  usage: string;
}

interface JsonProperty {
  type?: string | string[];
  enum?: unknown[];
  description?: string;
  minimum?: number;
  maximum?: number;
  anyOf?: JsonProperty[];
}

const TYPES = new Set(['string', 'integer', 'number', 'boolean', 'array']);

function typeOf(p: JsonProperty): OptionInfo['type'] {
  const t = Array.isArray(p.type) ? p.type.find((x) => x !== 'null') : p.type;
  if (t && TYPES.has(t)) return t as OptionInfo['type'];
  const inner = p.anyOf?.find((x) => x.type && x.type !== 'null');
  return inner ? typeOf(inner) : 'string';
}

const cache = new WeakMap<CommandDefinition, CommandInfo>();

/**
 * The command's options read from its zod schema through JSON Schema (`io: 'input'`, so defaulted
 * fields count as optional), the same derivation the Discord and Slack registrations use.
 */
export function describeCommand(def: CommandDefinition): CommandInfo {
  const hit = cache.get(def);
  if (hit) return hit;
  const schema = z.toJSONSchema(def.options, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, JsonProperty>;
    required?: string[];
  };
  const required = new Set(schema.required ?? []);
  const options = Object.entries(schema.properties ?? {}).map(([name, p]): OptionInfo => {
    const inner = p.anyOf?.find((x) => x.type !== 'null') ?? p;
    const values = (p.enum ?? inner.enum)?.filter((v): v is string => typeof v === 'string');
    return {
      name,
      type: typeOf(p),
      description: p.description ?? inner.description ?? '',
      required: required.has(name),
      ...(values?.length ? { enum: values } : {}),
      ...(inner.minimum !== undefined ? { minimum: inner.minimum } : {}),
      ...(inner.maximum !== undefined ? { maximum: inner.maximum } : {}),
    };
  });
  const info: CommandInfo = {
    name: def.name,
    description: def.description,
    ...(def.positional ? { positional: def.positional } : {}),
    options,
    usage: usageOf(def.name, def.positional, options),
  };
  cache.set(def, info);
  return info;
}

/** "/imagine <prompt> [--count 1-8] [--mode simple|advanced] …": what the inline error shows under a mistake. */
function usageOf(name: string, positional: string | undefined, options: readonly OptionInfo[]): string {
  const parts = [`/${name}`];
  if (positional) parts.push(options.find((o) => o.name === positional)?.required ? `<${positional}>` : `[${positional}]`);
  for (const o of options) {
    if (o.name === positional) continue;
    let value = o.type === 'boolean' ? '' : ` <${o.type === 'integer' || o.type === 'number' ? 'number' : 'text'}>`;
    if (o.enum) value = ` ${o.enum.length <= 6 ? o.enum.join('|') : `${o.enum.slice(0, 5).join('|')}|…`}`;
    else if (o.minimum !== undefined && o.maximum !== undefined) value = ` ${o.minimum}-${o.maximum}`;
    parts.push(o.required ? `--${o.name}${value}` : `[--${o.name}${value}]`);
  }
  return parts.join(' ');
}
