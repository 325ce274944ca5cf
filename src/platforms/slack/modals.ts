import type { CommandDefinition } from '../../core/command.ts';
import type { CapabilityChoices } from '../capability-choices.ts';
import { optionShapes, type OptionShape } from '../command-text.ts';
import type { Block } from './blocks.ts';

export const IMAGINE_MODAL = 'atelier:imagine';
export const REMIX_MODAL = 'atelier:remix';

/** Where a modal's result goes; carried in `private_metadata` because the submission lacks a channel. */
export interface ModalContext {
  channelId: string;
  teamId?: string;
  /** For remix: the job being remixed. */
  jobId?: string;
}

// Block Kit caps: modal title 24, plain_text_input max_length 3000, static_select 100 options,
// option text 75 and value 150, label and hint 2000.
const INPUT_MAX = 3000;
const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
const plain = (text: string, n = 2000) => ({ type: 'plain_text', text: clip(text, n), emoji: true });
const titleCase = (name: string) => name.replace(/[_-]/g, ' ').replace(/^./, (c) => c.toUpperCase());

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
    label: plain(def.labels?.[s.name] ?? titleCase(s.name)),
    ...(s.description || choices.hints?.[s.name] ? { hint: plain([s.description, choices.hints?.[s.name]].filter(Boolean).join(' ')) } : {}),
    element,
  };
}

export function imagineModal(def: CommandDefinition, ctx: ModalContext, choices: ModalChoices = {}): Block {
  return {
    type: 'modal',
    callback_id: IMAGINE_MODAL,
    title: plain('Imagine', 24),
    submit: plain('Generate', 24),
    close: plain('Cancel', 24),
    private_metadata: JSON.stringify(ctx),
    blocks: optionInputs(def, choices),
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
    return typeof v.channelId === 'string' ? { channelId: v.channelId, ...(v.teamId ? { teamId: v.teamId } : {}), ...(v.jobId ? { jobId: v.jobId } : {}) } : undefined;
  } catch {
    return undefined;
  }
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
