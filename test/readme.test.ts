import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_NAMES } from '../src/config.ts';
import { commands } from '../commands/index.ts';

const root = resolve(import.meta.dirname, '..');
const readme = readFileSync(resolve(root, 'README.md'), 'utf8');

describe('README', () => {
  it('documents every setting in the configuration table', () => {
    const missing = CONFIG_NAMES.filter((name) => !readme.includes(`| \`${name}\` |`));
    expect(missing).toEqual([]);
  });

  it('lists every slash command', () => {
    for (const c of commands) expect(readme).toContain(`\`/${c.name}`);
  });

  it('gives the two set-up commands, and CI calls its test command', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm install && npm test');
    expect(readFileSync(resolve(root, '.ci/run'), 'utf8')).toMatch(/^npm test\b/m);
  });
});
