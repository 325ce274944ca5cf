import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Settings, SettingsScope } from '../../../src/core/settings.ts';
import { CHANNEL_ID, GUILD_ID, PERMISSIONS as P, slashCommand, type FakeChannel, type FakeMember } from '../../fakes/discord/interactions.ts';
import { startHarness, type Harness } from './harness.ts';

const MEMBER = P.SEND_MESSAGES | P.USE_APPLICATION_COMMANDS;
const owner: FakeMember = { id: '100000000000000010', name: 'owner', permissions: MEMBER | P.ADMINISTRATOR };
const OTHER: FakeChannel = { id: '400000000000000077' };

describe('/settings through Discord interactions: patches, and who may change what', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  async function run(user: FakeMember, options: Record<string, string | number | boolean>, at?: FakeChannel, name = 'settings'): Promise<string> {
    const i = slashCommand(h.fake.applicationId, user, name, options, undefined, at);
    const res = await h.fake.post(i);
    expect(res.status).toBe(200);
    if (res.body?.type === 4) return [...h.fake.messages.values()].find((x) => x.token === i.token)!.content;
    return (await h.waitFor((x) => x.token === i.token && !x.loading, `answer to /${name}`)).content;
  }
  const stored = (s: SettingsScope) => h.app.atelier.getSettings(s);

  it('a change touches only the keys it names (the reported loss: banned + quota, then nsfw)', async () => {
    await run(owner, { scope: 'channel', banned: 'gizmo', daily_quota: 3 });
    await run(owner, { scope: 'channel', nsfw: false });
    expect(await stored({ kind: 'channel', platform: 'discord', id: CHANNEL_ID })).toEqual({ bannedWords: ['gizmo'], dailyQuota: 3, nsfw: false });
    expect(await run(owner, { prompt: 'a gizmo', provider: 'local' }, undefined, 'imagine')).toMatch(/"gizmo", which is not allowed/);
  });

  // Two values for every option, and the stored key and value each becomes.
  const VALUES: Record<string, [string | number | boolean, string | number | boolean]> = {
    provider: ['local', 'slow'],
    format: ['16:9', '2:3'],
    mode: ['simple', 'advanced'],
    process: ['fast', 'relax'],
    private: [true, false],
    buttons: ['owner', 'anyone'],
    roles: ['r1', 'r1,r2'],
    providers: ['local', 'local,slow'],
    fallback: ['slow', 'failing'],
    nsfw: [true, false],
    banned: ['gizmo', 'widget,/sp[a]m/'],
    max_queued: [3, 4],
    daily_quota: [5, 6],
    tags: ['art', 'art,night'],
    paid_upscale: [true, false],
  };
  const KEY: Record<string, keyof Settings> = {
    provider: 'provider', format: 'format', mode: 'mode', process: 'processMode', private: 'private', buttons: 'buttons', roles: 'allowedRoles',
    providers: 'allowedProviders', fallback: 'fallbackProvider', nsfw: 'nsfw', banned: 'bannedWords', max_queued: 'maxQueuedPerUser', daily_quota: 'dailyQuota',
    tags: 'tags', paid_upscale: 'paidUpscale',
  };
  const LISTS = new Set(['roles', 'providers', 'banned', 'tags']);
  const TEXTS = new Set(['provider', 'fallback']);
  const storedValue = (option: string, v: string | number | boolean) => (LISTS.has(option) ? String(v).split(',') : v);
  const USER_OPTIONS = ['provider', 'format', 'mode', 'process', 'private'];

  it.each([
    ['me', 'user', '100000000000000010', USER_OPTIONS],
    ['channel', 'channel', CHANNEL_ID, Object.keys(VALUES)],
    ['server', 'server', GUILD_ID, Object.keys(VALUES)],
  ] as const)('scope %s: every key survives a change and a clear of every other key', async (scopeOption, kind, id, options) => {
    const scope = { kind, platform: 'discord', id } as SettingsScope;
    const expected: Record<string, unknown> = {};
    const all: Record<string, string | number | boolean> = { scope: scopeOption };
    for (const o of options) {
      all[o] = VALUES[o]![0];
      expected[KEY[o]!] = storedValue(o, VALUES[o]![0]);
    }
    await run(owner, all);
    expect(await stored(scope)).toEqual(expected);
    for (const o of options) {
      await run(owner, { scope: scopeOption, [o]: VALUES[o]![1] });
      expected[KEY[o]!] = storedValue(o, VALUES[o]![1]);
      expect(await stored(scope), `after changing ${o}`).toEqual(expected);
    }
    for (const o of options) {
      await run(owner, LISTS.has(o) || TEXTS.has(o) ? { scope: scopeOption, [o]: '-' } : { scope: scopeOption, reset: o });
      delete expected[KEY[o]!];
      expect(await stored(scope), `after clearing ${o}`).toEqual(expected);
    }
    expect(await stored(scope)).toEqual({});
  });

  it('maxConcurrentPerUser, which nothing ever enforced, is gone: an old stored value is neither shown nor kept', async () => {
    const scope: SettingsScope = { kind: 'server', platform: 'discord', id: GUILD_ID };
    await h.app.atelier.store.setSettings(scope, { maxConcurrentPerUser: 2, dailyQuota: 40 } as Settings);
    const shown = await run(owner, { scope: 'server' });
    expect(shown).toMatch(/dailyQuota: 40/);
    expect(shown).not.toMatch(/maxConcurrentPerUser/);
    await run(owner, { scope: 'server', reset: 'daily_quota' });
    expect(await h.app.atelier.store.getSettings(scope)).toEqual({});
  });

  it('a reset and a value for the same key is refused, and nothing changes', async () => {
    await run(owner, { scope: 'channel', daily_quota: 9 });
    expect(await run(owner, { scope: 'channel', daily_quota: 8, reset: 'daily_quota' })).toMatch(/disagree/);
    expect((await stored({ kind: 'channel', platform: 'discord', id: CHANNEL_ID })).dailyQuota).toBe(9);
  });

  describe('permissions follow Discord: resolved for the channel, Manage Channels for it, Manage Server for the server', () => {
    const messagesOnly: FakeMember = { id: '100000000000000020', name: 'janitor', permissions: MEMBER | P.MANAGE_MESSAGES };
    const serverOnly: FakeMember = { id: '100000000000000021', name: 'steward', permissions: MEMBER | P.MANAGE_GUILD };
    // One member: Discord resolves Manage Channels in #art (an overwrite there) but not in the other channel.
    const carlaInArt: FakeMember = { id: '100000000000000022', name: 'carla', permissions: MEMBER | P.MANAGE_CHANNELS };
    const carlaElsewhere: FakeMember = { ...carlaInArt, permissions: MEMBER };

    it('Manage Messages alone changes neither the channel nor the server', async () => {
      expect(await run(messagesOnly, { scope: 'channel', buttons: 'owner' })).toMatch(/Only members with Manage Channels in that channel/);
      expect(await run(messagesOnly, { scope: 'server', buttons: 'owner' })).toMatch(/Only members with Manage Server/);
      expect((await stored({ kind: 'channel', platform: 'discord', id: CHANNEL_ID })).buttons).toBeUndefined();
      expect((await stored({ kind: 'server', platform: 'discord', id: GUILD_ID })).buttons).toBeUndefined();
    });

    it('Manage Channels in one channel changes that channel only, and never the server', async () => {
      expect(await run(carlaInArt, { scope: 'channel', banned: 'kraken' })).toMatch(/bannedWords: .*kraken/);
      expect(await run(carlaElsewhere, { scope: 'channel', banned: 'kraken' }, OTHER)).toMatch(/Only members with Manage Channels/);
      expect(await run(carlaInArt, { scope: 'server', banned: 'kraken' })).toMatch(/Only members with Manage Server/);
      expect((await stored({ kind: 'channel', platform: 'discord', id: OTHER.id })).bannedWords).toBeUndefined();
      expect((await stored({ kind: 'server', platform: 'discord', id: GUILD_ID })).bannedWords).toBeUndefined();
    });

    it('Manage Server changes the server, not a channel', async () => {
      expect(await run(serverOnly, { scope: 'server', max_queued: 7 })).toMatch(/maxQueuedPerUser: 7/);
      expect(await run(serverOnly, { scope: 'channel', max_queued: 7 }, OTHER)).toMatch(/Only members with Manage Channels/);
    });

    it('/help says who may change what', async () => {
      expect(await run(messagesOnly, {}, undefined, 'help')).toMatch(/channel settings: members with Manage Channels in that channel; server settings: members with Manage Server/);
    });
  });

  it('sent nothing Discord would refuse', () => {
    expect(h.fake.violations).toEqual([]);
  });
});
