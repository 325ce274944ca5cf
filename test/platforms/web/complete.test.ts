import { describe, expect, it } from 'vitest';
import { commands } from '../../../commands/index.ts';
import { describeCommand } from '../../../src/platforms/web/command-schema.ts';
import { PROMPT_FLAGS } from '../../../src/platforms/web/prompt-flags.ts';
import { suggest } from '../../../src/platforms/web/assets/complete.js';

// The same catalog GET /api/commands serves the page.
const catalog = { commands: commands.map((d) => describeCommand(d)), promptFlags: PROMPT_FLAGS };
const labels = (text: string, caret = text.length) => suggest(text, caret, catalog)?.items.map((i) => i.label);

describe('composer completion', () => {
  it('offers commands by prefix and replaces the typed name', () => {
    expect(labels('/')).toEqual(['/imagine', '/blend', '/settings', '/prefer', '/info', '/queue', '/cancel', '/help']);
    const offer = suggest('/se', 3, catalog)!;
    expect(offer).toMatchObject({ from: 0, to: 3, autoSelect: true });
    expect(offer.items.map((i) => i.value)).toEqual(['/settings ']);
    expect(labels('/zzz')).toBeUndefined();
    expect(labels('hello')).toBeUndefined();
  });

  it('offers typed options and, inside a prompt, the Midjourney flags, without ones already used', () => {
    const all = labels('/imagine a fox --')!;
    expect(all).toEqual(expect.arrayContaining(['--ar', '--no', '--seed', '--count', '--provider', '--private']));
    expect(all).not.toContain('--prompt');
    expect(labels('/imagine a fox --count 2 --co')).toBeUndefined();
    expect(labels('/imagine a fox --count 2 --c')).toEqual(['--chaos', '--cref', '--camera']);
    expect(labels('/settings --f')).toEqual(['--format', '--fallback']);
    expect(labels('/settings --')).not.toContain('--ar');
    const offer = suggest('/imagine a fox --a', 18, catalog)!;
    expect(offer).toMatchObject({ from: 15, to: 18 });
  });

  it('offers the values of an option with a fixed set, quoting ones with spaces', () => {
    expect(labels('/imagine a fox --ar 16')).toEqual(['16:9']);
    expect(labels('/settings --scope ')).toEqual(['me', 'channel', 'server']);
    expect(suggest('/imagine a fox --time gol', 25, catalog)!.items.map((i) => i.value)).toEqual(['"golden hour" ']);
    expect(labels('/imagine a fox --private ')).toEqual(['yes', 'no']);
    expect(suggest('/settings --scope ', 18, catalog)!.autoSelect).toBe(false);
    expect(labels('/imagine a fox --count ')).toBeUndefined();
  });
});
