import { describe, expect, it } from 'vitest';
import { commands } from '../../../commands/index.ts';
import { UserError } from '../../../src/core/errors.ts';
import { parseCommand } from '../../../src/platforms/web/parse-command.ts';
import { tokenize } from '../../../src/platforms/command-text.ts';
import { describeCommand } from '../../../src/platforms/web/command-schema.ts';

const parse = (text: string) => parseCommand(text, commands);
const fails = (text: string): UserError => {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error(`expected "${text}" to be refused`);
};

describe('parseCommand', () => {
  it('keeps Midjourney flags in the prompt for the core and reads typed options', () => {
    const { command, input } = parse('/imagine a cat on a roof --ar 16:9 --no text, watermark --count 2 --provider local');
    expect(command.name).toBe('imagine');
    expect(input).toMatchObject({ prompt: 'a cat on a roof --ar 16:9 --no text, watermark', count: 2, provider: 'local' });
  });

  it('reads quoted values, booleans and enums', () => {
    const { input } = parse('/imagine a harbour --time "golden hour" --private --optimize no --camera "GoPro Hero"');
    expect(input).toMatchObject({ prompt: 'a harbour', time: 'golden hour', private: true, optimize: false, camera: 'GoPro Hero' });
  });

  it('accepts --name=value and a dash that a phone auto-corrected', () => {
    expect(parse('/imagine a fox —count=3').input).toMatchObject({ prompt: 'a fox', count: 3 });
  });

  it('parses commands without free text', () => {
    expect(parse('/settings --scope me --format 3:2').input).toMatchObject({ scope: 'me', format: '3:2' });
    expect(parse('/queue').command.name).toBe('queue');
    expect(parse('/HELP').command.name).toBe('help');
  });

  it('names an unknown command and suggests close ones', () => {
    expect(fails('/imagin a cat').message).toMatch(/Unknown command "\/imagin".*\/imagine/);
    expect(fails('/paint a cat').message).toMatch(/Commands here: \/imagine/);
    expect(fails('a cat').message).toMatch(/start with "\/"/);
  });

  it('refuses bad typed values and says what to change', () => {
    expect(fails('/imagine x --count 99').message).toMatch(/count/);
    expect(fails('/imagine x --count many').message).toMatch(/--count takes a whole number from 1 to 8, not "many"/);
    expect(fails('/imagine x --count').message).toMatch(/--count needs a value/);
    expect(fails('/imagine x --count 2 --count 3').code).toBe('CONFLICT');
    expect(fails('/settings --colour red').message).toMatch(/\/settings has no option --colour/);
    expect(fails('/queue everything').message).toMatch(/takes no free text/);
    expect(fails('/settings --format 16:10').message).toMatch(/Usage: \/settings/);
  });

  it('leaves unknown flags in a prompt so the core can judge them by mode', () => {
    expect(parse('/imagine a cat --weird 200 --fancy').input).toMatchObject({ prompt: 'a cat --weird 200 --fancy' });
  });
});

describe('tokenize and describeCommand', () => {
  it('keeps quotes in the raw text and strips them from values', () => {
    expect(tokenize(`say "hello world" it's`)).toEqual([
      { value: 'say', raw: 'say' },
      { value: 'hello world', raw: '"hello world"' },
      { value: "it's", raw: "it's" },
    ]);
  });

  it('derives option types, enums and ranges from the zod schema', () => {
    const info = describeCommand(commands.find((c) => c.name === 'imagine')!);
    expect(info.positional).toBe('prompt');
    expect(info.options.find((o) => o.name === 'count')).toMatchObject({ type: 'integer', minimum: 1, maximum: 8, required: false });
    expect(info.options.find((o) => o.name === 'prompt')).toMatchObject({ type: 'string', required: true });
    expect(info.options.find((o) => o.name === 'format')?.enum).toContain('16:9');
    expect(info.usage).toMatch(/^\/imagine <prompt> /);
  });
});
