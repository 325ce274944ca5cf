import { describe, expect, it } from 'vitest';
import { motifsOf } from '../../../src/providers/local/words.ts';
import { distance, generate } from './helpers.ts';

describe('local renderer: the prompt and stylize decide the picture', () => {
  it('draws two prompts differently with the same seed', async () => {
    const [a, b] = await Promise.all([generate({ prompt: 'a red fox in the snow' }), generate({ prompt: 'a blue whale in the deep ocean' })]);
    for (let i = 0; i < 4; i++) expect(await distance(a.images[i]!.bytes, b.images[i]!.bytes)).toBeGreaterThan(10);
  });

  it('takes shapes and colours from the words', () => {
    expect(motifsOf('Red fox, mountains and the SEA').map((m) => [m.word, m.shape])).toEqual([
      ['fox', expect.any(String)],
      ['mountain', 'ridge'],
      ['sea', 'water'],
    ]);
    const [fox] = motifsOf('red fox');
    expect(fox!.hue).toBeLessThan(10);
    expect(motifsOf('the of a and')).toEqual([]);
  });

  it('removes the contribution of every negative-prompt word', async () => {
    const [without, negated, full] = await Promise.all([
      generate({ prompt: 'a fox under the moon' }),
      generate({ prompt: 'a fox in the mountains under the moon', negativePrompt: 'mountain, trees' }),
      generate({ prompt: 'a fox in the mountains under the moon' }),
    ]);
    negated.images.forEach((image, i) => expect(Buffer.compare(image.bytes, without.images[i]!.bytes)).toBe(0));
    for (let i = 0; i < 4; i++) expect(await distance(full.images[i]!.bytes, without.images[i]!.bytes)).toBeGreaterThan(5);
  });

  it('changes the composition with stylize', async () => {
    const prompt = 'a lighthouse on a cliff above the sea';
    const [plain, styled, near] = await Promise.all([generate({ prompt, stylize: 0 }), generate({ prompt, stylize: 1000 }), generate({ prompt, stylize: 10 })]);
    for (let i = 0; i < 4; i++) {
      const far = await distance(plain.images[i]!.bytes, styled.images[i]!.bytes);
      expect(far).toBeGreaterThan(10);
      expect(far).toBeGreaterThan(3 * (await distance(plain.images[i]!.bytes, near.images[i]!.bytes)));
    }
  });
});
