import { UserError } from '../../core/errors.ts';
import { formatPrompt } from '../../core/prompt.ts';
import { dimensionsFor, FIELD_LABELS, type GenerationRequest, type RequestField } from '../../core/request.ts';
import { midjourneyVersion, promptWithPictures, type PictureUrl } from '../midjourney-pictures.ts';

/** Body of POST /api/v1/midjourney/generate as the gateway documents it. */
export interface MidjourneyBody {
  prompt: string;
  /** Free text: the docs give "raw", "cute", "scenic" as examples, not as a list. */
  style?: string;
  width?: number;
  height?: number;
  model?: string;
  num_outputs?: number;
}

/** Body of POST /api/v1/flux.1. */
export interface FluxBody {
  prompt: string;
  negative_prompt?: string;
  style?: string;
  seed?: number;
  steps?: number;
  aspect_ratio?: string;
}

/** Image models of POST /api/v1/task (docs/api/tasks, Black Forest Labs). */
export const FLUX_TASK_MODELS = ['flux-1-pro', 'flux-1-dev', 'flux-1-schnell'] as const;
export type FluxTaskModel = (typeof FLUX_TASK_MODELS)[number];

/** Body of POST /api/v1/task for an image model, as its request example shows it. */
export interface FluxTaskBody {
  model: FluxTaskModel;
  prompt: string;
  width?: number;
  height?: number;
  num_inference_steps?: number;
  guidance_scale?: number;
  seed?: number;
}

export const MJ_MAX_OUTPUTS = 4;
/** The gateway's documented default `model` ("default: \"5\"" [img]). */
export const MJ_DEFAULT_VERSION = 5;
export const FLUX_MAX_STEPS = 50;

export const MIDJOURNEY_FIELDS: readonly RequestField[] = ['style', 'width', 'height', 'aspectRatio', 'model', 'count'];
/** In advanced mode the flags in the raw prompt carry these; the gateway's own fields still apply. */
const MIDJOURNEY_ADVANCED_FIELDS: readonly RequestField[] = [...MIDJOURNEY_FIELDS, 'negativePrompt', 'seed', 'chaos', 'stylize', 'tiling', 'midjourney'];
export const FLUX_FIELDS: readonly RequestField[] = ['negativePrompt', 'style', 'seed', 'steps', 'aspectRatio', 'model', 'guidance'];
/** What the task endpoint's example carries; the rest belongs to the flux.1 endpoint only. */
const FLUX_TASK_FIELDS: readonly RequestField[] = ['seed', 'steps', 'aspectRatio', 'model', 'guidance', 'width', 'height', 'count'];

const invalid = (msg: string) => new UserError('INVALID_OPTIONS', msg);

function refuseOthers(req: GenerationRequest, allowed: readonly RequestField[], provider: string, hint: string, pictures = false): void {
  for (const field of Object.keys(FIELD_LABELS) as RequestField[]) {
    const v = req[field];
    if (v === undefined || allowed.includes(field)) continue;
    if (pictures && (field === 'images' || field === 'imageWeight' || field === 'blend')) continue;
    if (field === 'midjourney' && Object.keys(v as object).length === 0) continue;
    throw new UserError('UNSUPPORTED', `${provider} cannot use ${FIELD_LABELS[field]}.${hint}`);
  }
}

/**
 * The gateway's only input is Midjourney's prompt, so the user's pictures (public URLs of `req.images`, in
 * order) go where Midjourney reads them: image prompts first, --sref and --iw after (midjourney-pictures.ts).
 */
export function buildMidjourneyBody(req: GenerationRequest, pictures: readonly PictureUrl[] = []): MidjourneyBody {
  const name = 'The Midjourney gateway';
  if ((req.images?.length ?? 0) !== pictures.length) throw new Error('every picture needs its public URL');
  let prompt: string;
  if (req.mode === 'advanced') {
    refuseOthers(req, MIDJOURNEY_ADVANCED_FIELDS, name, ' Remove it.', true);
    prompt = req.rawPrompt ?? formatPrompt(req);
  } else {
    refuseOthers(req, MIDJOURNEY_FIELDS, name, ' Switch to advanced mode to send Midjourney parameters, or remove it.', true);
    prompt = req.prompt.trim();
    const flag = /(^|\s)(--[a-zA-Z][\w-]*)/.exec(prompt);
    if (flag) throw invalid(`Simple mode sends a plain description: remove "${flag[2]}" or switch to advanced mode.`);
  }
  if (!prompt.trim()) throw invalid('prompt is empty: describe what to draw.');
  if (pictures.length) {
    const version = midjourneyVersion(req.model, req.mode === 'advanced' ? prompt : undefined) ?? MJ_DEFAULT_VERSION;
    prompt = promptWithPictures(prompt, pictures, { ...(req.imageWeight !== undefined ? { weight: req.imageWeight } : {}), blend: req.blend === true, version, provider: name });
  }
  const body: MidjourneyBody = { prompt };
  if (req.style !== undefined) {
    const style = req.style.trim();
    if (!style) throw invalid('style is empty: name a style (e.g. raw, cute, scenic) or remove it.');
    body.style = style;
  }
  // Without --ar or a size nothing is sent, so the gateway's documented default (512×512) applies.
  Object.assign(body, sizeFor(req, 8));
  if (req.model !== undefined) {
    if (!/^[\w.-]{1,16}$/.test(req.model)) throw invalid(`model should be a Midjourney version such as "5" or "6.1", not "${req.model}".`);
    body.model = req.model;
  }
  if (req.count !== undefined) {
    if (!Number.isInteger(req.count) || req.count < 1 || req.count > MJ_MAX_OUTPUTS) throw invalid(`image count (count) must be from 1 to ${MJ_MAX_OUTPUTS} for the Midjourney gateway, not ${req.count}.`);
    body.num_outputs = req.count;
  }
  return body;
}

/**
 * Width and height for the gateway: an explicit size, or one derived from --ar. In advanced mode --ar also
 * travels in the prompt, so the fields are derived from it and an explicit size must agree with it.
 */
function sizeFor(req: GenerationRequest, step: number): { width?: number; height?: number } {
  if (req.width === undefined && req.height === undefined) return req.aspectRatio ? dimensionsFor(req.aspectRatio, 1024, step) : {};
  if (req.width === undefined || req.height === undefined) throw invalid('Set both width and height, or neither.');
  if (req.aspectRatio) {
    const [w, h] = req.aspectRatio.split(':').map(Number) as [number, number];
    if (Math.abs(req.width / req.height - w / h) > 0.02 * (w / h)) {
      throw new UserError('CONFLICT', `The size ${req.width}×${req.height} is not the aspect ratio ${req.aspectRatio}. Keep one of them, or make them agree.`);
    }
  }
  return { width: req.width, height: req.height };
}

/** A Flux model named by the user goes through the task endpoint, which is where the docs list the models. */
export function buildFluxTaskBody(req: GenerationRequest): FluxTaskBody {
  const model = req.model as FluxTaskModel;
  if (req.mode !== 'simple') throw new UserError('UNSUPPORTED', 'Flux.1 has no advanced (raw Midjourney) prompt mode: switch to simple mode.');
  refuseOthers({ ...req, count: req.count === 1 ? undefined : req.count }, FLUX_TASK_FIELDS.filter((f) => f !== 'count'), `Flux model ${model} (task endpoint)`, ' Remove it, or leave the model unset to use the Flux.1 endpoint.');
  const prompt = req.prompt.trim();
  if (!prompt) throw invalid('prompt is empty: describe what to draw.');
  const flag = /(^|\s)(--[a-zA-Z][\w-]*)/.exec(prompt);
  if (flag) throw invalid(`Flux.1 takes a plain description: remove "${flag[2]}" (use the typed options instead).`);
  const body: FluxTaskBody = { model, prompt, ...sizeFor(req, 16) };
  if (req.steps !== undefined) {
    if (!Number.isInteger(req.steps) || req.steps < 1) throw invalid(`steps must be a whole number of at least 1, not ${req.steps}.`);
    body.num_inference_steps = req.steps;
  }
  if (req.guidance !== undefined) body.guidance_scale = req.guidance;
  if (req.seed !== undefined) body.seed = req.seed;
  return body;
}

export const isFluxTaskModel = (model: string | undefined): model is FluxTaskModel => (FLUX_TASK_MODELS as readonly string[]).includes(model ?? '');

export function buildFluxBody(req: GenerationRequest): FluxBody {
  const name = 'Flux.1';
  if (req.mode !== 'simple') throw new UserError('UNSUPPORTED', 'Flux.1 has no advanced (raw Midjourney prompt) mode: switch to simple mode.');
  // One image per call: a count of 1 says nothing new.
  if (req.model !== undefined && !isFluxTaskModel(req.model)) throw invalid(`model must be one of ${FLUX_TASK_MODELS.join(', ')} for Flux.1, not "${req.model}".`);
  if (req.guidance !== undefined) throw new UserError('UNSUPPORTED', `Flux.1 takes guidance only with a model chosen (${FLUX_TASK_MODELS.join(', ')}): add the model, or remove guidance.`);
  refuseOthers({ ...req, count: req.count === 1 ? undefined : req.count }, FLUX_FIELDS, name, ' Remove it or pick another provider.');
  const prompt = req.prompt.trim();
  if (!prompt) throw invalid('prompt is empty: describe what to draw.');
  const flag = /(^|\s)(--[a-zA-Z][\w-]*)/.exec(prompt);
  if (flag) throw invalid(`Flux.1 takes a plain description: remove "${flag[2]}" (use the typed options instead).`);
  const body: FluxBody = { prompt };
  if (req.negativePrompt) body.negative_prompt = req.negativePrompt;
  if (req.style) body.style = req.style;
  if (req.seed !== undefined) {
    if (!Number.isInteger(req.seed) || req.seed < 0) throw invalid(`seed (--seed) must be a whole number, not ${req.seed}.`);
    body.seed = req.seed;
  }
  if (req.steps !== undefined) {
    if (!Number.isInteger(req.steps) || req.steps < 1 || req.steps > FLUX_MAX_STEPS) throw invalid(`steps must be a whole number from 1 to ${FLUX_MAX_STEPS} for Flux.1, not ${req.steps}.`);
    body.steps = req.steps;
  }
  if (req.aspectRatio) {
    if (!/^[1-9]\d{0,3}:[1-9]\d{0,3}$/.test(req.aspectRatio)) throw invalid(`aspect ratio must be whole numbers W:H such as 16:9, not "${req.aspectRatio}".`);
    body.aspect_ratio = req.aspectRatio;
  }
  return body;
}
