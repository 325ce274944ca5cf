import { z } from 'zod';
import { defineCommand } from '../src/core/command.ts';
import { WHO_MAY_CHANGE } from '../src/core/permissions.ts';
import { FORMATS, MODES, PROCESS_MODES } from '../src/core/request.ts';
import { POLICY_KEYS, type SettingKey, type Settings, type SettingsPatch, type SettingsScope } from '../src/core/settings.ts';

const list = (what: string) => z.string().trim().max(1000).optional().describe(`${what}, comma separated ("-" clears)`);

/** The option that sets each setting; lists and text clear with "-", the rest with reset:<option>. */
const KEY_OF = {
  provider: 'provider',
  format: 'format',
  mode: 'mode',
  process: 'processMode',
  private: 'private',
  buttons: 'buttons',
  roles: 'allowedRoles',
  providers: 'allowedProviders',
  fallback: 'fallbackProvider',
  nsfw: 'nsfw',
  banned: 'bannedWords',
  max_queued: 'maxQueuedPerUser',
  daily_quota: 'dailyQuota',
  tags: 'tags',
  paid_upscale: 'paidUpscale',
  max_jobs: 'maxJobsPerPrompt',
} as const satisfies Record<string, SettingKey>;
type OptionName = keyof typeof KEY_OF;
const LISTS: readonly OptionName[] = ['roles', 'providers', 'banned', 'tags'];
const TEXTS: readonly OptionName[] = ['provider', 'fallback'];
const RESETTABLE = ['format', 'mode', 'process', 'private', 'buttons', 'nsfw', 'max_queued', 'daily_quota', 'paid_upscale', 'max_jobs'] as const;

const options = z.object({
  scope: z.enum(['me', 'channel', 'server']).optional().describe('Whose settings: yours (default), this channel, or the server'),
  provider: z.string().trim().min(1).max(32).optional().describe('Default provider ("-" clears)'),
  format: z.enum(FORMATS).optional().describe('Default aspect ratio'),
  mode: z.enum(MODES).optional().describe('Default prompt mode'),
  process: z.enum(PROCESS_MODES).optional().describe('Process mode for providers that have one (fast / relax)'),
  private: z.boolean().optional().describe('Deliver results privately by default'),
  buttons: z.enum(['anyone', 'owner']).optional().describe('Channel/server: who may press a job\'s buttons'),
  roles: list('Channel/server: roles allowed to generate'),
  providers: list('Channel/server: allowed providers'),
  fallback: z.string().trim().min(1).max(32).optional().describe('Channel/server: provider to fail over to ("-" clears)'),
  nsfw: z.boolean().optional().describe('Channel/server: allow NSFW prompts (never beyond what the platform allows)'),
  banned: list('Channel/server: banned words or /regex/ patterns'),
  max_queued: z.number().int().min(1).max(500).optional().describe('Channel/server: queued jobs per user'),
  daily_quota: z.number().int().min(1).max(100000).optional().describe('Channel/server: jobs per user per day'),
  tags: list('Channel/server: tags sent with each generation (all-images.ai)'),
  paid_upscale: z.boolean().optional().describe('Channel/server: let U buy full-resolution images with provider credits'),
  max_jobs: z.number().int().min(1).max(12).optional().describe('Channel/server: most jobs one prompt makes ({a, b} and --repeat)'),
  reset: z.enum(RESETTABLE).optional().describe('Clear one setting back to "inherit"'),
});
type Input = z.output<typeof options>;

const splitList = (v: string): string[] | null => (v === '-' ? null : v.split(',').map((s) => s.trim()).filter(Boolean));

/** Only the options the user named become the patch; nothing else in the scope moves. */
function toPatch(input: Input): SettingsPatch {
  const patch: Record<string, unknown> = {};
  for (const [option, key] of Object.entries(KEY_OF) as [OptionName, SettingKey][]) {
    const v = input[option];
    if (v === undefined) continue;
    patch[key] = LISTS.includes(option) ? splitList(v as string) : TEXTS.includes(option) && v === '-' ? null : v;
  }
  if (input.reset) patch[KEY_OF[input.reset]] = null;
  return patch as SettingsPatch;
}

/** Lists joined; option sets (from /prefer) as `--name = flags`. */
const show = (v: unknown): string =>
  Array.isArray(v)
    ? v.join(', ')
    : v && typeof v === 'object'
      ? Object.entries(v).map(([k, x]) => `--${k} = ${String(x)}`).join('; ') || '(none)'
      : String(v);

const describeSettings = (s: Settings): string => {
  const entries = Object.entries(s).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0));
  return entries.length ? entries.map(([k, v]) => `• ${k}: ${show(v)}`).join('\n') : '• nothing set (defaults apply)';
};

export const settings = defineCommand({
  name: 'settings',
  description: 'Show or change your defaults, or (moderators) this channel\'s or server\'s policy',
  options,
  run: async (input, ctx) => {
    const kind = input.scope === 'me' || !input.scope ? 'user' : input.scope;
    const id = kind === 'user' ? ctx.actor.userId : kind === 'channel' ? ctx.where.channelId : ctx.where.serverId;
    if (!id) return { type: 'message', ephemeral: true, text: 'There is no server here; use scope:channel.' };
    const scope: SettingsScope = { kind, platform: ctx.actor.platform, id };
    if (input.reset && input[input.reset] !== undefined) {
      return { type: 'message', ephemeral: true, text: `reset:${input.reset} and ${input.reset}:${String(input[input.reset])} disagree. Keep one of them.` };
    }
    const patch = toPatch(input);
    const named = Object.keys(patch) as SettingKey[];
    if (kind === 'user' && named.some((k) => POLICY_KEYS.includes(k))) {
      return { type: 'message', ephemeral: true, text: 'buttons, roles, providers, fallback, nsfw, banned, max_queued, daily_quota, tags, paid_upscale and max_jobs are channel or server policy: add scope:channel or scope:server.' };
    }
    const title = kind === 'user' ? 'Your settings' : kind === 'channel' ? 'This channel\'s settings' : 'This server\'s settings';
    if (named.length === 0) {
      const who = kind === 'user' ? '' : `\nWho may change them: ${WHO_MAY_CHANGE[ctx.actor.platform][kind]}.`;
      return { type: 'message', ephemeral: true, text: `${title}:\n${describeSettings(await ctx.atelier.getSettings(scope))}${who}` };
    }
    const saved = await ctx.atelier.setSettings(scope, patch, ctx.actor);
    return { type: 'message', ephemeral: true, text: `${title} saved:\n${describeSettings(saved)}` };
  },
});
