import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { help } from '../../commands/help.ts';
import { imagine } from '../../commands/imagine.ts';
import { acceptedOptions, FIELDS_WITHOUT_OPTION, OPTION_FIELDS, type FieldOption } from '../../src/core/capability-options.ts';
import { imagineOptionsSchema } from '../../src/core/imagine-options.ts';
import type { ImageProvider, ProviderCapabilities } from '../../src/core/provider.ts';
import type { Job } from '../../src/core/job.ts';
import { buttonRows } from '../../src/core/present.ts';
import { resolveRequest } from '../../src/core/resolve.ts';
import { capabilityChoices } from '../../src/platforms/capability-choices.ts';
import { imagineModal } from '../../src/platforms/slack/modals.ts';
import { createLocalProvider } from '../../src/providers/local/index.ts';
import { alice, createHarness, here, type Harness } from '../helpers/harness.ts';
import { startPlayground } from '../platforms/web/harness.ts';
import { everyShippedProvider } from '../providers/helpers.ts';

// Every provider Atelier ships, configured (addresses that are never called: only capabilities are read).
const configured = everyShippedProvider();
const all: ImageProvider[] = [createLocalProvider({ longSide: 128, previewSide: 64 }), ...configured.providers];

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ providers: configured.providers });
});
afterAll(async () => {
  await h.close();
  await configured.close();
});

/** A value each option can take for this provider, from its own declaration where it has one. */
function sample(option: FieldOption, c: ProviderCapabilities): unknown {
  switch (option) {
    case 'format':
      return c.aspectRatios === 'any' ? '1:1' : c.aspectRatios[0];
    case 'count':
      return c.fixedCount ?? 1;
    case 'model':
      return c.models?.[0]?.name ?? 'some-model';
    case 'style':
      return c.styles?.[0] ?? 'vivid';
    case 'steps':
      return c.steps?.min ?? 20;
    case 'guidance':
      return c.guidance?.min ?? 5;
    case 'width':
    case 'height':
      return c.size?.min ?? 512;
    case 'photo':
      return 'realisticQuality';
    case 'weather':
      return 'sunny';
    case 'time':
      return 'morning';
    case 'seed':
    case 'chaos':
    case 'stylize':
      return 1;
    case 'optimize':
    case 'transparent':
    case 'tile':
      return true;
    default:
      return 'something';
  }
}

/** The options /help lists for one provider, read back from its text. */
function listedOptions(text: string, p: ImageProvider): string[] {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.includes(`(provider:${p.id})`));
  expect(at, `/help mentions ${p.id}`).toBeGreaterThanOrEqual(0);
  const line = lines.slice(at + 1).find((l) => l.trim().startsWith('options:'));
  expect(line, `/help lists ${p.id}'s options`).toBeDefined();
  return line!.replace(/^\s*options:\s*/, '').split(', ');
}

describe('capabilities are the single source of what is offered', () => {
  it('registers every provider the project ships', () => {
    expect(h.atelier.providers.ids().sort()).toEqual(['a1111', 'allimages', 'comfyui', 'flux', 'horde', 'leonardo', 'local', 'midjourney', 'openai']);
  });

  it('/help lists, per provider, exactly the options its capabilities declare', async () => {
    const result = await help.run({}, { atelier: h.atelier, actor: alice, where: here });
    expect(result.type).toBe('message');
    const text = (result as { text: string }).text;
    for (const p of all) expect(listedOptions(text, p).sort(), p.id).toEqual([...acceptedOptions(p.capabilities)].sort());
  });

  it('every option /help lists reaches the provider, and every other one is refused before anything is queued', async () => {
    const text = ((await help.run({}, { atelier: h.atelier, actor: alice, where: here })) as { text: string }).text;
    for (const p of all) {
      const listed = listedOptions(text, p);
      for (const option of Object.keys(OPTION_FIELDS) as FieldOption[]) {
        const options = imagineOptionsSchema.parse({ prompt: 'a lighthouse', provider: p.id, [option]: sample(option, p.capabilities) });
        let code: string | undefined;
        try {
          resolveRequest(options, {}, p);
        } catch (err) {
          code = (err as { code?: string }).code;
        }
        if (listed.includes(option)) expect(code, `${p.id} ${option}`).not.toBe('UNSUPPORTED');
        else expect(code, `${p.id} ${option}`).toBe('UNSUPPORTED');
      }
    }
  });

  it('the buttons under a grid and under an upscale are exactly what each provider declares, and /help names them', async () => {
    const text = ((await help.run({}, { atelier: h.atelier, actor: alice, where: here })) as { text: string }).text;
    for (const p of all) {
      const c = p.capabilities;
      const job = { id: 'j1', state: 'succeeded', action: { kind: 'upscale', index: 1 }, request: { mode: 'simple', prompt: 'a lighthouse', aspectRatio: '3:2' } } as unknown as Job;
      const labels = buttonRows(job, c, 1).flat().map((b) => b.label);
      const expected: [string, boolean][] = [
        ['Upscale (Subtle)', c.upscale && (c.upscaleModes?.includes('subtle') ?? false)],
        ['Upscale (Creative)', c.upscale && (c.upscaleModes?.includes('creative') ?? false)],
        ['Vary (Subtle)', c.variations && c.varyStrength === true],
        ['Vary (Strong)', c.variations && c.varyStrength === true],
        ['Vary (Region)', c.inpaint === true],
        ['Zoom Out 2x', c.outpaint === true],
        ['Zoom Out 1.5x', c.outpaint === true],
        ['Custom Zoom', c.outpaint === true],
        ['Make Square', c.outpaint === true],
        ['Pan Left', c.outpaint === true],
      ];
      for (const [label, offered] of expected) expect(labels.includes(label), `${p.id}: ${label}`).toBe(offered);
      const grid = buttonRows({ ...job, action: { kind: 'imagine' } } as Job, c, 4).flat().map((b) => b.label);
      // Without an upscaler, U picks a picture for the toolbox (Midjourney's U), where there is a toolbox.
      const picks = !c.upscale && Boolean(c.outpaint || c.inpaint || (c.variations && c.varyStrength));
      expect(grid.includes('U1'), `${p.id}: U1`).toBe(c.upscale || picks);
      expect(grid.includes('V1'), `${p.id}: V1`).toBe(c.variations);
      const entry = text.split('\n').find((l) => l.includes(`(provider:${p.id})`))!;
      expect(entry.includes('U (upscale)'), `${p.id}: /help U`).toBe(c.upscale);
      expect(entry.includes('U (picks an image'), `${p.id}: /help U picks`).toBe(picks);
      expect(entry.includes('Vary (Region)'), `${p.id}: /help region`).toBe(c.inpaint === true);
      expect(entry.includes('Zoom Out'), `${p.id}: /help zoom`).toBe(c.outpaint === true);
      expect(entry.includes('your pictures'), `${p.id}: /help pictures`).toBe(c.imageInput !== undefined);
    }
  });

  it('nothing a provider declares is unreachable: each declared field has a typed option or a named other way', () => {
    const reachable = new Set<string>(Object.values(OPTION_FIELDS));
    for (const p of all) {
      const stranded = p.capabilities.fields.filter((f) => !reachable.has(f) && !FIELDS_WITHOUT_OPTION[f]);
      expect(stranded, p.id).toEqual([]);
    }
  });

  it('a Leonardo option that was unreachable before (steps) now reaches a queued job through /imagine', async () => {
    const result = await imagine.run(imagineOptionsSchema.parse({ prompt: 'a lighthouse', provider: 'leonardo', model: 'kino-xl', steps: 30, guidance: 7, width: 512, height: 768 }), { atelier: h.atelier, actor: alice, where: here });
    expect(result.type).toBe('job');
    const job = (result as { job: { request: Record<string, unknown>; id: string } }).job;
    expect(job.request).toMatchObject({ steps: 30, guidance: 7, width: 512, height: 768, model: 'kino-xl' });
    await h.atelier.cancel(job.id, alice, here);
  });

  it('declared ranges are checked before queueing, naming the range', async () => {
    const leo = all.find((p) => p.id === 'leonardo')!;
    expect(() => resolveRequest(imagineOptionsSchema.parse({ prompt: 'x', steps: 80 }), {}, leo)).toThrow(/steps from 10 to 60, not 80/);
    expect(() => resolveRequest(imagineOptionsSchema.parse({ prompt: 'x', width: 1004, height: 512 }), {}, leo)).toThrow(/multiple of 8 from 32 to 1536, not 1004/);
    expect(() => resolveRequest(imagineOptionsSchema.parse({ prompt: 'x', style: 'Vaporwave' }), {}, leo)).toThrow(/no style "Vaporwave"/);
  });
});

describe('the Slack form and suggestions offer only declared values', () => {
  it('with only the local renderer, the form has no input for what it cannot do', () => {
    const local = all.filter((p) => p.id === 'local');
    const view = imagineModal(imagine, { channelId: 'C1' }, capabilityChoices(local)) as { blocks: { block_id: string }[] };
    const inputs = view.blocks.map((b) => b.block_id).sort();
    expect(inputs).toEqual([...acceptedOptions(local[0]!.capabilities)].sort());
  });

  it('with every provider, each list holds exactly the values some provider declares, and a partial option names its providers', () => {
    const view = imagineModal(imagine, { channelId: 'C1' }, capabilityChoices(all)) as {
      blocks: { block_id: string; hint?: { text: string }; element: { options?: { value: string }[] } }[];
    };
    const block = (id: string) => view.blocks.find((b) => b.block_id === id)!;
    const declared = (pick: (c: ProviderCapabilities) => readonly string[] | undefined) => [...new Set(all.flatMap((p) => pick(p.capabilities) ?? []))].sort();
    expect(block('model').element.options).toBeUndefined(); // the gateway takes any model name as text
    expect(block('style').element.options).toBeUndefined(); // the gateway's style is free text
    expect(block('provider').element.options!.map((o) => o.value).sort()).toEqual(all.map((p) => p.id).sort());
    expect(block('steps').hint!.text).toMatch(/Only .*Leonardo\.Ai/);
    const leoOnly = imagineModal(imagine, { channelId: 'C1' }, capabilityChoices(all.filter((p) => p.id === 'leonardo'))) as typeof view;
    expect(leoOnly.blocks.find((b) => b.block_id === 'style')!.element.options!.map((o) => o.value).sort()).toEqual(declared((c) => (c.fields.includes('style') && c.styles ? c.styles : undefined)).sort());
    expect(leoOnly.blocks.find((b) => b.block_id === 'model')!.element.options!.map((o) => o.value)).toEqual(all.find((p) => p.id === 'leonardo')!.capabilities.models!.map((m) => m.name));
  });

  it('suggestions come from the provider the user would get, filtered by what is typed', async () => {
    expect(await h.atelier.suggest('model', 'luc', { provider: 'leonardo' }, alice, here)).toEqual(['lucid-origin', 'lucid-realism']);
    expect(await h.atelier.suggest('style', 'cinematic', { provider: 'leonardo' }, alice, here)).toEqual(['Cinematic', 'Cinematic Concept', 'Cinematic Close-Up']);
    // The harness's default provider is the local renderer, which has no models or styles to offer.
    expect(await h.atelier.suggest('style', '', {}, alice, here)).toEqual([]);
    expect((await h.atelier.suggest('provider', '', {}, alice, here)).sort()).toEqual(h.atelier.providers.ids().sort());
  });
});

describe('the playground composer offers only what the configured providers declare', () => {
  it('GET /api/commands: /imagine lists the accepted options, with declared values', async () => {
    const pg = await startPlayground({ LEONARDO_API_KEY: 'k', LEONARDO_API_URL: 'http://127.0.0.1:9/api/rest/v1' });
    try {
      const res = (await (await fetch(`${pg.url}/api/commands`)).json()) as { commands: { name: string; options: { name: string; enum?: string[] }[] }[] };
      const options = res.commands.find((c) => c.name === 'imagine')!.options;
      const names = options.map((o) => o.name).sort();
      const leo = pg.atelier.providers.get('leonardo').capabilities;
      const local = pg.atelier.providers.get('local').capabilities;
      expect(names).toEqual([...new Set([...acceptedOptions(leo), ...acceptedOptions(local)])].sort());
      expect(options.find((o) => o.name === 'model')!.enum).toEqual(leo.models!.map((m) => m.name));
      expect(options.find((o) => o.name === 'provider')!.enum!.sort()).toEqual(['leonardo', 'local']);
      expect(names).not.toContain('photo');
    } finally {
      await pg.stop();
    }
  });
});
