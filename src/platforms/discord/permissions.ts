import { PermissionFlagsBits } from 'discord-api-types/v10';

/** The OAuth2 scopes the bot is invited with: a bot user (bot-token messages) and slash commands. */
export const INVITE_SCOPES = ['bot', 'applications.commands'] as const;

export interface BotPermission {
  name: keyof typeof PermissionFlagsBits;
  why: string;
}

/**
 * The channel permissions the bot's own token needs, and only those. Interaction answers and their
 * follow-ups go through the interaction webhook and need none; the bot token is used when the
 * 15-minute interaction token has run out, for the long-job ping (a new message, since an edit does not
 * notify), and for private results delivered by DM (no permission needed). Editing and deleting its own
 * messages needs nothing more. test/platforms/discord/invite.test.ts derives this list from the REST
 * calls the bot really makes against the fake Discord, so it cannot drift from the code.
 */
export const BOT_PERMISSIONS: readonly BotPermission[] = [
  { name: 'ViewChannel', why: 'see the channel a job was started in, to post there with the bot token' },
  { name: 'SendMessages', why: 'post a job\'s result after the 15-minute interaction token expires, and the "done" ping for long jobs' },
  { name: 'SendMessagesInThreads', why: 'the same, when /imagine is used inside a thread' },
  { name: 'AttachFiles', why: 'attach the grid and the full-size images to those messages' },
];

/** The permission integer for the invite URL, as Discord writes it (a decimal bitfield). */
export function permissionInteger(perms: readonly BotPermission[] = BOT_PERMISSIONS): string {
  return perms.reduce((bits, p) => bits | PermissionFlagsBits[p.name], 0n).toString();
}

/** The OAuth2 URL that adds the bot to a server with exactly the scopes and permissions above. */
export function inviteUrl(applicationId: string): string {
  const q = new URLSearchParams({ client_id: applicationId, scope: INVITE_SCOPES.join(' '), permissions: permissionInteger() });
  return `https://discord.com/oauth2/authorize?${q.toString()}`;
}

/** What `atelier invite` prints: the URL, then what each permission is for. */
export function inviteText(applicationId: string): string {
  const lines = [
    `Invite the bot to a server you manage (scopes: ${INVITE_SCOPES.join(', ')}):`,
    `  ${inviteUrl(applicationId)}`,
    'It asks for these permissions, and uses them for:',
    ...BOT_PERMISSIONS.map((p) => `  - ${p.name}: ${p.why}`),
  ];
  return lines.join('\n');
}
