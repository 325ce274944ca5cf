import { z } from 'zod';
import type { Actor } from '../../core/job.ts';
import { UserError } from '../../core/errors.ts';

/**
 * What the page says about its person: a display name and the moderator switch. Who they are (their
 * user id) is never taken from here but from the session the server issued (see session.ts). Anyone
 * can claim any name, and the moderator switch: the playground is a bench that trusts its visitors with
 * those, and the access token decides who the visitors are. Neither opens another person's private jobs.
 */
export const userSchema = z.object({
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

/** The actor for a request: `userId` from the session, the rest from the page. */
export function actorOf(userId: string, user: unknown): Actor {
  const parsed = userSchema.safeParse(user);
  if (!parsed.success) throw new UserError('INVALID_OPTIONS', parsed.error.issues.map((i) => i.message).join('; '));
  const moderator = parsed.data.moderator === true;
  return { platform: 'web', userId, displayName: parsed.data.name, canManage: moderator, canManageChannel: moderator, canManageServer: moderator };
}
