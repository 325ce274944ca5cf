import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeButtonId } from '../../../src/core/present.ts';
import { buttonPress, slashCommand } from '../../fakes/discord/interactions.ts';
import type { FakeMessage } from '../../fakes/discord/fake-discord.ts';
import { OpenAIFake } from '../../fakes/providers/openai-fake.ts';
import { alice, startHarness, type Harness } from './harness.ts';

/**
 * OpenAI has no upscaler, so its grid's U does what Midjourney's U does: it picks the picture, and the toolbox
 * appears under it. Pressed over Discord's HTTP interactions, against the OpenAI fake at n=2.
 */
describe('Discord: U under an OpenAI grid picks the picture', () => {
  let h: Harness;
  let openai: OpenAIFake;
  let grid: FakeMessage;
  beforeAll(async () => {
    openai = await new OpenAIFake({ apiKey: 'sk-test' }).start();
    h = await startHarness({ env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.url } });
    await h.deliver(slashCommand(h.fake.applicationId, alice, 'imagine', { prompt: 'two lighthouses at dusk', provider: 'openai', count: 2, format: '3:2' }));
    grid = await h.waitFor((m) => m.content.includes('two lighthouses at dusk') && m.content.includes('Done in'), 'the grid');
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await openai?.close();
  });

  it('U2 makes a message with image 2 alone and the toolbox, without a call to OpenAI; its Zoom Out is an edit', async () => {
    expect(labels(grid)).toEqual(expect.arrayContaining(['U1', 'U2', 'V1', 'V2']));
    expect(labels(grid)).not.toContain('Zoom Out 2x');
    const creates = openai.creates;
    const answer = await h.deliver(buttonPress(h.fake.applicationId, alice, h.fake.apiMessage(grid.id), buttonId(grid, 'U2')));
    expect(answer).toMatchObject({ type: 6 });
    const picked = await h.waitFor((m) => m.id !== grid.id && m.content.includes('Image #2') && m.content.includes('Done in'), 'the picked picture');
    expect(openai.creates).toBe(creates);
    expect(picked.attachments).toHaveLength(1);
    expect(labels(picked)).toEqual(expect.arrayContaining(['V1', 'Vary (Region)', 'Zoom Out 2x', 'Zoom Out 1.5x', 'Custom Zoom', 'Make Square', 'Pan Left', 'Reroll', 'Remix', 'Details', 'Delete']));
    expect(labels(picked).filter((l) => /^U\d$/.test(l))).toEqual([]);

    // The picture is the grid's image 2, pixel for pixel, stored with the new job.
    const childId = decodeButtonId(buttonId(picked, 'Zoom Out 2x'))!.jobId;
    const parentId = decodeButtonId(buttonId(grid, 'U2'))!.jobId;
    const [mine] = (await h.app.atelier.images(childId)).filter((i) => i.meta.kind === 'image');
    const theirs = (await h.app.atelier.images(parentId)).find((i) => i.meta.kind === 'image' && i.meta.index === 2)!;
    expect(await sharp(await mine!.bytes()).raw().toBuffer()).toEqual(await sharp(await theirs.bytes()).raw().toBuffer());

    await h.deliver(buttonPress(h.fake.applicationId, alice, h.fake.apiMessage(picked.id), buttonId(picked, 'Zoom Out 2x')));
    await h.waitFor((m) => m.content.includes('Zoom Out 2×') && m.content.includes('Done in'), 'the zoom');
    expect(openai.edits).toHaveLength(1);
    expect(openai.rejected).toEqual([]);
    expect(h.fake.violations).toEqual([]);
  }, 60_000);
});

const labels = (m: FakeMessage) => m.components.flatMap((r) => r.components).map((b) => b.label ?? '');

function buttonId(m: FakeMessage, label: string): string {
  const b = m.components.flatMap((r) => r.components).find((x) => x.label === label);
  if (!b?.custom_id) throw new Error(`no button ${label}`);
  return b.custom_id;
}
