import type { REST } from '@discordjs/rest';
import {
  ChannelType,
  ComponentType,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  Routes,
  TextInputStyle,
  type APIApplicationCommandAutocompleteInteraction,
  type APIApplicationCommandInteractionDataOption,
  type APIAttachment,
  type APIInteraction,
  type APIInteractionResponse,
  type APIMessage,
  type APIModalSubmitInteraction,
} from 'discord-api-types/v10';
import type { Atelier } from '../../core/atelier.ts';
import type { CommandDefinition, CommandResult } from '../../core/command.ts';
import { UserError, classifyError, formatZodIssues } from '../../core/errors.ts';
import type { Actor, Where } from '../../core/job.ts';
import type { Logger } from '../../core/ports.ts';
import { parseRegionPercent, parseZoomFactor, type EditAction } from '../../core/edits.ts';
import { DEFAULT_IMAGE_INPUT_LIMITS } from '../../core/image-input.ts';
import type { Job } from '../../core/job.ts';
import { buttonAction, decodeButtonId, detailsText, FORM_BUTTONS } from '../../core/present.ts';
import { formatPrompt } from '../../core/prompt.ts';
import { readCommandInput } from './attachments.ts';
import { leftToFlags } from './register.ts';
import { DEFAULT_ATTACHMENT_LIMIT, loadRef, type DiscordMessageRef } from './message-ref.ts';
import { settled } from './rest.ts';
import type { JobMessages } from './job-messages.ts';
import { clip, notice } from './render.ts';
import type { ReplayGuard } from '../replay-guard.ts';

/** What to answer Discord now, and the work to do once the answer is out. */
export interface Handled {
  response: APIInteractionResponse;
  after?: () => Promise<void>;
}

export interface HandlerDeps {
  atelier: Atelier;
  commands: readonly CommandDefinition[];
  rest: REST;
  logger: Logger;
  messages: JobMessages;
  /** The application id (interaction webhooks are addressed by it). */
  applicationId: () => string;
  /** Remembers interaction ids for the signature window, so a replayed interaction does nothing twice. */
  replays: ReplayGuard;
  now?: () => number;
  /** The largest picture accepted (the core's limit): a bigger attachment is refused before it is fetched. */
  maxPictureBytes?: number;
}

/** Discord permission bits (https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags). */
const ADMINISTRATOR = 1n << 3n;
const MANAGE_CHANNELS = 1n << 4n;
const MANAGE_GUILD = 1n << 5n;
const MANAGE_MESSAGES = 1n << 13n;
/** Bits that make a member a moderator of jobs (cancel or delete others', skip role gating). */
const MODERATE_BITS = ADMINISTRATOR | MANAGE_CHANNELS | MANAGE_GUILD | MANAGE_MESSAGES;
const REMIX_MODAL = 'm:remix:';
const REMIX_FIELD = 'prompt';
/**
 * Custom Zoom and Vary (Region) forms: `m:<kind>:<index>:<jobId>`, like the buttons, so a form opened before a
 * restart still submits after it (Midjourney's own `MJ::OutpaintModal::…` ids carry the job the same way).
 */
const EDIT_MODAL = /^m:(zoomcustom|region):(\d{1,2}):([\w-]{1,80})$/;
const ZOOM_FIELD = 'zoom';
const REGION_FIELD = 'region';
/** Commands whose answer is public unless asked to be private; the others answer privately. */
const PUBLIC_COMMANDS = new Set(['imagine', 'blend']);
/** Discord: a text input's value and max_length are at most 4000. */
const TEXT_INPUT_MAX = 4000;

/**
 * One behaviour for both ways in: the HTTP endpoint and the gateway hand every interaction here. The
 * answer is decided without I/O (the one exception: Remix reads the job to pre-fill its modal, which must
 * be the first response); everything else happens in `after`, once Discord has its answer.
 */
export function createInteractionHandler(deps: HandlerDeps): (i: APIInteraction) => Promise<Handled> {
  const { atelier, logger } = deps;
  const now = deps.now ?? Date.now;

  return async (i) => {
    const receivedAt = now();
    if (i.type !== InteractionType.Ping && !(await deps.replays.firstTime([`discord:interaction:${String(i.id)}`]))) {
      // Discord sends each interaction once; a second copy is someone replaying a captured request.
      logger.warn({ interactionId: String(i.id) }, 'discord: replayed interaction ignored');
      return reply('This interaction was already received; nothing was done twice.');
    }
    switch (i.type) {
      case InteractionType.Ping:
        return { response: { type: InteractionResponseType.Pong } };
      case InteractionType.ApplicationCommand:
        if (i.data.type !== 1) return reply('Atelier has only slash commands.');
        return command(i, i.data.name, i.data.options ?? [], i.data.resolved?.attachments, receivedAt);
      case InteractionType.MessageComponent: {
        if (i.data.component_type !== ComponentType.Button) return reply('Unknown control.');
        return button(i, i.data.custom_id, receivedAt);
      }
      case InteractionType.ModalSubmit:
        return modalSubmit(i, receivedAt);
      case InteractionType.ApplicationCommandAutocomplete:
        return autocomplete(i);
      default:
        return reply('Atelier does not handle this kind of interaction.');
    }
  };

  /** Suggestions must be the first (and only) answer, within Discord's 3 s: one settings read, no provider call. */
  async function autocomplete(i: APIApplicationCommandAutocompleteInteraction): Promise<Handled> {
    const options = (i.data.options ?? []).filter((o): o is typeof o & { value: unknown } => 'value' in o);
    const focused = options.find((o) => 'focused' in o && o.focused);
    const typedProvider = options.find((o) => o.name === 'provider' && !('focused' in o && o.focused));
    let values: string[] = [];
    if (focused && deps.commands.find((c) => c.name === i.data.name)?.autocomplete?.includes(focused.name)) {
      try {
        values = await atelier.suggest(focused.name, String(focused.value ?? ''), { provider: typeof typedProvider?.value === 'string' ? typedProvider.value : undefined }, actorOf(i), whereOf(i));
        // /blend suggests only the providers that can blend: the others would refuse.
        if (i.data.name === 'blend' && focused.name === 'provider') values = values.filter((id) => atelier.providers.has(id) && atelier.providers.get(id).capabilities.imageInput?.blend);
      } catch (err) {
        logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'discord: autocomplete failed');
      }
    }
    return { response: { type: InteractionResponseType.ApplicationCommandAutocompleteResult, data: { choices: values.map((v) => ({ name: clip(v, 100), value: v.slice(0, 100) })) } } };
  }

  function command(
    i: APIInteraction,
    name: string,
    options: readonly APIApplicationCommandInteractionDataOption[],
    attachments: Record<string, APIAttachment> | undefined,
    receivedAt: number,
  ): Handled {
    const def = deps.commands.find((c) => c.name === name);
    if (!def) return reply(`/${name} is not a command of this Atelier version; ask an admin to run \`atelier register\`.`);
    const read = readCommandInput(def, options, attachments, deps.maxPictureBytes ?? DEFAULT_IMAGE_INPUT_LIMITS.maxBytes);
    // A file Discord already says is too large or not a picture is refused now, privately; nothing is fetched.
    if ('error' in read) return reply(read.error);
    const parsed = def.options.safeParse(read.input);
    if (!parsed.success) {
      return reply(`${formatZodIssues(parsed.error.issues)}\nChange ${parsed.error.issues.length > 1 ? 'these options' : 'that option'} and run /${name} again.`);
    }
    const input = parsed.data as Record<string, unknown>;
    const ephemeral = !PUBLIC_COMMANDS.has(name) || input.private === true;
    return {
      response: { type: InteractionResponseType.DeferredChannelMessageWithSource, ...(ephemeral ? { data: { flags: MessageFlags.Ephemeral } } : {}) },
      after: async () => {
        const ctx = { atelier, actor: actorOf(i), where: whereOf(i), flagsOnly: leftToFlags };
        try {
          const result: CommandResult = await def.run(parsed.data, ctx, read.pictures);
          await present(i, result, ephemeral, receivedAt);
        } catch (err) {
          // Whatever failed, the "thinking…" the user sees is replaced by what went wrong.
          await replaceOriginal(i, ephemeral, errorText(err));
        }
      },
    };
  }

  async function present(i: APIInteraction, result: CommandResult, deferredEphemeral: boolean, receivedAt: number): Promise<void> {
    if (result.type === 'job') {
      const job = result.job;
      const sameVisibility = job.private === deferredEphemeral;
      if (!sameVisibility) await deleteOriginal(i);
      // The deferred "thinking…" message becomes the job's message when its visibility matches; a
      // private job from a public defer gets an ephemeral follow-up instead (visibility cannot change).
      await deps.messages.track(job, refFor(i, receivedAt, job.private, sameVisibility ? '@original' : undefined));
      return;
    }
    if (result.type === 'jobs' && result.live) {
      // A permutation: the "thinking…" message says how many, and each job gets a message of its own.
      await present(i, { type: 'message', text: result.text, ephemeral: result.ephemeral }, deferredEphemeral, receivedAt);
      for (const job of result.jobs) await deps.messages.track(job, refFor(i, receivedAt, job.private, undefined));
      return;
    }
    if (result.ephemeral === deferredEphemeral) {
      await webhook(() => deps.rest.patch(Routes.webhookMessage(deps.applicationId(), i.token, '@original'), { body: textBody(result.text), auth: false }));
      return;
    }
    await deleteOriginal(i);
    await followUp(i, result.text, result.ephemeral);
  }

  function button(i: APIInteraction, customId: string, receivedAt: number): Handled | Promise<Handled> {
    const b = decodeButtonId(customId);
    if (!b) return reply('This button belongs to an older version of Atelier and no longer works. Run /imagine again.');
    if (b.kind === 'remix') return remixModal(i, b.jobId);
    if (FORM_BUTTONS.has(b.kind)) return editModal(i, b.kind as 'zoomcustom' | 'region', b.index, b.jobId);
    return {
      // Deferred update: no "thinking…" bubble; results arrive as new messages, refusals as ephemeral ones.
      response: { type: InteractionResponseType.DeferredMessageUpdate },
      after: async () => {
        const actor = actorOf(i);
        try {
          // State comes from the store, never from the message: the button works after a restart and
          // long after its token expired, and a deleted job is explained rather than half-acted on.
          // The id is the presser's to forge, so the job must be one they may see from where they are.
          const job = await atelier.viewJob(b.jobId, actor, whereOf(i));
          const action = b.kind === 'details' || b.kind === 'cancel' || b.kind === 'delete' ? { kind: b.kind } : buttonAction(b.kind, b.index);
          if (!action) return await followUp(i, 'This button does nothing here.', true);
          if (!(await atelier.mayPress(job, action, actor))) return await followUp(i, refusal(job.owner.displayName, action.kind), true);
          switch (action.kind) {
            case 'details':
              return await followUp(i, detailsText(job), true);
            case 'cancel':
              await atelier.cancel(job.id, actor, whereOf(i));
              return;
            case 'delete':
              await atelier.delete(job.id, actor, whereOf(i));
              deps.messages.forget(job.id);
              await deleteOriginal(i);
              return;
            default: {
              const child = await atelier.act(job.id, action, actor, whereOf(i));
              await deps.messages.track(child, refFor(i, receivedAt, child.private, undefined));
            }
          }
        } catch (err) {
          await followUp(i, await withJobLink(err, errorText(err)), true);
        }
      },
    };
  }

  /** The form is the first response, so its check is the one local read of `viewJob`; refused, it is never opened. */
  async function remixModal(i: APIInteraction, jobId: string): Promise<Handled> {
    let job;
    try {
      job = await atelier.viewJob(jobId, actorOf(i), whereOf(i));
    } catch (err) {
      return reply(errorText(err));
    }
    return {
      response: {
        type: InteractionResponseType.Modal,
        data: {
          custom_id: `${REMIX_MODAL}${job.id}`,
          title: 'Remix',
          components: [
            {
              type: ComponentType.ActionRow,
              components: [
                {
                  type: ComponentType.TextInput,
                  custom_id: REMIX_FIELD,
                  label: 'Prompt',
                  style: TextInputStyle.Paragraph,
                  value: clip(formatPrompt(job.request), TEXT_INPUT_MAX),
                  max_length: TEXT_INPUT_MAX,
                  required: true,
                },
              ],
            },
          ],
        },
      },
    };
  }

  /**
   * Custom Zoom (the factor, 1.1 to 2) and Vary (Region) (a rectangle in percent), each with the prompt to edit,
   * as Midjourney's forms. Like Remix, the form is the first response, opened after one local read.
   */
  async function editModal(i: APIInteraction, kind: 'zoomcustom' | 'region', index: number, jobId: string): Promise<Handled> {
    let job: Job;
    try {
      job = await atelier.viewJob(jobId, actorOf(i), whereOf(i));
    } catch (err) {
      return reply(errorText(err));
    }
    const first =
      kind === 'zoomcustom'
        ? { custom_id: ZOOM_FIELD, label: 'Zoom out by (1.1 to 2)', style: TextInputStyle.Short, value: '2', min_length: 1, max_length: 12, required: true }
        : { custom_id: REGION_FIELD, label: 'Region: x, y, width, height in percent', style: TextInputStyle.Short, placeholder: 'e.g. 25, 25, 50, 50 (the middle quarter)', min_length: 7, max_length: 40, required: true };
    return {
      response: {
        type: InteractionResponseType.Modal,
        data: {
          custom_id: `m:${kind}:${index}:${job.id}`,
          title: kind === 'zoomcustom' ? 'Custom Zoom' : 'Vary (Region)',
          components: [
            { type: ComponentType.ActionRow, components: [{ type: ComponentType.TextInput, ...first }] },
            {
              type: ComponentType.ActionRow,
              components: [{ type: ComponentType.TextInput, custom_id: REMIX_FIELD, label: 'Prompt', style: TextInputStyle.Paragraph, value: clip(editablePrompt(job), TEXT_INPUT_MAX), max_length: TEXT_INPUT_MAX, required: true }],
            },
          ],
        },
      },
    };
  }

  /** A submitted Custom Zoom or Vary (Region) form: read and checked now, so a typo is answered at once and nothing is queued. */
  function editSubmit(i: APIModalSubmitInteraction, m: RegExpExecArray, receivedAt: number): Handled {
    const [, kind, index, jobId] = m as unknown as [string, 'zoomcustom' | 'region', string, string];
    let action: Extract<EditAction, { kind: 'zoom' | 'region' }>;
    try {
      const prompt = modalValue(i, REMIX_FIELD)?.trim();
      const withPrompt = prompt ? { prompt } : {};
      action =
        kind === 'zoomcustom'
          ? { kind: 'zoom', index: Number(index), factor: parseZoomFactor(modalValue(i, ZOOM_FIELD) ?? ''), ...withPrompt }
          : { kind: 'region', index: Number(index), region: parseRegionPercent(modalValue(i, REGION_FIELD) ?? ''), ...withPrompt };
    } catch (err) {
      return reply(errorText(err));
    }
    return {
      response: { type: InteractionResponseType.DeferredMessageUpdate },
      after: async () => {
        try {
          const job = await atelier.viewJob(jobId, actorOf(i), whereOf(i));
          // The prompt as the form showed it is no change: the job keeps its own (with its raw prompt in advanced mode).
          const { prompt, ...same } = action;
          const child = await atelier.act(jobId, prompt === undefined || prompt === editablePrompt(job).trim() ? same : action, actorOf(i), whereOf(i));
          await deps.messages.track(child, refFor(i, receivedAt, child.private, undefined));
        } catch (err) {
          await followUp(i, await withJobLink(err, errorText(err)), true);
        }
      },
    };
  }

  function modalSubmit(i: APIModalSubmitInteraction, receivedAt: number): Handled {
    const edit = EDIT_MODAL.exec(i.data.custom_id);
    if (edit) return editSubmit(i, edit, receivedAt);
    if (!i.data.custom_id.startsWith(REMIX_MODAL)) return reply('This form belongs to an older version of Atelier. Press ✏️ again.');
    const jobId = i.data.custom_id.slice(REMIX_MODAL.length);
    const prompt = modalValue(i, REMIX_FIELD)?.trim();
    if (!prompt) return reply('The prompt is empty: write what the image should show, then submit again.');
    return {
      response: { type: InteractionResponseType.DeferredMessageUpdate },
      after: async () => {
        try {
          const child = await atelier.act(jobId, { kind: 'remix', prompt }, actorOf(i), whereOf(i));
          await deps.messages.track(child, refFor(i, receivedAt, child.private, undefined));
        } catch (err) {
          await followUp(i, errorText(err), true);
        }
      },
    };
  }

  function refFor(i: APIInteraction, receivedAt: number, ephemeral: boolean, webhookMessage: string | undefined): DiscordMessageRef {
    return {
      applicationId: deps.applicationId(),
      token: i.token,
      tokenIssuedAt: receivedAt,
      ...(webhookMessage ? { webhookMessage } : {}),
      channelId: channelIdOf(i),
      ...(i.guild_id ? { guildId: i.guild_id } : {}),
      ephemeral,
      attachmentLimit: i.attachment_size_limit ?? DEFAULT_ATTACHMENT_LIMIT,
    };
  }

  async function followUp(i: APIInteraction, text: string, ephemeral: boolean): Promise<void> {
    const body = { ...textBody(text), ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}) };
    await webhook(() => deps.rest.post(Routes.webhook(deps.applicationId(), i.token), { body, auth: false }));
  }

  async function replaceOriginal(i: APIInteraction, deferredEphemeral: boolean, text: string): Promise<void> {
    if (deferredEphemeral) {
      await webhook(() => deps.rest.patch(Routes.webhookMessage(deps.applicationId(), i.token, '@original'), { body: textBody(text), auth: false }));
      return;
    }
    // An error is for the person who typed the command only: the public "thinking…" goes, a private note comes.
    await deleteOriginal(i);
    await followUp(i, text, true);
  }

  async function deleteOriginal(i: APIInteraction): Promise<void> {
    await webhook(() => deps.rest.delete(Routes.webhookMessage(deps.applicationId(), i.token, '@original'), { auth: false }));
  }

  /** Interaction-webhook calls after the answer: a failure is logged, never thrown into the void. */
  async function webhook(call: () => Promise<unknown>): Promise<APIMessage | undefined> {
    try {
      // Called only in the work after an answer, so the token is at most seconds old.
      return (await settled(call, now(), now)) as APIMessage;
    } catch (err) {
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'discord: interaction webhook call failed');
      return undefined;
    }
  }

  /** "Already on it" points at the job that is: a jump link to its message where there is one. */
  async function withJobLink(err: unknown, text: string): Promise<string> {
    const jobId = err instanceof UserError ? err.details.jobId : undefined;
    const ref = jobId ? await loadRef(atelier.store, jobId).catch(() => undefined) : undefined;
    if (!ref?.messageId || ref.ephemeral) return text;
    return `${text}\nhttps://discord.com/channels/${ref.guildId ?? '@me'}/${ref.channelId}/${ref.messageId}`;
  }

  function errorText(err: unknown): string {
    // Name, message and stack only: a REST error's own fields carry the request URL, and with it the interaction token.
    const shown = classifyError(err, (incidentId, e) => logger.error({ incidentId, err: e instanceof Error ? { name: e.name, message: e.message, stack: e.stack } : String(e) }, 'discord: incident')).message;
    // A refusal says who refused: the server's rules, the channel's NSFW policy, or the provider itself.
    const by = err instanceof UserError ? err.details.blockedBy : undefined;
    return by ? `${shown}\n-# Blocked by ${by}.` : shown;
  }
}

function reply(text: string): Handled {
  return { response: { type: InteractionResponseType.ChannelMessageWithSource, data: notice(text) } };
}

function refusal(owner: string, kind: string): string {
  if (kind === 'cancel' || kind === 'delete') return `Only ${owner} or a member who can manage messages can ${kind} this job.`;
  if (kind === 'details') return 'You are not allowed to see the details of this job.';
  return `Only ${owner} can use the buttons on this job here (this channel's policy), or you lack a role allowed to generate.`;
}


const textBody = (text: string) => ({ content: clip(text, 2000), allowed_mentions: { parse: [] } });

/** The words a zoom or region form offers to edit: the description (advanced mode: the prompt as typed). */
function editablePrompt(job: Job): string {
  return job.request.mode === 'advanced' ? (job.request.rawPrompt ?? job.request.prompt) : job.request.prompt;
}

function modalValue(i: APIModalSubmitInteraction, field: string): string | undefined {
  for (const row of i.data.components) {
    const children = 'components' in row ? row.components : 'component' in row ? [row.component] : [];
    for (const c of children as { custom_id?: string; value?: string }[]) if (c.custom_id === field) return c.value;
  }
  return undefined;
}

function channelIdOf(i: APIInteraction): string {
  return i.channel?.id ?? (i as { channel_id?: string }).channel_id ?? '';
}

/**
 * Who pressed or typed, with what they may do. `member.permissions` in an interaction are already
 * resolved for its channel (overwrites included), so Manage Channels here means in this channel.
 */
export function actorOf(i: APIInteraction): Actor {
  const user = i.member?.user ?? i.user;
  const perms = i.member?.permissions ? BigInt(i.member.permissions) : 0n;
  const has = (bit: bigint) => (perms & (ADMINISTRATOR | bit)) !== 0n;
  // In a DM with the bot the user is the only person the channel's settings affect.
  const ownDm = !i.guild_id && i.channel?.type === ChannelType.DM;
  return {
    platform: 'discord',
    userId: user?.id ?? '0',
    displayName: i.member?.nick ?? user?.global_name ?? user?.username ?? 'someone',
    ...(i.member ? { roles: i.member.roles } : {}),
    canManage: (perms & MODERATE_BITS) !== 0n,
    canManageChannel: ownDm || has(MANAGE_CHANNELS),
    canManageServer: has(MANAGE_GUILD),
  };
}

/** In a server, the channel's age restriction is Discord's verdict on NSFW; in DMs there is none and the settings decide. */
export function whereOf(i: APIInteraction): Where {
  const nsfw = i.guild_id ? Boolean(i.channel && 'nsfw' in i.channel && i.channel.nsfw) : undefined;
  return { platform: 'discord', ...(i.guild_id ? { serverId: i.guild_id } : {}), channelId: channelIdOf(i), ...(nsfw === undefined ? {} : { nsfw }) };
}
