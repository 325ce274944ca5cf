import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commands } from '../../commands/index.ts';

interface JsonProp {
  type?: string;
  enum?: unknown[];
  description?: string;
}

describe.each(commands.map((c) => [c.name, c] as const))('/%s', (_name, def) => {
  const schema = z.toJSONSchema(def.options, { io: 'input' }) as { properties?: Record<string, JsonProp>; required?: string[] };
  const props = Object.entries(schema.properties ?? {});

  it('has a name both Discord and Slack accept (1–32 lower-case letters, digits, dashes)', () => {
    expect(def.name).toMatch(/^[a-z0-9-]{1,32}$/);
  });

  it('has a description of 1–100 characters', () => {
    expect(def.description.length).toBeGreaterThan(0);
    expect(def.description.length).toBeLessThanOrEqual(100);
  });

  it('has at most 25 options on Discord (one per picture, flag-only ones left out), each described in at most 100 characters', () => {
    const onDiscord = props.filter(([key]) => !(key in (def.flagOnly ?? {}))).length + (def.pictures?.names.length ?? 0);
    expect(onDiscord).toBeLessThanOrEqual(25);
    for (const name of def.pictures?.names ?? []) expect(name).toMatch(/^[a-z0-9_-]{1,32}$/);
    expect(def.pictures?.description.length ?? 0).toBeLessThanOrEqual(100);
    for (const [key, p] of props) {
      expect(key).toMatch(/^[a-z0-9_-]{1,32}$/);
      expect(p.description, `${key} needs .describe()`).toBeTruthy();
      expect(p.description!.length).toBeLessThanOrEqual(100);
    }
  });

  it('uses only types a slash command can carry, with at most 25 choices', () => {
    for (const [key, p] of props) {
      expect(['string', 'integer', 'number', 'boolean'], `${key} is ${p.type}`).toContain(p.type);
      if (p.enum) expect(p.enum.length, key).toBeLessThanOrEqual(25);
    }
  });

  it('names an existing string option as its positional one', () => {
    if (!def.positional) return;
    expect(schema.properties?.[def.positional]?.type).toBe('string');
  });
});

describe('/imagine options', () => {
  it('offers every option the product promises', () => {
    const imagine = commands.find((c) => c.name === 'imagine')!;
    const schema = z.toJSONSchema(imagine.options, { io: 'input' }) as { properties: Record<string, JsonProp>; required: string[] };
    expect(Object.keys(schema.properties).sort()).toEqual(
      ['prompt', 'mode', 'format', 'photo', 'weather', 'time', 'camera', 'chaos', 'stylize', 'no', 'seed', 'count', 'provider', 'model', 'style', 'optimize', 'steps', 'guidance', 'width', 'height', 'transparent', 'tile', 'private', 'iw'].sort(),
    );
    expect(schema.required).toEqual(['prompt']);
    expect(schema.properties.format!.enum).toEqual(['1:1', '3:2', '2:3', '4:7', '7:4', '5:4', '4:5', '16:9', '9:16']);
  });
});
