import { z } from 'zod';

/** Aspect ratios every seed provider understands (all-images.ai's `format` list); others are allowed as W:H. */
export const FORMATS = ['1:1', '3:2', '2:3', '4:7', '7:4', '5:4', '4:5', '16:9', '9:16'] as const;
export const WEATHERS = ['sunny', 'cloudy', 'foggy', 'rainy', 'thunderstorm', 'snowy'] as const;
export const TIMES = ['sunrise', 'morning', 'afternoon', 'sunset', 'evening', 'golden hour', 'night', 'midnight'] as const;
export const PHOTO_TYPES = ['realisticQuality', 'realisticManuel'] as const;
export const MODES = ['simple', 'advanced'] as const;
export const PROCESS_MODES = ['fast', 'relax'] as const;

export type Mode = (typeof MODES)[number];

/** What a user's own picture is to the request: Midjourney's image prompt, --sref (style) or --cref (character). */
export const IMAGE_ROLES = ['prompt', 'style', 'character'] as const;
export type ImageRole = (typeof IMAGE_ROLES)[number];
/** Midjourney takes up to five images in /blend; the same bound holds for image prompts. */
export const MAX_INPUT_IMAGES = 5;

/** A region of a picture in fractions of its width and height (0..1), top-left origin: Vary (Region). */
export const regionSchema = z
  .object({ x: z.number().min(0).max(1), y: z.number().min(0).max(1), width: z.number().gt(0).max(1), height: z.number().gt(0).max(1) })
  .refine((r) => r.x + r.width <= 1.0001 && r.y + r.height <= 1.0001, 'the region must lie inside the picture');
export type Region = z.output<typeof regionSchema>;

/**
 * An edit of one stored image. `outpaint` places the source at `left, top` on a larger canvas (source pixels)
 * and asks the provider to paint the rest: zoom out, pan, make square. `inpaint` repaints `region`: Vary (Region).
 */
export const editSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('outpaint'),
    imageId: z.string(),
    canvas: z.object({ width: z.number().int().min(1).max(16384), height: z.number().int().min(1).max(16384) }),
    left: z.number().int().min(0),
    top: z.number().int().min(0),
  }),
  z.object({ kind: z.literal('inpaint'), imageId: z.string(), region: regionSchema }),
]);
export type ImageEdit = z.output<typeof editSchema>;
export type Weather = (typeof WEATHERS)[number];
export type TimeOfDay = (typeof TIMES)[number];

/**
 * How far from square an aspect ratio may go, either way. Midjourney documents 1:2 to 2:1 for most of
 * its models and "any, beyond 2:1 experimental" for the rest (docs.midjourney.com/legacy/docs/aspect-ratios);
 * past 4:1 images come out as slivers (9999:1 gave 1024×8), so that is the bound for every provider.
 */
export const MAX_ASPECT = 4;

/** Why `value` is not an aspect ratio Atelier accepts, as the end of a sentence; undefined when it is fine. */
export function aspectRatioProblem(value: string): string | undefined {
  const m = /^([1-9]\d{0,3}):([1-9]\d{0,3})$/.exec(value);
  // Whole numbers, as Midjourney requires ("use 139:100 not 1.39:1").
  if (!m) return `takes whole numbers W:H such as 16:9, not "${value}".`;
  const [w, h] = [Number(m[1]), Number(m[2])];
  if (Math.max(w, h) > MAX_ASPECT * Math.min(w, h)) return `${value} is too far from square: use a ratio from 1:${MAX_ASPECT} to ${MAX_ASPECT}:1, such as 16:9 or 9:16.`;
  return undefined;
}

export const aspectRatioSchema = z.string().superRefine((value, ctx) => {
  const problem = aspectRatioProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `aspect ratio ${problem}` });
});

/** Midjourney-only parameters, kept by flag name (without dashes) so they can be formatted back verbatim. */
export const midjourneyBagSchema = z.record(z.string(), z.union([z.string(), z.literal(true)]));

/**
 * The one normalized request every provider receives: the union of the seeds' fields.
 * A field that is undefined was not asked for; providers reject fields they cannot express
 * (see `checkCapabilities`) rather than dropping them.
 */
export const generationRequestSchema = z.object({
  mode: z.enum(MODES).default('simple'),
  /** The description, without flags. */
  prompt: z.string().trim().min(1, 'prompt is empty: describe what to draw').max(4096),
  /** Advanced mode: the prompt exactly as typed, unknown flags included, plus typed options as flags. */
  rawPrompt: z.string().max(6000).optional(),
  negativePrompt: z.string().max(1024).optional(),
  aspectRatio: aspectRatioSchema.optional(),
  width: z.number().int().min(32).max(4096).optional(),
  height: z.number().int().min(32).max(4096).optional(),
  count: z.number().int().min(1).max(8).optional(),
  seed: z.number().int().min(0).max(4294967295).optional(),
  chaos: z.number().int().min(0).max(100).optional(),
  stylize: z.number().int().min(0).max(1000).optional(),
  steps: z.number().int().min(1).max(150).optional(),
  guidance: z.number().min(0).max(30).optional(),
  style: z.string().max(64).optional(),
  model: z.string().max(128).optional(),
  photo: z.enum(PHOTO_TYPES).optional(),
  weather: z.enum(WEATHERS).optional(),
  timeOfDay: z.enum(TIMES).optional(),
  camera: z.string().max(200).optional(),
  optimize: z.boolean().optional(),
  tiling: z.boolean().optional(),
  transparency: z.boolean().optional(),
  processMode: z.enum(PROCESS_MODES).optional(),
  tags: z.array(z.string().max(64)).max(20).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  /** Image-to-image source for variations: a stored image id of ours, or a provider's own image id. */
  init: z
    .object({ imageId: z.string(), providerImageId: z.string().optional(), strength: z.number().min(0.1).max(0.9) })
    .optional(),
  midjourney: midjourneyBagSchema.optional(),
  /** The user's own pictures, stored with the job (kind 'input'): image prompts, style or character references. */
  images: z
    .array(z.object({ imageId: z.string(), role: z.enum(IMAGE_ROLES).default('prompt') }))
    .min(1)
    .max(MAX_INPUT_IMAGES)
    .optional(),
  /** Midjourney's --iw: how much the image prompts weigh against the text, 0-3 (1 when unset). */
  imageWeight: z.number().min(0).max(3).optional(),
  /** /blend: combine the image prompts into one picture; the text prompt is Atelier's own, not the user's. */
  blend: z.boolean().optional(),
  /** Zoom out, pan, make square (outpaint) or Vary (Region) (inpaint) of one stored image. */
  edit: editSchema.optional(),
});

export type GenerationRequest = z.output<typeof generationRequestSchema>;
export type GenerationRequestInput = z.input<typeof generationRequestSchema>;

/** Request fields a provider may or may not express; `prompt` and `mode` always exist. */
export type RequestField = Exclude<keyof GenerationRequest, 'prompt' | 'mode' | 'rawPrompt' | 'metadata' | 'tags'>;

/** How each field is named to a user, for errors that say what to change. */
export const FIELD_LABELS: Record<RequestField, string> = {
  negativePrompt: 'negative prompt (--no)',
  aspectRatio: 'aspect ratio (--ar / format)',
  width: 'width',
  height: 'height',
  count: 'image count (count)',
  seed: 'seed (--seed)',
  chaos: 'chaos (--chaos)',
  stylize: 'stylize (--stylize)',
  steps: 'steps',
  guidance: 'guidance',
  style: 'style',
  model: 'model',
  photo: 'photo type (photo)',
  weather: 'weather',
  timeOfDay: 'time of day (time)',
  camera: 'camera',
  optimize: 'prompt optimization (optimize)',
  tiling: 'tiling (--tile)',
  transparency: 'transparency',
  processMode: 'process mode (fast/relax)',
  init: 'image-to-image source',
  midjourney: 'Midjourney parameters',
  images: 'image input (image / image URLs / --sref / --cref)',
  imageWeight: 'image weight (--iw)',
  blend: 'blending images (/blend)',
  edit: 'zoom, pan and region edits',
};

/** Width and height for an aspect ratio with the given long side, rounded to a multiple of `step`. */
export function dimensionsFor(aspectRatio: string | undefined, longSide = 1024, step = 8): { width: number; height: number } {
  const [w, h] = (aspectRatio ?? '1:1').split(':').map(Number) as [number, number];
  const round = (v: number) => Math.max(step, Math.round(v / step) * step);
  return w >= h ? { width: round(longSide), height: round((longSide * h) / w) } : { width: round((longSide * w) / h), height: round(longSide) };
}
