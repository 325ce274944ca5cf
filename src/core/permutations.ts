import { UserError } from './errors.ts';

/** Midjourney's own ceiling for one prompt's permutations and repeats; a channel may set it lower. */
export const MAX_JOBS_PER_PROMPT = 12;
/** Above this many jobs the user confirms first, so a stray brace does not spend a dozen generations. */
export const CONFIRM_ABOVE = 4;
export const MAX_REPEAT = 4;

/** What one typed prompt asks for: the prompts to queue (repeats included) and whether it was confirmed. */
export interface Expansion {
  prompts: string[];
  confirmed: boolean;
}

/**
 * `--repeat N` / `--r N` and `--yes` steer how many jobs a prompt makes, not what a provider draws, so
 * they are taken out here, before the flag parser and before advanced mode sends the prompt verbatim.
 */
function takeControls(prompt: string): { rest: string; repeat: number; confirmed: boolean } {
  const tokens = prompt.replace(/[—–](?=[a-zA-Z])/g, '--').trim().split(/\s+/).filter(Boolean);
  const kept: string[] = [];
  let repeat: number | undefined;
  let confirmed = false;
  for (let i = 0; i < tokens.length; i++) {
    const m = /^--(repeat|r|yes)(?:=(.*))?$/i.exec(tokens[i]!);
    if (!m) {
      kept.push(tokens[i]!);
      continue;
    }
    const name = m[1]!.toLowerCase();
    if (name === 'yes') {
      confirmed = true;
      continue;
    }
    let raw = m[2];
    if (raw === undefined && i + 1 < tokens.length && !tokens[i + 1]!.startsWith('--')) raw = tokens[++i];
    const n = Number(raw);
    if (raw === undefined || !/^\d+$/.test(raw) || n < 1 || n > MAX_REPEAT) {
      throw new UserError('INVALID_OPTIONS', `--${name} must be a whole number from 1 to ${MAX_REPEAT}${raw === undefined ? '' : `, not "${raw}"`}.`);
    }
    if (repeat !== undefined) throw new UserError('CONFLICT', '--repeat is given twice: keep one.');
    repeat = n;
  }
  return { rest: kept.join(' '), repeat: repeat ?? 1, confirmed };
}

/** The index of the `}` closing the `{` at `open`, honouring nesting and `\` escapes. */
function closing(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  throw new UserError('INVALID_OPTIONS', 'A { in the prompt has no matching }. Close it, e.g. "a {red, green} bird", or write \\{ for a literal brace.');
}

/** Splits a brace group's inside on the commas at its own level (`\,` is a literal comma). */
function alternatives(inner: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  out.push(inner.slice(start));
  return out.map((a) => a.trim());
}

/** How many combinations the brace groups in `s` make, counted without building them. */
function count(s: string): number {
  let i = 0;
  while (i < s.length && s[i] !== '{') i += s[i] === '\\' ? 2 : 1;
  if (i >= s.length) return 1;
  const end = closing(s, i);
  const options = alternatives(s.slice(i + 1, end)).reduce((n, a) => n + count(a), 0);
  return options * count(s.slice(end + 1));
}

/** Every combination of the brace groups in `s`, stopping as soon as there are more than `cap`. */
function expand(s: string, cap: number): string[] {
  let i = 0;
  while (i < s.length && s[i] !== '{') i += s[i] === '\\' ? 2 : 1;
  if (i >= s.length) return [s];
  const end = closing(s, i);
  const head = s.slice(0, i);
  const options = alternatives(s.slice(i + 1, end)).flatMap((a) => expand(a, cap));
  const tails = expand(s.slice(end + 1), cap);
  const out: string[] = [];
  for (const o of options) {
    for (const t of tails) {
      out.push(head + o + t);
      if (out.length > cap) return out;
    }
  }
  return out;
}

const tidy = (s: string): string => s.replace(/\\([{},])/g, '$1').replace(/\s+/g, ' ').replace(/\s+,/g, ',').trim();

/**
 * One typed prompt -> the prompts to queue, Midjourney style: `a {red, green} bird` is two prompts,
 * groups multiply, groups nest, and `--repeat N` queues each N times. More than `cap` is refused.
 */
export function expandPrompt(prompt: string, cap = MAX_JOBS_PER_PROMPT): Expansion {
  const { rest, repeat, confirmed } = takeControls(prompt);
  const total = count(rest) * repeat;
  if (total > cap) {
    throw new UserError('INVALID_OPTIONS', `This prompt makes ${total} jobs${repeat > 1 ? ` (with --repeat ${repeat})` : ''}; the limit here is ${cap}. Use fewer {…} options or a smaller --repeat.`);
  }
  const combos = expand(rest, cap).map(tidy).filter(Boolean);
  const prompts = combos.flatMap((p) => Array.from({ length: repeat }, () => p));
  return { prompts, confirmed };
}

/** The ephemeral question asked before a prompt that makes many jobs is queued. */
export function confirmationText(prompts: readonly string[]): string {
  const shown = prompts.slice(0, 12).map((p) => `• ${p.length > 120 ? `${p.slice(0, 117)}…` : p}`);
  return `This makes ${prompts.length} jobs:\n${shown.join('\n')}\nAdd --yes to the prompt and send it again to confirm.`;
}
