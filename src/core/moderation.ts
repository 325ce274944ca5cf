import { UserError } from './errors.ts';

/** Words that are NSFW wherever they appear; a channel that allows NSFW lifts this list. */
const NSFW_TERMS = ['nsfw', 'nude', 'nudity', 'naked', 'porn', 'pornographic', 'explicit sex', 'sexual', 'hentai', 'topless', 'genitals', 'erotic'];

export interface ModerationPolicy {
  /** Banned words or /regex/flags patterns, from the server and the channel. */
  banned: readonly string[];
  allowNsfw: boolean;
}

type Matcher = { test(s: string): boolean; label: string };

/**
 * Compiled matchers by entry: a Unicode-aware pattern costs far more to compile than to run, and every
 * /imagine checks the same dozen NSFW terms and its server's list. Bounded: the oldest half goes when full.
 */
const compiled = new Map<string, Matcher>();
const MAX_COMPILED = 2_000;

function toMatcher(entry: string): Matcher {
  let m = compiled.get(entry);
  if (!m) {
    if (compiled.size >= MAX_COMPILED) for (const k of [...compiled.keys()].slice(0, MAX_COMPILED / 2)) compiled.delete(k);
    m = compile(entry);
    compiled.set(entry, m);
  }
  return m;
}

function compile(entry: string): Matcher {
  const re = /^\/(.+)\/([a-z]*)$/.exec(entry);
  if (re) {
    try {
      const rx = new RegExp(re[1]!, re[2]!.includes('i') ? re[2] : `${re[2]}i`);
      return { test: (s) => rx.test(s), label: entry };
    } catch {
      // A broken pattern falls back to a literal match rather than disabling moderation.
    }
  }
  const word = entry.trim().toLowerCase();
  const rx = new RegExp(`(^|[^\\p{L}\\p{N}])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\p{L}\\p{N}])`, 'iu');
  return { test: (s) => rx.test(s), label: word };
}

/**
 * Refuses a prompt before anything is queued; the refusal names the rule so the user knows what to change.
 * Checks the whole text, flags included (a banned word in `--no` is still typed by the user).
 */
export function moderate(text: string, policy: ModerationPolicy): void {
  for (const entry of policy.banned) {
    if (!entry.trim()) continue;
    const m = toMatcher(entry);
    if (m.test(text)) {
      throw new UserError('MODERATION', `Your prompt uses "${m.label}", which is not allowed here. Remove it and try again.`, { blockedBy: 'this server\'s banned words' });
    }
  }
  if (!policy.allowNsfw) {
    for (const term of NSFW_TERMS) {
      if (toMatcher(term).test(text)) {
        throw new UserError('MODERATION', `"${term}" is NSFW and this channel does not allow NSFW content. Rephrase, or use a channel that allows it.`, { blockedBy: 'channel NSFW policy' });
      }
    }
  }
}
