import { acceptedOptions, declaredValues } from '../core/capability-options.ts';
import type { ImageProvider } from '../core/provider.ts';

/** What a platform offers for /imagine, derived from the configured providers' capabilities. */
export interface CapabilityChoices {
  /** Options whose values come from the running app rather than the schema (e.g. provider ids). */
  dynamic?: Record<string, readonly string[]>;
  /** Only these options are offered (the rest no configured provider accepts); all when absent. */
  only?: readonly string[];
  /** Extra hint per option (which providers take it). */
  hints?: Record<string, string>;
}

/**
 * The form's inputs and choices from the configured providers' capabilities: an option appears when some
 * provider accepts it (its hint names which, when not all do), and a list shows only declared values.
 */
export function capabilityChoices(providers: readonly ImageProvider[]): CapabilityChoices {
  const byOption = new Map<string, ImageProvider[]>();
  for (const p of providers) for (const o of acceptedOptions(p.capabilities)) byOption.set(o, [...(byOption.get(o) ?? []), p]);
  const dynamic: Record<string, readonly string[]> = { provider: providers.map((p) => p.id) };
  const hints: Record<string, string> = {};
  for (const [option, takers] of byOption) {
    const values = [...new Set(takers.flatMap((p) => declaredValues(p.capabilities, option) ?? []))];
    // An option some provider takes as free text stays free text.
    if (option !== 'provider' && values.length && takers.every((p) => declaredValues(p.capabilities, option)?.length)) dynamic[option] = values;
    if (takers.length < providers.length) hints[option] = `Only ${takers.map((p) => p.displayName).join(', ')}.`;
  }
  return { only: [...byOption.keys()], dynamic, hints };
}

