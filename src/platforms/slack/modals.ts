import type { CommandDefinition } from '../../core/command.ts';
import type { CapabilityChoices } from '../capability-choices.ts';
import { optionShapes, type OptionShape } from '../command-text.ts';
import type { Block } from './blocks.ts';
import { PICTURE_FILETYPES, type PictureChoices, type PictureFile } from './pictures.ts';
import { MAX_INPUT_IMAGES } from '../../core/request.ts';
import { ZOOM_MAX, ZOOM_MIN } from '../../core/edits.ts';

export const IMAGINE_MODAL = 'atelier:imagine';
export const REMIX_MODAL = 'atelier:remix';
export const BLEND_MODAL = 'atelier:blend';
export const ZOOM_MODAL = 'atelier:zoom';
export const REGION_MODAL = 'atelier:region';
/** The block (and action) id of the forms' file inputs. */
export const IMAGES_BLOCK = 'images';

/** Where a modal's result goes; carried in `private_metadata` because the submission lacks a channel. */
export interface ModalContext {
  channelId: string;
  teamId?: string;
  /** For remix, Custom Zoom, Vary (Region): the job pressed. */
  jobId?: string;
  /** Custom Zoom, Vary (Region): which image of it. */
  index?: number;
  /** Pictures already chosen (the message shortcut's): a file input cannot be pre-filled. */
  files?: PictureFile[];
}

// Block Kit caps: modal title 24, plain_text_input max_length 3000, static_select 100 options,
// option text 75 and value 150, label and hint 2000.
const INPUT_MAX = 3000;
const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
const plain = (text: string, n = 2000) => ({ type: 'plain_text', text: clip(text, n), emoji: true });
/** Option names that read badly as labels. */
const LABELS: Record<string, string> = { iw: 'Image weight (--iw)' };
const titleCase = (name: string) =>
  name
    .replace(/[_-]/g, ' ')
    .replace(/([a-z])([A-Z])/g, (_, a: string, b: string) => `${a} ${b.toLowerCase()}`)
    .replace(/^./, (c) => c.toUpperCase());

export interface ModalChoices extends CapabilityChoices {
  /** Initial values, as text. */
  initial?: Record<string, string>;
}

/** One Block Kit input per typed option: Slack's answer to Discord's typed slash-command options. */
export function optionInputs(def: CommandDefinition, choices: ModalChoices = {}): Block[] {
  return optionShapes(def)
    .filter((s) => !choices.only || choices.only.includes(s.name))
    .map((s) => inputFor(def, s, choices));
}

function inputFor(def: CommandDefinition, s: OptionShape, choices: ModalChoices): Block {
  const initial = choices.initial?.[s.name];
  const values = choices.dynamic?.[s.name] ?? s.enum;
  let element: Block;
  if (s.type === 'boolean') {
    const option = { text: plain('Yes', 75), value: 'true' };
    element = { type: 'checkboxes', action_id: s.name, options: [option], ...(initial === 'true' ? { initial_options: [option] } : {}) };
  } else if (values && values.length > 0) {
    const options = values.slice(0, 100).map((v) => ({ text: plain(def.labels?.[v] ?? v, 75), value: v.slice(0, 150) }));
    const init = options.find((o) => o.value === initial);
    element = { type: 'static_select', action_id: s.name, placeholder: plain('Default', 150), options, ...(init ? { initial_option: init } : {}) };
  } else if (s.type === 'integer' || s.type === 'number') {
    element = {
      type: 'number_input',
      action_id: s.name,
      is_decimal_allowed: s.type === 'number',
      ...(s.minimum !== undefined ? { min_value: String(s.minimum) } : {}),
      ...(s.maximum !== undefined ? { max_value: String(s.maximum) } : {}),
      ...(initial ? { initial_value: initial } : {}),
    };
  } else {
    const max = Math.min(s.maxLength ?? INPUT_MAX, INPUT_MAX);
    element = {
      type: 'plain_text_input',
      action_id: s.name,
      multiline: s.name === def.positional,
      max_length: max,
      ...(initial ? { initial_value: clip(initial, max) } : {}),
    };
  }
  return {
    type: 'input',
    block_id: s.name,
    optional: !s.required,
    label: plain(def.labels?.[s.name] ?? LABELS[s.name] ?? titleCase(s.name)),
    ...(s.description || choices.hints?.[s.name] ? { hint: plain([s.description, choices.hints?.[s.name]].filter(Boolean).join(' ')) } : {}),
    element,
  };
}

/**
 * A file input for pictures. Slack has no way to pre-fill one (the element has no initial value), and it
 * refuses `dispatch_action` on its block; it caps files at 10 MB and 1-10 per input (docs: file input element).
 */
function picturesInput(max: number, label: string, hint: string, optional: boolean): Block {
  return {
    type: 'input',
    block_id: IMAGES_BLOCK,
    optional,
    label: plain(label),
    hint: plain(hint),
    element: { type: 'file_input', action_id: IMAGES_BLOCK, filetypes: [...PICTURE_FILETYPES], max_files: Math.max(1, Math.min(max, 10)) },
  };
}

const namesOf = (files: readonly PictureFile[]) => files.map((f) => f.name).join(', ');

/**
 * /imagine as a form: the options the providers take, and a file input where some provider takes pictures.
 * Pictures chosen before the form opened (a message shortcut's) are named at the top and ride in the metadata.
 */
export function imagineModal(def: CommandDefinition, ctx: ModalContext, choices: ModalChoices = {}, pictures?: PictureChoices): Block {
  const blocks = optionInputs(def, choices);
  const given = ctx.files ?? [];
  const room = Math.min(pictures?.maxImages ?? 0, def.pictures?.names.length ?? MAX_INPUT_IMAGES, MAX_INPUT_IMAGES) - given.length;
  const extra: Block[] = [];
  if (given.length) extra.push({ type: 'context', block_id: 'given', elements: [{ type: 'mrkdwn', text: clip(`Starting from ${given.length === 1 ? 'this picture' : 'these pictures'}: ${namesOf(given)}`, 2000) }] });
  if (room > 0) {
    const hint = `Optional: up to ${room} picture${room === 1 ? '' : 's'} to start from (PNG, JPEG, WebP or GIF). Image URLs at the start of the prompt work too.`;
    extra.push(picturesInput(room, given.length ? 'More pictures' : 'Pictures', hint, true));
  }
  // The pictures go right after the prompt, where the eye is.
  const at = Math.max(0, blocks.findIndex((b) => b.block_id === def.positional) + 1);
  blocks.splice(at, 0, ...extra);
  return {
    type: 'modal',
    callback_id: IMAGINE_MODAL,
    title: plain('Imagine', 24),
    submit: plain('Generate', 24),
    close: plain('Cancel', 24),
    private_metadata: JSON.stringify(ctx),
    blocks,
  };
}

/**
 * A command that needs pictures (/blend): they can only come through a form on Slack. The file input first,
 * then the command's typed options as usual; `choices.initial` carries what was typed after the command.
 */
export function blendModal(def: CommandDefinition, ctx: ModalContext, choices: ModalChoices = {}): Block {
  const max = Math.min(def.pictures?.names.length ?? MAX_INPUT_IMAGES, MAX_INPUT_IMAGES);
  const least = def.pictures?.required ?? 0;
  const hint = `${least > 1 ? `${least} to ${max}` : `Up to ${max}`} pictures (PNG, JPEG, WebP or GIF).`;
  return {
    type: 'modal',
    callback_id: BLEND_MODAL,
    title: plain('Blend', 24),
    submit: plain('Blend', 24),
    close: plain('Cancel', 24),
    private_metadata: JSON.stringify(ctx),
    blocks: [picturesInput(max, 'Pictures', hint, least === 0), ...optionInputs(def, choices)],
  };
}

const promptInput = (prompt: string, hint: string): Block => ({
  type: 'input',
  block_id: 'prompt',
  optional: true,
  label: plain('Prompt'),
  hint: plain(hint),
  element: { type: 'plain_text_input', action_id: 'prompt', multiline: true, max_length: INPUT_MAX, initial_value: clip(prompt, INPUT_MAX) },
});

/** Custom Zoom: Midjourney's factor from 1.1 to 2, and the prompt for what is painted around. */
export function zoomModal(prompt: string, ctx: ModalContext): Block {
  return {
    type: 'modal',
    callback_id: ZOOM_MODAL,
    title: plain('Custom Zoom', 24),
    submit: plain('Zoom out', 24),
    close: plain('Cancel', 24),
    private_metadata: JSON.stringify(ctx),
    blocks: [
      {
        type: 'input',
        block_id: 'zoom',
        label: plain('Zoom out by'),
        hint: plain(`A factor from ${ZOOM_MIN} to ${ZOOM_MAX}: 2 makes the picture half as wide in the new one.`),
        element: { type: 'plain_text_input', action_id: 'zoom', max_length: 16, initial_value: '2' },
      },
      promptInput(prompt, 'What the new surroundings show; keep it to zoom out on the same scene.'),
    ],
  };
}

/** Vary (Region): the rectangle to repaint, in percent of the picture, and the prompt for it. */
export function regionModal(prompt: string, ctx: ModalContext): Block {
  return {
    type: 'modal',
    callback_id: REGION_MODAL,
    title: plain('Vary (Region)', 24),
    submit: plain('Repaint', 24),
    close: plain('Cancel', 24),
    private_metadata: JSON.stringify(ctx),
    blocks: [
      {
        type: 'input',
        block_id: 'region',
        label: plain('Region to repaint'),
        hint: plain('x, y, width, height in percent of the picture, from its top left corner: 25, 25, 50, 50 is the middle quarter.'),
        element: { type: 'plain_text_input', action_id: 'region', max_length: 60, placeholder: plain('25, 25, 50, 50', 150) },
      },
      promptInput(prompt, 'What the region should show instead; keep it to vary the same scene.'),
    ],
  };
}

/** Remix: the parent's prompt, flags included, ready to edit. */
export function remixModal(prompt: string, ctx: ModalContext): Block {
  return {
    type: 'modal',
    callback_id: REMIX_MODAL,
    title: plain('Remix', 24),
    submit: plain('Remix', 24),
    close: plain('Cancel', 24),
    private_metadata: JSON.stringify(ctx),
    blocks: [
      {
        type: 'input',
        block_id: 'prompt',
        label: plain('New prompt'),
        hint: plain('Change the words or the flags; the seed and provider stay unless you change them.'),
        element: { type: 'plain_text_input', action_id: 'prompt', multiline: true, max_length: INPUT_MAX, initial_value: clip(prompt, INPUT_MAX) },
      },
    ],
  };
}

export function readModalContext(privateMetadata: unknown): ModalContext | undefined {
  if (typeof privateMetadata !== 'string') return undefined;
  try {
    const v = JSON.parse(privateMetadata) as Partial<ModalContext>;
    if (typeof v.channelId !== 'string') return undefined;
    const files = Array.isArray(v.files)
      ? v.files.filter((f): f is PictureFile => typeof f?.url === 'string' && typeof f.name === 'string').map((f) => ({ url: f.url, name: f.name, ...(typeof f.thumb === 'string' ? { thumb: f.thumb } : {}) }))
      : [];
    return {
      channelId: v.channelId,
      ...(typeof v.teamId === 'string' ? { teamId: v.teamId } : {}),
      ...(typeof v.jobId === 'string' ? { jobId: v.jobId } : {}),
      ...(Number.isInteger(v.index) ? { index: v.index } : {}),
      ...(files.length ? { files } : {}),
    };
  } catch {
    return undefined;
  }
}

/** One text input's value in a submitted view, trimmed; undefined when empty. */
export function textValue(values: Record<string, Record<string, { value?: string | null }>>, blockId: string): string | undefined {
  const v = Object.hasOwn(values, blockId) ? values[blockId]?.[blockId]?.value : undefined;
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

interface StateValue {
  type?: string;
  value?: string | null;
  selected_option?: { value: string } | null;
  selected_options?: { value: string }[];
}

/** A submitted view's values back into raw command input, typed by the option schema, for zod to check. */
export function readModalValues(def: CommandDefinition, values: Record<string, Record<string, StateValue>>): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const s of optionShapes(def)) {
    // Own keys only: the submitted state is the client's JSON, and `values.constructor` is not a block.
    const v = Object.hasOwn(values, s.name) ? values[s.name]?.[s.name] : undefined;
    if (!v) continue;
    if (s.type === 'boolean') {
      if (v.selected_options?.length) out[s.name] = true;
    } else if (v.selected_option) out[s.name] = v.selected_option.value;
    else if (typeof v.value === 'string' && v.value.trim() !== '') {
      // A number field that is not decimal digits stays text, so the schema names the option and its range.
      out[s.name] = s.type === 'integer' || s.type === 'number' ? (/^-?\d{1,16}(\.\d{1,16})?$/.test(v.value.trim()) ? Number(v.value.trim()) : v.value) : v.value;
    }
  }
  return out;
}
