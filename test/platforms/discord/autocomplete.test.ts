import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imagine } from '../../../commands/imagine.ts';
import { toDiscordCommand } from '../../../src/platforms/discord/register.ts';
import { autocompleteRequest } from '../../fakes/discord/interactions.ts';
import { A1111Fake } from '../../fakes/providers/a1111-fake.ts';
import { alice, startHarness, type Harness } from './harness.ts';

describe('Discord autocomplete comes from the chosen provider\'s capabilities', () => {
  let h: Harness;
  const a1111 = new A1111Fake();
  beforeAll(async () => {
    await a1111.start();
    // Leonardo is configured but never called: suggestions read only its declared capabilities.
    h = await startHarness({ env: { LEONARDO_API_KEY: 'k', LEONARDO_API_URL: 'http://127.0.0.1:9/api/rest/v1', A1111_URL: a1111.url } });
  });
  afterAll(async () => {
    await h.close();
    await a1111.close();
  });

  const suggest = async (options: Record<string, string>, focused: string) => {
    const res = await h.fake.post(autocompleteRequest(h.fake.applicationId, alice, 'imagine', options, focused));
    expect(res.status).toBe(200);
    expect(res.body?.type).toBe(8);
    return ((res.body?.data as { choices: { name: string; value: string }[] }).choices ?? []).map((c) => c.value);
  };

  it('registers provider, model and style as autocomplete options, within Discord\'s 25 options', () => {
    const cmd = toDiscordCommand(imagine);
    expect(cmd.options!.length).toBeLessThanOrEqual(25);
    const auto = cmd.options!.filter((o) => 'autocomplete' in o && o.autocomplete).map((o) => o.name);
    expect(auto.sort()).toEqual(['model', 'provider', 'style']);
    for (const name of ['steps', 'guidance', 'width', 'height', 'transparent', 'tile']) expect(cmd.options!.some((o) => o.name === name), name).toBe(true);
  });

  it('models and styles are the typed provider\'s declared ones, filtered by what is typed', async () => {
    expect(await suggest({ provider: 'leonardo', model: 'luc' }, 'model')).toEqual(['lucid-origin', 'lucid-realism']);
    const styles = await suggest({ provider: 'leonardo', style: '' }, 'style');
    expect(styles.length).toBeGreaterThan(0);
    expect(styles.length).toBeLessThanOrEqual(25);
    const declared = h.app.atelier.providers.get('leonardo').capabilities.styles!;
    for (const s of styles) expect(declared).toContain(s);
  });

  it('a provider that declares no styles or models is offered none', async () => {
    expect(await suggest({ provider: 'local', style: '' }, 'style')).toEqual([]);
    expect(await suggest({ model: '' }, 'model')).toEqual([]);
  });

  it('a self-hosted AUTOMATIC1111 suggests the checkpoints installed on it, read live from /sdapi/v1/sd-models', async () => {
    const models = await suggest({ provider: 'a1111', model: '' }, 'model');
    const installed = await (await fetch(`${a1111.url}/sdapi/v1/sd-models`)).json() as { title: string }[];
    expect(models.length).toBeGreaterThan(0);
    for (const m of models) expect(installed.map((i) => i.title)).toContain(m);
  });

  it('the provider option suggests the configured providers', async () => {
    expect((await suggest({ provider: 'leo' }, 'provider'))).toEqual(['leonardo']);
  });
});
