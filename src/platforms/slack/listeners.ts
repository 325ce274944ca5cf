import type { App, BlockAction, ButtonAction, MessageShortcut, SlashCommand } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Atelier, ButtonAction as JobButtonAction } from '../../core/atelier.ts';
import type { CommandDefinition, CommandResult } from '../../core/command.ts';
import { classifyError, UserError } from '../../core/errors.ts';
import type { Actor, Job, Where } from '../../core/job.ts';
import type { Logger } from '../../core/ports.ts';
import { buttonAction, decodeButtonId, detailsText } from '../../core/present.ts';
import { formatPrompt, isKnownFlag } from '../../core/prompt.ts';
import type { JobMessages } from './job-messages.ts';
import { capabilityChoices } from '../capability-choices.ts';
import {
  BLEND_MODAL,
  blendModal,
  IMAGES_BLOCK,
  IMAGINE_MODAL,
  imagineModal,
  readModalContext,
  readModalValues,
  REGION_MODAL,
  regionModal,
  REMIX_MODAL,
  remixModal,
  textValue,
  ZOOM_MODAL,
  zoomModal,
  type ModalContext,
} from './modals.ts';
import { filesOf, pictureChoices, pictureOf, picturesOfMessage, sourcesOf, type PictureFile } from './pictures.ts';
import { IMAGINE_FROM_IMAGE } from './manifest.ts';
import { parseRegionPercent, parseZoomFactor } from '../../core/edits.ts';
import { MAX_INPUT_IMAGES } from '../../core/request.ts';
import { optionShapes, parseCommandText, usageHint } from '../command-text.ts';
import { replyEphemeral, replyInChannel, type ReplyTarget } from './reply.ts';
import { slackErrorCode, withRetryAfter } from './web-client.ts';

export interface ListenerDeps {
  atelier: Atelier;
  commands: readonly CommandDefinition[];
  messages: JobMessages;
  client: WebClient;
  logger: Logger;
  /** Workspace admins and owners manage channel settings and anyone's jobs. */
  isAdmin(userId: string): Promise<boolean>;
  /** The Web API base URL: a response_url on its origin (tests, proxies) is trusted like Slack's own. */
  apiUrl: string;
}

const PLATFORM = 'slack' as const;

/** What a Custom Zoom / Vary (Region) form starts from: the words only (the flags stay as they were). */
const editablePrompt = (job: Job): string => (job.request.mode === 'advanced' ? (job.request.rawPrompt ?? job.request.prompt) : job.request.prompt);
const INVITE_HINT = 'I am not in this channel. Invite me with `/invite @Atelier` (or mention me and choose "Invite"), then try again.';
/** Slack lets an app into a 1:1 DM only if it is one of the two; nobody can invite it into someone else's. */
const DM_HINT =
  "I can't post in a direct message between you and someone else: Slack only lets apps into conversations they are part of, so nothing was made. Run /imagine in a channel I'm in or in our own direct message, or add `--private` to get the images in our direct message.";

/** A 1:1 DM (Slack names it `directmessage` in a slash command; DM ids start with D). */
const isDirectMessage = (channelId: string, channelName?: string): boolean => channelName === 'directmessage' || channelId.startsWith('D');

/**
 * Every Slack entry point: slash commands, buttons and modal submissions. Each one acks first (inside
 * Slack's 3 s), then parses, calls the core and presents; every failure ends in one ephemeral answer.
 */
export function registerListeners(app: App, deps: ListenerDeps): void {
  const byName = new Map(deps.commands.map((c) => [c.name, c]));
  const apiOrigin = new URL(deps.apiUrl).origin;
  /** Only Slack's own hosts get our POSTs: a response_url is a place we send user-visible text. */
  const trusted = (url: string | undefined): { responseUrl: string } | Record<string, never> => {
    if (!url) return {};
    try {
      const u = new URL(url);
      return (u.protocol === 'https:' && (u.hostname === 'slack.com' || u.hostname.endsWith('.slack.com'))) || u.origin === apiOrigin ? { responseUrl: url } : {};
    } catch {
      return {};
    }
  };
  const { atelier, client, logger, messages } = deps;

  const fail = async (to: ReplyTarget, err: unknown): Promise<void> => {
    const shown = classifyError(err, (incidentId, e) => logger.error({ err: e, incidentId }, 'slack: incident'));
    await replyEphemeral(client, logger, to, `⚠️ ${shown.message}`);
  };

  const present = async (result: CommandResult, to: ReplyTarget, pictures?: readonly PictureFile[]): Promise<void> => {
    if (result.type === 'job') return showJob(result.job, to, pictures);
    if (result.type === 'jobs' && result.live) {
      for (const job of result.jobs) await showJob(job, to, pictures);
      return;
    }
    if (result.ephemeral) await replyEphemeral(client, logger, to, result.text);
    else await replyInChannel(client, logger, to, result.text);
  };

  /** A new job's message; when the bot cannot post here the job is withdrawn and the user told why. */
  const showJob = async (job: Job, to: ReplyTarget, pictures?: readonly PictureFile[]): Promise<void> => {
    // The Slack files are the job's first pictures, in order (typed URLs follow them).
    const opened = await messages.open(job, pictures?.length ? { slackFiles: pictures.map((p) => p.thumb) } : {});
    if (opened.ok) {
      if (job.private) await replyEphemeral(client, logger, to, 'Working on it privately: the result arrives in our direct messages.');
      return;
    }
    await atelier.cancel(job.id, { ...job.owner }, job.where).catch(() => undefined);
    const unreachable = opened.code === 'not_in_channel' || opened.code === 'channel_not_found' || opened.code === 'cannot_join';
    const why = job.private
      ? `I could not open a direct message with you (Slack said \`${opened.code}\`), so the private job was canceled. Try again without --private.`
      : unreachable
        ? isDirectMessage(job.where.channelId)
          ? DM_HINT
          : INVITE_HINT
        : `I could not post in this channel (Slack said \`${opened.code}\`), so the job was canceled.`;
    await replyEphemeral(client, logger, to, why);
  };

  /** Slack's own model: workspace admins and owners manage the workspace's and channels' settings and others' jobs. */
  const actorFor = async (userId: string, name: string | undefined, needManage: boolean): Promise<Actor> => {
    const admin = needManage && (await deps.isAdmin(userId).catch(() => false));
    return { platform: PLATFORM, userId, displayName: name || userId, ...(needManage ? { canManage: admin, canManageChannel: admin, canManageServer: admin } : {}) };
  };

  app.command(/^\/[\w-]+$/, async ({ command, ack }) => {
    const def = byName.get(command.command.slice(1));
    if (!def) {
      await ack({ response_type: 'ephemeral', text: `Atelier has no ${command.command} command. Try /help.` });
      return;
    }
    const to: ReplyTarget = { channel: command.channel_id, user: command.user_id, ...trusted(command.response_url) };
    if (def.pictures && def.pictures.required > 0) {
      // /blend: pictures cannot ride in command text, so it is always a form; what was typed fills it in.
      await openBlendModal(def, command, ack);
      return;
    }
    if (def.positional === 'prompt' && def.name === 'imagine' && !command.text.trim()) {
      await ack();
      await openImagineModal(def, command);
      return;
    }
    // Parsing is local and quick, so its complaint can ride on the ack itself.
    let input: unknown;
    try {
      const raw = parseCommandText(def, command.text, def.positional === 'prompt' || def.flagsInText ? { keepInText: isKnownFlag } : {});
      const parsed = def.options.safeParse(raw);
      if (!parsed.success) throw parsed.error;
      input = parsed.data;
    } catch (err) {
      const shown = classifyError(err);
      await ack({ response_type: 'ephemeral', text: `⚠️ ${shown.message}\nUsage: ${command.command} ${usageHint(def)}` });
      return;
    }
    await ack();
    try {
      if (def.name === 'imagine' && !(input as { private?: boolean }).private && !(await canPostIn(command))) {
        await replyEphemeral(client, logger, to, DM_HINT);
        return;
      }
      // Admin status costs a users.info call (cached): only the commands that check it ask.
      const actor = await actorFor(command.user_id, command.user_name, def.name === 'settings' || def.name === 'cancel');
      const where: Where = { platform: PLATFORM, serverId: command.team_id, channelId: command.channel_id };
      await present(await def.run(input as never, { atelier, actor, where }), to);
    } catch (err) {
      await fail(to, err);
    }
  });

  /**
   * Whether a job's message can go where the command was typed. Only a DM can be out of reach for good:
   * the bot's own DM with this person is the one it may post in, and conversations.open names it.
   */
  const canPostIn = async (command: SlashCommand): Promise<boolean> => {
    if (!isDirectMessage(command.channel_id, command.channel_name)) return true;
    const ours = await withRetryAfter(() => client.conversations.open({ users: command.user_id }))
      .then((r) => r.channel?.id)
      .catch((err: unknown) => logger.warn({ code: slackErrorCode(err) }, 'slack: conversations.open failed'));
    return ours === command.channel_id;
  };

  const openImagineModal = async (def: CommandDefinition, command: SlashCommand): Promise<void> => {
    try {
      const providers = atelier.providers.all();
      const view = imagineModal(def, { channelId: command.channel_id, teamId: command.team_id }, capabilityChoices(providers), pictureChoices(providers));
      await client.views.open({ trigger_id: command.trigger_id, view: view as never });
    } catch (err) {
      logger.warn({ code: slackErrorCode(err) }, 'slack: views.open failed');
      await replyEphemeral(client, logger, { channel: command.channel_id, user: command.user_id, ...trusted(command.response_url) }, `⚠️ I could not open the options form (${slackErrorCode(err) ?? 'error'}). Type it instead: /imagine ${usageHint(def)}`);
    }
  };

  const openBlendModal = async (def: CommandDefinition, command: SlashCommand, ack: (answer?: { response_type: 'ephemeral'; text: string }) => Promise<void>): Promise<void> => {
    const { blenders } = pictureChoices(atelier.providers.all());
    if (!blenders.length) {
      await ack({ response_type: 'ephemeral', text: `⚠️ None of the providers configured here can blend pictures, so ${command.command} is not available.` });
      return;
    }
    const initial: Record<string, string> = {};
    try {
      const parsed = def.options.safeParse(parseCommandText(def, command.text));
      if (!parsed.success) throw parsed.error;
      for (const [k, v] of Object.entries(parsed.data as Record<string, unknown>)) if (v !== undefined) initial[k] = String(v);
    } catch (err) {
      await ack({ response_type: 'ephemeral', text: `⚠️ ${classifyError(err).message}\nUsage: ${command.command} ${usageHint(def)}` });
      return;
    }
    await ack();
    try {
      // Only providers that can blend are offered; the choice is hidden when there is none to make.
      const providerIds = blenders.map((p) => p.id);
      const only = optionShapes(def).map((o) => o.name).filter((n) => n !== 'provider' || providerIds.length > 1);
      const view = blendModal(def, { channelId: command.channel_id, teamId: command.team_id }, { dynamic: { provider: providerIds }, only, initial });
      await client.views.open({ trigger_id: command.trigger_id, view: view as never });
    } catch (err) {
      logger.warn({ code: slackErrorCode(err) }, 'slack: views.open failed');
      await replyEphemeral(client, logger, { channel: command.channel_id, user: command.user_id, ...trusted(command.response_url) }, `⚠️ I could not open the blend form (Slack said \`${slackErrorCode(err) ?? 'error'}\`). Run ${command.command} again.`);
    }
  };

  /**
   * The pictures uploaded into a form's file input, each checked by what Slack says it is; the first that is
   * not a picture becomes the error Slack shows under the input, with the form kept open.
   */
  const uploadedPictures = (values: Record<string, Record<string, unknown>>): PictureFile[] | { error: string } => {
    const out: PictureFile[] = [];
    for (const file of filesOf(values as never, IMAGES_BLOCK)) {
      const p = pictureOf(file);
      if ('error' in p) return p;
      out.push(p);
    }
    return out;
  };

  /** "Imagine from this image": the /imagine form, with the message's pictures already chosen. */
  app.shortcut<MessageShortcut>({ type: 'message_action', callback_id: IMAGINE_FROM_IMAGE }, async ({ ack, shortcut }) => {
    await ack();
    const to: ReplyTarget = { channel: shortcut.channel.id, user: shortcut.user.id, ...trusted(shortcut.response_url) };
    const def = byName.get('imagine');
    const providers = atelier.providers.all();
    const choices = pictureChoices(providers);
    const { pictures, refused } = picturesOfMessage(shortcut.message as { files?: unknown });
    try {
      if (!def) throw new UserError('UNSUPPORTED', 'This bot has no /imagine.');
      if (!choices.maxImages) throw new UserError('UNSUPPORTED', 'None of the providers configured here can start from a picture.');
      if (!pictures.length) throw new UserError('INVALID_IMAGE', refused[0] ?? 'That message has no picture: use the shortcut on a message with a PNG, JPEG, WebP or GIF.');
      const ctx: ModalContext = { channelId: shortcut.channel.id, ...(shortcut.team?.id ? { teamId: shortcut.team.id } : {}), files: pictures.slice(0, Math.min(choices.maxImages, def.pictures?.names.length ?? MAX_INPUT_IMAGES, MAX_INPUT_IMAGES)) };
      // private_metadata holds 3000 characters: thumbnails go first, then pictures, never the form.
      if (JSON.stringify(ctx).length > 3000) ctx.files = ctx.files!.map(({ url, name }) => ({ url, name }));
      while (JSON.stringify(ctx).length > 3000 && ctx.files!.length > 1) ctx.files!.pop();
      const view = imagineModal(def, ctx, capabilityChoices(providers), choices);
      try {
        await client.views.open({ trigger_id: shortcut.trigger_id, view: view as never });
      } catch (err) {
        logger.warn({ code: slackErrorCode(err) }, 'slack: views.open failed');
        throw new UserError('PROVIDER_UNAVAILABLE', `I could not open the form (Slack said \`${slackErrorCode(err) ?? 'error'}\`). Use the shortcut again.`);
      }
    } catch (err) {
      await fail(to, err);
    }
  });

  /**
   * Slack shows form errors under the inputs they name and keeps the form open; an error for an input the
   * form lacks would be refused, so it goes under `fallback`.
   */
  function formErrors(issues: readonly { path: readonly PropertyKey[]; message: string }[], view: { blocks?: { block_id?: string }[] }, fallback: string): Record<string, string> {
    const shown = new Set((view.blocks ?? []).map((b) => b.block_id));
    const errors: Record<string, string> = {};
    for (const issue of issues) {
      const at = String(issue.path[0] ?? fallback);
      errors[shown.has(at) ? at : fallback] ??= issue.message;
    }
    return errors;
  }

  /** Runs a submitted command form (after its ack) for the person who sent it, in the channel it came from. */
  async function runForm(def: CommandDefinition, data: unknown, ctx: { channelId: string; teamId?: string }, body: { user: { id: string; name: string }; team?: { id: string } | null }, pictures: Parameters<typeof sourcesOf>[0]): Promise<void> {
    const to: ReplyTarget = { channel: ctx.channelId, user: body.user.id };
    try {
      const actor = await actorFor(body.user.id, body.user.name, false);
      const where: Where = { platform: PLATFORM, serverId: ctx.teamId ?? body.team?.id, channelId: ctx.channelId };
      await present(await def.run(data as never, { atelier, actor, where }, sourcesOf(pictures)), to, pictures);
    } catch (err) {
      await fail(to, err);
    }
  }

  app.view(IMAGINE_MODAL, async ({ ack, body, view }) => {
    const def = byName.get('imagine');
    const ctx = readModalContext(view.private_metadata);
    if (!def || !ctx) {
      await ack({ response_action: 'errors', errors: { prompt: 'This form has expired; run /imagine again.' } });
      return;
    }
    const values = view.state.values as Record<string, Record<string, unknown>>;
    const uploaded = uploadedPictures(values);
    if ('error' in uploaded) {
      await ack({ response_action: 'errors', errors: { [IMAGES_BLOCK]: uploaded.error } });
      return;
    }
    const pictures = [...(ctx.files ?? []), ...uploaded];
    const parsed = def.options.safeParse(readModalValues(def, values as never));
    if (!parsed.success) {
      await ack({ response_action: 'errors', errors: formErrors(parsed.error.issues, view, 'prompt') });
      return;
    }
    await ack();
    await runForm(def, parsed.data, ctx, body, pictures);
  });

  app.view(BLEND_MODAL, async ({ ack, body, view }) => {
    const ctx = readModalContext(view.private_metadata);
    const def = byName.get('blend');
    if (!ctx || !def) {
      await ack({ response_action: 'errors', errors: { [IMAGES_BLOCK]: 'This form has expired; run /blend again.' } });
      return;
    }
    const values = view.state.values as Record<string, Record<string, unknown>>;
    const pictures = uploadedPictures(values);
    const least = def.pictures?.required ?? 2;
    if ('error' in pictures || pictures.length < least) {
      const error = 'error' in pictures ? pictures.error : `Add at least ${least === 2 ? 'two' : least} pictures to blend (up to ${def.pictures?.names.length ?? MAX_INPUT_IMAGES}).`;
      await ack({ response_action: 'errors', errors: { [IMAGES_BLOCK]: error } });
      return;
    }
    const parsed = def.options.safeParse(readModalValues(def, values as never));
    if (!parsed.success) {
      await ack({ response_action: 'errors', errors: formErrors(parsed.error.issues, view, IMAGES_BLOCK) });
      return;
    }
    await ack();
    await runForm(def, parsed.data, ctx, body, pictures);
  });

  /**
   * Custom Zoom and Vary (Region): the factor or region is checked before the ack, so a typo keeps the form
   * open with the error under it. The prompt goes with the press only when it was changed.
   */
  /** A form under a job's button, submitted and acked: the press runs as its presser, in the job's channel; the outcome is shown there. */
  const pressFromForm = async (ctx: { channelId: string; teamId?: string }, body: { user: { id: string; name: string }; team?: { id: string } | null }, press: (actor: Actor, where: Where) => Promise<Job>) => {
    const to: ReplyTarget = { channel: ctx.channelId, user: body.user.id };
    try {
      const actor = await actorFor(body.user.id, body.user.name, false);
      await showJob(await press(actor, { platform: PLATFORM, serverId: ctx.teamId ?? body.team?.id, channelId: ctx.channelId }), to);
    } catch (err) {
      await fail(to, err);
    }
  };
  const editForm = (callbackId: string, field: 'zoom' | 'region') =>
    app.view(callbackId, async ({ ack, body, view }) => {
      const ctx = readModalContext(view.private_metadata);
      const values = view.state.values as Record<string, Record<string, { value?: string | null }>>;
      if (!ctx?.jobId || !ctx.index) {
        await ack({ response_action: 'errors', errors: { [field]: 'This form has expired; press the button again.' } });
        return;
      }
      let action: JobButtonAction;
      try {
        const typed = textValue(values, field) ?? '';
        action = field === 'zoom' ? { kind: 'zoom', index: ctx.index, factor: parseZoomFactor(typed) } : { kind: 'region', index: ctx.index, region: parseRegionPercent(typed) };
      } catch (err) {
        await ack({ response_action: 'errors', errors: { [field]: classifyError(err).message } });
        return;
      }
      await ack();
      const jobId = ctx.jobId;
      await pressFromForm(ctx, body, async (actor, where) => {
        const job = await atelier.viewJob(jobId, actor, where);
        const prompt = textValue(values, 'prompt');
        if (prompt && prompt !== editablePrompt(job)) (action as { prompt?: string }).prompt = prompt;
        return atelier.act(job.id, action, actor, where);
      });
    });
  editForm(ZOOM_MODAL, 'zoom');
  editForm(REGION_MODAL, 'region');

  app.view(REMIX_MODAL, async ({ ack, body, view }) => {
    const ctx = readModalContext(view.private_metadata);
    const prompt = (view.state.values as Record<string, Record<string, { value?: string | null }>>).prompt?.prompt?.value?.trim();
    if (!ctx?.jobId) {
      await ack({ response_action: 'errors', errors: { prompt: 'This form has expired; press ✏️ Remix again.' } });
      return;
    }
    if (!prompt) {
      await ack({ response_action: 'errors', errors: { prompt: 'Write a prompt: what should the image show?' } });
      return;
    }
    await ack();
    const jobId = ctx.jobId;
    await pressFromForm(ctx, body, (actor, where) => atelier.act(jobId, { kind: 'remix', prompt }, actor, where));
  });

  /**
   * Presses on one job run one after another: acks come first, so 🗑️ then 🔄 in quick succession
   * would otherwise race, and the reroll could start from a job that is being deleted.
   */
  const perJob = new Map<string, Promise<void>>();
  const serial = (key: string, fn: () => Promise<void>): Promise<void> => {
    const next = (perJob.get(key) ?? Promise.resolve()).then(fn, fn);
    perJob.set(key, next);
    void next.finally(() => {
      if (perJob.get(key) === next) perJob.delete(key);
    });
    return next;
  };

  app.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: /^a:/ }, async ({ ack, body, action }) => {
    await ack();
    await serial(decodeButtonId(action.action_id)?.jobId ?? '', () => press(body, action));
  });

  const press = async (body: BlockAction<ButtonAction>, action: ButtonAction): Promise<void> => {
    const channel = body.channel?.id ?? body.container?.channel_id;
    const to: ReplyTarget = { channel: channel ?? '', user: body.user.id, ...trusted(body.response_url) };
    try {
      const decoded = decodeButtonId(action.action_id);
      if (!decoded || !channel) throw new UserError('INVALID_OPTIONS', 'That button is not one of mine.');
      const name = body.user.username ?? body.user.name;
      // The id is the presser's to forge: the job must be one they may see from this channel.
      const job = await atelier.viewJob(decoded.jobId, await actorFor(body.user.id, name, false), { platform: PLATFORM, channelId: channel });
      const isOwner = job.owner.platform === PLATFORM && job.owner.userId === body.user.id;
      const actor = await actorFor(body.user.id, name, !isOwner);
      const where: Where = { platform: PLATFORM, serverId: body.team?.id ?? job.where.serverId, channelId: channel };
      const kind = decoded.kind;
      // The same mapping as Discord's: Retry is a retry (seed kept), not a reroll.
      // Form buttons are checked as the action their form will ask for.
      const action2: JobButtonAction | { kind: 'cancel' | 'delete' | 'details' } =
        kind === 'remix'
          ? { kind: 'remix', prompt: '' }
          : kind === 'zoomcustom'
            ? { kind: 'zoom', index: decoded.index, factor: 2 }
            : kind === 'region'
              ? { kind: 'region', index: decoded.index, region: { x: 0, y: 0, width: 1, height: 1 } }
              : kind === 'details' || kind === 'cancel' || kind === 'delete'
                ? { kind }
                : buttonAction(kind, decoded.index)!;
      if (!(await atelier.mayPress(job, action2, actor))) {
        throw new UserError('NOT_ALLOWED', `Only ${job.owner.displayName} can use this button on this job here.`);
      }
      switch (action2.kind) {
        case 'details':
          await replyEphemeral(client, logger, to, detailsText(job));
          return;
        case 'cancel':
          await atelier.cancel(job.id, actor, where);
          return;
        case 'delete': {
          const ts = body.container?.message_ts ?? body.message?.ts;
          if (ts) await messages.locate(job.id, channel, ts);
          await atelier.delete(job.id, actor, where);
          return;
        }
        case 'remix': {
          const view = remixModal(formatPrompt(job.request), { channelId: channel, jobId: job.id, ...(where.serverId ? { teamId: where.serverId } : {}) });
          await openForm(view, body.trigger_id, to, '✏️ Remix');
          return;
        }
        case 'zoom':
        case 'region':
          if (kind === 'zoomcustom' || kind === 'region') {
            const ctx: ModalContext = { channelId: channel, jobId: job.id, index: decoded.index, ...(where.serverId ? { teamId: where.serverId } : {}) };
            await openForm(kind === 'region' ? regionModal(editablePrompt(job), ctx) : zoomModal(editablePrompt(job), ctx), body.trigger_id, to, kind === 'region' ? 'Vary (Region)' : 'Custom Zoom');
            return;
          }
          await showJob(await atelier.act(job.id, action2, actor, where), to);
          return;
        default:
          await showJob(await atelier.act(job.id, action2, actor, where), to);
      }
    } catch (err) {
      await fail(to, err);
    }
  };

  /** A form opened from a press: trigger_id lives 3 s and works once, so a slow or repeated press cannot open it. */
  const openForm = async (view: unknown, triggerId: string, to: ReplyTarget, button: string): Promise<void> => {
    try {
      await client.views.open({ trigger_id: triggerId, view: view as never });
    } catch (err) {
      await replyEphemeral(client, logger, to, `⚠️ The form could not open (Slack said \`${slackErrorCode(err) ?? 'error'}\`). Press ${button} again.`);
    }
  };

  app.error(async (err) => {
    logger.error({ err: err.message, code: (err as { code?: string }).code }, 'slack: unhandled listener error');
  });
}
