import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCommand } from '../../src/core/command.ts';
import { imagineOptionsSchema } from '../../src/core/imagine-options.ts';
import { isKnownFlag } from '../../src/core/prompt.ts';
import { UserError } from '../../src/core/errors.ts';
import { optionShapes, parseCommandText, tokenize, usageHint } from '../../src/platforms/command-text.ts';

const imagine = defineCommand({
  name: 'imagine',
  description: 'Generate images',
  options: imagineOptionsSchema,
  positional: 'prompt',
  run: async () => ({ type: 'message', text: '', ephemeral: true }),
});
const settings = defineCommand({
  name: 'settings',
  description: 'Show or change defaults',
  options: z.object({
    scope: z.enum(['user', 'channel', 'server']).default('user').describe('Whose settings'),
    format: z.enum(['1:1', '16:9']).optional().describe('Aspect ratio'),
    private: z.boolean().optional().describe('Only you see results'),
  }),
  run: async () => ({ type: 'message', text: '', ephemeral: true }),
});
const flags = { keepInText: isKnownFlag };

describe('tokenize', () => {
  it.each([
    ['a cat  on a mat', ['a', 'cat', 'on', 'a', 'mat']],
    ['"a cat" --time "golden hour"', ['a cat', '--time', 'golden hour']],
    ['“curly quotes” work', ['curly quotes', 'work']],
    ["a cat's hat", ['a', "cat's", 'hat']],
    ['"unclosed quote stays', ['"unclosed', 'quote', 'stays']],
    ['', []],
  ])('%j', (text, words) => {
    expect(tokenize(text).map((t) => t.value)).toEqual(words);
  });

  it('keeps the raw text, quotes included, for free text', () => {
    expect(tokenize('say "hello world" it\'s').map((t) => t.raw)).toEqual(['say', '"hello world"', "it's"]);
  });
});

describe('parseCommandText for /imagine', () => {
  it.each([
    ['a red fox', { prompt: 'a red fox' }],
    ['a red fox --ar 16:9 --seed 7', { prompt: 'a red fox --ar 16:9 --seed 7' }],
    ['a fox --count 2 --provider local', { prompt: 'a fox', count: 2, provider: 'local' }],
    ['a fox --weather rainy --time "golden hour" --format 16:9', { prompt: 'a fox', weather: 'rainy', time: 'golden hour', format: '16:9' }],
    ['a fox --private', { prompt: 'a fox', private: true }],
    ['a fox --private no --chaos 10', { prompt: 'a fox --chaos 10', private: false }],
    ['--prompt a fox --mode advanced', { prompt: 'a fox', mode: 'advanced' }],
    ['a fox —count 3', { prompt: 'a fox', count: 3 }],
    ['a fox --style raw --no text, watermark', { prompt: 'a fox --style raw --no text, watermark' }],
  ])('%j', (text, expected) => {
    expect(parseCommandText(imagine, text, flags)).toEqual(expected);
  });

  it('names a value that is not a number, with the range', () => {
    expect(() => parseCommandText(imagine, 'a fox --count many', flags)).toThrow(/--count takes a whole number from 1 to 8, not "many"/);
  });

  it('reads --name=value and refuses an option given twice', () => {
    expect(parseCommandText(imagine, 'a fox --count=3', flags)).toEqual({ prompt: 'a fox', count: 3 });
    expect(() => parseCommandText(imagine, 'a fox --count 2 --count 3', flags)).toThrow(/given twice/);
  });

  it('says which option lacks a value and how to use it', () => {
    expect(() => parseCommandText(imagine, 'a fox --weather', flags)).toThrow(/--weather needs a value: one of sunny, cloudy/);
    expect(() => parseCommandText(imagine, 'a fox --count --private', flags)).toThrow(UserError);
    expect(() => parseCommandText(imagine, 'a fox --count --private', flags)).toThrow(/--count needs a value from 1 to 8/);
  });
});

describe('parseCommandText for a command without free text', () => {
  it('reads typed options', () => {
    expect(parseCommandText(settings, '--scope channel --format 16:9')).toEqual({ scope: 'channel', format: '16:9' });
  });
  it('refuses an unknown option and stray words', () => {
    expect(() => parseCommandText(settings, '--colour red')).toThrow(/no option --colour/);
    expect(() => parseCommandText(settings, 'hello')).toThrow(/takes no free text/);
  });
});

describe('usageHint', () => {
  it('is generated from the option schema', () => {
    const hint = usageHint(imagine);
    expect(hint.startsWith('<prompt> ')).toBe(true);
    expect(hint).toContain('[--count 1-8]');
    expect(hint).toContain('[--private]');
    expect(hint).toContain('[--mode simple|advanced]');
    expect(usageHint(settings)).toBe('[--scope user|channel|server] [--format 1:1|16:9] [--private]');
  });
  it('marks defaulted options optional', () => {
    expect(optionShapes(settings).find((s) => s.name === 'scope')?.required).toBe(false);
    expect(optionShapes(imagine).find((s) => s.name === 'prompt')?.required).toBe(true);
  });
});
