import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { USAGE } from '../src/cli.ts';
import { CONFIG_NAMES } from '../src/config.ts';
import { commands } from '../commands/index.ts';

const root = resolve(import.meta.dirname, '..');
const read = (p: string) => readFileSync(resolve(root, p), 'utf8');
const GUIDES = ['docs/discord.md', 'docs/slack.md'];
const readme = read('README.md');

/** `atelier <command>` and the flags USAGE gives each command. */
const cli = new Map(
  [...USAGE.matchAll(/^ {2}(\w+)(.*)$/gm)].map((m) => [m[1]!, new Set([...m[2]!.matchAll(/--[\w-]+/g)].map((f) => f[0]))]),
);

describe('the set-up guides name only things that exist', () => {
  it('the README links both guides from its quick start', () => {
    const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 5));
    for (const g of GUIDES) expect(quickStart).toContain(`(${g})`);
  });

  for (const guide of GUIDES) {
    const text = read(guide);
    it(`${guide}: every "npm run atelier -- …" command and flag is one the CLI has`, () => {
      const uses = [...text.matchAll(/npm run atelier -- (\w+)([^`\n]*)/g)];
      expect(uses.length).toBeGreaterThan(1);
      for (const [, command, rest] of uses) {
        expect(cli.has(command!), `atelier ${command}`).toBe(true);
        for (const flag of rest!.match(/--[\w-]+/g) ?? []) expect(cli.get(command!)!.has(flag), `atelier ${command} ${flag}`).toBe(true);
      }
    });

    it(`${guide}: every variable it names is a setting, documented in the README table`, () => {
      const names = new Set([...text.matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?:=[^`]*)?`/g)].map((m) => m[1]!));
      expect(names.size).toBeGreaterThan(2);
      for (const name of names) {
        expect(CONFIG_NAMES, name).toContain(name);
        expect(readme, `${name} in the README table`).toContain(`| \`${name}\` |`);
      }
    });

    it(`${guide}: every slash command it names is one Atelier registers`, () => {
      const ours = new Set(commands.map((c) => c.name));
      // /invite is Slack's own command for adding a bot to a channel.
      const named = [...text.matchAll(/`\/([a-z]+)\b(?![/.])/g)].map((m) => m[1]!).filter((n) => n !== 'invite');
      expect(named.length).toBeGreaterThan(0);
      for (const n of named) expect(ours.has(n), `/${n}`).toBe(true);
    });
  }

  it('every picture the README shows exists, and is made by the screenshots script', () => {
    const pictures = [...readme.matchAll(/src="(docs\/images\/[\w.-]+)"/g)].map((m) => m[1]!);
    expect(pictures.length).toBeGreaterThanOrEqual(5);
    const script = read('scripts/screenshots.ts');
    for (const p of pictures) {
      expect(() => read(p), p).not.toThrow();
      expect(script, `${p} is written by scripts/screenshots.ts`).toContain(`'${p.split('/').pop()}'`);
    }
  });

  it('.env.example, which the guides copy to .env, sets only real settings, and docker compose reads that .env', () => {
    const example = read('.env.example');
    const vars = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
    expect(vars.length).toBeGreaterThan(10);
    for (const v of vars) expect(CONFIG_NAMES, v).toContain(v);
    const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { command?: string[]; env_file?: { path: string }[] }> };
    for (const [name, s] of Object.entries(compose.services).filter(([, s]) => s.command?.includes('src/cli.ts'))) {
      expect(s.env_file?.map((f) => f.path), name).toContain('.env');
    }
  });
});
