import { z } from 'zod';
import type { REST } from '@discordjs/rest';
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  Routes,
  type APIApplicationCommandBasicOption,
  type RESTGetAPIApplicationCommandsResult,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import type { CommandDefinition } from '../../core/command.ts';

/** Discord's limits on command metadata (application-commands.mdx); checked here so a deploy never fails halfway. */
const NAME = /^[-_\p{L}\p{N}]{1,32}$/u;
const MAX_OPTIONS = 25;
const MAX_CHOICES = 25;
const MAX_DESCRIPTION = 100;

interface JsonProperty {
  type?: string;
  enum?: unknown[];
  description?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

/** One definition as Discord's CHAT_INPUT command JSON; throws naming the option Discord could not represent. */
export function toDiscordCommand(def: CommandDefinition): RESTPostAPIChatInputApplicationCommandsJSONBody {
  if (!NAME.test(def.name) || def.name !== def.name.toLowerCase()) throw new Error(`/${def.name}: Discord command names are 1-32 lowercase letters, digits, - or _`);
  const schema = z.toJSONSchema(def.options, { io: 'input' }) as { properties?: Record<string, JsonProperty>; required?: string[] };
  const required = new Set(schema.required ?? []);
  const leftOut = new Set(Object.keys(leftToFlags(def)));
  const options: APIApplicationCommandBasicOption[] = Object.entries(schema.properties ?? {})
    .filter(([name]) => !leftOut.has(name))
    .map(([name, prop]) => toOption(def, name, prop, required.has(name)));
  for (const [n, name] of (def.pictures?.names ?? []).entries()) {
    if (!NAME.test(name) || name !== name.toLowerCase()) throw new Error(`/${def.name} ${name}: Discord option names are 1-32 lowercase letters, digits, - or _`);
    options.push({ type: ApplicationCommandOptionType.Attachment, name, description: clip(def.pictures!.description), required: n < def.pictures!.required });
  }
  if (options.length > MAX_OPTIONS) throw new Error(`/${def.name}: Discord allows ${MAX_OPTIONS} options, this has ${options.length}`);
  // Discord refuses a required option after an optional one.
  options.sort((a, b) => Number(b.required ?? false) - Number(a.required ?? false));
  return { type: ApplicationCommandType.ChatInput, name: def.name, description: clip(def.description), options };
}

/**
 * The options Discord's registration leaves to their prompt flags (name -> flag): room for the pictures within
 * the 25 options. The interactions hand this to the commands, so /help says the same as the registration.
 */
export function leftToFlags(def: CommandDefinition): Readonly<Record<string, string>> {
  return Object.fromEntries(Object.entries(def.flagOnly ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function toOption(def: CommandDefinition, name: string, prop: JsonProperty, required: boolean): APIApplicationCommandBasicOption {
  const where = `/${def.name} ${name}`;
  if (!NAME.test(name) || name !== name.toLowerCase()) throw new Error(`${where}: Discord option names are 1-32 lowercase letters, digits, - or _`);
  const base = { name, description: clip(prop.description ?? name), required };
  if (prop.enum) {
    if (prop.enum.length > MAX_CHOICES) throw new Error(`${where}: Discord allows ${MAX_CHOICES} choices, this has ${prop.enum.length}`);
    const values = prop.enum.filter((v): v is string => typeof v === 'string');
    if (values.length !== prop.enum.length) throw new Error(`${where}: only string enums can become Discord choices`);
    return { ...base, type: ApplicationCommandOptionType.String, choices: values.map((v) => ({ name: clip(def.labels?.[v] ?? v), value: v })) };
  }
  switch (prop.type) {
    case 'string':
      return {
        ...base,
        type: ApplicationCommandOptionType.String,
        ...defined({ min_length: prop.minLength, max_length: prop.maxLength }),
        // Values that depend on the provider come from its capabilities as the user types.
        ...(def.autocomplete?.includes(name) ? { autocomplete: true } : {}),
      };
    case 'integer':
      return { ...base, type: ApplicationCommandOptionType.Integer, ...defined({ min_value: lower(prop), max_value: upper(prop) }) };
    case 'number':
      return { ...base, type: ApplicationCommandOptionType.Number, ...defined({ min_value: lower(prop), max_value: upper(prop) }) };
    case 'boolean':
      return { ...base, type: ApplicationCommandOptionType.Boolean };
    default:
      throw new Error(`${where}: type ${JSON.stringify(prop.type ?? 'unknown')} has no Discord option type (use a string, number, boolean or enum)`);
  }
}

const lower = (p: JsonProperty) => p.minimum ?? p.exclusiveMinimum;
const upper = (p: JsonProperty) => p.maximum ?? p.exclusiveMaximum;
const clip = (s: string) => (s.length > MAX_DESCRIPTION ? `${s.slice(0, MAX_DESCRIPTION - 1)}…` : s);

function defined<T extends Record<string, number | undefined>>(o: T): { [K in keyof T]?: number } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: number };
}

export interface RegisterOptions {
  rest: REST;
  applicationId: string;
  /** Registers on one guild (instant, for testing) instead of globally. */
  guildId?: string;
  commands: readonly CommandDefinition[];
}

export interface RegisterResult {
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: string[];
  /** Whether anything was written. */
  put: boolean;
  summary: string;
}

/**
 * Puts the definitions on the application, idempotently: reads what is there, and overwrites only when
 * something differs, so running it twice writes once.
 */
export async function registerCommands(opts: RegisterOptions): Promise<RegisterResult> {
  const wanted = opts.commands.map(toDiscordCommand);
  const route = opts.guildId ? Routes.applicationGuildCommands(opts.applicationId, opts.guildId) : Routes.applicationCommands(opts.applicationId);
  const existing = (await opts.rest.get(route)) as RESTGetAPIApplicationCommandsResult;
  const byName = new Map(existing.filter((c) => (c.type ?? ApplicationCommandType.ChatInput) === ApplicationCommandType.ChatInput).map((c) => [c.name, c]));
  const result: RegisterResult = { added: [], changed: [], removed: [], unchanged: [], put: false, summary: '' };
  for (const cmd of wanted) {
    const old = byName.get(cmd.name);
    if (!old) result.added.push(cmd.name);
    else if (JSON.stringify(normalize(old)) !== JSON.stringify(normalize(cmd))) result.changed.push(cmd.name);
    else result.unchanged.push(cmd.name);
    byName.delete(cmd.name);
  }
  result.removed = [...byName.keys()];
  if (result.added.length || result.changed.length || result.removed.length) {
    await opts.rest.put(route, { body: wanted });
    result.put = true;
  }
  const scope = opts.guildId ? `guild ${opts.guildId}` : 'all servers (global commands can take up to an hour to appear)';
  const parts = [
    result.added.length ? `added /${result.added.join(', /')}` : '',
    result.changed.length ? `updated /${result.changed.join(', /')}` : '',
    result.removed.length ? `removed /${result.removed.join(', /')}` : '',
  ].filter(Boolean);
  result.summary = parts.length ? `Discord commands for ${scope}: ${parts.join('; ')}; ${result.unchanged.length} unchanged.` : `Discord commands for ${scope} are up to date (${result.unchanged.length} commands); nothing written.`;
  return result;
}

/** The fields we set, in a fixed order, with Discord's defaults filled in, so a fetched command compares equal. */
function normalize(c: { name: string; description: string; options?: readonly object[] }): unknown {
  return {
    name: c.name,
    description: c.description,
    options: (c.options ?? []).map((o) => {
      const x = o as Record<string, unknown>;
      return {
        type: x.type,
        name: x.name,
        description: x.description,
        required: x.required ?? false,
        autocomplete: x.autocomplete ?? false,
        choices: ((x.choices as { name: string; value: unknown }[] | undefined) ?? []).map((ch) => [ch.name, ch.value]),
        min_length: x.min_length ?? null,
        max_length: x.max_length ?? null,
        min_value: x.min_value ?? null,
        max_value: x.max_value ?? null,
      };
    }),
  };
}
