import { randomUUID } from 'node:crypto';
import { declaredValues, OPTION_FIELDS, type FieldOption } from './capability-options.ts';
import type { Atelier, ButtonAction, ImageHandle } from './atelier.ts';
import { UserError } from './errors.ts';
import { JobEvents } from './events.ts';
import type { ImagineOptions } from './imagine-options.ts';
import { imagineOptionsSchema } from './imagine-options.ts';
import { isFinal, type Actor, type Job, type JobAction, type Where } from './job.ts';
import { moderate } from './moderation.ts';
import type { BlobStore, ImageTools, JobQueue, Logger, Store } from './ports.ts';
import { silentLogger } from './ports.ts';
import { CONFIRM_ABOVE, expandPrompt, MAX_JOBS_PER_PROMPT } from './permutations.ts';
import { applyPresets } from './presets.ts';
import { formatPrompt, withoutSeedFlag } from './prompt.ts';
import { MAX_INPUT_IMAGES, type GenerationRequest, type RequestField } from './request.ts';
import type { ProviderRegistry } from './registry.ts';
import { chooseProvider, resolveWithDefaults } from './resolve.ts';
import { KeyedLock } from './keyed-lock.ts';
import { storePicked, writeJob } from './runner.ts';
import { mayChangeScope, nsfwAllowed, WHO_MAY_CHANGE } from './permissions.ts';
import { applySettingsPatch, mergeSettings, readStoredSettings, scopeKey, settingsPatchSchema, type Settings, type SettingsScope } from './settings.ts';
import { maySee, mayRemove } from './visibility.ts';
import { forgetJob } from './forget.ts';
import { checkImageInput, DEFAULT_IMAGE_INPUT_LIMITS, extractImageRefs, fetchImages, planCopies, plannedInputs, readCopies, storeCopies, storeInputs, type FetchedImage, type ImageInputLimits, type ImageRef } from './image-input.ts';
import { editFor } from './edits.ts';
import { hasToolbox } from './present.ts';
import type { ImageFetcher } from './ports.ts';

export interface AtelierLimits {
  maxQueuedPerUser: number;
  /** Waiting jobs across every user: past it the whole studio is busy, whoever asks. */
  maxQueuedTotal: number;
  /** 0 means no daily quota. */
  dailyQuotaPerUser: number;
}

export interface AtelierDeps {
  store: Store;
  blobs: BlobStore;
  images: ImageTools;
  providers: ProviderRegistry;
  /** Set after construction by the composition root, because the queue's runner needs the service's events. */
  queue?: JobQueue;
  events?: JobEvents;
  defaultProvider: string;
  limits: AtelierLimits;
  logger?: Logger;
  /** Users' own pictures: how URLs are fetched, how large they may be, whether stored ones can be served at PUBLIC_URL. */
  imageInput?: { fetcher?: ImageFetcher; limits?: Partial<ImageInputLimits>; publicUrl?: boolean };
  newId?: () => string;
  now?: () => number;
}

export interface AtelierService extends Atelier {
  attachQueue(queue: JobQueue): void;
  /** Settings that apply to a job's channel (channel over server). */
  settingsFor(where: Where): Promise<Settings>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** /blend has no words of the user's: this asks the provider for what Midjourney's /blend does. */
export const BLEND_PROMPT = 'one new picture that blends the given pictures: their subjects, styles and colours combined';
/** Midjourney's /blend dimensions: portrait 2:3, square 1:1, landscape 3:2. */
export const BLEND_FORMATS = { portrait: '2:3', square: '1:1', landscape: '3:2' } as const;

/** What makes two presses "the same button": the action, its image, and for remix its prompt. */
function actionKey(a: JobAction): string {
  switch (a.kind) {
    case 'upscale':
      return `upscale:${a.index}:${a.mode ?? ''}`;
    case 'select':
      return `select:${a.index}`;
    case 'vary':
      return `vary:${a.index}:${a.strength ?? ''}`;
    case 'remix':
      return `remix:${a.prompt}`;
    case 'zoom':
      return `zoom:${a.index}:${a.factor}:${a.prompt ?? ''}`;
    case 'pan':
      return `pan:${a.index}:${a.direction}:${a.prompt ?? ''}`;
    case 'square':
      return `square:${a.index}`;
    case 'region':
      return `region:${a.index}:${JSON.stringify(a.region)}:${a.prompt ?? ''}`;
    default:
      return a.kind;
  }
}
function actionLabel(a: ButtonAction): string {
  switch (a.kind) {
    case 'upscale':
      return `${a.mode ? `${a.mode} ` : ''}upscale of image ${a.index}`;
    case 'select':
      return `pick of image ${a.index}`;
    case 'vary':
      return `${a.strength ? `${a.strength} ` : ''}variation of image ${a.index}`;
    case 'zoom':
      return `zoom out ${a.factor}× of image ${a.index}`;
    case 'pan':
      return `pan ${a.direction} of image ${a.index}`;
    case 'square':
      return `square version of image ${a.index}`;
    case 'region':
      return `region variation of image ${a.index}`;
    default:
      return a.kind;
  }
}
/** The daily quota counts the jobs that make pictures; a U that only picks one out of a grid makes none and costs nothing. */
const countsAgainstQuota = (a: JobAction): boolean => a.kind !== 'select';
/** Turning a press into a job takes well under a second; a process that dies meanwhile holds the button this long. */
const PRESS_CLAIM_MS = 60_000;
const EDIT_VERBS = { zoom: 'zoom out', pan: 'pan', square: 'make pictures square', region: 'repaint a region (Vary (Region))' } as const;
const shortId = () => randomUUID().replace(/-/g, '').slice(0, 16);

/** The generation use case behind every platform. */
export function createAtelier(deps: AtelierDeps): AtelierService {
  const events = deps.events ?? new JobEvents();
  const { store, blobs, providers } = deps;
  const log = deps.logger ?? silentLogger;
  const now = deps.now ?? Date.now;
  const newId = deps.newId ?? shortId;
  let queue = deps.queue;
  const settingsLock = new KeyedLock();
  const inputLimits: ImageInputLimits = { ...DEFAULT_IMAGE_INPUT_LIMITS, ...deps.imageInput?.limits };
  const publicUrl = deps.imageInput?.publicUrl === true;
  /** Providers that can take pictures, for the message that refuses them elsewhere. */
  const ableToTakeImages = (blend?: boolean) => () =>
    providers
      .ids()
      .map((id) => providers.get(id))
      .filter((p) => p.capabilities.imageInput && (!blend || p.capabilities.imageInput.blend))
      .map((p) => `${p.id} (${p.displayName})`);
  const pressLock = new KeyedLock();

  /**
   * Turns a press into its child job under a claim in the store, so two processes given the same press at once
   * make one job: the other is refused. The claim is released once the child is stored (it then answers as the
   * twin) or the press failed; its expiry frees the button if this process dies in between.
   */
  async function holdingPress<T>(pressKey: string, action: ButtonAction, work: () => Promise<T>): Promise<T> {
    const claim = `press:${pressKey}`;
    const at = now();
    const expiresAt = at + PRESS_CLAIM_MS;
    if (!(await store.claimOnce(claim, expiresAt, at))) {
      throw new UserError('ALREADY_RUNNING', `Already on it: that ${actionLabel(action)} was just pressed and its job is being queued; it shows up here in a moment.`);
    }
    try {
      return await work();
    } finally {
      // A failed release only keeps the button for the claim's short expiry: the press itself stands.
      await store.releaseClaim(claim, expiresAt).catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err), claim }, 'press claim not released; it expires on its own'));
    }
  }

  const scope = (kind: SettingsScope['kind'], platform: string, id: string): SettingsScope => ({ kind, platform, id });

  const stored = async (s: SettingsScope): Promise<Settings> => readStoredSettings(await store.getSettings(s));

  async function settingsFor(where: Where): Promise<Settings> {
    const channel = await stored(scope('channel', where.platform, where.channelId));
    const server = where.serverId ? await stored(scope('server', where.platform, where.serverId)) : undefined;
    const merged = mergeSettings(channel, server);
    // Banned words add up: a channel's list extends the server's rather than replacing it.
    const banned = [...(server?.bannedWords ?? []), ...(channel?.bannedWords ?? [])];
    return banned.length ? { ...merged, bannedWords: [...new Set(banned)] } : merged;
  }

  async function layered(actor: Actor, where: Where): Promise<{ merged: Settings; policy: Settings }> {
    const user = await stored(scope('user', actor.platform, actor.userId));
    const policy = await settingsFor(where);
    return { merged: mergeSettings(user, policy), policy };
  }

  function checkRoles(policy: Settings, actor: Actor): void {
    if (!policy.allowedRoles?.length || actor.canManage) return;
    if (!actor.roles?.some((r) => policy.allowedRoles!.includes(r))) {
      throw new UserError('NOT_ALLOWED', 'Generating images in this channel is limited to certain roles. Ask a moderator for access.');
    }
  }

  /**
   * `adding` jobs at once (a permutation) must all fit, so none is queued when some would not be. `counted`:
   * false for a job that asks no provider for anything (a U that picks a picture), which the daily quota skips.
   */
  async function checkLimits(policy: Settings, actor: Actor, adding = 1, counted = true): Promise<void> {
    const maxQueued = policy.maxQueuedPerUser ?? deps.limits.maxQueuedPerUser;
    const waiting = await store.countJobs(['queued'], { platform: actor.platform, ownerId: actor.userId });
    if (waiting + adding > maxQueued) {
      if (adding > 1 && waiting < maxQueued) throw new UserError('QUEUE_FULL', `This prompt makes ${adding} jobs but your queue has room for ${maxQueued - waiting}. Use fewer {…} options, or wait for some to finish.`);
      throw new UserError('QUEUE_FULL', `Your queue is full (${waiting} waiting, limit ${maxQueued}). Wait for some to finish, or /cancel some.`);
    }
    if ((await store.countJobs(['queued'])) >= deps.limits.maxQueuedTotal) {
      throw new UserError('QUEUE_FULL', 'The studio is busy: too many jobs are waiting. Try again in a few minutes.', { retryable: true });
    }
    // The unit is jobs: every /imagine and every button that makes images counts one, whatever it yields; a U
    // that only picks a picture out of a grid (no provider call) counts none.
    const quota = policy.dailyQuota ?? deps.limits.dailyQuotaPerUser;
    if (quota > 0 && counted) {
      const used = await store.countUsageSince(actor.platform, actor.userId, now() - DAY_MS);
      if (adding > 1 && used < quota && used + adding > quota) throw new UserError('QUOTA_EXCEEDED', `This prompt makes ${adding} jobs but ${quota - used} of your ${quota} jobs for today are left.`);
      if (used >= quota) throw new UserError('QUOTA_EXCEEDED', `You have used your ${quota} jobs for today (each /imagine and each U, V, 🔄 or ✏️ that makes pictures counts one). Your quota frees up over the next 24 hours.`);
    }
  }

  /**
   * Persists and queues a job. `files` stores what the job's row must exist for (its pictures): if that fails,
   * the job goes whole, so nothing is left half-made.
   */
  async function submit(job: Job, files?: () => Promise<void>): Promise<Job> {
    if (!queue) throw new Error('no job queue attached');
    await store.createJob(job);
    if (files) {
      try {
        await files();
      } catch (err) {
        await forgetJob({ store, blobs }, job.id).catch(() => undefined);
        throw err;
      }
    }
    if (countsAgainstQuota(job.action)) await store.recordUsage(job.owner.platform, job.owner.userId, job.id, job.createdAt);
    events.emit({ type: 'job.updated', job });
    await queue.enqueue(job);
    log.info({ jobId: job.id, provider: job.provider, action: job.action.kind }, 'job queued');
    return withPosition((await store.getJob(job.id)) ?? job);
  }

  /** A waiting job's place in line is computed on read, not stored (see the in-process queue). */
  function withPosition(job: Job): Job {
    const position = job.state === 'queued' ? queue?.position?.(job.id) : undefined;
    return position === undefined ? job : { ...job, progress: { ...job.progress, queuePosition: position } };
  }

  function newJob(fields: Pick<Job, 'action' | 'provider' | 'request' | 'owner' | 'where' | 'private'> & Partial<Pick<Job, 'parentId' | 'defaulted'>>): Job {
    return { id: newId(), state: 'queued', createdAt: now(), progress: {}, attempts: 0, notes: [], version: 0, ...fields };
  }

  interface Draft {
    job: Job;
    policy: Settings;
    /** Pictures to fetch and store with the job, in order. */
    refs: ImageRef[];
  }

  /**
   * Everything /imagine checks short of the queue limits and fetching pictures, for one prompt (presets already
   * applied). In simple mode, URLs before the description, --sref / --cref URLs and --iw are read as Midjourney
   * reads them; in advanced mode the prompt goes to Midjourney as typed, URLs included.
   */
  async function draftImagine(rawOptions: ImagineOptions, actor: Actor, where: Where, blend = false): Promise<Draft> {
    let options = imagineOptionsSchema.parse(rawOptions);
    const { merged, policy } = await layered(actor, where);
    checkRoles(policy, actor);
    moderate(options.prompt, { banned: policy.bannedWords ?? [], allowNsfw: nsfwAllowed(where, policy) });
    const providerId = chooseProvider(options, merged, deps.defaultProvider);
    const provider = providers.get(providerId);
    const refs: ImageRef[] = (options.images ?? []).map((source) => ({ source, role: 'prompt' }));
    let weight = options.iw;
    if ((options.mode ?? merged.mode ?? 'simple') === 'simple') {
      const typed = extractImageRefs(options.prompt);
      if (typed.refs.length || typed.weight !== undefined) {
        if (!typed.prompt) throw new UserError('INVALID_OPTIONS', 'Add a description after the picture URLs: say what to make of them.');
        if (weight !== undefined && typed.weight !== undefined) throw new UserError('CONFLICT', `--iw ${typed.weight} and the image weight option ${weight} set the same thing twice: keep one.`);
        refs.push(...typed.refs);
        weight ??= typed.weight;
        options = { ...options, prompt: typed.prompt };
      }
    }
    checkImageInput(provider, { refs, weight, blend }, ableToTakeImages(blend), publicUrl);
    const { images: _images, iw: _weight, ...rest } = options;
    const resolved = resolveWithDefaults(rest, merged, provider);
    const request = { ...resolved.request, ...(weight !== undefined ? { imageWeight: weight } : {}), ...(blend ? { blend: true } : {}) };
    return { job: newJob({ action: { kind: 'imagine' }, provider: providerId, request, defaulted: resolved.defaulted, owner: actor, where, private: options.private ?? merged.private ?? false }), policy, refs };
  }

  /** Fetches each distinct picture once, however many jobs (a permutation) use it. */
  async function fetchFor(drafts: readonly Draft[]): Promise<FetchedImage[][]> {
    const cache = new Map<unknown, Promise<FetchedImage>>();
    // Most prompts carry no pictures: no timer is armed for them.
    if (drafts.every((d) => d.refs.length === 0)) return drafts.map(() => []);
    const signal = AbortSignal.timeout(60_000);
    const one = (ref: ImageRef) => {
      const key = 'url' in ref.source ? `${ref.role}|${ref.source.platformFile ? 'file' : 'link'}|${ref.source.url}` : ref.source;
      let p = cache.get(key);
      if (!p) {
        p = fetchImages([ref], { fetcher: deps.imageInput?.fetcher, images: deps.images, limits: inputLimits }, signal).then((r) => r[0]!);
        cache.set(key, p);
      }
      return p;
    };
    const out: FetchedImage[][] = [];
    // One at a time, in order: the first bad picture is the one the message names.
    for (const d of drafts) {
      const pics: FetchedImage[] = [];
      for (const ref of d.refs) pics.push(await one(ref));
      out.push(pics);
    }
    return out;
  }

  /** Personal presets live in the user's own scope only: a channel cannot add text to someone's prompts. */
  const presetsOf = async (actor: Actor) => (await store.getSettings(scope('user', actor.platform, actor.userId))) ?? {};

  /** The one read of a job on someone's behalf: one that they may not see answers like one that is gone, so ids reveal nothing. */
  async function visibleJob(jobId: string, actor: Actor, where: Where | undefined, may: typeof maySee = maySee): Promise<Job> {
    const job = await store.getJob(jobId);
    if (!job || !may(job, actor, where)) {
      throw new UserError('NOT_FOUND', 'That job no longer exists, or is not yours to see here (it may have been deleted, be private, or live in another channel).');
    }
    return job;
  }

  async function readBlob(key: string): Promise<Uint8Array> {
    const b = await blobs.get(key);
    if (!b) throw new UserError('NOT_FOUND', 'That image is no longer stored.');
    return b;
  }

  /**
   * A child keeps its own copies of the pictures it starts from (its parent's image prompts, an edit's source,
   * the picture a U picked), so deleting the parent never breaks it and a restart finds them in its own folder.
   */
  async function submitChild(parent: Job, draft: Job): Promise<Job> {
    const req = draft.request;
    const given = new Map((parent.inputs ?? []).map((i) => [i.imageId, i]));
    // The copy keeps where the picture came from (its label, a typed URL): platforms show it by that.
    const origin = (imageId: string, fallback: string) => {
      const i = given.get(imageId);
      return { imageId, label: i?.source ?? fallback, ...(i?.url ? { url: i.url } : {}) };
    };
    // A U that picks a picture gets its own copy of it, read now (a picture gone since stops the press).
    const pickedId = draft.action.kind === 'select' ? parent.result?.imageIds[draft.action.index - 1] : undefined;
    const [picked] = pickedId ? await readCopies(new Map([[pickedId, pickedId]]), { store, blobs }) : [];
    const storePick = () => (picked ? storePicked({ store, blobs }, draft.id, picked, now()) : Promise.resolve());
    const sources = [
      ...(req.images ?? []).map((i) => origin(i.imageId, 'a picture of the parent job')),
      ...(req.edit ? [origin(req.edit.imageId, `image ${req.edit.imageId.slice(parent.id.length + 1)} of job ${parent.id}`)] : []),
    ];
    if (!sources.length) return submit(draft, storePick);
    const { ids, inputs } = planCopies(draft.id, sources);
    const copies = await readCopies(ids, { store, blobs });
    const request: GenerationRequest = {
      ...req,
      ...(req.images ? { images: req.images.map((i) => ({ ...i, imageId: ids.get(i.imageId)! })) } : {}),
      ...(req.edit ? { edit: { ...req.edit, imageId: ids.get(req.edit.imageId)! } } : {}),
    };
    return submit({ ...draft, request, inputs }, async () => {
      await storeCopies(draft.id, copies, { store, blobs }, now());
      await storePick();
    });
  }

  /** A new job with its fetched pictures: the request points at them by the ids they will be stored under. */
  function submitWithPictures(draft: Job, pictures: readonly FetchedImage[] | undefined): Promise<Job> {
    if (!pictures?.length) return submit(draft);
    const { images, inputs } = plannedInputs(draft.id, pictures);
    return submit({ ...draft, request: { ...draft.request, images }, inputs }, () => storeInputs(draft.id, pictures, { store, blobs }, now()));
  }

  async function mayPress(job: Job, action: ButtonAction | { kind: 'cancel' | 'delete' | 'details' }, actor: Actor): Promise<boolean> {
    const isOwner = job.owner.platform === actor.platform && job.owner.userId === actor.userId;
    if (isOwner || actor.canManage) return true;
    if (action.kind === 'details') return true;
    if (action.kind === 'cancel' || action.kind === 'delete') return false;
    const policy = await settingsFor(job.where);
    if (policy.buttons === 'owner') return false;
    if (policy.allowedRoles?.length && !actor.roles?.some((r) => policy.allowedRoles!.includes(r))) return false;
    return true;
  }

  /** The child's request, after checking the press can succeed: nothing is queued or counted for one that cannot. */
  async function childRequest(parent: Job, action: ButtonAction, actor: Actor, where: Where, policy: Settings): Promise<{ request: GenerationRequest; defaulted?: RequestField[] }> {
    const provider = providers.get(parent.provider);
    const inherited = (request: GenerationRequest) => ({ request, ...(parent.defaulted ? { defaulted: parent.defaulted } : {}) });
    switch (action.kind) {
      case 'upscale':
      case 'vary': {
        const caps = provider.capabilities;
        const able = action.kind === 'upscale' ? caps.upscale && provider.upscale : caps.variations && provider.vary;
        if (!able) throw new UserError('UNSUPPORTED', `${provider.displayName} cannot ${action.kind === 'upscale' ? 'upscale' : 'make variations of'} images.`);
        if (action.kind === 'upscale' && action.mode && !caps.upscaleModes?.includes(action.mode)) throw new UserError('UNSUPPORTED', `${provider.displayName} has no ${action.mode} upscaler; use the plain U.`);
        if (action.kind === 'vary' && action.strength && !caps.varyStrength) throw new UserError('UNSUPPORTED', `${provider.displayName} has no variation strength; use the plain V.`);
        if (parent.state !== 'succeeded') throw new UserError('INVALID_OPTIONS', 'That job has no images yet.');
        const count = parent.result?.imageIds.length ?? 0;
        if (action.index < 1 || action.index > count) throw new UserError('INVALID_OPTIONS', `That job has ${count} images; pick 1 to ${count}.`);
        return inherited(parent.request);
      }
      case 'select': {
        // Where the provider has an upscaler, U is a real upscale (its own button kind): a pick there is a forged id.
        const caps = provider.capabilities;
        if (caps.upscale) throw new UserError('UNSUPPORTED', `${provider.displayName} upscales: use its U buttons to upscale a picture.`);
        if (!hasToolbox(caps)) throw new UserError('UNSUPPORTED', `${provider.displayName} has no tools for a single picture (zoom, pan, Vary (Region) or strengths), so there is nothing to pick a picture for.`);
        if (parent.state !== 'succeeded') throw new UserError('INVALID_OPTIONS', 'That job has no images yet.');
        const count = parent.result?.imageIds.length ?? 0;
        if (count < 2) throw new UserError('INVALID_OPTIONS', 'That job has one picture: its tools are already under it.');
        if (action.index < 1 || action.index > count) throw new UserError('INVALID_OPTIONS', `That job has ${count} images; pick 1 to ${count}.`);
        // A picture the provider flagged is refused here as the run would refuse it, before anything is copied.
        const meta = await store.getImage(parent.result!.imageIds[action.index - 1]!);
        if (meta?.nsfw && !nsfwAllowed(where, policy)) throw new UserError('MODERATION', `${provider.displayName} flagged image ${action.index} as NSFW, and NSFW is not allowed here.`, { blockedBy: `${provider.displayName}'s NSFW flag` });
        // The same request as its parent, so 🔄 and ✏️ under the picked picture work as they do under the grid.
        return inherited(parent.request);
      }
      case 'reroll': {
        // A reroll is new images for the same prompt: the old seed, typed or inside a raw prompt, would give the same pictures back.
        const { seed: _seed, ...rest } = parent.request;
        return inherited(rest.rawPrompt === undefined ? rest : { ...rest, rawPrompt: withoutSeedFlag(rest.rawPrompt) });
      }
      case 'zoom':
      case 'pan':
      case 'square':
      case 'region': {
        const caps = provider.capabilities;
        if (!(action.kind === 'region' ? caps.inpaint : caps.outpaint)) throw new UserError('UNSUPPORTED', `${provider.displayName} cannot ${EDIT_VERBS[action.kind]}.`);
        if (parent.state !== 'succeeded') throw new UserError('INVALID_OPTIONS', 'That job has no images yet.');
        const meta = (await store.listImages(parent.id)).find((i) => i.kind === 'image' && i.index === action.index);
        if (!meta) throw new UserError('INVALID_OPTIONS', `That job has no image ${action.index}.`);
        // A new picture around the old one: the old seed and the old edit (a zoom of a zoom) do not carry over.
        const { seed: _seed, edit: _edit, ...base } = parent.request;
        let request: GenerationRequest = { ...base, ...(base.rawPrompt !== undefined ? { rawPrompt: withoutSeedFlag(base.rawPrompt) } : {}), edit: editFor(action, meta.id, meta) };
        const newPrompt = 'prompt' in action ? action.prompt?.trim() : undefined;
        if (newPrompt) {
          const typed = imagineOptionsSchema.shape.prompt.parse(newPrompt);
          moderate(typed, { banned: policy.bannedWords ?? [], allowNsfw: nsfwAllowed(where, policy) });
          request = request.mode === 'advanced' ? { ...request, rawPrompt: typed, prompt: typed } : { ...request, prompt: typed };
        }
        return inherited(request);
      }
      case 'retry':
        if (parent.state !== 'failed' && parent.state !== 'canceled') throw new UserError('INVALID_OPTIONS', 'Only a failed job can be retried; use 🔄 for new images.');
        return inherited(parent.request);
      case 'remix': {
        // The edited prompt goes through the same parsing and checks as /imagine; typed-only fields carry over.
        const carried = {
          photo: parent.request.photo,
          weather: parent.request.weather,
          time: parent.request.timeOfDay,
          camera: parent.request.camera,
          model: parent.request.model,
          style: parent.request.style,
          optimize: parent.request.optimize,
          count: parent.request.count,
          steps: parent.request.steps,
          guidance: parent.request.guidance,
          width: parent.request.width,
          height: parent.request.height,
          transparent: parent.request.transparency,
        };
        const options = imagineOptionsSchema.parse({ prompt: action.prompt, mode: parent.request.mode, provider: parent.provider, ...carried });
        moderate(options.prompt, { banned: policy.bannedWords ?? [], allowNsfw: nsfwAllowed(where, policy) });
        const { merged } = await layered(actor, where);
        const remixed = resolveWithDefaults(options, { ...merged, processMode: parent.request.processMode ?? merged.processMode }, provider);
        // The pictures stay: a remix changes the words, not what the job started from.
        const { images, imageWeight, blend, edit } = parent.request;
        return { ...remixed, request: { ...remixed.request, ...(images ? { images } : {}), ...(imageWeight !== undefined ? { imageWeight } : {}), ...(blend ? { blend } : {}), ...(edit ? { edit } : {}) } };
      }
    }
  }

  const service: AtelierService = {
    events,
    store,
    blobs,
    providers,
    attachQueue(q) {
      queue = q;
    },
    settingsFor,

    async imagine(rawOptions: ImagineOptions, actor, where) {
      const options = imagineOptionsSchema.parse(rawOptions);
      const draft = await draftImagine({ ...options, prompt: applyPresets(options.prompt, await presetsOf(actor)) }, actor, where);
      await checkLimits(draft.policy, actor);
      const [pictures] = await fetchFor([draft]);
      return submitWithPictures(draft.job, pictures);
    },

    async blend(sources, options, actor, where) {
      if (sources.length < 2) throw new UserError('INVALID_OPTIONS', `/blend combines 2 to ${MAX_INPUT_IMAGES} pictures; you gave ${sources.length}. Add another, or use /imagine with one picture.`);
      if (sources.length > MAX_INPUT_IMAGES) throw new UserError('INVALID_OPTIONS', `/blend takes at most ${MAX_INPUT_IMAGES} pictures; you gave ${sources.length}.`);
      const format = options.dimensions ? BLEND_FORMATS[options.dimensions] : undefined;
      const draft = await draftImagine({ prompt: BLEND_PROMPT, images: [...sources], format, provider: options.provider, private: options.private }, actor, where, true);
      await checkLimits(draft.policy, actor);
      const [pictures] = await fetchFor([draft]);
      return submitWithPictures(draft.job, pictures);
    },

    async inputs(jobId): Promise<ImageHandle[]> {
      const metas = (await store.listImages(jobId)).filter((m) => m.kind === 'input');
      return metas.sort((a, b) => a.index - b.index).map((meta) => ({ meta, bytes: () => readBlob(meta.blobKey) }));
    },

    async imagineAll(rawOptions: ImagineOptions, actor, where) {
      const options = imagineOptionsSchema.parse(rawOptions);
      const policy = await settingsFor(where);
      const { prompts, confirmed } = expandPrompt(applyPresets(options.prompt, await presetsOf(actor)), policy.maxJobsPerPrompt ?? MAX_JOBS_PER_PROMPT);
      if (prompts.length > CONFIRM_ABOVE && !confirmed) return { confirm: prompts };
      // Every job is checked before any is queued: a permutation is queued whole or not at all.
      const drafts: Draft[] = [];
      for (const prompt of prompts) drafts.push(await draftImagine({ ...options, prompt }, actor, where));
      await checkLimits(drafts[0]!.policy, actor, drafts.length);
      const pictures = await fetchFor(drafts);
      const jobs: Job[] = [];
      for (const [i, d] of drafts.entries()) jobs.push(await submitWithPictures(d.job, pictures[i]));
      return { jobs };
    },

    async suggest(option, typed, chosen, actor, where) {
      const { merged } = await layered(actor, where);
      const allowed = merged.allowedProviders?.length ? merged.allowedProviders : undefined;
      let values: readonly string[];
      if (option === 'provider') values = providers.ids().filter((id) => !allowed || allowed.includes(id));
      else {
        const id = chosen.provider && providers.has(chosen.provider) ? chosen.provider : (merged.provider ?? deps.defaultProvider);
        if (!providers.has(id)) return [];
        const provider = providers.get(id);
        const caps = provider.capabilities;
        const field = OPTION_FIELDS[option as FieldOption];
        if (!field || !caps.fields.includes(field)) values = [];
        else {
          // Self-hosted servers know their installed models; ask briefly, since autocomplete must answer in 3 s.
          const live = option === 'model' && provider.choices ? await provider.choices('model', AbortSignal.timeout(1_500)).catch(() => undefined) : undefined;
          values = live ?? declaredValues(caps, option) ?? [];
        }
      }
      const t = typed.trim().toLowerCase();
      return values.filter((v) => v.toLowerCase().includes(t)).slice(0, 25);
    },

    async act(parentId, action, actor, where) {
      const parent = await visibleJob(parentId, actor, where);
      if (!(await mayPress(parent, action, actor))) {
        throw new UserError('NOT_ALLOWED', `Only ${parent.owner.displayName} can use the buttons on this job here.`);
      }
      const pressKey = `${parent.id}|${actor.platform}|${actor.userId}|${actionKey(action)}`;
      // One press at a time per person, job and button: a second press finds the first one's job. The in-memory
      // lock queues presses within this process, so the second one waits and then names the first one's job; the
      // store claim inside it holds the same line against presses landing on other processes sharing the store.
      return pressLock.run(pressKey, () =>
        holdingPress(pressKey, action, async () => {
          // Looked for under the claim: looked for before it, a twin stored by another process a moment later is missed.
          const twin = (await store.listJobs({ states: ['queued', 'running'], ownerId: actor.userId, platform: actor.platform })).find(
            (j) => j.parentId === parent.id && actionKey(j.action) === actionKey(action),
          );
          if (twin) {
            throw new UserError('ALREADY_RUNNING', `Already on it: that ${actionLabel(action)} is ${twin.state === 'queued' ? 'waiting to start' : 'running'} as job ${twin.id} (/info job:${twin.id}).`, { jobId: twin.id });
          }
          const { policy } = await layered(actor, where);
          checkRoles(policy, actor);
          const { request, defaulted } = await childRequest(parent, action, actor, where, policy);
          await checkLimits(policy, actor, 1, countsAgainstQuota(action));
          return submitChild(parent, newJob({ action, parentId: parent.id, provider: parent.provider, request, defaulted, owner: actor, where, private: parent.private }));
        }),
      );
    },

    async cancel(jobId, actor, where) {
      const job = await visibleJob(jobId, actor, where, mayRemove);
      if (!(await mayPress(job, { kind: 'cancel' }, actor))) throw new UserError('NOT_ALLOWED', `Only ${job.owner.displayName} or a moderator can cancel this job.`);
      if (isFinal(job.state)) return job;
      if (job.state === 'queued') {
        const canceled = await writeJob({ store, events }, jobId, (j) => (j.state === 'queued' ? { ...j, state: 'canceled', finishedAt: now() } : undefined));
        await queue?.cancel(jobId);
        return canceled ?? job;
      }
      // Running: the queue aborts it and the runner writes the final state.
      await queue?.cancel(jobId);
      return (await store.getJob(jobId)) ?? job;
    },

    async cancelMine(actor, where) {
      const jobs = await store.listJobs({ states: ['queued', 'running'], ownerId: actor.userId, platform: actor.platform, channelId: where?.channelId });
      const out: Job[] = [];
      for (const j of jobs) out.push(await service.cancel(j.id, actor, j.where));
      return out;
    },

    async delete(jobId, actor, where) {
      const job = await visibleJob(jobId, actor, where, mayRemove);
      if (!(await mayPress(job, { kind: 'delete' }, actor))) throw new UserError('NOT_ALLOWED', `Only ${job.owner.displayName} or a member who can manage messages can delete this.`);
      if (!isFinal(job.state)) await service.cancel(jobId, actor, where);
      const latest = (await store.getJob(jobId)) ?? job;
      await forgetJob({ store, blobs }, jobId);
      events.emit({ type: 'job.deleted', job: latest });
      return latest;
    },

    getJob: async (jobId) => {
      const job = await store.getJob(jobId);
      return job && withPosition(job);
    },
    viewJob: (jobId, actor, where) => visibleJob(jobId, actor, where),

    async images(jobId): Promise<ImageHandle[]> {
      // The user's own pictures are not results: `inputs` has them.
      const metas = (await store.listImages(jobId)).filter((m) => m.kind !== 'input');
      return metas.sort((a, b) => a.index - b.index).map((meta) => ({ meta, bytes: () => readBlob(meta.blobKey) }));
    },

    async queue(where) {
      const jobs = await store.listJobs({ states: ['queued', 'running'], channelId: where.channelId, platform: where.platform });
      const positions = (await queue?.positions()) ?? new Map<string, number>();
      const rank = (j: Job) => (j.state === 'running' ? 0 : (positions.get(j.id) ?? Number.MAX_SAFE_INTEGER));
      return jobs.sort((a, b) => rank(a) - rank(b) || a.createdAt - b.createdAt);
    },

    async recent(actor, limit = 5) {
      return store.listJobs({ ownerId: actor.userId, platform: actor.platform, order: 'newest', limit });
    },

    getSettings: stored,

    async setSettings(s, patch, actor) {
      if (s.kind === 'user' && (s.platform !== actor.platform || s.id !== actor.userId)) throw new UserError('NOT_ALLOWED', 'You can only change your own settings.');
      if (s.kind !== 'user' && !mayChangeScope(actor, s.kind)) {
        throw new UserError('NOT_ALLOWED', `Only ${WHO_MAY_CHANGE[actor.platform][s.kind]} may change this ${s.kind}'s settings.`);
      }
      const clean = settingsPatchSchema.parse(patch);
      for (const id of [clean.provider, clean.fallbackProvider, ...(clean.allowedProviders ?? [])]) {
        if (id && !providers.has(id)) throw new UserError('INVALID_OPTIONS', `There is no provider "${id}" here. Available: ${providers.ids().join(', ')}.`);
      }
      // Read, patch and write one scope at a time, so two changes at once both land.
      return settingsLock.run(scopeKey(s), async () => {
        const next = applySettingsPatch(await stored(s), clean);
        await store.setSettings(s, next);
        return next;
      });
    },

    mayPress,
  };
  return service;
}

/** The prompt as the Remix modal pre-fills it. */
export const remixPrefill = (job: Job): string => formatPrompt(job.request);
