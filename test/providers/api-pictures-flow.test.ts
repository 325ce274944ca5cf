import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { buttonRows } from '../../src/core/present.ts';
import type { ImageProvider } from '../../src/core/provider.ts';
import { HordeFake } from '../fakes/providers/horde-fake.ts';
import { OpenAIFake } from '../fakes/providers/openai-fake.ts';
import { alice, createHarness, here, type Harness } from '../helpers/harness.ts';
import { caught, providersFor } from './helpers.ts';

/**
 * The pictures through the real core (service, store, runner, queue) to the OpenAI and AI Horde fakes: what a user
 * gives reaches the API, the buttons a result carries are the ones the provider declared, and pressing them works.
 */
let h: Harness | undefined;
let openaiFake: OpenAIFake;
let hordeFake: HordeFake;
let configured: ReturnType<typeof providersFor>;

async function setup(): Promise<{ openai: ImageProvider; horde: ImageProvider }> {
  openaiFake = await new OpenAIFake({ apiKey: 'sk-test' }).start();
  hordeFake = await new HordeFake({ checksToDone: 1 }).start();
  configured = providersFor({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openaiFake.url, AI_HORDE_API_KEY: '0000000000', AI_HORDE_URL: hordeFake.url });
  h = await createHarness({ providers: configured.providers });
  return { openai: configured.providers.find((p) => p.id === 'openai')!, horde: configured.providers.find((p) => p.id === 'horde')! };
}
afterEach(async () => {
  await h?.close();
  await configured?.close();
  await openaiFake?.close();
  await hordeFake?.close();
});

const photo = async (w: number, h: number) => new Uint8Array(await sharp({ create: { width: w, height: h, channels: 3, background: '#3366aa' } }).png().toBuffer());
const labels = (rows: { label: string }[][]) => rows.flat().map((b) => b.label);

describe('pictures through the core to the API providers', () => {
  it('OpenAI: a picture becomes an edit; the single result carries V1, Vary (Region), zoom and pans (no U to hang them under); Zoom Out sends a masked edit; --iw is refused', async () => {
    const { openai } = await setup();
    const job = await h!.atelier.imagine({ prompt: 'a harbour in watercolour', provider: 'openai', images: [{ bytes: await photo(120, 80), name: 'harbour.png' }] }, alice, here);
    const done = await h!.settle(job.id);
    expect(done.state).toBe('succeeded');
    expect(openaiFake.edits[0]!.images.map((i) => [i.key, i.width, i.height])).toEqual([['image', 120, 80]]);
    const shown = labels(buttonRows(done, openai.capabilities, 1));
    expect(shown).toEqual(expect.arrayContaining(['V1', 'Vary (Region)', 'Zoom Out 2x', 'Custom Zoom', 'Pan Left', 'Reroll']));
    expect(shown).not.toContain('Vary (Subtle)');
    expect(shown).not.toContain('U1');

    const zoom = await h!.atelier.act(job.id, { kind: 'zoom', index: 1, factor: 2 }, alice, here);
    expect((await h!.settle(zoom.id)).state).toBe('succeeded');
    const e = openaiFake.edits.at(-1)!;
    expect(e.mask).toMatchObject({ width: e.images[0]!.width, height: e.images[0]!.height, hasAlpha: true });
    // The zoomed job's own picture prompt still goes with it, after the canvas the mask applies to.
    expect(e.images.map((i) => i.key)).toEqual(['image[]', 'image[]']);

    const small = await photo(64, 64);
    const err = await caught(() => h!.atelier.imagine({ prompt: 'a harbour --iw 2', provider: 'openai', images: [{ bytes: small, name: 'p.png' }] }, alice, here));
    expect(err.message).toMatch(/--iw/);
    expect(openaiFake.rejected).toEqual([]);
  });

  it('AI Horde: a picture with --iw becomes img2img at its denoising strength; Vary (Strong) and Pan Left reach the Horde as img2img and outpainting', async () => {
    const { horde } = await setup();
    const job = await h!.atelier.imagine({ prompt: 'a harbour --iw 2', provider: 'horde', count: 1, images: [{ bytes: await photo(128, 128), name: 'harbour.png' }] }, alice, here);
    const done = await h!.settle(job.id);
    expect(done.state).toBe('succeeded');
    const first = [...hordeFake.sources.values()][0]!;
    expect(first).toMatchObject({ processing: 'img2img', denoise: 0.45, image: { format: 'webp' } });
    expect(labels(buttonRows(done, horde.capabilities, 1))).toEqual(expect.arrayContaining(['V1', 'Vary (Subtle)', 'Vary (Strong)', 'Vary (Region)', 'Zoom Out 1.5x', 'Pan Left']));

    const strong = await h!.atelier.act(job.id, { kind: 'vary', index: 1, strength: 'strong' }, alice, here);
    expect((await h!.settle(strong.id)).state).toBe('succeeded');
    expect([...hordeFake.sources.values()].at(-1)).toMatchObject({ processing: 'img2img', denoise: 0.75 });
    const pan = await h!.atelier.act(job.id, { kind: 'pan', index: 1, direction: 'left' }, alice, here);
    expect((await h!.settle(pan.id)).state).toBe('succeeded');
    expect([...hordeFake.sources.values()].at(-1)).toMatchObject({ processing: 'outpainting', mask: { format: 'webp' } });
    expect(hordeFake.rejected).toEqual([]);
  });
});
