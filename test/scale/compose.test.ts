import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_NAMES } from '../../src/config.ts';

const root = resolve(import.meta.dirname, '../..');

interface Service {
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown>;
  image?: string;
}

const compose = parse(readFileSync(resolve(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const atelierServices = Object.entries(compose.services).filter(([, s]) => s.command?.includes('src/cli.ts'));

describe('docker-compose.yml', () => {
  it('runs web, two workers, redis and postgres', () => {
    const roles = atelierServices.map(([, s]) => s.command!.at(-1));
    expect(roles.filter((r) => r === 'start')).toHaveLength(1);
    expect(roles.filter((r) => r === 'worker')).toHaveLength(2);
    expect(compose.services['redis']?.image).toMatch(/^redis:/);
    expect(compose.services['postgres']?.image).toMatch(/^postgres:/);
    for (const [, s] of atelierServices) expect(Object.keys(s.depends_on ?? {}).sort()).toEqual(['postgres', 'redis']);
  });

  it('sets only variables src/config.ts defines, and points every Atelier process at the same Redis and PostgreSQL', () => {
    const known = new Set<string>(CONFIG_NAMES);
    for (const [name, s] of atelierServices) {
      const vars = Object.keys(s.environment ?? {});
      expect(vars.length, name).toBeGreaterThan(0);
      expect(vars.filter((v) => !known.has(v)), `${name} sets variables config.ts does not read`).toEqual([]);
      expect(s.environment?.['REDIS_URL'], name).toBe('redis://redis:6379');
      expect(s.environment?.['DATABASE_URL'], name).toMatch(/^postgres:\/\/.*@postgres:5432\//);
    }
  });

  it('probes /readyz on the port each process listens on', () => {
    for (const [name, s] of atelierServices) {
      const probe = ((s as { healthcheck?: { test?: string[] } }).healthcheck?.test ?? []).join(' ');
      // A worker listens only on METRICS_PORT, never on the chat PORT.
      const port = s.environment?.['METRICS_PORT'] ?? s.environment?.['PORT'];
      expect(probe, name).toContain(`:${port}/readyz`);
    }
  });
});
