import { UserError } from './errors.ts';
import { aspectRatioProblem, type GenerationRequest } from './request.ts';

/** One `--name value` found in a prompt; `value` is true for a bare flag like `--tile`. */
export interface PromptFlag {
  name: string;
  value: string | true;
  /** The flag exactly as typed, for error messages and advanced mode. */
  raw: string;
}

export interface ParsedPrompt {
  /** The description with every flag removed. */
  text: string;
  flags: PromptFlag[];
}

type FlagField = 'aspectRatio' | 'negativePrompt' | 'seed' | 'chaos' | 'stylize' | 'tiling';

/**
 * Flags that map to a request field, with their aliases. Maps, not objects: a flag name is user text,
 * and `--constructor` or `--toString` must be unknown flags, not Object.prototype's members.
 */
const FIELD_FLAGS = new Map<string, FlagField>(Object.entries({
  ar: 'aspectRatio',
  aspect: 'aspectRatio',
  no: 'negativePrompt',
  seed: 'seed',
  chaos: 'chaos',
  c: 'chaos',
  stylize: 'stylize',
  s: 'stylize',
  tile: 'tiling',
} satisfies Record<string, FlagField>));

/** Midjourney parameters with no request field: kept in the Midjourney bag under their canonical name. */
const MJ_FLAGS = new Map<string, string>(Object.entries({
  v: 'v',
  version: 'v',
  niji: 'niji',
  q: 'q',
  quality: 'q',
  weird: 'weird',
  w: 'weird',
  iw: 'iw',
  repeat: 'repeat',
  r: 'repeat',
  style: 'style',
  raw: 'raw',
  sref: 'sref',
  sw: 'sw',
  sv: 'sv',
  oref: 'oref',
  ow: 'ow',
  cref: 'cref',
  cw: 'cw',
  p: 'p',
  profile: 'p',
  exp: 'exp',
  draft: 'draft',
  stop: 'stop',
  relax: 'relax',
  fast: 'fast',
  turbo: 'turbo',
  hd: 'hd',
  video: 'video',
  motion: 'motion',
  personalize: 'p',
}));

/** Flags that never take a value, so the next word stays in the prompt. */
const BARE = new Set(['tile', 'raw', 'draft', 'relax', 'fast', 'turbo', 'hd', 'video']);
/** Flags whose value is a list that may run over several words (`--no red, blue cars`). */
const MULTI_WORD = new Set(['no', 'sref', 'oref', 'cref', 'p', 'profile']);
/** Flags whose value may be absent (`--niji`, `--p`). */
const OPTIONAL_VALUE = new Set(['niji', 'p', 'profile', 'personalize']);

export const isKnownFlag = (name: string): boolean => FIELD_FLAGS.has(name) || MJ_FLAGS.has(name);

/**
 * Splits a prompt into its description and its `--flags`. A flag's value runs until the next flag
 * (so `--no red, blue cars` keeps its list), except for bare flags and numeric ones.
 */
export function parsePrompt(input: string): ParsedPrompt {
  const flags: PromptFlag[] = [];
  const text: string[] = [];
  // The em dash stands in for "--" where phones and Slack auto-correct it.
  const tokens = input.replace(/[—–]/g, '--').trim().split(/\s+/).filter(Boolean);
  let i = 0;
  while (i < tokens.length) {
    const tok = tokens[i]!;
    // `--ar=16:9` is read as `--ar 16:9`: a flag is never left in the description unread.
    const m = /^--([a-zA-Z][\w-]*)(?:=(.*))?$/.exec(tok);
    if (!m) {
      text.push(tok);
      i++;
      continue;
    }
    const name = m[1]!.toLowerCase();
    i++;
    const valueTokens: string[] = [];
    const inline = m[2];
    if (inline !== undefined) {
      if (BARE.has(name)) throw new UserError('INVALID_OPTIONS', `--${name} takes no value: write just --${name}, not ${tok}.`);
      if (inline === '') throw new UserError('INVALID_OPTIONS', `${tok} has no value after "=": write --${name} and its value${isKnownFlag(name) ? `, e.g. ${example(name)}` : ''}.`);
      valueTokens.push(inline);
    }
    if (!BARE.has(name) && (inline === undefined || MULTI_WORD.has(name))) {
      while (i < tokens.length && !/^--[a-zA-Z]/.test(tokens[i]!)) {
        valueTokens.push(tokens[i]!);
        i++;
        // Single-valued flags take one word; the rest of the words are the description again.
        if (!MULTI_WORD.has(name)) break;
      }
    }
    if (valueTokens.length === 0 && !BARE.has(name) && !OPTIONAL_VALUE.has(name) && isKnownFlag(name)) {
      throw new UserError('INVALID_OPTIONS', `--${name} needs a value, e.g. ${example(name)}.`);
    }
    const value = valueTokens.length ? valueTokens.join(' ') : true;
    flags.push({ name, value, raw: value === true ? `--${name}` : `--${name} ${value}` });
  }
  return { text: text.join(' '), flags };
}

function example(name: string): string {
  const field = FIELD_FLAGS.get(name);
  switch (field) {
    case 'aspectRatio':
      return `--${name} 16:9`;
    case 'negativePrompt':
      return '--no text, watermark';
    case 'seed':
      return '--seed 42';
    case 'chaos':
      return `--${name} 50`;
    case 'stylize':
      return `--${name} 250`;
    default:
      return `--${name} 6`;
  }
}

const intIn = (flag: string, raw: string | true, min: number, max: number): number => {
  // Decimal digits only: Number() would also read "0x10", "1e3", "0b1" and " 7 ".
  const n = raw !== true && /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UserError('INVALID_OPTIONS', `--${flag} must be a whole number from ${min} to ${max}, not "${raw === true ? '' : raw}".`);
  }
  return n;
};

/** Request fields read from flags, and the Midjourney bag; unknown flags are returned, not dropped. */
export interface FlagFields {
  fields: Partial<Pick<GenerationRequest, 'aspectRatio' | 'negativePrompt' | 'seed' | 'chaos' | 'stylize' | 'tiling'>>;
  midjourney: Record<string, string | true>;
  unknown: PromptFlag[];
}

export function readFlags(flags: readonly PromptFlag[]): FlagFields {
  const out: FlagFields = { fields: {}, midjourney: {}, unknown: [] };
  const seen = new Map<string, string>();
  for (const f of flags) {
    const field = FIELD_FLAGS.get(f.name);
    const key = field ?? MJ_FLAGS.get(f.name);
    if (!key) {
      out.unknown.push(f);
      continue;
    }
    const prev = seen.get(key);
    if (prev !== undefined) throw new UserError('CONFLICT', `${prev} and ${f.raw} set the same thing twice: keep one.`);
    seen.set(key, f.raw);
    switch (field) {
      case 'aspectRatio': {
        const v = String(f.value);
        const problem = aspectRatioProblem(v);
        if (problem) throw new UserError('INVALID_OPTIONS', `--${f.name} ${problem}`);
        out.fields.aspectRatio = v;
        break;
      }
      case 'negativePrompt':
        out.fields.negativePrompt = String(f.value).trim();
        break;
      case 'seed':
        out.fields.seed = intIn(f.name, f.value, 0, 4294967295);
        break;
      case 'chaos':
        out.fields.chaos = intIn(f.name, f.value, 0, 100);
        break;
      case 'stylize':
        out.fields.stylize = intIn(f.name, f.value, 0, 1000);
        break;
      case 'tiling':
        out.fields.tiling = true;
        break;
      default:
        out.midjourney[key] = f.value;
    }
  }
  return out;
}

/** The request's fields as Midjourney flags, in a stable order. */
export function formatFlags(req: Partial<GenerationRequest>): string[] {
  const out: string[] = [];
  if (req.aspectRatio) out.push(`--ar ${req.aspectRatio}`);
  if (req.chaos !== undefined) out.push(`--chaos ${req.chaos}`);
  if (req.stylize !== undefined) out.push(`--stylize ${req.stylize}`);
  if (req.seed !== undefined) out.push(`--seed ${req.seed}`);
  if (req.tiling) out.push('--tile');
  if (req.negativePrompt) out.push(`--no ${req.negativePrompt}`);
  for (const [k, v] of Object.entries(req.midjourney ?? {})) out.push(v === true ? `--${k}` : `--${k} ${v}`);
  return out;
}

/** Request -> prompt text. `parsePrompt(formatPrompt(r))` gives back every field the request holds. */
export function formatPrompt(req: Pick<GenerationRequest, 'prompt'> & Partial<GenerationRequest>): string {
  if (req.mode === 'advanced' && req.rawPrompt) return req.rawPrompt;
  return [req.prompt, ...formatFlags(req)].join(' ');
}

/** A raw prompt with its `--seed N` removed and everything else as typed: a reroll must not repeat the seed. */
export function withoutSeedFlag(raw: string): string {
  return raw
    .replace(/(^|\s)(?:--|[—–])seed(?:\s+\d+)?(?=\s|$)/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
