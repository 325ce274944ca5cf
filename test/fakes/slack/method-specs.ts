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

type Json = Record<string, unknown>;
const plainLen = (t: unknown): number => (typeof (t as Json)?.text === 'string' ? ((t as Json).text as string).length : 0);

/**
 * Block Kit limits as Slack documents them, for what the method specs leave as an opaque string:
 * 50 blocks per message (100 in a view), section text 3000, context 10 elements, actions 25 elements,
 * button text 75, action_id and block_id 255, button value 2000, modal title 24, input label 2000,
 * plain_text_input max_length 3000, static_select 100 options. Returns what is over.
 */
export function blockKitProblems(where: string, blocksArg: unknown, kind: 'message' | 'modal' = 'message'): string[] {
  let blocks: Json[];
  try {
    blocks = (typeof blocksArg === 'string' ? JSON.parse(blocksArg) : blocksArg) as Json[];
  } catch {
    return [`${where}: blocks are not JSON`];
  }
  if (!Array.isArray(blocks)) return [`${where}: blocks is not an array`];
  const out: string[] = [];
  const max = kind === 'modal' ? 100 : 50;
  if (blocks.length > max) out.push(`${where}: ${blocks.length} blocks (max ${max})`);
  const ids = new Set<string>();
  for (const b of blocks) {
    const id = b.block_id as string | undefined;
    if (id !== undefined) {
      if (id.length > 255) out.push(`${where}: block_id over 255`);
      if (ids.has(id)) out.push(`${where}: duplicate block_id ${id}`);
      ids.add(id);
    }
    if (b.type === 'section' && plainLen(b.text) > 3000) out.push(`${where}: section text over 3000`);
    if (b.type === 'image') out.push(...imageProblems(where, b));
    if (b.type === 'context' && Array.isArray(b.elements)) {
      if (b.elements.length > 10) out.push(`${where}: context over 10 elements`);
      for (const e of b.elements as Json[]) if (e.type === 'image') out.push(...imageProblems(where, e));
    }
    if (b.type === 'actions') {
      const els = (b.elements ?? []) as Json[];
      if (els.length > 25) out.push(`${where}: actions over 25 elements`);
      const actionIds = new Set<string>();
      for (const e of els) {
        const aid = String(e.action_id ?? '');
        if (aid.length > 255) out.push(`${where}: action_id over 255`);
        if (actionIds.has(aid)) out.push(`${where}: duplicate action_id ${aid}`);
        actionIds.add(aid);
        if (e.type === 'button') {
          if (plainLen(e.text) === 0 || plainLen(e.text) > 75) out.push(`${where}: button text length ${plainLen(e.text)} (1-75)`);
          if (typeof e.value === 'string' && e.value.length > 2000) out.push(`${where}: button value over 2000`);
          if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') out.push(`${where}: button style ${String(e.style)}`);
        }
      }
    }
    if (b.type === 'input') {
      if (plainLen(b.label) === 0 || plainLen(b.label) > 2000) out.push(`${where}: input label length ${plainLen(b.label)}`);
      const e = (b.element ?? {}) as Json;
      if (e.type === 'plain_text_input' && typeof e.max_length === 'number' && e.max_length > 3000) out.push(`${where}: plain_text_input max_length over 3000`);
      // File input: modals only, 1-10 files, extensions as strings, and never on a dispatch_action block
      // (docs.slack.dev file input element and input block; @slack/types FileInput).
      if (e.type === 'file_input') {
        if (kind !== 'modal') out.push(`${where}: file_input outside a modal`);
        if (e.max_files !== undefined && !(Number.isInteger(e.max_files) && (e.max_files as number) >= 1 && (e.max_files as number) <= 10)) out.push(`${where}: file_input max_files ${String(e.max_files)} (1-10)`);
        if (e.filetypes !== undefined && !(Array.isArray(e.filetypes) && e.filetypes.every((t) => typeof t === 'string'))) out.push(`${where}: file_input filetypes is not a list of extensions`);
        if (b.dispatch_action === true) out.push(`${where}: dispatch_action on a file_input block`);
      }
      if (e.type === 'static_select' && Array.isArray(e.options) && (e.options.length > 100 || e.options.some((o: Json) => plainLen(o.text) > 75 || String(o.value).length > 150))) {
        out.push(`${where}: static_select options over Slack's limits`);
      }
    }
  }
  return out;
}

/**
 * An image block or element: exactly one of image_url and slack_file, a slack_file with exactly one of url and
 * id ("If both are provided then the payload will be rejected"), of a type Slack draws in blocks (png, jpg,
 * jpeg, gif), an image_url of at most 3000 characters, and alt_text 1-2000 (docs.slack.dev Slack file object,
 * image block and image element; @slack/types UrlImageObject | SlackFileImageObject).
 */
function imageProblems(where: string, e: Json): string[] {
  const out: string[] = [];
  const file = e.slack_file as Json | undefined;
  const src = Number(typeof e.image_url === 'string') + Number(file !== undefined);
  if (src !== 1) out.push(`${where}: image needs exactly one of image_url and slack_file`);
  if (file !== undefined) {
    if (Number(typeof file.id === 'string') + Number(typeof file.url === 'string') !== 1) out.push(`${where}: slack_file needs exactly one of url and id`);
    if (typeof file.url === 'string' && !/\.(png|jpe?g|gif)$/i.test(new URL(file.url, 'http://x').pathname)) out.push(`${where}: slack_file ${file.url} is not a png, jpg or gif`);
  }
  if (typeof e.image_url === 'string') {
    // "The URL for a publicly hosted image ... Maximum length for this field is 3000 characters" (image block and
    // image element references); Slack downloads it when the message is posted.
    if (e.image_url.length > 3000) out.push(`${where}: image_url over 3000 characters`);
    if (!URL.canParse(e.image_url) || !/^https?:$/.test(new URL(e.image_url).protocol)) out.push(`${where}: image_url ${e.image_url.slice(0, 80)} is not a web address`);
  }
  if (typeof e.alt_text !== 'string' || e.alt_text.length === 0 || e.alt_text.length > 2000) out.push(`${where}: image alt_text length (1-2000)`);
  return out;
}

/** A modal view: its title, buttons and blocks. */
export function viewProblems(where: string, viewArg: unknown): string[] {
  let view: Json;
  try {
    view = (typeof viewArg === 'string' ? JSON.parse(viewArg) : viewArg) as Json;
  } catch {
    return [`${where}: view is not JSON`];
  }
  const out: string[] = [];
  for (const k of ['title', 'submit', 'close'] as const) if (view[k] !== undefined && (plainLen(view[k]) === 0 || plainLen(view[k]) > 24)) out.push(`${where}: ${k} length ${plainLen(view[k])} (1-24)`);
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3000) out.push(`${where}: private_metadata over 3000`);
  if (typeof view.callback_id === 'string' && view.callback_id.length > 255) out.push(`${where}: callback_id over 255`);
  return [...out, ...blockKitProblems(where, view.blocks, 'modal')];
}
