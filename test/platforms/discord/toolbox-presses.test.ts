import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeButtonId, FORM_BUTTONS } from '../../../src/core/present.ts';
import { buttonPress, slashCommand } from '../../fakes/discord/interactions.ts';
import type { FakeMessage } from '../../fakes/discord/fake-discord.ts';
import { alice, bob, startHarness, type Harness } from './harness.ts';

/**
 * Every button under an upscaled image, pressed on Discord through both ways in (HTTP interactions and the
 * gateway): each one that is a job makes a finished child job of its kind, each form button opens its form.
 * The buttons are read from the message, so every kind the local renderer offers is pressed.
 */
describe.each([['http'], ['gateway']] as const)('Discord toolbox presses over %s', (mode) => {
  let h: Harness;
  let up: FakeMessage;
  beforeAll(async () => {
    h = await startHarness({ gateway: mode === 'gateway' });
    await h.deliver(slashCommand(h.fake.applicationId, alice, 'imagine', { prompt: `a harbour crane ${mode}`, provider: 'local', count: 1, format: '3:2' }));
    const grid = await h.waitFor((m) => m.content.includes(`a harbour crane ${mode}`) && m.content.includes('Done in'), 'the grid');
    await h.deliver(buttonPress(h.fake.applicationId, alice, h.fake.apiMessage(grid.id), buttonId(grid, 'U1')));
    up = await h.waitFor((m) => m.content.includes('Upscale of image 1') && m.content.includes('Done in'), 'the upscale');
  }, 60_000);
  afterAll(() => h.close());

  it('offers the whole toolbox of a provider that has it', () => {
    const kinds = up.components.flatMap((r) => r.components).map((b) => decodeButtonId(b.custom_id!)!.kind);
    expect(kinds).toEqual(expect.arrayContaining(['upsubtle', 'upcreative', 'varysubtle', 'varystrong', 'region', 'zoom2', 'zoom15', 'zoomcustom', 'square', 'panleft', 'panright', 'panup', 'pandown']));
  });

  // What each kind's finished message says (core/present.ts actionText).
  const shown: Record<string, RegExp> = {
    upsubtle: /Upscale \(Subtle\) of image 1/,
    upcreative: /Upscale \(Creative\) of image 1/,
    varysubtle: /Vary \(Subtle\) of image 1/,
    varystrong: /Vary \(Strong\) of image 1/,
    zoom2: /Zoom Out 2×/,
    zoom15: /Zoom Out 1\.5×/,
    square: /Make Square/,
    panleft: /Pan left/,
    panright: /Pan right/,
    panup: /Pan up/,
    pandown: /Pan down/,
  };

  it('each job button makes a finished child of its kind, attributed to the presser; each form button opens its form', async () => {
    const pressed: string[] = [];
    for (const b of up.components.flatMap((r) => r.components)) {
      const kind = decodeButtonId(b.custom_id!)!.kind;
      if (['reroll', 'details', 'delete'].includes(kind)) continue;
      const seen = new Set(h.fake.messages.keys());
      const answer = await h.deliver(buttonPress(h.fake.applicationId, bob, h.fake.apiMessage(up.id), b.custom_id!));
      if (FORM_BUTTONS.has(kind)) {
        expect(answer, b.label).toMatchObject({ type: 9 });
        continue;
      }
      expect(answer, b.label).toMatchObject({ type: 6 });
      const done = await h.waitFor((m) => !seen.has(m.id) && shown[kind]!.test(m.content) && m.content.includes('Done in'), `${b.label} result`);
      expect(done.content).toContain(`<@${bob.id}>`);
      expect(done.attachments.length).toBeGreaterThan(0);
      pressed.push(kind);
    }
    expect(pressed.sort()).toEqual(Object.keys(shown).sort());
    expect(h.fake.violations).toEqual([]);
  }, 120_000);
});

function buttonId(m: FakeMessage, label: string): string {
  const b = m.components.flatMap((r) => r.components).find((x) => x.label === label);
  if (!b?.custom_id) throw new Error(`no button ${label}`);
  return b.custom_id;
}
