/**
 * Leonardo's per-model rules as data. Sources (v1 `POST /generations`):
 * - ids: docs.leonardo.ai "Legacy generation" model table, and each model's guide.
 * - Phoenix / Lucid / FLUX guides (docs.leonardo.ai/docs/phoenix, lucid-origin, lucid-realism, flux-dev,
 *   flux-schnell): body parameters are alchemy (Phoenix only), contrast (required: 3 Low, 3.5 Medium,
 *   4 High), enhancePrompt, height, modelId, num_images, prompt, seed, styleUUID, ultra, width. No
 *   negative prompt, steps or guidance: sending them would be silently ignored, so we refuse them.
 * - style UUIDs: the Lucid guide's table; Phoenix's from a public client (PHOENIX_STYLES in a Phoenix
 *   engine) agreeing with the Lucid table where they overlap. The FLUX guides show only Dynamic.
 * - legacy SDXL models take presetStyle, negative_prompt, num_inference_steps, guidance_scale ([sdk]
 *   creategeneration field docs).
 */
export type ModelFamily = 'phoenix' | 'lucid' | 'flux' | 'sdxl';

export interface LeonardoModelRule {
  id: string;
  name: string;
  /** Names a user may type (`--model phoenix`), compared ignoring case and punctuation. */
  aliases: readonly string[];
  family: ModelFamily;
  /** The guide's "Content Reference" preprocessor id: image input for this model goes through controlnets. */
  contentReference?: number;
}

export interface FamilyRule {
  /** The guides mark contrast required; these are the values they document. */
  contrast?: { values: readonly number[]; fallback: number };
  /** Style names to the UUID sent as styleUUID; absent: the legacy presetStyle enum. */
  styles?: Readonly<Record<string, string>>;
  alchemy: boolean;
  negativePrompt: boolean;
  stepsAndGuidance: boolean;
  seedMax: number;
}

export const GUIDE_CONTRAST = [3, 3.5, 4] as const;
export const SEED_MAX = 9_999_999_998;
export const FLUX_SEED_MAX = 2_147_483_637;

/** docs.leonardo.ai/docs/lucid-realism (v1), "List of Style UUIDs". */
export const LUCID_STYLES: Readonly<Record<string, string>> = {
  Bokeh: '9fdc5e8c-4d13-49b4-9ce6-5a74cbb19177',
  Cinematic: 'a5632c7c-ddbb-4e2f-ba34-8456ab3ac436',
  'Cinematic Close-Up': 'cc53f935-884c-40a0-b7eb-1f5c42821fb5',
  Creative: '6fedbf1f-4a17-45ec-84fb-92fe524a29ef',
  Dynamic: '111dc692-d470-4eec-b791-3475abac4c46',
  Fashion: '594c4a08-a522-4e0e-b7ff-e4dac4b6b622',
  Film: '85da2dcc-c373-464c-9a7a-5624359be859',
  Food: 'd574325d-1278-4fe2-974b-768525f253c3',
  HDR: '97c20e5c-1af6-4d42-b227-54d03d8f0727',
  'Long Exposure': '335e6010-a75c-45d9-afc5-032c65e9180e',
  Macro: '30c1d34f-e3a9-479a-b56f-c018bbc9c02a',
  Minimalist: 'cadc8cd6-7838-4c99-b645-df76be8ba8d8',
  Monochrome: 'a2f7ea66-959b-4bbe-b508-6133238b76b6',
  Moody: '621e1c9a-6319-4bee-a12d-ae40659162fa',
  Neutral: '0d914779-c822-430a-b976-30075033f1c4',
  None: '556c1ee5-ec38-42e8-955a-1e82dad0ffa1',
  Portrait: '8e2bc543-6ee2-45f9-bcd9-594b6ce84dcd',
  Retro: '6105baa2-851b-446e-9db5-08a671a8c42f',
  'Stock Photo': '5bdc3f2a-1be6-4d1c-8e77-992a30824a2c',
  Unprocessed: '62736842-6e4b-4028-b79a-4f1a1606e893',
  Vibrant: 'dee282d3-891f-4f73-ba02-7f8131e5541b',
};

export const PHOENIX_STYLES: Readonly<Record<string, string>> = {
  '3D Render': 'debdf72a-91a4-467b-bf61-cc02bdeb69c6',
  Bokeh: LUCID_STYLES.Bokeh!,
  Cinematic: LUCID_STYLES.Cinematic!,
  'Cinematic Concept': '33abbb99-03b9-4dd7-9761-ee98650b2c88',
  Creative: LUCID_STYLES.Creative!,
  Dynamic: LUCID_STYLES.Dynamic!,
  Fashion: LUCID_STYLES.Fashion!,
  'Graphic Design Pop Art': '2e74ec31-f3a4-4825-b08b-2894f6d13941',
  'Graphic Design Vector': '1fbb6a68-9319-44d2-8d56-2957ca0ece6a',
  HDR: LUCID_STYLES.HDR!,
  Illustration: '645e4195-f63d-4715-a3f2-3fb1e6eb8c70',
  Macro: LUCID_STYLES.Macro!,
  Minimalist: LUCID_STYLES.Minimalist!,
  Moody: LUCID_STYLES.Moody!,
  None: LUCID_STYLES.None!,
  Portrait: LUCID_STYLES.Portrait!,
  'Pro B&W Photography': '22a9a7d2-2166-4d86-80ff-22e2643adbcf',
  'Pro Color Photography': '7c3f932b-a572-47cb-9b9b-f20211e63b5b',
  'Pro Film Photography': '581ba6d6-5aac-4492-bebe-54c424a0d46e',
  'Portrait Fashion': '0d34f8e1-46d4-428f-8ddd-4b11811fa7c9',
  'Ray Traced': 'b504f83c-3326-4947-82e1-7fe9e839ec0f',
  'Sketch B&W': 'be8c6b58-739c-4d44-b9c1-b032ed308b61',
  'Sketch Color': '093accc3-7633-4ffd-82da-d34000dfc0d6',
  'Stock Photo': LUCID_STYLES['Stock Photo']!,
  Vibrant: LUCID_STYLES.Vibrant!,
};

const FLUX_STYLES: Readonly<Record<string, string>> = { Dynamic: LUCID_STYLES.Dynamic! };

const guide = { contrast: { values: GUIDE_CONTRAST, fallback: 3.5 }, negativePrompt: false, stepsAndGuidance: false } as const;
export const FAMILY_RULES: Readonly<Record<ModelFamily, FamilyRule>> = {
  phoenix: { ...guide, styles: PHOENIX_STYLES, alchemy: true, seedMax: SEED_MAX },
  lucid: { ...guide, styles: LUCID_STYLES, alchemy: false, seedMax: SEED_MAX },
  flux: { ...guide, styles: FLUX_STYLES, alchemy: false, seedMax: FLUX_SEED_MAX },
  sdxl: { alchemy: true, negativePrompt: true, stepsAndGuidance: true, seedMax: SEED_MAX },
};

/** The models offered by name; the first is the default (without a modelId the API falls back to SD 1.5). */
export const LEONARDO_MODELS: readonly LeonardoModelRule[] = [
  { id: 'de7d3faf-762f-48e0-b3b7-9d0ac3a3fcf3', name: 'phoenix', aliases: ['phoenix 1.0', 'leonardo phoenix 1.0', 'phoenix-1.0'], family: 'phoenix', contentReference: 364 },
  { id: '6b645e3a-d64f-4341-a6d8-7a3690fbf042', name: 'phoenix-0.9', aliases: ['phoenix 0.9', 'leonardo phoenix 0.9'], family: 'phoenix', contentReference: 364 },
  { id: '7b592283-e8a7-4c5a-9ba6-d18c31f258b9', name: 'lucid-origin', aliases: ['lucid origin', 'lucid'], family: 'lucid' },
  { id: '05ce0082-2d80-4a2d-8653-4d1c85e2418e', name: 'lucid-realism', aliases: ['lucid realism'], family: 'lucid', contentReference: 430 },
  { id: 'b2614463-296c-462a-9586-aafdb8f00e36', name: 'flux-dev', aliases: ['flux dev', 'flux'], family: 'flux' },
  { id: '1dd50843-d653-4516-a8e3-f0238ee453ff', name: 'flux-schnell', aliases: ['flux schnell', 'flux speed'], family: 'flux' },
  { id: 'aa77f04e-3eec-4034-9c07-d0f619684628', name: 'kino-xl', aliases: ['leonardo kino xl', 'kino xl'], family: 'sdxl' },
  { id: '5c232a9e-9061-4777-980a-ddc8e65647c6', name: 'vision-xl', aliases: ['leonardo vision xl', 'vision xl'], family: 'sdxl' },
  { id: '1e60896f-3c26-4296-8ecc-53e2afecc132', name: 'diffusion-xl', aliases: ['leonardo diffusion xl', 'diffusion xl'], family: 'sdxl' },
  { id: 'b24e16ff-06e3-43eb-8d33-4416c2d75876', name: 'lightning-xl', aliases: ['leonardo lightning xl', 'lightning xl'], family: 'sdxl' },
  { id: 'e71a1c2f-4f80-4800-934f-2c68979d8cc8', name: 'anime-xl', aliases: ['leonardo anime xl', 'anime xl'], family: 'sdxl' },
  { id: '2067ae52-33fd-4a82-bb92-c2c55e7d2786', name: 'albedobase-xl', aliases: ['albedobase xl'], family: 'sdxl' },
];
export const DEFAULT_MODEL = LEONARDO_MODELS[0]!;

const norm = (s: string) => s.toLowerCase().replace(/[\s_\-().]+/g, '');

/** A model of our table by id, name or alias. */
export function knownModel(nameOrId: string): LeonardoModelRule | undefined {
  const n = norm(nameOrId);
  return LEONARDO_MODELS.find((m) => m.id === nameOrId || norm(m.name) === n || m.aliases.some((a) => norm(a) === n));
}

/** Rules for a model id; a platform model outside our table is treated as a legacy SDXL model. */
export function rulesFor(modelId: string): FamilyRule & { model?: LeonardoModelRule } {
  const model = LEONARDO_MODELS.find((m) => m.id === modelId);
  return { ...FAMILY_RULES[model?.family ?? 'sdxl'], ...(model ? { model } : {}) };
}

/** Style names for a UUID table, matched like model names. */
export function styleUuid(styles: Readonly<Record<string, string>>, name: string): string | undefined {
  const n = norm(name);
  const hit = Object.entries(styles).find(([k]) => norm(k) === n);
  return hit?.[1];
}

export const sameModelName = (a: string, b: string) => norm(a) === norm(b);
