import { z } from 'zod';
import { cleanPromptText } from './prompt-text.ts';
import { FORMATS, MAX_INPUT_IMAGES, MODES, PHOTO_TYPES, TIMES, WEATHERS } from './request.ts';

/** An integer option in its range, with one message in plain words however the value is wrong (1e21, 1.5, "0x10"). */
export function wholeNumber(min: number, max: number) {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.number({ error }).int({ error, abort: true }).min(min, { error }).max(max, { error });
}

/**
 * The typed options of /imagine, shared by every platform (Discord options, Slack text and modal,
 * the playground composer, the CLI). Defaults are left unset so user / channel / server / provider
 * defaults can apply in order.
 */
export const imagineOptionsSchema = z.object({
  // Control and invisible characters go first, so a prompt of only zero-width spaces counts as empty.
  prompt: z
    .string()
    .max(4000)
    .transform(cleanPromptText)
    .pipe(z.string().min(1, 'write a prompt: what should the image show?'))
    .describe('What to draw; Midjourney flags like --ar 16:9 work'),
  mode: z.enum(MODES).optional().describe('simple: a description; advanced: the raw Midjourney prompt'),
  format: z.enum(FORMATS).optional().describe('Aspect ratio'),
  photo: z.enum(PHOTO_TYPES).optional().describe('Photo template (all-images.ai)'),
  weather: z.enum(WEATHERS).optional().describe('Weather in the scene'),
  time: z.enum(TIMES).optional().describe('Time of day'),
  camera: z.string().trim().min(1).max(200).optional().describe('Camera, e.g. GoPro'),
  chaos: wholeNumber(0, 100).optional().describe('Variety between the images, 0-100'),
  stylize: wholeNumber(0, 1000).optional().describe('Strength of styling, 0-1000'),
  no: z.string().trim().min(1).max(1000).optional().describe('Things to leave out, comma separated'),
  seed: wholeNumber(0, 4294967295).optional().describe('Seed for repeatable results'),
  count: wholeNumber(1, 8).optional().describe('Number of images, 1-8'),
  provider: z.string().trim().min(1).max(32).optional().describe('Which provider to use'),
  model: z.string().trim().min(1).max(128).optional().describe('Provider model id or version'),
  style: z.string().trim().min(1).max(64).optional().describe('Style preset'),
  optimize: z.boolean().optional().describe('Let the provider rewrite the prompt'),
  steps: z.number().int().min(1).max(150).optional().describe('Denoising steps (see /help for the range per provider)'),
  guidance: z.number().min(0).max(30).optional().describe('How closely to follow the prompt (see /help)'),
  width: z.number().int().min(32).max(4096).optional().describe('Width in pixels, with height instead of format'),
  height: z.number().int().min(32).max(4096).optional().describe('Height in pixels, with width instead of format'),
  transparent: z.boolean().optional().describe('Transparent background where the provider can'),
  tile: z.boolean().optional().describe('Seamless tiling pattern (same as --tile)'),
  private: z.boolean().optional().describe('Only you see the result'),
  /**
   * Pictures attached to the command (Discord attachments, Slack files, playground uploads); URLs typed in the prompt
   * are read from it. `platformFile` (see ImageSource) is set by an adapter for a file the platform handed it, never
   * copied from what a client sent.
   */
  images: z
    .array(z.union([z.object({ url: z.string().min(1).max(2048), name: z.string().max(200).optional(), platformFile: z.boolean().optional() }), z.object({ bytes: z.custom<Uint8Array>((v) => v instanceof Uint8Array, "a picture's bytes"), name: z.string().max(200).optional() })]))
    .max(MAX_INPUT_IMAGES, `attach at most ${MAX_INPUT_IMAGES} pictures`)
    .optional()
    .describe('Pictures to start from'),
  /** Image weight, as --iw: how much the pictures count against the text (0-3). */
  iw: z.number().min(0).max(3).optional().describe('Image weight: how much your pictures count, 0-3 (as --iw)'),
});

export type ImagineOptions = z.output<typeof imagineOptionsSchema>;
