import { describe, expect, it } from 'vitest';
import { formatPrompt, parsePrompt, readFlags } from '../../src/core/prompt.ts';
import { UserError } from '../../src/core/errors.ts';
import { generationRequestSchema } from '../../src/core/request.ts';

const fields = (s: string) => readFlags(parsePrompt(s).flags);

describe('parsePrompt', () => {
  it('separates the description from flags', () => {
    const p = parsePrompt('a lighthouse in a storm --ar 16:9 --seed 7');
    expect(p.text).toBe('a lighthouse in a storm');
    expect(p.flags.map((f) => [f.name, f.value])).toEqual([
      ['ar', '16:9'],
      ['seed', '7'],
    ]);
  });

  it.each([
    ['--ar 3:2', { aspectRatio: '3:2' }],
    ['--aspect 2:3', { aspectRatio: '2:3' }],
    ['--seed 42', { seed: 42 }],
    ['--chaos 30', { chaos: 30 }],
    ['--c 30', { chaos: 30 }],
    ['--stylize 250', { stylize: 250 }],
    ['--s 250', { stylize: 250 }],
    ['--tile', { tiling: true }],
    ['--no red, blue cars', { negativePrompt: 'red, blue cars' }],
  ])('reads %s into its request field', (flag, expected) => {
    expect(fields(`a cat ${flag}`).fields).toEqual(expected);
  });

  it.each([
    ['--v 6', { v: '6' }],
    ['--version 6.1', { v: '6.1' }],
    ['--niji', { niji: true }],
    ['--niji 6', { niji: '6' }],
    ['--q 2', { q: '2' }],
    ['--weird 250', { weird: '250' }],
    ['--iw 1.5', { iw: '1.5' }],
    ['--repeat 3', { repeat: '3' }],
    ['--style raw', { style: 'raw' }],
    ['--sref https://x.test/a.png', { sref: 'https://x.test/a.png' }],
    ['--p', { p: true }],
    ['--raw', { raw: true }],
  ])('keeps the Midjourney-only flag %s in the bag', (flag, expected) => {
    const r = fields(`a cat ${flag}`);
    expect(r.midjourney).toEqual(expected);
    expect(r.unknown).toEqual([]);
  });

  it('returns unknown flags instead of dropping them', () => {
    const r = fields('a dog --bogus 3');
    expect(r.unknown.map((f) => f.raw)).toEqual(['--bogus 3']);
  });

  it('a bare flag keeps the next word in the description', () => {
    expect(parsePrompt('a wall --tile of bricks').text).toBe('a wall of bricks');
  });

  it('reads em dashes as double dashes (phones autocorrect them)', () => {
    expect(fields('a cat —ar 16:9').fields.aspectRatio).toBe('16:9');
  });

  it.each([
    ['--ar 1.5:1', /whole numbers/],
    ['--seed -1', /--seed must be a whole number from 0/],
    ['--chaos 101', /--chaos must be a whole number from 0 to 100/],
    ['--stylize lots', /--stylize must be/],
    ['--seed', /--seed needs a value/],
  ])('rejects %s with a message saying what to change', (flag, message) => {
    expect(() => fields(`a cat ${flag}`)).toThrow(message);
  });

  it('refuses the same setting twice through aliases', () => {
    expect(() => fields('a cat --c 10 --chaos 20')).toThrow(UserError);
    expect(() => fields('a cat --c 10 --chaos 20')).toThrow(/--c 10 and --chaos 20/);
  });
});

describe('formatPrompt round trip', () => {
  it('gives back every field the request holds', () => {
    const req = generationRequestSchema.parse({
      prompt: 'a red fox in snow',
      aspectRatio: '16:9',
      chaos: 20,
      stylize: 300,
      seed: 99,
      tiling: true,
      negativePrompt: 'people, text',
      midjourney: { v: '6.1', niji: true, style: 'raw' },
    });
    const text = formatPrompt(req);
    const parsed = parsePrompt(text);
    const back = readFlags(parsed.flags);
    expect(parsed.text).toBe(req.prompt);
    expect(back.fields).toEqual({ aspectRatio: '16:9', chaos: 20, stylize: 300, seed: 99, tiling: true, negativePrompt: 'people, text' });
    expect(back.midjourney).toEqual(req.midjourney);
  });

  it('advanced mode formats back the raw prompt verbatim', () => {
    const req = generationRequestSchema.parse({ mode: 'advanced', prompt: 'a cat', rawPrompt: 'a cat --weird 9 --zzz 1' });
    expect(formatPrompt(req)).toBe('a cat --weird 9 --zzz 1');
  });
});
