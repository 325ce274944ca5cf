import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { ImageProvider } from '../../src/core/provider.ts';
import { LOCAL_CAPABILITIES } from '../../src/providers/local/index.ts';
import { alice, bob, createHarness, here, type Harness } from '../helpers/harness.ts';
import { heldGrid } from '../helpers/held-grid.ts';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A provider that answers at once with two 1×1 pictures, recording each prompt it was given. */
function instant(): { provider: ImageProvider; generated: string[] } {
  const generated: string[] = [];
  const provider: ImageProvider = {
    id: 'instant',
    displayName: 'Instant fake',
    capabilities: { ...LOCAL_CAPABILITIES, previews: false, progressPercent: false },
    async generate(req) {
      generated.push(req.prompt);
      return { images: [0, 1].map(() => ({ bytes: new Uint8Array(PNG), mime: 'image/png', width: 1, height: 1 })), seed: 1 };
    },
  };
  return { provider, generated };
}

/**
 * Issue 14's busy channel: a channel's slots share the provider, so a job whose provider has answered (and
 * which is only composing its grid) must not keep the next job in the channel from the provider.
 */
describe('in-process queue: the provider is not left idle while a result is composed', () => {
  it("starts the channel's next job at the provider while the previous one is still composing its grid", async () => {
    const { provider, generated } = instant();
    const { images, open: openGrid, grids } = heldGrid();
    // One job at a time per channel, room for two overall.
    h = await createHarness({ providers: [provider], images, scheduler: { global: 2, perUser: 1, perChannel: 1 } });
    const first = await h.atelier.imagine({ prompt: 'first lamp', provider: 'instant' }, alice, here);
    const second = await h.atelier.imagine({ prompt: 'second lamp', provider: 'instant' }, bob, here);
    // The first job is composing (its grid is held): the second is at the provider already.
    await vi.waitFor(() => expect(generated).toEqual(['first lamp', 'second lamp']));
    await vi.waitFor(() => expect(grids()).toBeGreaterThanOrEqual(1));
    expect((await h.atelier.getJob(first.id))?.state).toBe('running');
    openGrid();
    expect((await h.settle(first.id)).state).toBe('succeeded');
    expect((await h.settle(second.id)).state).toBe('succeeded');
  });

  it('still bounds results being composed by the global limit', async () => {
    const { provider, generated } = instant();
    const { images, open: openGrid, grids } = heldGrid();
    h = await createHarness({ providers: [provider], images, scheduler: { global: 2, perUser: 1, perChannel: 1 }, limits: { maxQueuedPerUser: 10 } });
    const jobs = [];
    for (const [i, who] of [alice, bob, { ...alice, userId: 'carol' }].entries()) jobs.push(await h.atelier.imagine({ prompt: `lamp ${i}`, provider: 'instant' }, who, here));
    await vi.waitFor(() => expect(grids()).toBe(2));
    // Two composing fill the global limit: the third waits in the queue, not at the provider.
    for (let t = 0; t < 20; t++) await new Promise((r) => setImmediate(r));
    expect(generated).toEqual(['lamp 0', 'lamp 1']);
    openGrid();
    for (const j of jobs) expect((await h.settle(j.id)).state).toBe('succeeded');
    expect(generated).toHaveLength(3);
  });
});

describe('the app gives a provider no more jobs at once than its own concurrency', () => {
  it('a second job waits queued (with its place) while a one-at-a-time provider runs the first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atelier-cap-'));
    const started: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const provider: ImageProvider = {
      id: 'gpu',
      displayName: 'One GPU',
      concurrency: 1,
      capabilities: { ...LOCAL_CAPABILITIES, previews: false, progressPercent: false },
      async generate(req) {
        started.push(req.prompt);
        await gate;
        return { images: [{ bytes: new Uint8Array(PNG), mime: 'image/png', width: 1, height: 1 }], seed: 1 };
      },
    };
    const app = await createApp(loadConfig({ DATA_DIR: dir, PORT: '0', PLAYGROUND: 'off', LOG_LEVEL: 'silent' }), { providers: [provider] });
    try {
      await app.start({ listen: false, platforms: false });
      const first = await app.atelier.imagine({ prompt: 'first', provider: 'gpu' }, alice, here);
      const second = await app.atelier.imagine({ prompt: 'second', provider: 'gpu' }, bob, { ...here, channelId: 'other' });
      await vi.waitFor(() => expect(started).toEqual(['first']));
      for (let t = 0; t < 20; t++) await new Promise((r) => setImmediate(r));
      expect(started).toEqual(['first']);
      expect((await app.atelier.getJob(second.id))?.progress.queuePosition).toBe(1);
      release();
      await vi.waitFor(async () => expect((await app.atelier.getJob(second.id))?.state).toBe('succeeded'));
      expect((await app.atelier.getJob(first.id))?.state).toBe('succeeded');
      expect(started).toEqual(['first', 'second']);
    } finally {
      await app.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
