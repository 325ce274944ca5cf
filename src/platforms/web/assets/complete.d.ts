// Types for complete.js, so the server-side tests can check the composer's completion without a browser.
import type { CommandInfo } from '../command-schema.ts';
import type { PromptFlagInfo } from '../prompt-flags.ts';

export interface Catalog {
  commands: CommandInfo[];
  promptFlags: readonly PromptFlagInfo[];
}

export interface Suggestion {
  value: string;
  label: string;
  detail?: string;
}

export interface Offer {
  items: Suggestion[];
  from: number;
  to: number;
  autoSelect: boolean;
}

export function suggest(text: string, caret: number, catalog: Catalog): Offer | undefined;
