import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.ts';
import { buttonRows } from '../../src/core/present.ts';
import type { ImageProvider, ProviderCapabilities } from '../../src/core/provider.ts';
import { createLocalProvider } from '../../src/providers/local/index.ts';
import { heldUpscaleProvider } from '../helpers/capability-providers.ts';
import { alice, createHarness, here, type Harness } from '../helpers/harness.ts';

/**
 * Midjourney's U since v5 picks a picture out of the grid, and the toolbox appears under it. On a provider
 * without an upscaler (OpenAI, AI Horde) the same U is a `select` child job: no provider call, no quota, one
 * picture that is the parent's, carrying the toolbox.
 */

let h: Harness;
afterEach(async () => h?.close());

const local = createLocalProvider({ longSide: 128, previewSide: 64 });

/** The local renderer declaring no upscaler, with `over` for the rest; counts every call made to it. */
function noUpscaler(over: Partial<ProviderCapabilities>): ImageProvider & { calls: string[] } {
  const { upscaleModes: _u, ...caps } = local.capabilities;
  const calls: string[] = [];
  return {
    id: 'painter',
    displayName: 'Painter',
    capabilities: { ...caps, upscale: false, variations: false, varyStrength: false, outpaint: false, inpaint: false, ...over },
    calls,
    generate: (request, ctx) => {
      calls.push('generate');
      return local.generate(request, ctx);
    },
    vary: (source, ctx) => {
      calls.push('vary');
      return local.vary!(source, ctx);
    },
  };
}

const labels = (rows: { label: string }[][]) => rows.flat().map((b) => b.label);
const pixels = async (bytes: Uint8Array) => sharp(bytes).raw().toBuffer();

async function rejection(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

describe('U on a provider without an upscaler', () => {
  it('offers U1 and U2 under two pictures; U2 is a child with image 2 alone, no provider call, and the toolbox', async () => {
    const painter = noUpscaler({ outpaint: true, variations: true });
    h = await createHarness({ providers: [painter] });
    const parent = await h.settle((await h.atelier.imagine({ prompt: 'two foxes --ar 3:2', provider: 'painter', count: 2 }, alice, here)).id);
    expect(parent.state).toBe('succeeded');
    const rows = buttonRows(parent, painter.capabilities, 2);
    expect(labels(rows)).toEqual(expect.arrayContaining(['U1', 'U2', 'V1', 'V2']));
    expect(rows.flat().find((b) => b.label === 'U2')).toMatchObject({ kind: 'select', index: 2 });
    // Under the grid itself: no toolbox (it needs one picture).
    expect(labels(rows)).not.toContain('Zoom Out 2x');

    painter.calls.length = 0;
    const child = await h.atelier.act(parent.id, { kind: 'select', index: 2 }, alice, here);
    const done = await h.settle(child.id);
    expect(done).toMatchObject({ state: 'succeeded', parentId: parent.id, action: { kind: 'select', index: 2 } });
    expect(painter.calls).toEqual([]);
    expect(done.result?.imageIds).toHaveLength(1);
    expect(done.result?.gridImageId).toBeUndefined();

    const picked = (await h.atelier.images(done.id)).filter((i) => i.meta.kind === 'image');
    const original = (await h.atelier.images(parent.id)).find((i) => i.meta.kind === 'image' && i.meta.index === 2)!;
    expect(picked).toHaveLength(1);
    expect(picked[0]!.meta.blobKey.startsWith(`jobs/${done.id}/`)).toBe(true);
    expect(await pixels(await picked[0]!.bytes())).toEqual(await pixels(await original.bytes()));
    expect(picked[0]!.meta.seed).toBe(original.meta.seed);

    // The toolbox under it, with V1 and the tools as under an upscale.
    const under = labels(buttonRows(done, painter.capabilities, 1));
    expect(under).toEqual(expect.arrayContaining(['V1', 'Zoom Out 2x', 'Zoom Out 1.5x', 'Custom Zoom', 'Make Square', 'Pan Left', 'Reroll', 'Remix', 'Details', 'Delete']));
    expect(under.filter((l) => /^U\d$/.test(l))).toEqual([]);
  });

  it('the picked picture outlives its parent, and its toolbox works on it', async () => {
    const painter = noUpscaler({ outpaint: true });
    const held = heldUpscaleProvider();
    h = await createHarness({ providers: [painter, held], scheduler: { perUser: 1 } });
    const parent = await h.settle((await h.atelier.imagine({ prompt: 'two foxes', provider: 'painter', count: 2 }, alice, here)).id);
    // Alice's one running slot is taken by an upscale that waits, so her pick waits in line behind it.
    const other = await h.settle((await h.atelier.imagine({ prompt: 'a heron', provider: 'held', count: 1 }, alice, here)).id);
    const upscale = await h.atelier.act(other.id, { kind: 'upscale', index: 1 }, alice, here);
    const child = await h.atelier.act(parent.id, { kind: 'select', index: 1 }, alice, here);
    expect((await h.atelier.getJob(child.id))?.state).toBe('queued');
    // Deleted while the pick waits: the child copied its picture into its own folder when it was queued.
    await h.atelier.delete(parent.id, alice, here);
    held.release();
    await h.settle(upscale.id);
    const done = await h.settle(child.id);
    expect(done.state).toBe('succeeded');
    // Nothing to show beside it: the picture is the result, not a picture the job started from.
    expect(done.inputs).toBeUndefined();
    const zoom = await h.settle((await h.atelier.act(done.id, { kind: 'zoom', index: 1, factor: 2 }, alice, here)).id);
    expect(zoom.state).toBe('succeeded');
  });

  it('costs no daily quota: a user at their limit may still pick, and picking uses none of it', async () => {
    const painter = noUpscaler({ outpaint: true });
    h = await createHarness({ providers: [painter], limits: { dailyQuotaPerUser: 1 } });
    const parent = await h.settle((await h.atelier.imagine({ prompt: 'two foxes', provider: 'painter', count: 2 }, alice, here)).id);
    const picked = await h.settle((await h.atelier.act(parent.id, { kind: 'select', index: 1 }, alice, here)).id);
    expect(picked.state).toBe('succeeded');
    expect((await h.settle((await h.atelier.act(parent.id, { kind: 'select', index: 2 }, alice, here)).id)).state).toBe('succeeded');
    // A press that asks the provider for pictures still counts.
    expect((await rejection(h.atelier.act(picked.id, { kind: 'zoom', index: 1, factor: 2 }, alice, here))).code).toBe('QUOTA_EXCEEDED');
  });

  it('refuses a picture the provider flagged NSFW where NSFW is not allowed, as the run would', async () => {
    const painter = noUpscaler({ outpaint: true });
    const flagging: ImageProvider = { ...painter, generate: async (request, ctx) => {
      const r = await painter.generate(request, ctx);
      return { ...r, images: r.images.map((img, i) => (i === 1 ? { ...img, nsfw: true } : img)) };
    } };
    h = await createHarness({ providers: [flagging] });
    const adult = { ...here, channelId: 'adult', nsfw: true };
    const parent = await h.settle((await h.atelier.imagine({ prompt: 'two foxes', provider: 'painter', count: 2 }, alice, adult)).id);
    const refused = await rejection(h.atelier.act(parent.id, { kind: 'select', index: 2 }, alice, { ...here, nsfw: false }));
    expect(refused.code).toBe('MODERATION');
    expect(refused.message).toMatch(/flagged image 2 as NSFW/);
    expect((await h.settle((await h.atelier.act(parent.id, { kind: 'select', index: 1 }, alice, { ...here, nsfw: false })).id)).state).toBe('succeeded');
    const allowed = await h.settle((await h.atelier.act(parent.id, { kind: 'select', index: 2 }, alice, adult)).id);
    expect(allowed.state).toBe('succeeded');
    expect((await h.atelier.images(allowed.id))[0]!.meta.nsfw).toBe(true);
  });

  it('is refused where the provider upscales (its U is a real upscale), out of range, or without a toolbox', async () => {
    const painter = noUpscaler({ outpaint: true });
    const bare = { ...noUpscaler({}), id: 'bare', displayName: 'Bare' };
    h = await createHarness({ providers: [painter, bare] });
    const upscaled = await h.settle((await h.atelier.imagine({ prompt: 'two foxes', count: 2 }, alice, here)).id);
    expect(buttonRows(upscaled, local.capabilities, 2).flat().find((b) => b.label === 'U2')).toMatchObject({ kind: 'upscale' });
    const refused = await rejection(h.atelier.act(upscaled.id, { kind: 'select', index: 2 }, alice, here));
    expect(refused.code).toBe('UNSUPPORTED');
    expect(refused.message).toMatch(/upscales: use its U buttons/);

    const grid = await h.settle((await h.atelier.imagine({ prompt: 'two foxes', provider: 'painter', count: 2 }, alice, here)).id);
    expect((await rejection(h.atelier.act(grid.id, { kind: 'select', index: 3 }, alice, here))).message).toMatch(/has 2 images; pick 1 to 2/);

    const plain = await h.settle((await h.atelier.imagine({ prompt: 'two foxes', provider: 'bare', count: 2 }, alice, here)).id);
    expect(labels(buttonRows(plain, bare.capabilities, 2)).filter((l) => /^U\d$/.test(l))).toEqual([]);
    expect((await rejection(h.atelier.act(plain.id, { kind: 'select', index: 1 }, alice, here))).code).toBe('UNSUPPORTED');
  });
});
