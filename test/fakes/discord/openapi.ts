import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/**
 * Discord's own OpenAPI 3.1 spec (MIT, see test/fixtures/discord/LICENSE-discord-api-spec.txt), used to
 * check every request Atelier makes. The spec leaves most objects open; here every object that lists
 * its properties is closed, so a field Discord does not define is an error, as it is in production
 * ("Invalid Form Body").
 */
const SPEC_PATH = fileURLToPath(new URL('../../fixtures/discord/discord-openapi.json', import.meta.url));

interface Operation {
  method: string;
  template: string;
  regex: RegExp;
  params: string[];
  bodySchema?: unknown;
}

export interface SpecCheck {
  ok: boolean;
  /** Path template the request matched, e.g. /channels/{channel_id}/messages. */
  route?: string;
  params: Record<string, string>;
  errors: string[];
}

let cached: OpenApi | undefined;
export const discordSpec = (): OpenApi => (cached ??= new OpenApi());

export class OpenApi {
  private readonly ajv: Ajv2020;
  private readonly ops: Operation[] = [];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor() {
    const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as { paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: unknown }> } }>>; components: unknown };
    this.ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
    this.ajv.addSchema({ $id: 'discord', components: close(structuredClone(spec.components)) });
    for (const [template, item] of Object.entries(spec.paths)) {
      const params: string[] = [];
      const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
        params.push(name);
        return '([^/]+)';
      });
      for (const [method, op] of Object.entries(item)) {
        if (method === 'parameters') continue;
        this.ops.push({ method: method.toUpperCase(), template, regex: new RegExp(`^${pattern}$`), params, bodySchema: op.requestBody?.content?.['application/json']?.schema });
      }
    }
    // Literal segments (@me, @original) must win over {param} ones.
    this.ops.sort((a, b) => b.template.replace(/\{\w+\}/g, '').length - a.template.replace(/\{\w+\}/g, '').length);
  }

  /** Finds the operation for `method path` (path without /api/v10, already percent-decoded). */
  match(method: string, path: string): { op: Operation; params: Record<string, string> } | undefined {
    for (const op of this.ops) {
      if (op.method !== method) continue;
      const m = op.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      op.params.forEach((p, i) => (params[p] = m[i + 1]!));
      return { op, params };
    }
    return undefined;
  }

  /** Validates a JSON body against the operation's request schema. */
  check(method: string, path: string, body: unknown): SpecCheck {
    const found = this.match(method, path);
    if (!found) return { ok: false, params: {}, errors: [`${method} ${path} is not an operation in Discord's spec`] };
    const { op, params } = found;
    if (body === undefined) return { ok: true, route: op.template, params, errors: [] };
    if (!op.bodySchema) return { ok: false, route: op.template, params, errors: [`${method} ${op.template} takes no body`] };
    const key = `${op.method} ${op.template}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(rewriteRefs(close(structuredClone(op.bodySchema))));
      this.validators.set(key, validate);
    }
    const ok = validate(body);
    const errors = ok ? [] : (validate.errors ?? []).slice(0, 8).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${e.params ? JSON.stringify(e.params) : ''}`.trim());
    return { ok: Boolean(ok), route: op.template, params, errors };
  }
}

/** Closes every object schema that lists its properties and says nothing about others. */
export function close<T>(node: T): T {
  if (Array.isArray(node)) {
    node.forEach(close);
    return node;
  }
  if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.properties && typeof o.properties === 'object' && o.additionalProperties === undefined && !o.allOf) o.additionalProperties = false;
    for (const v of Object.values(o)) close(v);
  }
  return node;
}

function rewriteRefs<T>(node: T): T {
  if (Array.isArray(node)) {
    node.forEach(rewriteRefs);
    return node;
  }
  if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (typeof o.$ref === 'string' && o.$ref.startsWith('#/')) o.$ref = `discord${o.$ref}`;
    for (const v of Object.values(o)) rewriteRefs(v);
  }
  return node;
}
