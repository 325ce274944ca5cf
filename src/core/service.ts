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
import type { GenerationRequest, RequestField } from './request.ts';
import type { ProviderRegistry } from './registry.ts';
import { chooseProvider, resolveWithDefaults } from './resolve.ts';
import { KeyedLock } from './keyed-lock.ts';
import { writeJob } from './runner.ts';
import { mayChangeScope, nsfwAllowed, WHO_MAY_CHANGE } from './permissions.ts';
import { applySettingsPatch, mergeSettings, readStoredSettings, scopeKey, settingsPatchSchema, type Settings, type SettingsScope } from './settings.ts';
import { maySee, mayRemove } from './visibility.ts';
import { forgetJob } from './forget.ts';

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
  newId?: () => string;
  now?: () => number;
}

export interface AtelierService extends Atelier {
  attachQueue(queue: JobQueue): void;
  /** Settings that apply to a job's channel (channel over server). */
  settingsFor(where: Where): Promise<Settings>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** What makes two presses "the same button": the action, its image, and for remix its prompt. */
const actionKey = (a: JobAction): string => (a.kind === 'upscale' || a.kind === 'vary' ? `${a.kind}:${a.index}` : a.kind === 'remix' ? `remix:${a.prompt}` : a.kind);
const actionLabel = (a: ButtonAction): string => (a.kind === 'upscale' || a.kind === 'vary' ? `${a.kind === 'upscale' ? 'upscale' : 'variation'} of image ${a.index}` : a.kind);
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
  const pressLock = new KeyedLock();

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

  /** `adding` jobs at once (a permutation) must all fit, so none is queued when some would not be. */
  async function checkLimits(policy: Settings, actor: Actor, adding = 1): Promise<void> {
    const maxQueued = policy.maxQueuedPerUser ?? deps.limits.maxQueuedPerUser;
    const waiting = await store.listJobs({ states: ['queued'], ownerId: actor.userId, platform: actor.platform });
    if (waiting.length + adding > maxQueued) {
      if (adding > 1 && waiting.length < maxQueued) throw new UserError('QUEUE_FULL', `This prompt makes ${adding} jobs but your queue has room for ${maxQueued - waiting.length}. Use fewer {…} options, or wait for some to finish.`);
      throw new UserError('QUEUE_FULL', `Your queue is full (${waiting.length} waiting, limit ${maxQueued}). Wait for some to finish, or /cancel some.`);
    }
    if ((await store.countJobs(['queued'])) >= deps.limits.maxQueuedTotal) {
      throw new UserError('QUEUE_FULL', 'The studio is busy: too many jobs are waiting. Try again in a few minutes.', { retryable: true });
    }
    // The unit is jobs: every /imagine and every button that makes images counts one, whatever it yields.
    const quota = policy.dailyQuota ?? deps.limits.dailyQuotaPerUser;
    if (quota > 0) {
      const used = await store.countUsageSince(actor.platform, actor.userId, now() - DAY_MS);
      if (adding > 1 && used < quota && used + adding > quota) throw new UserError('QUOTA_EXCEEDED', `This prompt makes ${adding} jobs but ${quota - used} of your ${quota} jobs for today are left.`);
      if (used >= quota) throw new UserError('QUOTA_EXCEEDED', `You have used your ${quota} jobs for today (each /imagine and each U, V, 🔄 or ✏️ counts one). Your quota frees up over the next 24 hours.`);
    }
  }

  async function submit(job: Job): Promise<Job> {
    if (!queue) throw new Error('no job queue attached');
    await store.createJob(job);
    await store.recordUsage(job.owner.platform, job.owner.userId, job.id, job.createdAt);
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

  /** Everything /imagine checks short of the queue limits, for one prompt (presets already applied). */
  async function draftImagine(rawOptions: ImagineOptions, actor: Actor, where: Where): Promise<{ job: Job; policy: Settings }> {
    const options = imagineOptionsSchema.parse(rawOptions);
    const { merged, policy } = await layered(actor, where);
    checkRoles(policy, actor);
    moderate(options.prompt, { banned: policy.bannedWords ?? [], allowNsfw: nsfwAllowed(where, policy) });
    const providerId = chooseProvider(options, merged, deps.defaultProvider);
    const provider = providers.get(providerId);
    const { request, defaulted } = resolveWithDefaults(options, merged, provider);
    return { job: newJob({ action: { kind: 'imagine' }, provider: providerId, request, defaulted, owner: actor, where, private: options.private ?? merged.private ?? false }), policy };
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
        const able = action.kind === 'upscale' ? provider.capabilities.upscale && provider.upscale : provider.capabilities.variations && provider.vary;
        if (!able) throw new UserError('UNSUPPORTED', `${provider.displayName} cannot ${action.kind === 'upscale' ? 'upscale' : 'make variations of'} images.`);
        if (parent.state !== 'succeeded') throw new UserError('INVALID_OPTIONS', 'That job has no images yet.');
        const count = parent.result?.imageIds.length ?? 0;
        if (action.index < 1 || action.index > count) throw new UserError('INVALID_OPTIONS', `That job has ${count} images; pick 1 to ${count}.`);
        return inherited(parent.request);
      }
      case 'reroll': {
        // A reroll is new images for the same prompt: the old seed, typed or inside a raw prompt, would give the same pictures back.
        const { seed: _seed, ...rest } = parent.request;
        return inherited(rest.rawPrompt === undefined ? rest : { ...rest, rawPrompt: withoutSeedFlag(rest.rawPrompt) });
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
        return resolveWithDefaults(options, { ...merged, processMode: parent.request.processMode ?? merged.processMode }, provider);
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
      const { job, policy } = await draftImagine({ ...options, prompt: applyPresets(options.prompt, await presetsOf(actor)) }, actor, where);
      await checkLimits(policy, actor);
      return submit(job);
    },

    async imagineAll(rawOptions: ImagineOptions, actor, where) {
      const options = imagineOptionsSchema.parse(rawOptions);
      const policy = await settingsFor(where);
      const { prompts, confirmed } = expandPrompt(applyPresets(options.prompt, await presetsOf(actor)), policy.maxJobsPerPrompt ?? MAX_JOBS_PER_PROMPT);
      if (prompts.length > CONFIRM_ABOVE && !confirmed) return { confirm: prompts };
      // Every job is checked before any is queued: a permutation is queued whole or not at all.
      const drafts = [];
      for (const prompt of prompts) drafts.push(await draftImagine({ ...options, prompt }, actor, where));
      await checkLimits(drafts[0]!.policy, actor, drafts.length);
      const jobs: Job[] = [];
      for (const d of drafts) jobs.push(await submit(d.job));
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
      // One press at a time per person, job and button: a second press finds the first one's job.
      return pressLock.run(`${parent.id}|${actor.platform}|${actor.userId}|${actionKey(action)}`, async () => {
        const twin = (await store.listJobs({ states: ['queued', 'running'], ownerId: actor.userId, platform: actor.platform })).find(
          (j) => j.parentId === parent.id && actionKey(j.action) === actionKey(action),
        );
        if (twin) {
          throw new UserError('ALREADY_RUNNING', `Already on it: that ${actionLabel(action)} is ${twin.state === 'queued' ? 'waiting to start' : 'running'} as job ${twin.id} (/info job:${twin.id}).`, { jobId: twin.id });
        }
        const { policy } = await layered(actor, where);
        checkRoles(policy, actor);
        const { request, defaulted } = await childRequest(parent, action, actor, where, policy);
        await checkLimits(policy, actor);
        return submit(newJob({ action, parentId: parent.id, provider: parent.provider, request, defaulted, owner: actor, where, private: parent.private }));
      });
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
      const metas = await store.listImages(jobId);
      return metas
        .sort((a, b) => a.index - b.index)
        .map((meta) => ({
          meta,
          bytes: async () => {
            const b = await blobs.get(meta.blobKey);
            if (!b) throw new UserError('NOT_FOUND', 'That image is no longer stored.');
            return b;
          },
        }));
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
