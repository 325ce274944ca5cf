import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
/** Packages the core and the command definitions must never reach, directly or through our own files. */
const FORBIDDEN = /^(discord\.js|@discordjs\/|discord-api-types|@slack\/|undici|sharp|better-sqlite3|pg|bullmq|ioredis|pino|ws|@leonardo-ai\/)/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)) {
    out.push((m[1] ?? m[2] ?? m[3])!);
  }
  return out;
}

/** Follows project-relative imports and returns the external packages reached, with the path that led there. */
function reach(entry: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const seen = new Set<string>();
  const walk = (file: string, trail: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) walk(resolve(dirname(file), spec), [...trail, spec]);
      else if (!spec.startsWith('node:') && !found.has(spec)) found.set(spec, [...trail, spec]);
    }
  };
  walk(entry, [entry.slice(root.length + 1)]);
  return found;
}

describe('import boundaries', () => {
  const entries = [...sourceFiles(join(root, 'src/core')), ...sourceFiles(join(root, 'commands'))];

  it('finds the files it checks', () => {
    expect(entries.length).toBeGreaterThan(10);
  });

  it.each(entries.map((f) => [f.slice(root.length + 1), f]))('%s reaches no platform SDK, provider client, codec or database driver', (_rel, file) => {
    const bad = [...reach(file)].filter(([spec]) => FORBIDDEN.test(spec));
    expect(bad.map(([, trail]) => trail.join(' -> '))).toEqual([]);
  });

  it('would catch a violation reached through one of our own files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'boundary-'));
    writeFileSync(join(dir, 'a.ts'), "import { b } from './b.ts';\nexport const a = b;\n");
    writeFileSync(join(dir, 'b.ts'), "import type { Client } from 'discord.js';\nexport const b = 1 as unknown as Client;\n");
    const bad = [...reach(join(dir, 'a.ts'))].filter(([spec]) => FORBIDDEN.test(spec));
    expect(bad.map(([spec]) => spec)).toEqual(['discord.js']);
    expect(FORBIDDEN.test('discord.js')).toBe(true);
    expect(FORBIDDEN.test('@slack/bolt')).toBe(true);
    expect(FORBIDDEN.test('sharp')).toBe(true);
    expect(FORBIDDEN.test('zod')).toBe(false);
  });
});
