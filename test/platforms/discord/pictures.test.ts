import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { commands } from '../../../commands/index.ts';
import { toDiscordCommand } from '../../../src/platforms/discord/register.ts';
import { THUMBNAIL_SIDE } from '../../../src/platforms/discord/job-files.ts';
import { autocompleteRequest, buttonPress, modalSubmit, slashCommandWithFiles } from '../../fakes/discord/interactions.ts';
import type { FakeMessage } from '../../fakes/discord/fake-discord.ts';
import { plainProvider } from '../../helpers/capability-providers.ts';
import { alice, bob, startHarness, type Harness } from './harness.ts';

describe('Discord registration of pictures', () => {
  const byName = (name: string) => toDiscordCommand(commands.find((c) => c.name === name)!);

  it('/imagine takes image, image2 and image3 as optional attachments and stays within 25 options', () => {
    const cmd = byName('imagine');
    const files = cmd.options!.filter((o) => o.type === 11);
    expect(files.map((o) => [o.name, o.required])).toEqual([
      ['image', false],
      ['image2', false],
      ['image3', false],
    ]);
    expect(files[0]!.description).toMatch(/--iw/);
    expect(cmd.options!.length).toBeLessThanOrEqual(25);
    // Flag-only on Discord: the prompt's --iw and --stylize say the same.
    expect(cmd.options!.map((o) => o.name)).not.toContain('iw');
    expect(cmd.options!.map((o) => o.name)).not.toContain('stylize');
    expect(cmd.options!.map((o) => o.name)).toContain('tile');
    expect(cmd.options!.map((o) => o.name)).not.toContain('images');
  });

  it('/blend takes image1 and image2 required, image3-5 optional, then dimensions, provider and private', () => {
    const cmd = byName('blend');
    expect(cmd.options!.map((o) => [o.name, o.type, o.required])).toEqual([
      ['image1', 11, true],
      ['image2', 11, true],
      ['dimensions', 3, false],
      ['provider', 3, false],
      ['private', 5, false],
      ['image3', 11, false],
      ['image4', 11, false],
      ['image5', 11, false],
    ]);
    expect((cmd.options!.find((o) => o.name === 'dimensions') as { choices: { value: string }[] }).choices.map((c) => c.value)).toEqual(['portrait', 'square', 'landscape']);
  });
});

describe('Discord pictures in and around jobs', () => {
  let h: Harness;
  let big: Uint8Array;
  let other: Uint8Array;
  beforeAll(async () => {
    h = await startHarness({ providers: [plainProvider] });
    big = await noise(900, 600);
    other = await noise(300, 300);
  }, 30_000);
  afterAll(() => h.close());

  const jobs = () => h.app.atelier.store.listJobs({});
  const fresh = () => {
    const seen = new Set(h.fake.messages.keys());
    return (m: FakeMessage) => !seen.has(m.id);
  };

  async function send(name: string, options: Record<string, string | number | boolean>, files: Record<string, { name: string; bytes: Uint8Array }>) {
    const hosted = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, h.fake.hostAttachment({ ...f, contentType: 'image/png' })]));
    return h.fake.post(slashCommandWithFiles(h.fake.applicationId, alice, name, options, hosted, h.fake.attachmentLimit));
  }

  it('the job message names the pictures in option order and shows each as a small embed thumbnail', async () => {
    // image2 listed first: the pictures still go in the order of the options' names.
    const res = await send('imagine', { prompt: 'two harbours at noon', provider: 'local', count: 1 }, { image2: { name: 'second.png', bytes: other }, image: { name: 'first.png', bytes: big } });
    expect(res.body).toMatchObject({ type: 5 });
    const done = await h.waitFor((m) => m.content.includes('two harbours at noon') && m.content.includes('Done in'), 'the result');
    expect(done.content).toContain('Started from 2 pictures: first.png, second.png');
    expect(done.embeds.map((e) => e.thumbnail?.url)).toEqual([expect.stringMatching(/^attachment:\/\/input-1\.\w+$/), expect.stringMatching(/^attachment:\/\/input-2\.\w+$/)]);
    expect(done.embeds[0]!.description).toBe('Started from: first.png');
    const thumbs = done.attachments.filter((a) => a.filename.startsWith('input-'));
    expect(thumbs).toHaveLength(2);
    // Thumbnails, not the originals: a fraction of the picture's bytes.
    for (const t of thumbs) expect(t.size).toBeLessThan(big.byteLength / 4);
    expect(THUMBNAIL_SIDE).toBeLessThanOrEqual(256);
  });

  describe('Custom Zoom and Vary (Region) forms', () => {
    let up: FakeMessage;
    let upJobId = '';
    beforeAll(async () => {
      await h.imagine(alice, { prompt: 'a lighthouse on a cliff', provider: 'local', count: 2, format: '3:2' });
      const grid = await h.waitFor((m) => m.content.includes('a lighthouse on a cliff') && m.content.includes('Done in'), 'the grid');
      const u1 = grid.components.flatMap((r) => r.components).find((b) => b.label === 'U1')!;
      await h.fake.post(buttonPress(h.fake.applicationId, alice, h.fake.apiMessage(grid.id), u1.custom_id!));
      up = await h.waitFor((m) => m.content.includes('Upscale of image 1') && m.content.includes('Done in'), 'the upscale');
      upJobId = (await jobs()).find((j) => j.action.kind === 'upscale')!.id;
    });

    const button = (label: string) => up.components.flatMap((r) => r.components).find((b) => b.label === label)!.custom_id!;

    it('Custom Zoom opens a form whose id names the kind, image and job, with the factor 2 and the prompt', async () => {
      const res = await h.fake.post(buttonPress(h.fake.applicationId, bob, h.fake.apiMessage(up.id), button('Custom Zoom')));
      expect(res.body).toMatchObject({ type: 9, data: { custom_id: `m:zoomcustom:1:${upJobId}`, title: 'Custom Zoom' } });
      const inputs = (res.body!.data as { components: { components: { custom_id: string; value?: string }[] }[] }).components.map((r) => r.components[0]!);
      expect(inputs.map((c) => [c.custom_id, c.value])).toEqual([
        ['zoom', '2'],
        ['prompt', 'a lighthouse on a cliff'],
      ]);
    });

    it('a zoom out of range is answered privately at once, naming the range; nothing is queued', async () => {
      const before = (await jobs()).length;
      const res = await h.fake.post(modalSubmit(h.fake.applicationId, bob, `m:zoomcustom:1:${upJobId}`, { zoom: '3', prompt: 'a lighthouse on a cliff' }, h.fake.apiMessage(up.id)));
      expect(res.body).toMatchObject({ type: 4, data: { flags: 64, content: 'Custom Zoom takes a number from 1.1 to 2, e.g. 1.8, not "3".' } });
      expect((await jobs()).length).toBe(before);
    });

    it('a form submitted without this process having opened it (as after a restart) still works, with the edited prompt', async () => {
      const isNew = fresh();
      const res = await h.fake.post(modalSubmit(h.fake.applicationId, bob, `m:zoomcustom:1:${upJobId}`, { zoom: '1.8x', prompt: 'a lighthouse on a cliff at night' }, h.fake.apiMessage(up.id)));
      expect(res.body).toMatchObject({ type: 6 });
      const done = await h.waitFor((m) => isNew(m) && m.content.includes('Zoom Out 1.8×') && m.content.includes('Done in'), 'the custom zoom');
      expect(done.content).toContain('a lighthouse on a cliff at night');
      const child = (await jobs()).find((j) => j.action.kind === 'zoom' && j.action.factor === 1.8)!;
      expect(child.request.prompt).toBe('a lighthouse on a cliff at night');
      expect(child.owner.userId).toBe(bob.id);
    });

    it('Vary (Region) asks for x, y, width, height in percent; a bad one is refused privately, a good one inpaints that region', async () => {
      const open = await h.fake.post(buttonPress(h.fake.applicationId, alice, h.fake.apiMessage(up.id), button('Vary (Region)')));
      expect(open.body).toMatchObject({ type: 9, data: { custom_id: `m:region:1:${upJobId}`, title: 'Vary (Region)' } });
      const before = (await jobs()).length;
      const bad = await h.fake.post(modalSubmit(h.fake.applicationId, alice, `m:region:1:${upJobId}`, { region: '25, 25', prompt: 'a lighthouse on a cliff' }, h.fake.apiMessage(up.id)));
      expect(bad.body).toMatchObject({ type: 4, data: { flags: 64 } });
      expect(String((bad.body!.data as { content: string }).content)).toMatch(/^Give the region as four numbers in percent: x, y, width, height \(e\.g\. 25, 25, 50, 50\)/);
      expect((await jobs()).length).toBe(before);
      const isNew = fresh();
      await h.fake.post(modalSubmit(h.fake.applicationId, alice, `m:region:1:${upJobId}`, { region: '10, 20, 50, 40', prompt: 'a lighthouse on a cliff' }, h.fake.apiMessage(up.id)));
      await h.waitFor((m) => isNew(m) && m.content.includes('Vary (Region)') && m.content.includes('Done in'), 'the region result');
      const child = (await jobs()).find((j) => j.action.kind === 'region')!;
      expect(child.action).toEqual({ kind: 'region', index: 1, region: { x: 0.1, y: 0.2, width: 0.5, height: 0.4 } });
      // The prompt as shown is no change: the job keeps its own.
      expect(child.request.prompt).toBe('a lighthouse on a cliff');
    });
  });

  describe('/blend', () => {
    it('with one picture (Discord requires two; a crafted request may not): a private message asking for another, nothing queued', async () => {
      const before = (await jobs()).length;
      const isNew = fresh();
      await send('blend', {}, { image1: { name: 'only.png', bytes: other } });
      const msg = await h.waitFor((m) => isNew(m) && m.ephemeral && !m.loading && m.content.length > 0, 'the refusal');
      expect(msg.content).toBe('/blend combines 2 to 5 pictures; you gave 1. Add another, or use /imagine with one picture.');
      expect((await jobs()).length).toBe(before);
    });

    it('on a provider that cannot blend: refused privately, naming one that can; nothing queued', async () => {
      const before = (await jobs()).length;
      const isNew = fresh();
      await send('blend', { provider: 'plain' }, { image1: { name: 'a.png', bytes: other }, image2: { name: 'b.png', bytes: big } });
      const msg = await h.waitFor((m) => isNew(m) && m.ephemeral && /cannot/.test(m.content), 'the refusal');
      expect(msg.content).toMatch(/^Plain cannot (start from your pictures|blend pictures)\. Choose a provider that can \(provider option\): .*local/);
      expect((await jobs()).length).toBe(before);
    });

    it('is public like /imagine, and its result says Blend and names both pictures', async () => {
      const res = await send('blend', { dimensions: 'portrait' }, { image1: { name: 'a.png', bytes: other }, image2: { name: 'b.png', bytes: big } });
      expect(res.body).toEqual({ type: 5 });
      const done = await h.waitFor((m) => m.content.includes('Blend') && m.content.includes('Done in'), 'the blend');
      expect(done.ephemeral).toBe(false);
      expect(done.content).toContain('Started from 2 pictures: a.png, b.png');
      const job = (await jobs()).find((j) => j.request.blend && j.provider === 'local')!;
      expect(job.request.aspectRatio).toBe('2:3');
    });

    it('suggests only providers that can blend', async () => {
      const res = await h.fake.post(autocompleteRequest(h.fake.applicationId, alice, 'blend', { provider: '' }, 'provider'));
      const names = (res.body!.data as { choices: { value: string }[] }).choices.map((c) => c.value);
      expect(names).toContain('local');
      expect(names).not.toContain('plain');
    });
  });

  it('sent Discord only requests it accepts (embeds name their files)', () => {
    expect(h.fake.violations).toEqual([]);
  });
});

/** A noisy picture (noise keeps PNG from shrinking it to nothing), so a thumbnail is visibly smaller. */
async function noise(width: number, height: number): Promise<Uint8Array> {
  return new Uint8Array(await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).png().toBuffer());
}
