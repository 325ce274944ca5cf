import { z } from 'zod';
import { FORMATS, MODES, PROCESS_MODES } from './request.ts';

/** Every key a user, channel or server may set; each scope uses the ones that make sense for it. */
const fields = {
  // Defaults a user, channel or server may set.
  provider: z.string(),
  format: z.enum(FORMATS),
  mode: z.enum(MODES),
  processMode: z.enum(PROCESS_MODES),
  private: z.boolean(),
  // Policy a channel or server may set.
  buttons: z.enum(['anyone', 'owner']),
  allowedRoles: z.array(z.string()),
  allowedProviders: z.array(z.string()),
  fallbackProvider: z.string(),
  nsfw: z.boolean(),
  bannedWords: z.array(z.string()),
  maxQueuedPerUser: z.number().int().min(1).max(500),
  dailyQuota: z.number().int().min(1).max(100000),
  /** Labels sent with each generation where the provider keeps them (all-images.ai `tags`). */
  tags: z.array(z.string().trim().min(1).max(64)).max(20),
  /** Whether U may buy the full-resolution image with provider credits (all-images.ai). Off unless set. */
  paidUpscale: z.boolean(),
  /** Most jobs one prompt may make through {permutations} and --repeat (channel or server policy). */
  maxJobsPerPrompt: z.number().int().min(1).max(12),
  // Personal presets (/prefer), read from the user's own scope only.
  promptSuffix: z.string().max(500),
  optionSets: z.record(z.string(), z.string().min(1).max(500)),
};

/** Unset means "inherit". */
export const settingsSchema = z.object(fields).partial();
export type Settings = z.output<typeof settingsSchema>;
export type SettingKey = keyof Settings;
export const SETTING_KEYS = Object.keys(fields) as SettingKey[];
/** Keys only a channel or server may set. */
export const POLICY_KEYS: readonly SettingKey[] = ['buttons', 'allowedRoles', 'allowedProviders', 'fallbackProvider', 'nsfw', 'bannedWords', 'maxQueuedPerUser', 'dailyQuota', 'tags', 'paidUpscale', 'maxJobsPerPrompt'];

type Nullable<T extends z.ZodRawShape> = { [K in keyof T]: z.ZodOptional<z.ZodNullable<T[K]>> };
const patchShape = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.nullable().optional()])) as Nullable<typeof fields>;

/**
 * A change to one scope: a value sets its key, `null` clears it, an absent key stays as it is. A change
 * therefore never touches what it does not name.
 */
export const settingsPatchSchema = z.object(patchShape).strict();
export type SettingsPatch = z.output<typeof settingsPatchSchema>;

/** The settings after a patch; keys the patch does not name keep their stored value. */
export function applySettingsPatch(current: Settings, patch: SettingsPatch): Settings {
  const out: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out as Settings;
}

/** What a store holds, read leniently: keys this version no longer has are dropped, broken ones ignored. */
export function readStoredSettings(stored: unknown): Settings {
  if (!stored || typeof stored !== 'object') return {};
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const parsed = fields[key].safeParse((stored as Record<string, unknown>)[key]);
    if (parsed.success) out[key] = parsed.data;
  }
  return out as Settings;
}

export type SettingsScope = { kind: 'user'; platform: string; id: string } | { kind: 'channel'; platform: string; id: string } | { kind: 'server'; platform: string; id: string };

export const scopeKey = (s: SettingsScope): string => `${s.kind}:${s.platform}:${s.id}`;

/** The first defined value wins: user, then channel, then server. */
export function mergeSettings(...layers: (Settings | undefined)[]): Settings {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const [k, v] of Object.entries(layer)) if (out[k] === undefined && v !== undefined) out[k] = v;
  }
  return out as Settings;
}
