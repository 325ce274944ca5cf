import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { alice, bob, findButton, type Ack, type ContractDriver, type TestImage, type ViewMessage } from './driver.ts';

/**
 * The scenarios every platform passes, written once. A platform's test file calls
 * `contractSuite(() => createXxxDriver())`; a scenario is skipped only when the driver declares it
 * lacks the capability it needs.
 */
export function contractSuite(makeDriver: () => ContractDriver): void {
  const driver = makeDriver();
  const caps = driver.capabilities;

  beforeAll(() => driver.start());
  afterAll(() => driver.stop());

  /** Runs /imagine and waits for its finished result message. */
  async function imagineDone(prompt: string, extra: Record<string, string | number | boolean> = {}): Promise<ViewMessage> {
    const ack = await driver.command(alice, 'imagine', { prompt, provider: 'local', count: 4, ...extra });
    expect(ack.kind).toBe('deferred');
    return driver.waitFor((m) => m.text.includes(prompt) && /Done in/.test(m.text) && m.files.length > 0, `result for "${prompt}"`);
  }

  describe(`${driver.name}: /imagine`, () => {
    it('acks first, shows progress, then the grid with files and buttons', async () => {
      const done = await imagineDone('a red lighthouse at dusk');
      expect(done.ephemeral).toBe(false);
      expect(done.text).toContain(alice.name);
      expect(done.text).toMatch(/local/i);
      expect(done.text).toMatch(/seed/i);
      expect(done.files.some((f) => f.bytes > 0)).toBe(true);
      for (const label of ['U1', 'U2', 'U3', 'U4']) findButton(done, label);
      for (const emoji of ['🔄', '✏️', 'ℹ️', '🗑️']) findButton(done, emoji);
      // Fast jobs ping nobody; only jobs longer than a minute ping their requester.
      expect(done.pings).toEqual([]);
    });

    it('bad options: an ephemeral message that names the option, nothing queued', async () => {
      const before = await driver.jobCount();
      const ack = await driver.command(alice, 'imagine', { prompt: 'x', provider: 'local', count: 99 });
      const msg = await ackMessage(ack, (m) => m.ephemeral && /count/i.test(m.text), 'ephemeral error naming count');
      expect(msg.visibleTo ?? alice.id).toBe(alice.id);
      expect(await driver.jobCount()).toBe(before);
    });

    it('a provider failure becomes a visible failure with a retry button', async () => {
      const ack = await driver.command(alice, 'imagine', { prompt: 'doomed teapot', provider: 'failing' });
      expect(ack.kind).toBe('deferred');
      const failed = await driver.waitFor((m) => m.text.includes('doomed teapot') && /fail/i.test(m.text), 'failure message');
      expect(failed.text).toMatch(/down/);
      findButton(failed, '🔄');
    });
  });

  describe(`${driver.name}: self-hosted providers`, () => {
    // OpenAI reports no seed; the others do.
    it.each([
      ['comfyui', 'a lighthouse at dusk in a node graph', true],
      ['a1111', 'a lighthouse at dusk in a web UI', true],
      ['horde', 'a lighthouse at dusk on volunteer GPUs', true],
      ['openai', 'a lighthouse at dusk, streamed', false],
    ] as const)('a job on %s finishes with its images in the channel', async (provider, prompt, seeded) => {
      const ack = await driver.command(alice, 'imagine', { prompt, provider, count: 2 });
      expect(ack.kind).toBe('deferred');
      const done = await driver.waitFor((m) => m.text.includes(prompt) && /Done in/.test(m.text) && m.files.length > 0, `result on ${provider}`);
      expect(done.text).toContain(provider);
      if (seeded) expect(done.text).toMatch(/seed \d+/i);
      expect(done.files.some((f) => f.bytes > 0)).toBe(true);
      findButton(done, '🔄');
    });
  });

  describe(`${driver.name}: prompt syntax and presets`, () => {
    it('a permutation makes one finished job per combination; above four it asks for --yes and queues nothing', async () => {
      const before = await driver.jobCount();
      const ask = await driver.command(alice, 'imagine', { prompt: 'a {1, 2, 3, 4, 5} kites', provider: 'local', count: 1 });
      const question = await ackMessage(ask, (m) => m.ephemeral && /This makes 5 jobs/.test(m.text) && /--yes/.test(m.text), 'confirmation question');
      expect(question.visibleTo ?? alice.id).toBe(alice.id);
      expect(await driver.jobCount()).toBe(before);
      expectAcked(await driver.command(alice, 'imagine', { prompt: 'a {cyan, magenta} kite', provider: 'local', count: 1 }));
      for (const colour of ['cyan', 'magenta']) {
        await driver.waitFor((m) => m.text.includes(`a ${colour} kite`) && /Done in/.test(m.text) && m.files.length > 0, `${colour} kite result`);
      }
      // Exactly one result per combination: no job for the braces as typed.
      expect(driver.messages().some((m) => m.text.includes('{cyan, magenta}') && /Done in/.test(m.text))).toBe(false);
    });

    it('a /prefer option set is applied to a later prompt', async () => {
      const saved = await driver.command(bob, 'prefer', { action: 'option-set', name: 'heron', value: '--seed 77' });
      await ackMessage(saved, (m) => m.ephemeral && /--heron in a prompt now stands for --seed 77/.test(m.text), 'preset saved');
      expectAcked(await driver.command(bob, 'imagine', { prompt: 'a grey bird wading --heron', provider: 'local', count: 1 }));
      const done = await driver.waitFor((m) => m.text.includes('a grey bird wading') && /Done in/.test(m.text), 'preset result');
      expect(done.text).toMatch(/seed 77/i);
    });
  });

  describe(`${driver.name}: buttons`, () => {
    let grid: ViewMessage;
    beforeAll(async () => {
      grid = await imagineDone('a blue whale in a teacup', { seed: 42 });
    });

    it('🔄 by another member makes a new job, attributed to the presser', async () => {
      await expectAcked(await driver.press(bob, grid, findButton(grid, '🔄')));
      const reroll = await driver.waitFor((m) => m.id !== grid.id && m.text.includes('a blue whale in a teacup') && /Reroll/.test(m.text) && /Done in/.test(m.text), 'reroll result');
      expect(reroll.text).toContain(bob.name);
    });

    it('U2 posts image 2 on its own', async () => {
      await expectAcked(await driver.press(alice, grid, findButton(grid, 'U2')));
      const up = await driver.waitFor((m) => /Upscale of image 2/.test(m.text) && /Done in/.test(m.text), 'upscale result');
      expect(up.files.length).toBeGreaterThan(0);
      expect(up.buttons.some((b) => /^U\d$/.test(b.label))).toBe(false);
    });

    it('V3 makes a variation of image 3 where the provider can', async () => {
      const v3 = grid.buttons.find((b) => b.label === 'V3');
      if (!v3) {
        // No V buttons is the right answer for a provider without variations: nothing to press.
        expect(grid.buttons.some((b) => /^V\d$/.test(b.label))).toBe(false);
        return;
      }
      await expectAcked(await driver.press(alice, grid, v3));
      await driver.waitFor((m) => /Variation of image 3/.test(m.text) && /Done in/.test(m.text), 'variation result');
    });

    it.skipIf(!caps.modals)('✏️ opens a modal with the prompt; submitting runs the edited prompt', async () => {
      const ack = await driver.press(alice, grid, findButton(grid, '✏️'));
      if (ack.kind !== 'modal') throw new Error(`expected a modal, got ${ack.kind}`);
      const [field, value] = Object.entries(ack.fields)[0]!;
      expect(value).toContain('a blue whale in a teacup');
      await expectAcked(await driver.submitModal(alice, ack, { [field]: 'a green whale in a teacup' }));
      await driver.waitFor((m) => m.text.includes('a green whale in a teacup') && /Done in/.test(m.text), 'remix result');
    });

    it('ℹ️ shows the details privately', async () => {
      const ack = await driver.press(bob, grid, findButton(grid, 'ℹ️'));
      const details = await ackMessage(ack, (m) => m.ephemeral && /Seed: 42/.test(m.text), 'details');
      expect(details.text).toMatch(/Provider: local/);
    });

    it('🗑️ by someone else is refused privately; by the owner it removes the message', async () => {
      const own = await imagineDone('a doomed sandcastle');
      const refused = await driver.press(bob, own, findButton(own, '🗑️'));
      await ackMessage(refused, (m) => m.ephemeral && /not allowed|only/i.test(m.text), 'refusal');
      await expectAcked(await driver.press(alice, own, findButton(own, '🗑️')));
      await waitUntil(() => !driver.messages().some((m) => m.id === own.id), 'message deleted');
    });

    it('⏹️ cancels a running job', async () => {
      const ack = await driver.command(alice, 'imagine', { prompt: 'an endless staircase', provider: 'slow' });
      expect(ack.kind).toBe('deferred');
      const running = await driver.waitFor((m) => m.text.includes('an endless staircase') && m.buttons.some((b) => b.emoji === '⏹️'), 'running job with cancel');
      await expectAcked(await driver.press(alice, running, findButton(running, '⏹️')));
      await driver.waitFor((m) => m.id === running.id && /Canceled/.test(m.text), 'canceled message');
    });

    it('a job that no longer exists gets a private explanation', async () => {
      const gone = await imagineDone('a vanishing cat');
      await expectAcked(await driver.press(alice, gone, findButton(gone, '🗑️')));
      await waitUntil(() => !driver.messages().some((m) => m.id === gone.id), 'message deleted');
      const ack = await driver.press(alice, gone, findButton(gone, '🔄'));
      await ackMessage(ack, (m) => m.ephemeral && /no longer|not found|deleted/i.test(m.text), 'gone explanation');
    });
  });

  describe(`${driver.name}: pictures`, () => {
    let photo: TestImage;
    let other: TestImage;
    beforeAll(async () => {
      photo = { name: 'harbour.png', bytes: await picture(96, 64, { r: 20, g: 90, b: 200 }), contentType: 'image/png' };
      other = { name: 'sunset.png', bytes: await picture(64, 64, { r: 240, g: 120, b: 20 }), contentType: 'image/png' };
    });

    it('an /imagine with an attached picture finishes, and its message names the picture', async () => {
      expectAcked(await driver.imagineWithImages(alice, 'a watercolour of this harbour', [photo], { provider: 'local', count: 1 }));
      const done = await driver.waitFor((m) => m.text.includes('a watercolour of this harbour') && /Done in/.test(m.text) && m.files.length > 0, 'result from a picture');
      expect(done.text).toMatch(/Started from 1 picture: harbour\.png/);
    });

    it('a picture that is not one: a private error that says what to send, nothing queued', async () => {
      const before = await driver.jobCount();
      const fake: TestImage = { name: 'notes.png', bytes: new TextEncoder().encode('these are my notes, not a picture'), contentType: 'image/png' };
      const ack = await driver.imagineWithImages(alice, 'a lighthouse from my notes', [fake], { provider: 'local' });
      const msg = await ackMessage(ack, (m) => m.ephemeral && /not a picture we can read/.test(m.text), 'bad picture error');
      expect(msg.text).toMatch(/PNG, JPEG, WebP or GIF/);
      expect(await driver.jobCount()).toBe(before);
    });

    it('/blend combines two pictures', async () => {
      expectAcked(await driver.blend(alice, [photo, other], { dimensions: 'landscape', provider: 'local' }));
      const done = await driver.waitFor((m) => /Blend/.test(m.text) && /Started from 2 pictures/.test(m.text) && /Done in/.test(m.text) && m.files.length > 0, 'blend result');
      expect(done.text).toContain(alice.name);
    });

    describe('after U', () => {
      let up: ViewMessage;
      beforeAll(async () => {
        const grid = await imagineDone('a quiet fishing village', { format: '3:2' });
        expectAcked(await driver.press(alice, grid, findButton(grid, 'U1')));
        up = await driver.waitFor((m) => m.text.includes('a quiet fishing village') && /Upscale of image 1/.test(m.text) && /Done in/.test(m.text), 'upscale to zoom from');
      });

      it.each([
        ['Zoom Out 2x', /Zoom Out 2×/],
        ['Pan Left', /Pan left/],
        ['Make Square', /Make Square/],
        ['Vary (Subtle)', /Vary \(Subtle\) of image 1/],
        ['Vary (Strong)', /Vary \(Strong\) of image 1/],
      ] as const)('%s makes a new job from the upscaled picture', async (label, shown) => {
        expectAcked(await driver.press(bob, up, findButton(up, label)));
        const done = await driver.waitFor((m) => m.id !== up.id && m.text.includes('a quiet fishing village') && shown.test(m.text) && /Done in/.test(m.text) && m.files.length > 0, `${label} result`);
        expect(done.text).toContain(bob.name);
      });

      it.skipIf(!caps.modals)('Custom Zoom and Vary (Region) ask in a form first', async () => {
        const zoom = await driver.press(alice, up, findButton(up, 'Custom Zoom'));
        if (zoom.kind !== 'modal') throw new Error(`expected a modal, got ${zoom.kind}`);
        const zoomField = Object.keys(zoom.fields).find((k) => /zoom/i.test(k))!;
        expectAcked(await driver.submitModal(alice, zoom, { [zoomField]: '1.8' }));
        await driver.waitFor((m) => /Zoom Out 1\.8×/.test(m.text) && /Done in/.test(m.text), 'custom zoom result');
        const region = await driver.press(alice, up, findButton(up, 'Vary (Region)'));
        if (region.kind !== 'modal') throw new Error(`expected a modal, got ${region.kind}`);
        const regionField = Object.keys(region.fields).find((k) => /region/i.test(k))!;
        expectAcked(await driver.submitModal(alice, region, { [regionField]: '25, 25, 50, 50' }));
        await driver.waitFor((m) => /Vary \(Region\)/.test(m.text) && m.text.includes('a quiet fishing village') && /Done in/.test(m.text), 'region result');
      });
    });
  });

  describe.skipIf(!caps.restart)(`${driver.name}: restart`, () => {
    it('a button pressed after SIGKILL and restart still works', async () => {
      const grid = await imagineDone('a phoenix over a server rack');
      await driver.killAndRestart!();
      await expectAcked(await driver.press(bob, grid, findButton(grid, '🔄')));
      await driver.waitFor((m) => m.id !== grid.id && m.text.includes('a phoenix over a server rack') && /Reroll/.test(m.text) && /Done in/.test(m.text), 'reroll after restart');
    });
  });

  describe.skipIf(!caps.tokenExpiry)(`${driver.name}: token expiry`, () => {
    it('a job whose reply token expired mid-job is still delivered', async () => {
      const ack = await driver.command(alice, 'imagine', { prompt: 'a clock melting slowly', provider: 'slow' });
      expect(ack.kind).toBe('deferred');
      const running = await driver.waitFor((m) => m.text.includes('a clock melting slowly') && m.buttons.some((b) => b.emoji === '⏹️'), 'running job');
      driver.expireTokens!();
      await expectAcked(await driver.press(alice, running, findButton(running, '⏹️')));
      await driver.waitFor((m) => m.text.includes('a clock melting slowly') && /Canceled/.test(m.text), 'final state after expiry');
    });
  });

  describe.skipIf(!caps.signatures)(`${driver.name}: signatures`, () => {
    it.each(['forged', 'stale', 'future'] as const)('a %s signature is refused with 401', async (kind) => {
      expect((await driver.probeSignature!(kind)).status).toBe(401);
    });
    it('a valid signature is accepted', async () => {
      expect((await driver.probeSignature!('valid')).status).toBe(200);
    });
  });

  /** The message an ack carries, or the first new ephemeral one matching when the ack was deferred. */
  async function ackMessage(ack: Ack, predicate: (m: ViewMessage) => boolean, what: string): Promise<ViewMessage> {
    if (ack.kind === 'message' && predicate(ack.message)) return ack.message;
    if (ack.kind === 'rejected') throw new Error(`${what}: request rejected with ${ack.status}`);
    return driver.waitFor(predicate, what);
  }
}

function expectAcked(ack: Ack): void {
  if (ack.kind === 'rejected') throw new Error(`expected an acknowledgement, got ${ack.status}`);
}

async function waitUntil(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A small photo-like picture (a colour with noise, so it is not a flat fill every codec shrinks to nothing). */
async function picture(width: number, height: number, rgb: { r: number; g: number; b: number }): Promise<Uint8Array> {
  const data = Buffer.alloc(width * height * 3);
  let x = 12345;
  for (let i = 0; i < data.length; i += 3) {
    x = (x * 1103515245 + 12345) >>> 0;
    const n = (x >>> 24) - 128;
    data[i] = Math.max(0, Math.min(255, rgb.r + (n >> 2)));
    data[i + 1] = Math.max(0, Math.min(255, rgb.g + (n >> 2)));
    data[i + 2] = Math.max(0, Math.min(255, rgb.b + (n >> 2)));
  }
  return new Uint8Array(await sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer());
}
