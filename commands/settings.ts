import { z } from 'zod';
import { defineCommand } from '../src/core/command.ts';
import { FORMATS, MODES, PROCESS_MODES } from '../src/core/request.ts';
import type { Settings, SettingsScope } from '../src/core/settings.ts';

const list = (what: string) => z.string().trim().max(1000).optional().describe(`${what}, comma separated ("-" clears)`);

const options = z.object({
  scope: z.enum(['me', 'channel', 'server']).optional().describe('Whose settings: yours (default), this channel, or the server'),
  provider: z.string().trim().min(1).max(32).optional().describe('Default provider'),
  format: z.enum(FORMATS).optional().describe('Default aspect ratio'),
  mode: z.enum(MODES).optional().describe('Default prompt mode'),
  process: z.enum(PROCESS_MODES).optional().describe('Process mode for providers that have one (fast / relax)'),
  private: z.boolean().optional().describe('Deliver results privately by default'),
  buttons: z.enum(['anyone', 'owner']).optional().describe('Channel/server: who may press a job\'s buttons'),
  roles: list('Channel/server: roles allowed to generate'),
  providers: list('Channel/server: allowed providers'),
  fallback: z.string().trim().max(32).optional().describe('Channel/server: provider to fail over to ("-" clears)'),
  nsfw: z.boolean().optional().describe('Channel/server: allow NSFW prompts'),
  banned: list('Channel/server: banned words or /regex/ patterns'),
  max_queued: z.number().int().min(1).max(500).optional().describe('Channel/server: queued jobs per user'),
  daily_quota: z.number().int().min(1).max(100000).optional().describe('Channel/server: images per user per day'),
  tags: list('Channel/server: tags sent with each generation (all-images.ai)'),
  paid_upscale: z.boolean().optional().describe('Channel/server: let U buy full-resolution images with provider credits'),
});

const splitList = (v: string | undefined): string[] | undefined => (v === undefined ? undefined : v === '-' ? [] : v.split(',').map((s) => s.trim()).filter(Boolean));

const describeSettings = (s: Settings): string => {
  const entries = Object.entries(s).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0));
  return entries.length ? entries.map(([k, v]) => `• ${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`).join('\n') : '• nothing set (defaults apply)';
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
    const patch: Settings = {
      provider: input.provider,
      format: input.format,
      mode: input.mode,
      processMode: input.process,
      private: input.private,
      buttons: input.buttons,
      allowedRoles: splitList(input.roles),
      allowedProviders: splitList(input.providers),
      fallbackProvider: input.fallback === '-' ? undefined : input.fallback,
      nsfw: input.nsfw,
      bannedWords: splitList(input.banned),
      maxQueuedPerUser: input.max_queued,
      dailyQuota: input.daily_quota,
      tags: splitList(input.tags),
      paidUpscale: input.paid_upscale,
    };
    const userOnly = kind === 'user';
    const policyKeys = ['buttons', 'allowedRoles', 'allowedProviders', 'fallbackProvider', 'nsfw', 'bannedWords', 'maxQueuedPerUser', 'dailyQuota', 'tags', 'paidUpscale'] as const;
    if (userOnly && policyKeys.some((k) => patch[k] !== undefined)) {
      return { type: 'message', ephemeral: true, text: 'buttons, roles, providers, fallback, nsfw, banned, max_queued, daily_quota, tags and paid_upscale are channel or server policy: add scope:channel or scope:server.' };
    }
    const changing = Object.values(patch).some((v) => v !== undefined) || input.fallback === '-';
    const title = kind === 'user' ? 'Your settings' : kind === 'channel' ? 'This channel\'s settings' : 'This server\'s settings';
    if (!changing) return { type: 'message', ephemeral: true, text: `${title}:\n${describeSettings(await ctx.atelier.getSettings(scope))}` };
    const saved = await ctx.atelier.setSettings(scope, input.fallback === '-' ? { ...patch, fallbackProvider: undefined } : patch, ctx.actor);
    return { type: 'message', ephemeral: true, text: `${title} saved:\n${describeSettings(saved)}` };
  },
});
