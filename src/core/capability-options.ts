import type { ImagineOptions } from './imagine-options.ts';
import type { ProviderCapabilities } from './provider.ts';
import type { RequestField } from './request.ts';

/**
 * Which request field each typed /imagine option sets. Everything a platform offers per provider (/help,
 * Discord autocomplete, the Slack form) is derived from this and the provider's declared fields, so an
 * option is offered exactly when the provider can use it.
 */
export const OPTION_FIELDS = {
  format: 'aspectRatio',
  no: 'negativePrompt',
  seed: 'seed',
  chaos: 'chaos',
  stylize: 'stylize',
  count: 'count',
  photo: 'photo',
  weather: 'weather',
  time: 'timeOfDay',
  camera: 'camera',
  model: 'model',
  style: 'style',
  optimize: 'optimize',
  steps: 'steps',
  guidance: 'guidance',
  width: 'width',
  height: 'height',
  transparent: 'transparency',
  tile: 'tiling',
} as const satisfies Partial<Record<keyof ImagineOptions, RequestField>>;

export type FieldOption = keyof typeof OPTION_FIELDS;

/** Options every provider takes: they choose where and how the job runs, not what is drawn. */
export const COMMON_OPTIONS = ['prompt', 'provider', 'private'] as const satisfies readonly (keyof ImagineOptions)[];

/**
 * Fields no typed option sets, and how they are reached instead; a provider declaring one is not
 * promising an option.
 */
export const FIELDS_WITHOUT_OPTION: Partial<Record<RequestField, string>> = {
  init: 'the V button, or image input',
  midjourney: 'Midjourney flags in the prompt (advanced mode)',
  processMode: 'the channel setting fast/relax',
};

/** The field options this provider accepts, in the order /imagine lists them. */
export function fieldOptionsFor(caps: ProviderCapabilities): FieldOption[] {
  return (Object.keys(OPTION_FIELDS) as FieldOption[]).filter((o) => caps.fields.includes(OPTION_FIELDS[o]));
}

/**
 * Every /imagine option this provider accepts; `mode` only where it has a choice of modes, `iw` (the image
 * weight, not a request field) only where it weighs pictures.
 */
export function acceptedOptions(caps: ProviderCapabilities): (keyof ImagineOptions)[] {
  return [
    ...COMMON_OPTIONS,
    ...(caps.modes.length > 1 ? (['mode'] as const) : []),
    ...fieldOptionsFor(caps),
    ...(caps.imageInput?.weight ? (['iw'] as const) : []),
  ];
}

/** Values an option can take for this provider, where the provider lists them (for autocomplete and forms). */
export function declaredValues(caps: ProviderCapabilities, option: string): readonly string[] | undefined {
  if (option === 'model') return caps.models?.map((m) => m.name);
  if (option === 'style') return caps.styles;
  if (option === 'format') return caps.aspectRatios === 'any' ? undefined : caps.aspectRatios;
  if (option === 'mode') return caps.modes;
  return undefined;
}

/** The most images this provider makes at a time, with its size rule when it has one. */
export function countText(caps: ProviderCapabilities): string {
  if (caps.fixedCount !== undefined) return `always ${caps.fixedCount} images`;
  const large = caps.largeSize;
  return large && large.maxCount < caps.maxCount
    ? `up to ${caps.maxCount} images (${large.maxCount} when a side is over ${large.overSide} px)`
    : `up to ${caps.maxCount} image${caps.maxCount > 1 ? 's' : ''}`;
}
