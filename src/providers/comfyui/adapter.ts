import { randomInt, randomUUID } from 'node:crypto';
import { FormData } from 'undici';
import { UserError } from '../../core/errors.ts';
import type { Logger } from '../../core/ports.ts';
import { silentLogger } from '../../core/ports.ts';
import { dimensionsFor, FIELD_LABELS, MAX_INPUT_IMAGES, type GenerationRequest, type RequestField } from '../../core/request.ts';
import type { ImageProvider, ProviderCapabilities, ProviderImage, ProviderIntent, ProviderResult, ProviderRunContext, SourceImage } from '../../core/provider.ts';
import { editCanvas } from '../../images/canvas.ts';
import { createOnce, unknownOutcome } from '../create-once.ts';
import type { ImageDownloader } from '../download.ts';
import type { HttpClient } from '../http.ts';
import { Notifier } from '../notifier.ts';
import { pollTiming, pollUntil, type PollTiming } from '../poll.ts';
import { ProviderHttpError } from '../provider-error.ts';
import { BLEND_DENOISE, CREATIVE_DENOISE, denoiseForWeight, INPAINT_DENOISE, OUTPAINT_DENOISE, RENDER_SIDE, varyDenoise } from '../strengths.ts';
import { abortError, sleep } from '../timing.ts';
import { clientIdOf, historySchema, queuedSchema, queueSchema, queueStanding, uploadSchema, type HistoryEntry, type ImageRef, type QueueState } from './api.ts';
import { openComfySocket, type ComfyMessage } from './socket.ts';
import { canvasWithMaskAlpha, findPictureGraph, imagePromptWorkflow, loadImageName, maskedWorkflow, upscaleWorkflow, type PictureGraph } from './pictures.ts';
import { checkAgainstObjectInfo, checkNodes, comboChoices, fieldsFor, MAP_KEYS, type ApiWorkflow, type MapKey, type NodeInfo, type ObjectInfo, type WorkflowLimits, type WorkflowMap } from './workflow.ts';

export const COMFY_NAME = 'ComfyUI';

export interface ComfyUiOptions extends PollTiming {
  http: HttpClient;
  downloader: ImageDownloader;
  workflow: ApiWorkflow;
  map: WorkflowMap;
  /** Which setting the workflow came from, named in errors ("the default workflow" or COMFYUI_WORKFLOW). */
  workflowName: string;
  logger?: Logger;
  /** At most one preview image per this many ms reaches the job (ComfyUI sends one per sampler step). */
  previewIntervalMs?: number;
  socketReconnects?: number;
  socketHandshakeTimeoutMs?: number;
  /** How long node definitions are trusted before they are read again (checkpoints come and go). */
  objectInfoTtlMs?: number;
}

export interface UploadedImage {
  name: string;
  subfolder: string;
  type: string;
}

export type ComfyUiProvider = ImageProvider & {
  /** Puts an image in ComfyUI's input folder for a LoadImage node (the image-input issue uses it). */
  uploadImage(bytes: Uint8Array, filename: string, signal: AbortSignal): Promise<UploadedImage>;
};

/** A seed ComfyUI accepts everywhere: KSampler allows up to 2^64-1, but JSON numbers are exact only to 2^53. */
const SEED_CEILING = 2 ** 32 - 1;
/** Plain upscales stop at this side; Upscale (Creative) re-renders, so it stops at twice the render size. */
const MAX_UPSCALED_SIDE = 4096;
const MAX_CREATIVE_SIDE = 2 * RENDER_SIDE;
/** Request fields about pictures: taken by the picture workflows, not by the workflow map. */
const PICTURE_FIELDS: ReadonlySet<RequestField> = new Set(['images', 'imageWeight', 'blend', 'edit']);
/** The core nodes (`nodes.py`) the picture workflows are built from; doctor checks the server has them. */
const PICTURE_NODES = ['LoadImage', 'ImageScale', 'VAEEncode', 'SetLatentNoiseMask', 'RepeatLatentBatch', 'LatentBlend', 'SaveImage'];
const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif' };

/** What a run sends: the workflow, the seed we chose (ComfyUI does not report it) and a note for the result. */
interface Prepared {
  workflow: ApiWorkflow;
  seed?: number;
  note?: string;
}

export function createComfyUiProvider(o: ComfyUiOptions): ComfyUiProvider {
  const log = (o.logger ?? silentLogger).child({ provider: 'comfyui' });
  const fields = fieldsFor(o.map);
  // Pictures go where the workflow's sampler takes its empty latent; a workflow without one takes none.
  const found = findPictureGraph(o.workflow, o.map);
  const graph: PictureGraph | undefined = 'sampler' in found ? found : undefined;
  const capabilities: ProviderCapabilities = {
    modes: ['simple'],
    fields,
    aspectRatios: 'any',
    maxCount: o.map.batch ? 8 : 1,
    // U needs no sampler: the picture, an upscale model if one is installed, and a resize.
    upscale: true,
    variations: graph !== undefined,
    progressPercent: true,
    previews: true,
    webhooks: false,
    ...(graph
      ? {
          imageInput: { maxImages: MAX_INPUT_IMAGES, roles: ['prompt'] as const, weight: true, blend: true },
          outpaint: true,
          inpaint: true,
          varyStrength: true,
        }
      : {}),
    upscaleModes: graph ? ['subtle', 'creative'] : ['subtle'],
    notes: graph
      ? [
          `Pictures start ${o.workflowName}'s sampler instead of its empty latent: an image prompt is img2img (--iw 1 is denoise 0.75), several pictures or /blend are their latents averaged, zoom/pan/region paint only the masked area.`,
          'U and Upscale (Subtle) double the picture with the first upscale model installed on the server (else Lanczos); Upscale (Creative) re-renders it at twice the size.',
        ]
      : [`${o.workflowName} takes no pictures: ${'problem' in found ? found.problem : ''}.`, 'U doubles the picture with the first upscale model installed on the server (else Lanczos).'],
  };
  const wsBase = o.http.baseUrl.replace(/^http/, 'ws');
  let validated: { at: number; limits: WorkflowLimits } | undefined;

  /** The workflow checked against the server's node definitions (one /object_info/{class} per class used). */
  async function limits(signal: AbortSignal, fresh = false): Promise<WorkflowLimits> {
    if (!fresh && validated && Date.now() - validated.at < (o.objectInfoTtlMs ?? 5 * 60_000)) return validated.limits;
    const info: ObjectInfo = {};
    for (const cls of new Set(Object.values(o.workflow).map((n) => n.class_type))) {
      const answer = await o.http.call<Record<string, unknown>>({ method: 'GET', path: `/object_info/${encodeURIComponent(cls)}`, idempotent: true, signal });
      const def = answer && typeof answer === 'object' ? (answer as ObjectInfo)[cls] : undefined;
      if (def && typeof def === 'object' && def.input && typeof def.input === 'object') info[cls] = def;
    }
    const { problems, limits: l } = checkAgainstObjectInfo(o.workflow, o.map, info);
    if (problems.length) {
      validated = undefined;
      throw new UserError('NOT_CONFIGURED', `${o.workflowName} does not fit this ComfyUI server: ${problems.join('; ')}.`);
    }
    validated = { at: Date.now(), limits: l };
    return l;
  }

  const nodeCache = new Map<string, { at: number; def: NodeInfo | undefined }>();
  /** The server's definitions of these node classes (GET /object_info/{class}), cached like the workflow check. */
  async function nodeInfo(classes: Iterable<string>, signal: AbortSignal): Promise<ObjectInfo> {
    const info: ObjectInfo = {};
    for (const cls of new Set(classes)) {
      let hit = nodeCache.get(cls);
      if (!hit || Date.now() - hit.at >= (o.objectInfoTtlMs ?? 5 * 60_000)) {
        const answer = await o.http.call<Record<string, unknown>>({ method: 'GET', path: `/object_info/${encodeURIComponent(cls)}`, idempotent: true, signal });
        const def = answer && typeof answer === 'object' ? (answer as ObjectInfo)[cls] : undefined;
        hit = { at: Date.now(), def: def && typeof def === 'object' && def.input && typeof def.input === 'object' ? def : undefined };
        nodeCache.set(cls, hit);
      }
      if (hit.def) info[cls] = hit.def;
    }
    return info;
  }

  /** A picture workflow checked against the server's nodes before it is queued: a missing node is named, not guessed at. */
  async function checkBuilt(workflow: ApiWorkflow, what: string, signal: AbortSignal): Promise<void> {
    const problems = checkNodes(workflow, await nodeInfo(Object.values(workflow).map((n) => n.class_type), signal));
    if (problems.length) throw new UserError('NOT_CONFIGURED', `This ${COMFY_NAME} server cannot ${what}: ${problems.join('; ')}. Update ComfyUI or install the missing nodes.`);
  }

  /** The first upscale model installed (UpscaleModelLoader's choices), or undefined to resize with Lanczos. */
  async function upscaleModel(signal: AbortSignal): Promise<string | undefined> {
    const def = (await nodeInfo(['UpscaleModelLoader', 'ImageUpscaleWithModel'], signal)) as ObjectInfo;
    if (!def.UpscaleModelLoader || !def.ImageUpscaleWithModel) return undefined;
    return comboChoices(def.UpscaleModelLoader.input.required?.model_name)?.[0];
  }

  /** Puts one picture into ComfyUI's input folder under a name of this job; returns the name LoadImage takes. */
  async function upload(bytes: Uint8Array, mime: string, label: string, ctx: ProviderRunContext): Promise<string> {
    const ext = EXTENSIONS[mime];
    if (!ext) throw new UserError('INVALID_OPTIONS', `${COMFY_NAME} takes PNG, JPEG, WebP or GIF pictures, not ${mime}.`);
    return loadImageName(await uploadImage(bytes, `atelier-${ctx.jobId}-${label}.${ext}`, ctx.signal));
  }

  async function uploadImage(bytes: Uint8Array, filename: string, signal: AbortSignal): Promise<UploadedImage> {
    const form = new FormData();
    form.append('image', new Blob([Buffer.from(bytes)]), filename);
    form.append('type', 'input');
    form.append('overwrite', 'false');
    const raw = await o.http.call({ method: 'POST', path: '/upload/image', form, idempotent: true, signal });
    const parsed = uploadSchema.safeParse(raw);
    if (!parsed.success) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${COMFY_NAME} answered the upload without a file name.`, COMFY_NAME, { phase: 'answered' });
    return { name: parsed.data.name, subfolder: parsed.data.subfolder, type: parsed.data.type };
  }

  /** The workflow to send, with the request's values in the mapped inputs; refuses what ComfyUI would. */
  async function prepare(req: GenerationRequest, signal: AbortSignal): Promise<{ workflow: ApiWorkflow; seed?: number }> {
    if (req.mode !== 'simple') throw new UserError('UNSUPPORTED', `${COMFY_NAME} has no advanced (raw Midjourney prompt) mode: switch to simple mode.`);
    for (const field of Object.keys(FIELD_LABELS) as RequestField[]) {
      const v = req[field];
      if (v === undefined || fields.includes(field) || (graph && PICTURE_FIELDS.has(field))) continue;
      if (field === 'midjourney' && Object.keys(v as object).length === 0) continue;
      throw new UserError('UNSUPPORTED', `${COMFY_NAME} (${o.workflowName}) cannot use ${FIELD_LABELS[field]}: remove it or pick another provider.`);
    }
    const flag = /(^|\s)(--[a-zA-Z][\w-]*)/.exec(req.prompt);
    if (flag) throw new UserError('INVALID_OPTIONS', `${COMFY_NAME} takes a plain description, without Midjourney parameters: remove "${flag[2]}" and use the typed options.`);
    if (req.aspectRatio && (req.width !== undefined || req.height !== undefined)) throw new UserError('CONFLICT', 'Give either an aspect ratio or a width and height, not both.');
    if ((req.width === undefined) !== (req.height === undefined)) throw new UserError('INVALID_OPTIONS', `${COMFY_NAME} needs both width and height: set the other one too.`);

    const l = await limits(signal);
    const values: Partial<Record<MapKey, string | number>> = { prompt: req.prompt.trim() };
    if (req.negativePrompt !== undefined) values.negative = req.negativePrompt;
    if (o.map.seed) values.seed = req.seed ?? randomInt(0, Math.min(SEED_CEILING, l.seed?.max ?? SEED_CEILING));
    if (req.steps !== undefined) values.steps = req.steps;
    if (req.guidance !== undefined) values.cfg = req.guidance;
    if (req.width !== undefined && req.height !== undefined) {
      values.width = req.width;
      values.height = req.height;
    } else if (req.aspectRatio) {
      const d = dimensionsFor(req.aspectRatio, 1024, 8);
      values.width = d.width;
      values.height = d.height;
    }
    if (o.map.batch) values.batch = req.count ?? 4;
    if (req.model !== undefined) values.checkpoint = req.model;

    const workflow = structuredClone(o.workflow);
    for (const key of MAP_KEYS) {
      const ref = o.map[key];
      const value = values[key];
      if (!ref || value === undefined) continue;
      const lim = l[key];
      const where = `node "${ref.node}" input "${ref.input}"`;
      if (typeof value === 'number') {
        if (lim?.min !== undefined && value < lim.min) throw new UserError('INVALID_OPTIONS', `${label(key)} must be at least ${lim.min} on this ${COMFY_NAME} workflow (${where}), not ${value}.`);
        if (lim?.max !== undefined && value > lim.max) throw new UserError('INVALID_OPTIONS', `${label(key)} must be at most ${lim.max} on this ${COMFY_NAME} workflow (${where}), not ${value}.`);
      }
      if (lim?.choices && !lim.choices.includes(String(value))) {
        const shown = lim.choices.slice(0, 10).join(', ') + (lim.choices.length > 10 ? ', …' : '');
        throw new UserError('INVALID_OPTIONS', `${COMFY_NAME} has no ${label(key)} "${String(value)}". Available: ${shown || 'none'}.`);
      }
      workflow[ref.node]!.inputs[ref.input] = value;
    }
    return { workflow, ...(typeof values.seed === 'number' ? { seed: values.seed } : {}) };
  }

  const readQueue = async (signal: AbortSignal): Promise<QueueState> => {
    const raw = await o.http.call({ method: 'GET', path: '/queue', idempotent: true, signal });
    const q = queueSchema.safeParse(raw);
    if (!q.success) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${COMFY_NAME} sent an unreadable queue.`, COMFY_NAME, { phase: 'answered' });
    return q.data;
  };

  const readHistory = async (promptId: string | undefined, signal: AbortSignal): Promise<Record<string, HistoryEntry>> => {
    const raw = await o.http.call({
      method: 'GET',
      path: promptId ? `/history/${encodeURIComponent(promptId)}` : '/history',
      query: promptId ? undefined : { max_items: 64 },
      idempotent: true,
      signal,
    });
    const h = historySchema.safeParse(raw ?? {});
    if (!h.success) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${COMFY_NAME} sent an unreadable history.`, COMFY_NAME, { phase: 'answered' });
    return h.data;
  };

  /** A submission whose answer was lost, found again by the client id it carried (queue first, then recent history). */
  async function findByClientId(clientId: string, signal: AbortSignal): Promise<string | undefined> {
    const q = await readQueue(signal);
    for (const item of [...q.queue_running, ...q.queue_pending]) if (clientIdOf(item) === clientId) return String(item[1]);
    const raw = await o.http.call<Record<string, { prompt?: unknown[] }>>({ method: 'GET', path: '/history', query: { max_items: 64 }, idempotent: true, signal });
    for (const [id, entry] of Object.entries(raw ?? {})) if (Array.isArray(entry?.prompt) && clientIdOf(entry.prompt) === clientId) return id;
    return undefined;
  }

  async function submit(ctx: ProviderRunContext, intent: ProviderIntent, wire: { prompt: ApiWorkflow; client_id: string }): Promise<string> {
    const send = async () => {
      const raw = await o.http.call({ method: 'POST', path: '/prompt', json: wire, idempotent: false, signal: ctx.signal });
      const q = queuedSchema.safeParse(raw);
      if (!q.success) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${COMFY_NAME} queued the prompt but its answer is unreadable.`, COMFY_NAME, { phase: 'answered', unreadable: true });
      return q.data.prompt_id;
    };
    return createOnce(ctx, intent, send, async (err) => {
      // ComfyUI can be asked: a prompt carrying our client id is ours, whatever happened to the answer.
      const found = await findByClientId(intent.key, ctx.signal).catch(() => undefined);
      if (found) return found;
      if (err.info.unreadable) throw unknownOutcome(COMFY_NAME, 'this prompt', err);
      log.warn({ jobId: ctx.jobId, err: err.message }, 'lost /prompt answer and no such prompt at the server; sending once more');
      const again = await send().catch(async (second: unknown) => {
        const later = await findByClientId(intent.key, ctx.signal).catch(() => undefined);
        if (later) return later;
        throw second instanceof ProviderHttpError && second.outcomeUnknown ? unknownOutcome(COMFY_NAME, 'this prompt', second) : second;
      });
      return again;
    });
  }

  /** Removes our prompt from the queue, or interrupts it when it is the one running; never anyone else's. */
  async function cancelAtServer(promptId: string): Promise<void> {
    const signal = AbortSignal.timeout(10_000);
    try {
      const standing = queueStanding(await readQueue(signal), promptId);
      if (standing.state === 'pending') await o.http.call({ method: 'POST', path: '/queue', json: { delete: [promptId] }, idempotent: true, signal });
      else if (standing.state === 'running') await o.http.call({ method: 'POST', path: '/interrupt', json: { prompt_id: promptId }, idempotent: true, signal });
    } catch (err) {
      log.warn({ promptId, err: err instanceof Error ? err.message : String(err) }, 'could not cancel at ComfyUI');
    }
  }

  async function collect(entry: HistoryEntry, promptId: string, seed: number | undefined, ctx: ProviderRunContext): Promise<ProviderImage[]> {
    const all: ImageRef[] = Object.values(entry.outputs).flatMap((out) => out.images ?? []);
    // SaveImage writes type "output"; PreviewImage's "temp" files are used only when a workflow saves nothing.
    const saved = all.filter((i) => i.type === 'output');
    const refs = saved.length ? saved : all;
    if (refs.length === 0) throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${COMFY_NAME} finished prompt ${promptId} without any images (does the workflow end in SaveImage?).`, COMFY_NAME, { phase: 'answered' });
    const images: ProviderImage[] = [];
    for (const ref of refs.slice(0, 8)) {
      const url = new URL(`${o.http.baseUrl}/view`);
      url.searchParams.set('filename', ref.filename);
      url.searchParams.set('subfolder', ref.subfolder);
      url.searchParams.set('type', ref.type);
      const d = await o.downloader.download(url.toString(), ctx.signal);
      images.push({ ...d, providerImageId: `${ref.type}/${ref.subfolder ? `${ref.subfolder}/` : ''}${ref.filename}`, ...(seed !== undefined ? { seed } : {}) });
    }
    return images;
  }

  /** Follows a queued prompt to its images: websocket for progress and previews, /history as the truth. */
  async function follow(promptId: string, ctx: ProviderRunContext, wake: Notifier, failure: { message?: string }): Promise<HistoryEntry> {
    let absent = 0;
    return (await pollUntil<HistoryEntry | 'gone' | undefined>({
      provider: COMFY_NAME,
      what: `prompt ${promptId}`,
      signal: ctx.signal,
      ...pollTiming(o),
      notifier: wake,
      notifyKey: promptId,
      onTransientError: (err) => log.warn({ promptId, err: err instanceof Error ? err.message : String(err) }, 'history poll failed; still waiting'),
      fetch: async () => {
        const entry = (await readHistory(promptId, ctx.signal))[promptId];
        if (entry) return entry;
        const standing = queueStanding(await readQueue(ctx.signal), promptId);
        if (standing.state === 'pending') {
          absent = 0;
          ctx.progress({ stage: standing.ahead ? `queued on ${COMFY_NAME} (${standing.ahead} ahead)` : `next on ${COMFY_NAME}` });
        } else if (standing.state === 'running') absent = 0;
        else {
          // It may have finished between the two reads: look at history once more before believing it is gone.
          const late = (await readHistory(promptId, ctx.signal))[promptId];
          if (late) return late;
          // Decided in settle: a failed fetch is waited out, a prompt the server forgot is not.
          if (++absent >= 2) return 'gone';
        }
        return undefined;
      },
      settle: (entry) => {
        if (!entry) return undefined;
        if (entry === 'gone') {
          throw new UserError('PROVIDER_UNAVAILABLE', `${COMFY_NAME} no longer knows prompt ${promptId} (was the server restarted?). Press 🔄 to try again.`, { retryable: true });
        }
        if (entry.status?.status_str === 'error' || failure.message) {
          const why = failure.message ?? describeMessages(entry.status?.messages);
          throw new UserError('PROVIDER_REJECTED', `${COMFY_NAME} could not run this workflow${why ? `: ${why}` : ''}. Check the workflow and the server log, then try again.`, { retryable: true });
        }
        return entry.status?.completed === false ? undefined : entry;
      },
    })) as HistoryEntry;
  }

  /** Queues the workflow `build` makes (not again after a restart: the recorded one) and follows it to its images. */
  async function run(ctx: ProviderRunContext, operation: ProviderIntent['operation'], build: () => Promise<Prepared>): Promise<ProviderResult> {
    const resumedIntent = ctx.resume?.intent;
    let sent: Prepared;
    let clientId: string;
    if (resumedIntent) {
      const body = resumedIntent.body as { prompt: ApiWorkflow; client_id: string; atelier_seed?: number; atelier_note?: string };
      sent = { workflow: body.prompt, ...(body.atelier_seed !== undefined ? { seed: body.atelier_seed } : {}), ...(body.atelier_note ? { note: body.atelier_note } : {}) };
      clientId = resumedIntent.key;
    } else {
      sent = await build();
      clientId = `atelier-${ctx.jobId}-${randomUUID().slice(0, 8)}`;
    }
    const wake = new Notifier();
    const failure: { message?: string } = {};
    let promptId = ctx.resume?.providerJobId;
    let lastPercent = -1;
    let lastPreviewAt = 0;
    const mine = (m: ComfyMessage) => m.data.prompt_id === undefined || m.data.prompt_id === promptId;
    const socket = openComfySocket({
      url: `${wsBase}/ws?clientId=${encodeURIComponent(clientId)}`,
      reconnects: o.socketReconnects,
      handshakeTimeoutMs: o.socketHandshakeTimeoutMs,
      onMessage: (m) => {
        if (!promptId || !mine(m)) return;
        switch (m.type) {
          case 'execution_start':
            ctx.progress({ stage: `rendering on ${COMFY_NAME}` });
            break;
          case 'progress': {
            const value = Number(m.data.value);
            const max = Number(m.data.max);
            if (!(max > 0) || !Number.isFinite(value)) break;
            const percent = Math.max(0, Math.min(99, Math.round((value / max) * 100)));
            if (percent >= lastPercent + 5 || percent === 99) {
              lastPercent = percent;
              ctx.progress({ percent, stage: `rendering on ${COMFY_NAME}` });
            }
            break;
          }
          case 'executing':
            if (m.data.node === null) wake.notify(promptId);
            break;
          case 'execution_success':
            wake.notify(promptId);
            break;
          case 'execution_error':
            failure.message = `node "${String(m.data.node_id)}" (${String(m.data.node_type)}) failed: ${String(m.data.exception_message ?? 'error').trim().slice(0, 300)}`;
            wake.notify(promptId);
            break;
          case 'execution_interrupted':
            failure.message = `it was interrupted at node "${String(m.data.node_id)}" (${String(m.data.node_type)})`;
            wake.notify(promptId);
            break;
        }
      },
      onPreview: (preview) => {
        if (!promptId) return;
        const now = Date.now();
        if (now - lastPreviewAt < (o.previewIntervalMs ?? 1_000)) return;
        lastPreviewAt = now;
        ctx.progress({ preview });
      },
      onLost: (reason) => log.warn({ promptId, reason }, 'ComfyUI websocket lost; following by history'),
    });
    try {
      await Promise.race([socket.ready.catch(() => log.warn({ jobId: ctx.jobId }, 'ComfyUI websocket did not open; following by history only')), sleep(o.socketHandshakeTimeoutMs ?? 10_000, ctx.signal)]);
      let entry: HistoryEntry;
      try {
        if (!promptId) {
          const intent: ProviderIntent = resumedIntent ?? {
            key: clientId,
            operation,
            body: { prompt: sent.workflow, client_id: clientId, ...(sent.seed !== undefined ? { atelier_seed: sent.seed } : {}), ...(sent.note ? { atelier_note: sent.note } : {}) },
          };
          const found = resumedIntent ? await findByClientId(clientId, ctx.signal) : undefined;
          if (found) await ctx.recordSubmitted(found);
          // The recorded intent also keeps the seed we chose; ComfyUI gets only prompt and client_id.
          promptId = found ?? (await submit(ctx, intent, { prompt: sent.workflow, client_id: clientId }));
        }
        ctx.progress({ stage: `queued on ${COMFY_NAME}` });
        entry = await follow(promptId, ctx, wake, failure);
      } catch (err) {
        if (ctx.signal.aborted) {
          // Canceled while the prompt was being sent: it may be queued already, under our client id.
          const id = promptId ?? (await findByClientId(clientId, AbortSignal.timeout(10_000)).catch(() => undefined));
          if (id) await cancelAtServer(id);
        }
        throw err;
      }
      const images = await collect(entry, promptId, sent.seed, ctx);
      return { images, providerJobId: promptId, ...(sent.seed !== undefined ? { seed: sent.seed } : {}), ...(sent.note ? { note: sent.note } : {}) };
    } finally {
      socket.close();
    }
  }

  /** How many pictures a job makes: the request's count where the workflow maps a batch, else one. */
  const countOf = (req: GenerationRequest) => (o.map.batch ? (req.count ?? 4) : 1);

  function needGraph(what: string): PictureGraph {
    if (!graph) throw new UserError('UNSUPPORTED', `${COMFY_NAME} (${o.workflowName}) cannot ${what}: ${'problem' in found ? found.problem : 'no place for a picture'}.`);
    return graph;
  }

  function readPicture(ctx: ProviderRunContext, imageId: string) {
    if (!ctx.readImage) throw new UserError('UNSUPPORTED', `${COMFY_NAME} needs the picture's bytes, and this job has none to give.`);
    return ctx.readImage(imageId);
  }

  /** The request's words and settings in the operator's workflow, without its pictures or the seed (a picture job is new noise). */
  const wordsOf = (req: GenerationRequest, seed?: number): GenerationRequest => {
    const { images: _i, imageWeight: _w, blend: _b, edit: _e, seed: _s, ...plain } = req;
    return { ...plain, ...(seed !== undefined ? { seed } : {}) };
  };

  /**
   * Checks the workflow against the server's nodes with placeholder file names, then uploads the pictures and builds
   * it for real: nothing is uploaded for a workflow the server would refuse.
   */
  async function assemble(what: string, pictures: { bytes: Uint8Array; mime: string; label: string }[], build: (files: string[]) => ApiWorkflow, ctx: ProviderRunContext): Promise<ApiWorkflow> {
    await checkBuilt(build(pictures.map((p) => `${p.label}.png`)), what, ctx.signal);
    const files: string[] = [];
    for (const p of pictures) files.push(await upload(p.bytes, p.mime, p.label, ctx));
    return build(files);
  }

  /** Zoom, pan, square and Vary (Region): the edit canvas with its mask as alpha, painted only where the mask says. */
  async function buildEdit(req: GenerationRequest, ctx: ProviderRunContext): Promise<Prepared> {
    const edit = req.edit!;
    const what = edit.kind === 'outpaint' ? 'zoom, pan or square pictures' : 'repaint a region (Vary (Region))';
    const g = needGraph(what);
    const source = await readPicture(ctx, edit.imageId);
    const canvas = await editCanvas(source.bytes, edit, { maxSide: RENDER_SIDE, multipleOf: 8 });
    const base = await prepare({ ...wordsOf(req), ...(req.seed !== undefined ? { seed: req.seed } : {}) }, ctx.signal);
    const bytes = await canvasWithMaskAlpha(canvas.filled, canvas.mask);
    const denoise = edit.kind === 'outpaint' ? OUTPAINT_DENOISE : INPAINT_DENOISE;
    const workflow = await assemble(what, [{ bytes, mime: 'image/png', label: 'edit' }], ([file]) => maskedWorkflow(base.workflow, g, { file: file!, denoise, count: countOf(req) }), ctx);
    return { workflow, ...(base.seed !== undefined ? { seed: base.seed } : {}) };
  }

  /** Image prompts and /blend: the pictures' latents, averaged, start the sampler. */
  async function buildImagePrompt(req: GenerationRequest, ctx: ProviderRunContext): Promise<Prepared> {
    const what = req.blend ? 'blend pictures' : 'start from pictures';
    const g = needGraph(what);
    const images = req.images!;
    const other = images.find((i) => i.role !== 'prompt');
    if (other) throw new UserError('UNSUPPORTED', `${COMFY_NAME} has no ${other.role === 'style' ? 'style (--sref)' : 'character (--cref)'} references, only image prompts: put the picture's URL at the start of the prompt instead.`);
    if (images.length > MAX_INPUT_IMAGES) throw new UserError('UNSUPPORTED', `${COMFY_NAME} takes at most ${MAX_INPUT_IMAGES} pictures; you gave ${images.length}.`);
    const pictures = await Promise.all(images.map((i) => readPicture(ctx, i.imageId)));
    const base = await prepare({ ...wordsOf(req), ...(req.seed !== undefined ? { seed: req.seed } : {}) }, ctx.signal);
    const first = pictures[0]!;
    const size = req.width !== undefined && req.height !== undefined ? { width: req.width, height: req.height } : req.aspectRatio ? dimensionsFor(req.aspectRatio, RENDER_SIDE, 8) : fitSize(first.width, first.height, RENDER_SIDE, true);
    // A blend is mostly new painting; an image prompt keeps as much of its picture as --iw asks.
    const denoise = req.blend && req.imageWeight === undefined ? BLEND_DENOISE : denoiseForWeight(req.imageWeight);
    const uploads = pictures.map((p, i) => ({ bytes: p.bytes, mime: p.mime, label: `picture${i + 1}` }));
    const workflow = await assemble(what, uploads, (files) => imagePromptWorkflow(base.workflow, g, { files, ...size, denoise, count: countOf(req) }), ctx);
    return { workflow, ...(base.seed !== undefined ? { seed: base.seed } : {}) };
  }

  /** Vary (Subtle / Strong): the image itself starts the sampler, at its own shape. */
  async function buildVary(source: SourceImage, ctx: ProviderRunContext): Promise<Prepared> {
    const g = needGraph('make variations');
    const base = await prepare(wordsOf(source.request), ctx.signal);
    const size = fitSize(source.width, source.height, RENDER_SIDE);
    const denoise = varyDenoise(source.strength);
    const workflow = await assemble('make variations', [{ bytes: source.bytes, mime: source.mime, label: `vary${source.index}` }], ([file]) => imagePromptWorkflow(base.workflow, g, { files: [file!], ...size, denoise, count: countOf(source.request) }), ctx);
    return { workflow, ...(base.seed !== undefined ? { seed: base.seed } : {}) };
  }

  /** U and Upscale (Subtle): upscale model (or Lanczos) to twice the size; Upscale (Creative): that, re-rendered lightly. */
  async function buildUpscale(source: SourceImage, ctx: ProviderRunContext): Promise<Prepared> {
    const creative = source.upscaleMode === 'creative';
    const ceiling = creative ? MAX_CREATIVE_SIDE : MAX_UPSCALED_SIDE;
    const factor = Math.min(2, ceiling / Math.max(source.width, source.height));
    if (factor <= 1.05) throw new UserError('INVALID_OPTIONS', `That picture is ${source.width}×${source.height}; ${COMFY_NAME} upscales up to ${ceiling} pixels a side, so it cannot grow further.`);
    const model = await upscaleModel(ctx.signal);
    const how = model ? `with ${model}` : 'with Lanczos resampling (no upscale model is installed on the server)';
    const picture = [{ bytes: source.bytes, mime: source.mime, label: `upscale${source.index}` }];
    if (!creative) {
      const width = Math.round(source.width * factor);
      const height = Math.round(source.height * factor);
      const workflow = await assemble('upscale pictures', picture, ([file]) => upscaleWorkflow({ file: file!, width, height, upscaleModel: model, prefix: 'atelier-upscale' }), ctx);
      return { workflow, ...(source.seed !== undefined ? { seed: source.seed } : {}), note: `Upscaled ${how}.` };
    }
    const g = needGraph('re-render pictures (Upscale (Creative))');
    const base = await prepare(wordsOf(source.request, source.seed), ctx.signal);
    const size = fitSize(source.width * factor, source.height * factor, MAX_CREATIVE_SIDE);
    const workflow = await assemble('re-render pictures (Upscale (Creative))', picture, ([file]) => imagePromptWorkflow(base.workflow, g, { files: [file!], ...size, denoise: CREATIVE_DENOISE, count: 1, upscaleModel: model }), ctx);
    return { workflow, ...(base.seed !== undefined ? { seed: base.seed } : {}), note: `Upscaled ${how}, then re-rendered at ${size.width}×${size.height}.` };
  }

  return {
    id: 'comfyui',
    displayName: COMFY_NAME,
    capabilities,
    generate(req, ctx) {
      if (ctx.signal.aborted) throw abortError(ctx.signal);
      return run(ctx, 'generate', () => (req.edit ? buildEdit(req, ctx) : req.images?.length ? buildImagePrompt(req, ctx) : prepare(req, ctx.signal)));
    },
    vary(source, ctx) {
      if (ctx.signal.aborted) throw abortError(ctx.signal);
      return run(ctx, 'vary', () => buildVary(source, ctx));
    },
    upscale(source, ctx) {
      if (ctx.signal.aborted) throw abortError(ctx.signal);
      return run(ctx, 'upscale', () => buildUpscale(source, ctx));
    },
    async prepare(signal) {
      try {
        await limits(signal, true);
        // Text-to-image still works on a server that lacks a picture node, so that is a warning, not a refusal to start;
        // a picture job is then refused naming the node.
        const info = graph ? await nodeInfo(PICTURE_NODES, signal) : {};
        const missing = graph ? PICTURE_NODES.filter((c) => !info[c]) : [];
        if (missing.length) log.warn({ missing }, 'this ComfyUI server lacks nodes the picture workflows use; image prompts, zoom, pan and vary will be refused');
      } catch (err) {
        if (err instanceof UserError && err.code === 'NOT_CONFIGURED') throw err;
        // Unreachable now is not misconfigured: the workflow is checked again before the first job.
        log.warn({ err: err instanceof Error ? err.message : String(err) }, 'ComfyUI not reachable at start; the workflow will be checked before the first job');
      }
    },
    uploadImage,
    async check(signal) {
      const stats = await o.http.call<{ system?: { comfyui_version?: string } }>({ method: 'GET', path: '/system_stats', idempotent: true, signal });
      const l = await limits(signal, true);
      const ckptRef = o.map.checkpoint;
      const current = ckptRef ? String(o.workflow[ckptRef.node]?.inputs[ckptRef.input] ?? '') : undefined;
      if (current !== undefined && l.checkpoint?.choices && !l.checkpoint.choices.includes(current)) {
        return { ok: false, detail: `reachable, but checkpoint "${current}" is not on the server (${l.checkpoint.choices.length} available: ${l.checkpoint.choices.slice(0, 5).join(', ')}${l.checkpoint.choices.length > 5 ? ', …' : ''}); set COMFYUI_CHECKPOINT` };
      }
      const version = stats?.system?.comfyui_version ? ` ${stats.system.comfyui_version}` : '';
      const detail = `reachable (ComfyUI${version}); ${o.workflowName} fits its nodes${current ? `; checkpoint ${current} present` : ''}`;
      const info = await nodeInfo(PICTURE_NODES, signal);
      const missing = PICTURE_NODES.filter((c) => !info[c]);
      if (graph && missing.length) return { ok: false, detail: `${detail}; but pictures (image prompts, zoom, pan, vary) need ${missing.join(', ')}, which it lacks: update ComfyUI` };
      const model = await upscaleModel(signal);
      return { ok: true, detail: `${detail}; ${model ? `upscale model ${model}` : 'no upscale model, so U resizes with Lanczos'}` };
    },
    async choices(field, signal) {
      if (field !== 'model') return [];
      return (await limits(signal)).checkpoint?.choices ?? [];
    },
  };
}

/** `width × height` scaled so the long side is `side` (down only unless `grow`), each side a multiple of 8 and at least 64. */
function fitSize(width: number, height: number, side: number, grow = false): { width: number; height: number } {
  const scale = grow ? side / Math.max(width, height) : Math.min(1, side / Math.max(width, height));
  const round = (v: number) => Math.max(64, Math.floor((v * scale) / 8) * 8);
  return { width: round(width), height: round(height) };
}

function label(key: MapKey): string {
  return { prompt: 'prompt', negative: 'negative prompt', seed: 'seed', steps: 'steps', cfg: 'guidance (CFG)', width: 'width', height: 'height', batch: 'image count', checkpoint: 'model (checkpoint)' }[key];
}

/** History status messages are `[name, data]` pairs; the error one says which node failed and why. */
function describeMessages(messages: unknown[] | undefined): string | undefined {
  for (const m of messages ?? []) {
    if (!Array.isArray(m) || m[0] !== 'execution_error') continue;
    const d = (m[1] ?? {}) as Record<string, unknown>;
    return `node "${String(d.node_id)}" (${String(d.node_type)}) failed: ${String(d.exception_message ?? 'error').trim().slice(0, 300)}`;
  }
  return undefined;
}
