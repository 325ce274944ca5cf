import { randomUUID } from 'node:crypto';
import type { Atelier } from '../../core/atelier.ts';
import type { CommandDefinition, CommandResult } from '../../core/command.ts';
import type { Actor, Job, Where } from '../../core/job.ts';
import type { Logger } from '../../core/ports.ts';
import { UserError, classifyError } from '../../core/errors.ts';
import { buttonAction, decodeButtonId, detailsText } from '../../core/present.ts';
import { checkRegion, parseZoomFactor } from '../../core/edits.ts';
import { formatPrompt } from '../../core/prompt.ts';
import { maySee } from '../../core/visibility.ts';
import type { RawRequest, RawResponse } from '../../server.ts';
import { capabilityChoices } from '../capability-choices.ts';
import { describeCommand } from './command-schema.ts';
import type { ChannelFeed, TextMessage } from './feed.ts';
import { actorOf } from './identity.ts';
import { parseCommand } from './parse-command.ts';
import { imageUrl, renderJob, type JobMessage } from './render.ts';
import { MAX_INPUT_IMAGES } from '../../core/request.ts';
import { PROMPT_FLAGS } from './prompt-flags.ts';
import { UploadShelf } from './uploads.ts';

/** The playground's one shared channel. */
export const PLAYGROUND: Where = { platform: 'web', channelId: 'playground' };

/**
 * What a POST answers. `job`: the job's message right away (the feed brings every later state);
 * `text`: a message for the caller only, or one the feed also showed the channel; `remix`: open the dialog.
 */
export type ApiAnswer =
  | { type: 'job'; message: JobMessage }
  | { type: 'text'; text: string; ephemeral: boolean }
  | { type: 'remix'; jobId: string; prompt: string }
  /** Custom Zoom: ask for the factor (and optionally a new prompt) of image `index`. */
  | { type: 'zoom'; jobId: string; index: number; prompt: string }
  /** Vary (Region): let the person draw the region on image `index` (at `imageUrl`), optionally with a new prompt. */
  | { type: 'region'; jobId: string; index: number; prompt: string; imageUrl: string }
  | { type: 'ok' };

export interface ApiDeps {
  atelier: Atelier;
  commands: readonly CommandDefinition[];
  feed: ChannelFeed;
  logger: Logger;
  /** Recent public text messages, replayed to pages that open later. */
  texts: TextMessage[];
  /** Pictures pages uploaded for the command they are sending. */
  uploads: UploadShelf;
  /** The largest picture accepted, as the upload route's body cap says: the page checks before sending. */
  maxPictureBytes: number;
}

const MAX_TEXTS = 50;
/** Jobs a page opened later sees. */
const HISTORY = 100;

export function createApi(deps: ApiDeps) {
  const { atelier, feed } = deps;

  const render = (job: Job): JobMessage => {
    return renderJob(job, atelier.providers.capabilities(job.provider));
  };

  /** One funnel: what the user can fix is a 4xx with the message; anything else an incident id. */
  const answer = async (work: () => Promise<ApiAnswer>): Promise<RawResponse> => {
    try {
      return { status: 200, body: await work() };
    } catch (err) {
      const shown = classifyError(err, (incidentId, e) => deps.logger.error({ err: e, incidentId }, 'playground request failed'));
      const status = shown.code === 'INTERNAL' ? 500 : shown.code === 'NOT_FOUND' ? 404 : shown.code === 'NOT_ALLOWED' ? 403 : 400;
      return { status, body: { error: { code: shown.code, message: shown.message } } };
    }
  };

  const say = (text: string, actor: Actor, command: string): TextMessage => {
    const message: TextMessage = { kind: 'text', id: randomUUID(), text, invokedBy: { name: actor.displayName, command }, createdAt: Date.now() };
    deps.texts.push(message);
    if (deps.texts.length > MAX_TEXTS) deps.texts.splice(0, deps.texts.length - MAX_TEXTS);
    feed.send({ type: 'text', message });
    return message;
  };

  const present = (result: CommandResult, actor: Actor, command: string): ApiAnswer => {
    if (result.type === 'job') return { type: 'job', message: render(result.job) };
    if (!result.ephemeral) say(result.text, actor, command);
    return { type: 'text', text: result.text, ephemeral: result.ephemeral };
  };

  /**
   * The job behind a button, as this person may see it from the playground (the core's one visibility
   * check). `check` is for what only reads (ℹ️, opening the remix dialog); `act`, `cancel` and `delete`
   * check permission in the core themselves.
   */
  const playgroundJob = async (jobId: string, actor: Actor, check?: Parameters<Atelier['mayPress']>[1]): Promise<Job> => {
    const job = await atelier.viewJob(jobId, actor, PLAYGROUND);
    if (check && !(await atelier.mayPress(job, check, actor))) {
      throw new UserError('NOT_ALLOWED', `Only ${job.owner.displayName} (or a channel manager) is allowed to do that here.`);
    }
    return job;
  };

  return {
    command: (req: RawRequest, userId: string) =>
      answer(async () => {
        const body = json(req);
        const actor = actorOf(userId, body.user);
        const text = typeof body.text === 'string' ? body.text : '';
        const ids = Array.isArray(body.uploads) ? body.uploads.filter((id): id is string => typeof id === 'string') : [];
        // Taken before parsing, so a command that fails leaves nothing waiting: the page sends them again.
        const pictures = ids.length ? deps.uploads.take(userId, ids) : [];
        const { command, input } = parseCommand(text, deps.commands);
        if (pictures.length && !command.pictures) {
          const takers = deps.commands.filter((c) => c.pictures).map((c) => `/${c.name}`);
          throw new UserError('INVALID_OPTIONS', `/${command.name} takes no pictures: attach them to ${takers.join(' or ')}, or remove them.`);
        }
        const most = command.pictures?.names.length ?? 0;
        if (pictures.length > most) throw new UserError('INVALID_OPTIONS', `/${command.name} takes at most ${most} pictures, and ${pictures.length} are attached: remove ${pictures.length - most}.`);
        const result = await command.run(input, { atelier, actor, where: PLAYGROUND }, pictures);
        return present(result, actor, `/${command.name}`);
      }),

    press: (req: RawRequest, userId: string) =>
      answer(async () => {
        const body = json(req);
        const actor = actorOf(userId, body.user);
        const button = typeof body.id === 'string' ? decodeButtonId(body.id) : undefined;
        if (!button) throw new UserError('INVALID_OPTIONS', 'That button is not one of Atelier’s: reload the page.');
        const { kind, index, jobId } = button;
        if (kind === 'remix') {
          const job = await playgroundJob(jobId, actor, { kind: 'remix', prompt: '' });
          return { type: 'remix', jobId: job.id, prompt: formatPrompt(job.request) };
        }
        if (kind === 'zoomcustom' || kind === 'region') {
          const check = kind === 'region' ? ({ kind, index, region: { x: 0, y: 0, width: 1, height: 1 } } as const) : ({ kind: 'zoom', index, factor: 2 } as const);
          const job = await playgroundJob(jobId, actor, check);
          const imageId = job.result?.imageIds[index - 1];
          if (job.state !== 'succeeded' || !imageId) throw new UserError('INVALID_OPTIONS', 'That job has no such image.');
          if (kind === 'zoomcustom') return { type: 'zoom', jobId: job.id, index, prompt: job.request.prompt };
          return { type: 'region', jobId: job.id, index, prompt: job.request.prompt, imageUrl: imageUrl(imageId) };
        }
        if (kind === 'details') {
          const job = await playgroundJob(jobId, actor, { kind: 'details' });
          return { type: 'text', text: detailsText(job), ephemeral: true };
        }
        if (kind === 'delete') {
          await atelier.delete(jobId, actor, PLAYGROUND);
          return { type: 'ok' };
        }
        if (kind === 'cancel') {
          return { type: 'job', message: render(await atelier.cancel(jobId, actor, PLAYGROUND)) };
        }
        const action = buttonAction(kind, index);
        if (!action) throw new UserError('INVALID_OPTIONS', 'That button does nothing here.');
        return { type: 'job', message: render(await atelier.act(jobId, action, actor, PLAYGROUND)) };
      }),

    remix: (req: RawRequest, userId: string) =>
      answer(async () => {
        const body = json(req);
        const actor = actorOf(userId, body.user);
        const prompt = typeof body.prompt === 'string' ? body.prompt.trim() : '';
        if (!prompt) throw new UserError('INVALID_OPTIONS', 'Write the new prompt for the remix.');
        const jobId = typeof body.jobId === 'string' ? body.jobId : '';
        const action = { kind: 'remix' as const, prompt };
        return { type: 'job', message: render(await atelier.act(jobId, action, actor, PLAYGROUND)) };
      }),

    /** Custom Zoom's form: a factor from 1.1 to 2 ("1.8", "1.8x") and, optionally, a new prompt. */
    zoom: (req: RawRequest, userId: string) =>
      answer(async () => {
        const body = json(req);
        const actor = actorOf(userId, body.user);
        const factor = parseZoomFactor(typeof body.factor === 'number' || typeof body.factor === 'string' ? String(body.factor) : '');
        const action = { kind: 'zoom' as const, index: indexOf(body), factor, ...promptOf(body) };
        return { type: 'job', message: render(await atelier.act(jobIdOf(body), action, actor, PLAYGROUND)) };
      }),

    /** Vary (Region)'s form: the rectangle drawn on the picture, in fractions of its sides, and optionally a new prompt. */
    region: (req: RawRequest, userId: string) =>
      answer(async () => {
        const body = json(req);
        const actor = actorOf(userId, body.user);
        const r = (body.region ?? {}) as Record<string, unknown>;
        const num = (v: unknown) => (typeof v === 'number' ? v : NaN);
        const region = checkRegion({ x: num(r.x), y: num(r.y), width: num(r.width), height: num(r.height) });
        const action = { kind: 'region' as const, index: indexOf(body), region, ...promptOf(body) };
        return { type: 'job', message: render(await atelier.act(jobIdOf(body), action, actor, PLAYGROUND)) };
      }),

    commands: (): RawResponse => ({
      status: 200,
      // Commands whose values depend on the provider offer what the configured providers declare; those that take
      // pictures say how many, so the page can tell before uploading.
      body: {
        commands: deps.commands.map((d) => ({
          ...describeCommand(d, d.autocomplete ? capabilityChoices(atelier.providers.all()) : undefined),
          ...(d.pictures ? { pictures: { most: d.pictures.names.length, least: d.pictures.required } } : {}),
        })),
        promptFlags: PROMPT_FLAGS,
        uploads: { maxBytes: deps.maxPictureBytes, maxFiles: MAX_INPUT_IMAGES },
      },
    }),

    /** The channel so far, oldest first, as this person may see it (others' private jobs left out). */
    history: async (userId: string): Promise<(JobMessage | TextMessage)[]> => {
      const viewer: Actor = { platform: PLAYGROUND.platform, userId, displayName: '' };
      // Newest first from the store, with room for others' private jobs that this user does not see.
      const jobs = await atelier.store.listJobs({ platform: PLAYGROUND.platform, channelId: PLAYGROUND.channelId, order: 'newest', limit: HISTORY * 3 });
      const visible = jobs
        .filter((j) => maySee(j, viewer, PLAYGROUND))
        .slice(0, HISTORY)
        .reverse()
        .map(render);
      return [...visible, ...deps.texts].sort((a, b) => a.createdAt - b.createdAt);
    },

    render,
  };
}

export type Api = ReturnType<typeof createApi>;

const jobIdOf = (body: Record<string, unknown>): string => (typeof body.jobId === 'string' ? body.jobId : '');

function indexOf(body: Record<string, unknown>): number {
  const n = body.index;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 8) throw new UserError('INVALID_OPTIONS', 'Which image? Press the button on the picture again.');
  return n;
}

/** The optional new prompt of a Custom Zoom or Vary (Region): empty keeps the job's own. */
function promptOf(body: Record<string, unknown>): { prompt?: string } {
  const p = typeof body.prompt === 'string' ? body.prompt.trim() : '';
  return p ? { prompt: p } : {};
}

function json(req: RawRequest): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(req.body.toString('utf8') || '{}');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // Falls through to the same answer as a non-object body.
  }
  throw new UserError('INVALID_OPTIONS', 'The request body must be a JSON object.');
}
