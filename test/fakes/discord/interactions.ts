import {
  type APIApplicationCommandAutocompleteInteraction,
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ChannelType,
  ComponentType,
  InteractionType,
  Locale,
  type APIChatInputApplicationCommandInteraction,
  type APIGuildMember,
  type APIMessageComponentButtonInteraction,
  type APIModalSubmitInteraction,
  type APIPingInteraction,
  type APIMessage,
  type APIAttachment,
} from 'discord-api-types/v10';

/** Interaction payloads as Discord sends them (typed with discord-api-types: the spec has no schema for these). */
export interface FakeMember {
  id: string;
  name: string;
  canManage?: boolean;
  roles?: string[];
  /**
   * The member's permissions as Discord sends them: computed for the interaction's channel, overwrites
   * included (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object-interaction-structure,
   * "member ... permissions in the channel"). Overrides `canManage`.
   */
  permissions?: bigint;
}

/** The channel an interaction comes from; `nsfw` is Discord's age-restricted flag. Defaults to #art, not age-restricted. */
export interface FakeChannel {
  id: string;
  nsfw?: boolean;
}

/** Permission bits, from https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags. */
export const PERMISSIONS = {
  ADMINISTRATOR: 1n << 3n,
  MANAGE_CHANNELS: 1n << 4n,
  MANAGE_GUILD: 1n << 5n,
  SEND_MESSAGES: 1n << 11n,
  MANAGE_MESSAGES: 1n << 13n,
  USE_APPLICATION_COMMANDS: 1n << 31n,
} as const;

export const GUILD_ID = '300000000000000001';
export const CHANNEL_ID = '400000000000000001';
/** MANAGE_CHANNELS | MANAGE_MESSAGES; plain members get SEND_MESSAGES | USE_APPLICATION_COMMANDS. */
const MOD_PERMS = String((1n << 4n) | (1n << 13n));
const MEMBER_PERMS = String((1n << 11n) | (1n << 31n));

let counter = 0n;
/** Snowflake-shaped, increasing ids. */
export const snowflake = (): string => String(500000000000000000n + ++counter);

export interface Common {
  id: string;
  token: string;
  application_id: string;
}

function common(applicationId: string): Common {
  const id = snowflake();
  return { id, token: `itk-${id}-${Math.random().toString(36).slice(2, 12)}`, application_id: applicationId };
}

function member(m: FakeMember): APIGuildMember & { permissions: string } {
  return {
    user: { id: m.id, username: m.name, discriminator: '0', global_name: m.name, avatar: null },
    nick: null,
    roles: m.roles ?? [],
    joined_at: '2026-01-01T00:00:00.000Z',
    deaf: false,
    mute: false,
    flags: 0 as APIGuildMember['flags'],
    permissions: m.permissions !== undefined ? String(m.permissions) : m.canManage ? MOD_PERMS : MEMBER_PERMS,
  };
}

const channel = { id: CHANNEL_ID, type: ChannelType.GuildText as const, name: 'art', nsfw: false, guild_id: GUILD_ID };

const base = (applicationId: string, m: FakeMember, attachmentLimit: number, at?: FakeChannel) => ({
  ...common(applicationId),
  version: 1 as const,
  guild_id: GUILD_ID,
  channel_id: at?.id ?? CHANNEL_ID,
  channel: at ? { ...channel, id: at.id, name: `c${at.id.slice(-4)}`, nsfw: at.nsfw ?? false } : channel,
  member: member(m),
  app_permissions: '2147485696',
  locale: Locale.EnglishUS,
  guild_locale: Locale.EnglishUS,
  entitlements: [],
  authorizing_integration_owners: {},
  attachment_size_limit: attachmentLimit,
});

export function slashCommand(applicationId: string, m: FakeMember, name: string, options: Record<string, string | number | boolean>, attachmentLimit = 10 * 1024 * 1024, at?: FakeChannel) {
  return {
    ...base(applicationId, m, attachmentLimit, at),
    type: InteractionType.ApplicationCommand,
    data: {
      id: snowflake(),
      name,
      type: ApplicationCommandType.ChatInput,
      options: Object.entries(options).map(([k, v]) =>
        typeof v === 'string'
          ? { name: k, type: ApplicationCommandOptionType.String as const, value: v }
          : typeof v === 'boolean'
            ? { name: k, type: ApplicationCommandOptionType.Boolean as const, value: v }
            : Number.isInteger(v)
              ? { name: k, type: ApplicationCommandOptionType.Integer as const, value: v }
              : { name: k, type: ApplicationCommandOptionType.Number as const, value: v },
      ),
    },
  } satisfies APIChatInputApplicationCommandInteraction;
}

/**
 * A slash command with files in attachment options (type 11): each option's value is the attachment's id and
 * the attachment itself is in `data.resolved.attachments` (interactions/receiving-and-responding.mdx,
 * "Resolved Data Structure"; typed by discord-api-types `APIChatInputApplicationCommandInteraction`).
 */
export function slashCommandWithFiles(
  applicationId: string,
  m: FakeMember,
  name: string,
  options: Record<string, string | number | boolean>,
  files: Record<string, APIAttachment>,
  attachmentLimit = 10 * 1024 * 1024,
) {
  const i = slashCommand(applicationId, m, name, options, attachmentLimit);
  const attachmentOptions = Object.entries(files).map(([k, a]) => ({ name: k, type: ApplicationCommandOptionType.Attachment as const, value: a.id }));
  return {
    ...i,
    data: { ...i.data, options: [...i.data.options, ...attachmentOptions], resolved: { attachments: Object.fromEntries(Object.values(files).map((a) => [a.id, a])) } },
  } satisfies APIChatInputApplicationCommandInteraction;
}

/** Discord asks for suggestions while a user types into an autocomplete option (`focused`). */
export function autocompleteRequest(applicationId: string, m: FakeMember, name: string, options: Record<string, string>, focused: string) {
  return {
    ...base(applicationId, m, 10 * 1024 * 1024),
    type: InteractionType.ApplicationCommandAutocomplete,
    data: {
      id: snowflake(),
      name,
      type: ApplicationCommandType.ChatInput,
      options: Object.entries(options).map(([k, v]) => ({ name: k, type: ApplicationCommandOptionType.String as const, value: v, ...(k === focused ? { focused: true } : {}) })),
    },
  } satisfies APIApplicationCommandAutocompleteInteraction;
}

export function buttonPress(applicationId: string, m: FakeMember, message: APIMessage, customId: string, attachmentLimit = 10 * 1024 * 1024, at?: FakeChannel) {
  return {
    ...base(applicationId, m, attachmentLimit, at),
    type: InteractionType.MessageComponent,
    message,
    data: { custom_id: customId, component_type: ComponentType.Button },
  } satisfies APIMessageComponentButtonInteraction;
}

export function modalSubmit(applicationId: string, m: FakeMember, customId: string, values: Record<string, string>, message?: APIMessage) {
  return {
    ...base(applicationId, m, 10 * 1024 * 1024),
    type: InteractionType.ModalSubmit,
    ...(message ? { message } : {}),
    data: {
      custom_id: customId,
      components: Object.entries(values).map(([k, v]) => ({
        type: ComponentType.ActionRow as const,
        components: [{ type: ComponentType.TextInput as const, custom_id: k, value: v }],
      })),
    },
  } satisfies APIModalSubmitInteraction;
}

export function ping(applicationId: string) {
  return {
    ...common(applicationId),
    type: InteractionType.Ping,
    version: 1 as const,
    app_permissions: '0',
    authorizing_integration_owners: {},
    entitlements: [],
    attachment_size_limit: 10 * 1024 * 1024,
  } satisfies APIPingInteraction;
}
