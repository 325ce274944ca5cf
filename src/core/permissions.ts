import type { Actor, Platform, Where } from './job.ts';
import type { Settings } from './settings.ts';

/** Who may change a channel's or server's settings, in each platform's own terms (refusals and /help say it). */
export const WHO_MAY_CHANGE: Record<Platform, Record<'channel' | 'server', string>> = {
  discord: { channel: 'members with Manage Channels in that channel', server: 'members with Manage Server' },
  slack: { channel: 'workspace admins and owners', server: 'workspace admins and owners' },
  web: { channel: 'visitors who ticked "moderator"', server: 'visitors who ticked "moderator"' },
  cli: { channel: 'the operator running the CLI', server: 'the operator running the CLI' },
};

export function mayChangeScope(actor: Actor, kind: 'channel' | 'server'): boolean {
  return kind === 'channel' ? actor.canManageChannel === true : actor.canManageServer === true;
}

/**
 * Policy only narrows the platform: where the platform decides (a Discord channel's age restriction),
 * a setting can forbid NSFW but never allow it; where it does not (DMs, Slack, the playground), the
 * channel / server setting decides and the default is no.
 */
export function nsfwAllowed(where: Where, policy: Settings): boolean {
  if (where.nsfw !== undefined) return where.nsfw && policy.nsfw !== false;
  return policy.nsfw === true;
}
