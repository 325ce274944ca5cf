import type { Store } from '../core/ports.ts';

/** The slice of the Store providers need: small durable values such as a webhook subscription id. */
export type KeyValue = Pick<Store, 'getValue' | 'setValue'>;
