import { FORMATS } from '../../core/request.ts';

/** A Midjourney flag the composer offers inside a prompt; the core's prompt parser reads them. */
export interface PromptFlagInfo {
  name: string;
  description: string;
  values?: readonly string[];
}

/** The flags worth completing; the parser knows more (and keeps unknown ones for advanced mode). */
export const PROMPT_FLAGS: readonly PromptFlagInfo[] = [
  { name: 'ar', description: 'Aspect ratio W:H', values: FORMATS },
  { name: 'no', description: 'Things to leave out, comma separated' },
  { name: 'seed', description: 'Seed for repeatable results' },
  { name: 'chaos', description: 'Variety between the images, 0-100' },
  { name: 'stylize', description: 'Strength of styling, 0-1000' },
  { name: 'tile', description: 'Seamless tiling pattern' },
  { name: 'v', description: 'Midjourney model version (advanced mode)' },
  { name: 'style', description: 'Midjourney style, e.g. raw (advanced mode)' },
  { name: 'sref', description: 'Style reference: picture URLs whose style to take' },
  { name: 'cref', description: 'Character reference: picture URLs whose character to keep' },
];
