import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commands } from '../../../commands/index.ts';
import { defineCommand } from '../../../src/core/command.ts';
import { registerCommands, toDiscordCommand } from '../../../src/platforms/discord/register.ts';
import { createRest } from '../../../src/platforms/discord/rest.ts';
import { FakeDiscord } from '../../fakes/discord/fake-discord.ts';

describe('toDiscordCommand', () => {
  it('maps zod options to Discord option types, limits, choices and required', () => {
    const def = defineCommand({
      name: 'demo',
      description: 'Demo',
      options: z.object({
        text: z.string().min(2).max(50).describe('Some text'),
        n: z.number().int().min(1).max(8).optional().describe('A count'),
        ratio: z.number().min(0).max(1).optional().describe('A ratio'),
        flag: z.boolean().optional().describe('A flag'),
        pick: z.enum(['a', 'b']).default('a').describe('A choice'),
      }),
      labels: { a: 'Option A' },
      run: async () => ({ type: 'message', text: '', ephemeral: true }),
    });
    expect(toDiscordCommand(def as never)).toEqual({
      type: 1,
      name: 'demo',
      description: 'Demo',
      options: [
        { type: 3, name: 'text', description: 'Some text', required: true, min_length: 2, max_length: 50 },
        { type: 4, name: 'n', description: 'A count', required: false, min_value: 1, max_value: 8 },
        { type: 10, name: 'ratio', description: 'A ratio', required: false, min_value: 0, max_value: 1 },
        { type: 5, name: 'flag', description: 'A flag', required: false },
        { type: 3, name: 'pick', description: 'A choice', required: false, choices: [{ name: 'Option A', value: 'a' }, { name: 'b', value: 'b' }] },
      ],
    });
  });

  it('refuses what Discord cannot represent, naming the option', () => {
    const def = defineCommand({ name: 'bad', description: 'x', options: z.object({ tags: z.array(z.string()).describe('Tags') }), run: async () => ({ type: 'message', text: '', ephemeral: true }) });
    expect(() => toDiscordCommand(def as never)).toThrow(/\/bad tags/);
  });
});

describe('registerCommands against the fake Discord', () => {
  const fake = new FakeDiscord();
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());

  it('puts every command once, then finds nothing to change; the body passes the spec', async () => {
    const rest = createRest({ api: fake.apiUrl, token: fake.botToken });
    const first = await registerCommands({ rest, applicationId: fake.applicationId, commands });
    expect(first.put).toBe(true);
    expect(first.added.sort()).toEqual(commands.map((c) => c.name).sort());
    expect(first.summary).toMatch(/added \/imagine/);
    const second = await registerCommands({ rest, applicationId: fake.applicationId, commands });
    expect(second.put).toBe(false);
    expect(second.summary).toMatch(/up to date/);
    expect(fake.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
    expect(fake.violations).toEqual([]);
  });

  it('a changed description is an update; a command gone from the list is removed; guild scope is its own', async () => {
    const rest = createRest({ api: fake.apiUrl, token: fake.botToken });
    const changed = commands.filter((c) => c.name !== 'help').map((c) => (c.name === 'queue' ? { ...c, description: 'The queue, now' } : c));
    const r = await registerCommands({ rest, applicationId: fake.applicationId, commands: changed });
    expect(r.changed).toEqual(['queue']);
    expect(r.removed).toEqual(['help']);
    const g = await registerCommands({ rest, applicationId: fake.applicationId, guildId: '300000000000000001', commands });
    expect(g.added).toHaveLength(commands.length);
    expect(g.summary).toMatch(/guild 300000000000000001/);
    expect(fake.violations).toEqual([]);
  });
});
