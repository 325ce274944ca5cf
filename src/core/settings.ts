import { z } from 'zod';
import { FORMATS, MODES, PROCESS_MODES } from './request.ts';

/**
 * One shape for user defaults and channel / server policy; each scope uses the fields that make sense
 * for it. Unset means "inherit".
 */
export const settingsSchema = z.object({
  // Defaults a user, channel or server may set.
  provider: z.string().optional(),
  format: z.enum(FORMATS).optional(),
  mode: z.enum(MODES).optional(),
  processMode: z.enum(PROCESS_MODES).optional(),
  private: z.boolean().optional(),
  // Policy a channel or server may set.
  buttons: z.enum(['anyone', 'owner']).optional(),
  allowedRoles: z.array(z.string()).optional(),
  allowedProviders: z.array(z.string()).optional(),
  fallbackProvider: z.string().optional(),
  nsfw: z.boolean().optional(),
  bannedWords: z.array(z.string()).optional(),
  maxConcurrentPerUser: z.number().int().min(1).max(50).optional(),
  maxQueuedPerUser: z.number().int().min(1).max(500).optional(),
  dailyQuota: z.number().int().min(1).max(100000).optional(),
  /** Labels sent with each generation where the provider keeps them (all-images.ai `tags`). */
  tags: z.array(z.string().trim().min(1).max(64)).max(20).optional(),
  /** Whether U may buy the full-resolution image with provider credits (all-images.ai). Off unless set. */
  paidUpscale: z.boolean().optional(),
});
export type Settings = z.output<typeof settingsSchema>;

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
