import { z } from 'zod';
import type { Actor } from '../../core/job.ts';
import { UserError } from '../../core/errors.ts';

/**
 * Who is typing: a display name chosen in the page and a random id the browser keeps in localStorage.
 * Anyone who can open the page can claim any name, and the moderator switch: the playground is a bench
 * that trusts its visitors, and the access token decides who those are.
 */
export const userSchema = z.object({
  id: z.string().regex(/^[\w-]{6,64}$/, 'the page sent a malformed user id: reload it'),
  name: z
    .string()
    .trim()
    .min(1, 'choose a display name first')
    .max(32, 'display names are at most 32 characters')
    // Control characters would let a name forge lines in other messages.
    .regex(/^[^\p{Cc}]+$/u, 'display names cannot contain control characters'),
  /** "I moderate this channel": lets the page try channel settings and button policy, as on Discord. */
  moderator: z.boolean().optional(),
});

export type WebUser = z.output<typeof userSchema>;

export function actorOf(user: unknown): Actor {
  const parsed = userSchema.safeParse(user);
  if (!parsed.success) throw new UserError('INVALID_OPTIONS', parsed.error.issues.map((i) => i.message).join('; '));
  const moderator = parsed.data.moderator === true;
  return { platform: 'web', userId: parsed.data.id, displayName: parsed.data.name, canManage: moderator, canManageChannel: moderator, canManageServer: moderator };
}
