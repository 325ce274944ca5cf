import { afterAll, describe, expect, it } from 'vitest';
import type { Job } from '../../../src/core/job.ts';
import type { ImageProvider, ProviderCapabilities } from '../../../src/core/provider.ts';
import { buttonAction, decodeButtonId, FORM_BUTTONS } from '../../../src/core/present.ts';
import { render } from '../../../src/platforms/discord/render.ts';
import { createLocalProvider } from '../../../src/providers/local/index.ts';
import { discordSpec } from '../../fakes/discord/openapi.ts';
import { checkMessageLimits } from '../../fakes/discord/limits.ts';
import { everyShippedProvider } from '../../providers/helpers.ts';

/**
 * The buttons of a result message on Discord, for every provider Atelier ships, are exactly what its declared
 * capabilities offer: no button whose press the core would answer with "cannot". Capabilities are read, never
 * listed here, so a provider that gains outpainting gains the zoom buttons and this test follows.
 */

// Every shipped provider, configured (addresses never called: only capabilities and methods are read).
const configured = everyShippedProvider();
const all: ImageProvider[] = [createLocalProvider({ longSide: 128, previewSide: 64 }), ...configured.providers];
afterAll(() => configured.close());

const T0 = 1_800_000_000_000;
function job(provider: string, over: Partial<Job>): Job {
  return {
    id: 'j0123456789abcdef',
    action: { kind: 'imagine' },
    state: 'succeeded',
    provider,
    request: { mode: 'simple', prompt: 'a lighthouse', aspectRatio: '3:2' },
    owner: { platform: 'discord', userId: '100000000000000001', displayName: 'alice' },
    where: { platform: 'discord', channelId: '1', serverId: '2' },
    private: false,
    createdAt: T0,
    startedAt: T0,
    finishedAt: T0 + 5_000,
    progress: {},
    attempts: 1,
    result: { imageIds: [] },
    notes: [],
    version: 3,
    ...over,
  };
}

/**
 * What the core requires before it makes a child job for a button (service.ts `childRequest`): the capability,
 * and for U and V the provider's method too. A button offered without it is one that answers "cannot".
 */
function wouldRefuse(p: ImageProvider, id: string): string | undefined {
  const b = decodeButtonId(id);
  if (!b) return `undecodable id ${id}`;
  if (['details', 'delete', 'cancel', 'retry', 'reroll', 'remix'].includes(b.kind)) return undefined;
  const c = p.capabilities;
  const a = buttonAction(b.kind, b.index) ?? (b.kind === 'zoomcustom' ? { kind: 'zoom' as const } : b.kind === 'region' ? { kind: 'region' as const } : undefined);
  if (!a) return `${b.kind} maps to no action`;
  switch (a.kind) {
    case 'select':
      if (c.upscale) return 'upscales: its U is a real upscale';
      return toolboxOf(c) ? undefined : 'nothing to pick a picture for';
    case 'upscale':
      if (!c.upscale || !p.upscale) return 'cannot upscale';
      if ('mode' in a && a.mode && !c.upscaleModes?.includes(a.mode)) return `no ${a.mode} upscaler`;
      return undefined;
    case 'vary':
      if (!c.variations || !p.vary) return 'cannot vary';
      if ('strength' in a && a.strength && !c.varyStrength) return 'no variation strength';
      return undefined;
    case 'zoom':
    case 'pan':
    case 'square':
      return c.outpaint ? undefined : 'cannot outpaint';
    case 'region':
      return c.inpaint ? undefined : 'cannot inpaint';
    default:
      return undefined;
  }
}

/** Whether a single picture of this provider carries any toolbox button (those after U that need no upscaler). */
const toolboxOf = (c: ProviderCapabilities): boolean => Boolean(c.outpaint || c.inpaint || (c.variations && c.varyStrength));

/** The labels a capability set should show, each from the one capability it needs (Midjourney's names). */
function expectedToolbox(c: ProviderCapabilities, square: boolean): string[] {
  return [
    c.upscale && c.upscaleModes?.includes('subtle') && 'Upscale (Subtle)',
    c.upscale && c.upscaleModes?.includes('creative') && 'Upscale (Creative)',
    c.variations && c.varyStrength && 'Vary (Subtle)',
    c.variations && c.varyStrength && 'Vary (Strong)',
    c.inpaint && 'Vary (Region)',
    c.outpaint && 'Zoom Out 2x',
    c.outpaint && 'Zoom Out 1.5x',
    c.outpaint && 'Custom Zoom',
    c.outpaint && !square && 'Make Square',
    ...(c.outpaint ? ['Pan Left', 'Pan Right', 'Pan Up', 'Pan Down'] : []),
    'Reroll',
    'Remix',
    'Details',
    'Delete',
  ].filter((x): x is string => Boolean(x));
}

const labels = (p: ReturnType<typeof render>) => p.components.flatMap((r) => r.components.map((b) => b.label ?? ''));

/** Discord would take the message: the spec's schema for creating a message, and the documented limits. */
function acceptedByDiscord(p: ReturnType<typeof render>): string[] {
  const body = { content: p.content, components: p.components, allowed_mentions: p.allowed_mentions, attachments: p.attachments, embeds: p.embeds };
  return [...discordSpec().check('POST', '/channels/1/messages', body).errors, ...checkMessageLimits(body)];
}

describe.each(all.map((p) => [p.id, p] as const))('Discord result buttons on %s', (_id, p) => {
  const c = p.capabilities;

  it('a grid offers U and V per image only where the provider can, and nothing that answers "cannot"', () => {
    const n = Math.min(c.maxCount, 4);
    const grid = job(p.id, { result: { imageIds: Array.from({ length: n }, (_, k) => `i${k + 1}`) } });
    const payload = render(grid, [], c, n);
    const shown = labels(payload);
    const numbered = (prefix: string) => Array.from({ length: n }, (_, k) => `${prefix}${k + 1}`);
    // U upscales where the provider can; without an upscaler it picks the picture for the toolbox, where there is one.
    expect(shown.filter((l) => /^U\d$/.test(l))).toEqual(c.upscale || (n > 1 && toolboxOf(c)) ? numbered('U') : []);
    const us = payload.components.flatMap((r) => r.components).filter((b) => /^U\d$/.test(b.label ?? ''));
    for (const b of us) expect(decodeButtonId(b.custom_id)!.kind, b.label).toBe(c.upscale ? 'upscale' : 'select');
    expect(shown.filter((l) => /^V\d$/.test(l))).toEqual(c.variations ? numbered('V') : []);
    expect(shown).toEqual(expect.arrayContaining(['Reroll', 'Remix', 'Details', 'Delete']));
    for (const b of payload.components.flatMap((r) => r.components)) expect(wouldRefuse(p, b.custom_id), b.label).toBeUndefined();
    expect(acceptedByDiscord(payload)).toEqual([]);
  });

  it('after U, the toolbox is exactly what the capabilities offer, and nothing that answers "cannot"', () => {
    const up = job(p.id, { action: { kind: 'upscale', index: 2 }, parentId: 'parent', result: { imageIds: ['u1'] } });
    const payload = render(up, [], c, 1);
    expect(labels(payload).sort()).toEqual(expectedToolbox(c, false).sort());
    for (const b of payload.components.flatMap((r) => r.components)) {
      expect(wouldRefuse(p, b.custom_id), b.label).toBeUndefined();
      const kind = decodeButtonId(b.custom_id)!.kind;
      // A form button (Custom Zoom, Vary (Region), Remix) opens a modal: it needs no action of its own.
      if (!FORM_BUTTONS.has(kind) && !['details', 'delete', 'reroll'].includes(kind)) expect(buttonAction(kind, 1), b.label).toBeDefined();
    }
    expect(acceptedByDiscord(payload)).toEqual([]);
  });

  it('a single picture from a provider without U carries the toolbox (with V1 first) where it has one', () => {
    if (c.upscale) return;
    const single = job(p.id, { result: { imageIds: ['i1'] } });
    const payload = render(single, [], c, 1);
    const hasToolbox = Boolean(c.outpaint || c.inpaint || c.varyStrength);
    const expected = hasToolbox ? [...(c.variations ? ['V1'] : []), ...expectedToolbox(c, false)] : [...(c.variations ? ['V1'] : []), 'Reroll', 'Remix', 'Details', 'Delete'];
    expect(labels(payload).sort()).toEqual(expected.sort());
    for (const b of payload.components.flatMap((r) => r.components)) expect(wouldRefuse(p, b.custom_id), b.label).toBeUndefined();
    expect(acceptedByDiscord(payload)).toEqual([]);
  });

  it('the picture a U picked (no upscaler) carries the toolbox (with V1 first), like a single picture', () => {
    if (c.upscale || !toolboxOf(c) || c.maxCount < 2) return;
    const picked = job(p.id, { action: { kind: 'select', index: 2 }, parentId: 'parent', result: { imageIds: ['s1'] } });
    const payload = render(picked, [], c, 1);
    expect(labels(payload).sort()).toEqual([...(c.variations ? ['V1'] : []), ...expectedToolbox(c, false)].sort());
    for (const b of payload.components.flatMap((r) => r.components)) expect(wouldRefuse(p, b.custom_id), b.label).toBeUndefined();
    expect(payload.content + JSON.stringify(payload.embeds)).toContain('Image #2');
    expect(acceptedByDiscord(payload)).toEqual([]);
  });

  it('after U of a square picture, no Make Square', () => {
    const up = job(p.id, { action: { kind: 'upscale', index: 1 }, parentId: 'parent', request: { mode: 'simple', prompt: 'a lighthouse', aspectRatio: '1:1' }, result: { imageIds: ['u1'] } });
    expect(labels(render(up, [], c, 1)).sort()).toEqual(expectedToolbox(c, true).sort());
  });
});

it('covers local, all-images.ai, Leonardo, the Midjourney / Flux gateway, ComfyUI, A1111, AI Horde and OpenAI', () => {
  expect(all.length).toBeGreaterThanOrEqual(8);
  for (const id of ['local', 'allimages', 'leonardo', 'comfyui', 'a1111', 'horde', 'openai']) expect(all.map((p) => p.id)).toContain(id);
  expect(all.some((p) => /midjourney|flux|pomelo/i.test(p.id))).toBe(true);
});

it('the toolbox appears for some shipped provider, so this test checks something', () => {
  expect(all.some((p) => p.capabilities.outpaint || p.capabilities.inpaint || p.capabilities.varyStrength)).toBe(true);
});

it('some shipped provider has no upscaler but a toolbox and grids, so U that picks is checked on it', () => {
  expect(all.some((p) => !p.capabilities.upscale && toolboxOf(p.capabilities) && p.capabilities.maxCount > 1)).toBe(true);
});
