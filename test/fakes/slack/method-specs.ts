import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** One Web API method as Slack documents it (the vendored `test/fixtures/slack/*.json`). */
export interface MethodSpec {
  args: { required?: string[]; properties: Record<string, unknown> };
  errors?: Record<string, unknown>;
}

const FIXTURES = fileURLToPath(new URL('../../fixtures/slack/', import.meta.url));

export function loadMethodSpecs(dir = FIXTURES): Map<string, MethodSpec> {
  const specs = new Map<string, MethodSpec>();
  for (const f of readdirSync(dir)) if (f.endsWith('.json')) specs.set(f.slice(0, -5), JSON.parse(readFileSync(join(dir, f), 'utf8')) as MethodSpec);
  return specs;
}

/** Errors every method can return: they are not listed per method. */
export const GENERIC_ERRORS = new Set(['ratelimited', 'invalid_auth', 'not_authed', 'missing_scope', 'internal_error', 'fatal_error']);

/**
 * What is wrong with one call by the method's documentation: a method with no spec, a required
 * argument missing, or an argument the method does not take. The token may come as a header.
 */
export function checkCall(specs: Map<string, MethodSpec>, method: string, args: Record<string, unknown>, hasAuthHeader: boolean): string[] {
  const spec = specs.get(method);
  if (!spec) return [`${method}: no vendored spec; add it to test/fixtures/slack`];
  const problems: string[] = [];
  for (const r of spec.args.required ?? []) {
    if (r === 'token' && hasAuthHeader) continue;
    if (args[r] === undefined || args[r] === '') problems.push(`${method}: required argument "${r}" missing`);
  }
  for (const k of Object.keys(args)) if (!(k in spec.args.properties)) problems.push(`${method}: unknown argument "${k}"`);
  return problems;
}
