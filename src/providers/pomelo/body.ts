import { UserError } from '../../core/errors.ts';
import { formatPrompt } from '../../core/prompt.ts';
import { dimensionsFor, FIELD_LABELS, type GenerationRequest, type RequestField } from '../../core/request.ts';

/** Body of POST /api/v1/midjourney/generate as the gateway documents it. */
export interface MidjourneyBody {
  prompt: string;
  style?: 'raw' | 'cute' | 'scenic';
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

export const MJ_STYLES = ['raw', 'cute', 'scenic'] as const;
export const MJ_MAX_OUTPUTS = 4;
export const FLUX_MAX_STEPS = 50;

export const MIDJOURNEY_FIELDS: readonly RequestField[] = ['style', 'width', 'height', 'aspectRatio', 'model', 'count'];
/** In advanced mode the flags in the raw prompt carry these; the gateway's own fields still apply. */
const MIDJOURNEY_ADVANCED_FIELDS: readonly RequestField[] = [...MIDJOURNEY_FIELDS, 'negativePrompt', 'seed', 'chaos', 'stylize', 'tiling', 'midjourney'];
export const FLUX_FIELDS: readonly RequestField[] = ['negativePrompt', 'style', 'seed', 'steps', 'aspectRatio'];

const invalid = (msg: string) => new UserError('INVALID_OPTIONS', msg);

function refuseOthers(req: GenerationRequest, allowed: readonly RequestField[], provider: string, hint: string): void {
  for (const field of Object.keys(FIELD_LABELS) as RequestField[]) {
    const v = req[field];
    if (v === undefined || allowed.includes(field)) continue;
    if (field === 'midjourney' && Object.keys(v as object).length === 0) continue;
    throw new UserError('UNSUPPORTED', `${provider} cannot use ${FIELD_LABELS[field]}.${hint}`);
  }
}

export function buildMidjourneyBody(req: GenerationRequest): MidjourneyBody {
  const name = 'The Midjourney gateway';
  let prompt: string;
  if (req.mode === 'advanced') {
    refuseOthers(req, MIDJOURNEY_ADVANCED_FIELDS, name, ' Remove it.');
    prompt = req.rawPrompt ?? formatPrompt(req);
  } else {
    refuseOthers(req, MIDJOURNEY_FIELDS, name, ' Switch to advanced mode to send Midjourney parameters, or remove it.');
    prompt = req.prompt.trim();
    const flag = /(^|\s)(--[a-zA-Z][\w-]*)/.exec(prompt);
    if (flag) throw invalid(`Simple mode sends a plain description: remove "${flag[2]}" or switch to advanced mode.`);
  }
  if (!prompt.trim()) throw invalid('prompt is empty: describe what to draw.');
  const body: MidjourneyBody = { prompt };
  if (req.style !== undefined) {
    if (!(MJ_STYLES as readonly string[]).includes(req.style)) throw invalid(`style must be one of ${MJ_STYLES.join(', ')} for the Midjourney gateway, not "${req.style}".`);
    body.style = req.style as MidjourneyBody['style'];
  }
  if (req.aspectRatio && (req.width !== undefined || req.height !== undefined)) throw new UserError('CONFLICT', 'Give either an aspect ratio or a width and height, not both.');
  if (req.width !== undefined || req.height !== undefined) {
    if (req.width === undefined || req.height === undefined) throw invalid('Set both width and height, or neither.');
    body.width = req.width;
    body.height = req.height;
  } else if (req.aspectRatio && req.mode === 'simple') {
    // In advanced mode --ar travels in the prompt; in simple mode it becomes the documented width/height.
    Object.assign(body, dimensionsFor(req.aspectRatio, 1024, 8));
  }
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

export function buildFluxBody(req: GenerationRequest): FluxBody {
  const name = 'Flux.1';
  if (req.mode !== 'simple') throw new UserError('UNSUPPORTED', 'Flux.1 has no advanced (raw Midjourney prompt) mode: switch to simple mode.');
  // One image per call: a count of 1 says nothing new.
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
