import { UserError } from '../../core/errors.ts';
import { dimensionsFor, FIELD_LABELS, type GenerationRequest, type RequestField } from '../../core/request.ts';

export const A1111_FIELDS: readonly RequestField[] = ['negativePrompt', 'aspectRatio', 'width', 'height', 'count', 'seed', 'steps', 'guidance', 'model'];

/** The txt2img body we send; names from `modules/api/models.py` (fields of StableDiffusionProcessingTxt2Img). */
export interface Txt2ImgBody {
  prompt: string;
  negative_prompt?: string;
  seed: number;
  steps?: number;
  cfg_scale?: number;
  width: number;
  height: number;
  batch_size: number;
  n_iter: number;
  sampler_name?: string;
  override_settings?: { sd_model_checkpoint: string };
  override_settings_restore_afterwards: boolean;
  send_images: boolean;
  save_images: boolean;
}

/** What the server offers, read from /sdapi/v1/sd-models and /samplers. */
export interface A1111Catalog {
  /** Every name a checkpoint is known by (title, model_name, filename), mapped to its title. */
  models: Map<string, string>;
  samplers: Set<string>;
}

const invalid = (msg: string) => new UserError('INVALID_OPTIONS', msg);

/** The request as a txt2img body, refused here for anything the server would refuse or silently ignore. */
export function buildTxt2ImgBody(req: GenerationRequest, o: { model?: string; sampler?: string; catalog: A1111Catalog; name: string }): Txt2ImgBody {
  if (req.mode !== 'simple') throw new UserError('UNSUPPORTED', `${o.name} has no advanced (raw Midjourney prompt) mode: switch to simple mode.`);
  for (const field of Object.keys(FIELD_LABELS) as RequestField[]) {
    const v = req[field];
    if (v === undefined || A1111_FIELDS.includes(field)) continue;
    if (field === 'midjourney' && Object.keys(v as object).length === 0) continue;
    throw new UserError('UNSUPPORTED', `${o.name} cannot use ${FIELD_LABELS[field]}: remove it or pick another provider.`);
  }
  const flag = /(^|\s)(--[a-zA-Z][\w-]*)/.exec(req.prompt);
  if (flag) throw invalid(`${o.name} takes a plain description, without Midjourney parameters: remove "${flag[2]}" and use the typed options.`);
  if (req.aspectRatio && (req.width !== undefined || req.height !== undefined)) throw new UserError('CONFLICT', 'Give either an aspect ratio or a width and height, not both.');
  if ((req.width === undefined) !== (req.height === undefined)) throw invalid(`${o.name} needs both width and height: set the other one too.`);
  const size = req.width !== undefined && req.height !== undefined ? { width: req.width, height: req.height } : dimensionsFor(req.aspectRatio, 1024, 8);
  const body: Txt2ImgBody = {
    prompt: req.prompt.trim(),
    seed: req.seed ?? -1,
    width: size.width,
    height: size.height,
    batch_size: req.count ?? 4,
    n_iter: 1,
    // Our per-request model must not stay loaded behind other users' backs.
    override_settings_restore_afterwards: true,
    send_images: true,
    save_images: false,
  };
  if (req.negativePrompt) body.negative_prompt = req.negativePrompt;
  if (req.steps !== undefined) body.steps = req.steps;
  if (req.guidance !== undefined) body.cfg_scale = req.guidance;
  const model = req.model ?? o.model;
  if (model !== undefined) {
    // The server silently drops an unknown checkpoint and renders with whatever is loaded: refuse it here.
    const title = o.catalog.models.get(model);
    if (!title) {
      const names = [...new Set(o.catalog.models.values())];
      throw invalid(`${o.name} has no checkpoint "${model}". Available: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}${names.length ? '' : 'none'}.`);
    }
    body.override_settings = { sd_model_checkpoint: title };
  }
  if (o.sampler !== undefined) body.sampler_name = o.sampler;
  validateTxt2ImgBody(body, o.catalog, o.name);
  return body;
}

/** The server's own checks (`api.py` validate_sampler_name; pydantic's integer fields), done before sending. */
export function validateTxt2ImgBody(b: Txt2ImgBody, catalog: A1111Catalog, name: string): void {
  if (!b.prompt) throw invalid('prompt is empty: describe what to draw.');
  for (const k of ['seed', 'steps', 'width', 'height', 'batch_size', 'n_iter'] as const) {
    const v = b[k];
    if (v !== undefined && !Number.isInteger(v)) throw invalid(`${k} must be a whole number for ${name}, not ${v}.`);
  }
  if (b.cfg_scale !== undefined && !Number.isFinite(b.cfg_scale)) throw invalid(`guidance must be a number for ${name}.`);
  if (b.sampler_name !== undefined && !catalog.samplers.has(b.sampler_name)) {
    throw invalid(`${name} has no sampler "${b.sampler_name}" (A1111_SAMPLER). Available: ${[...catalog.samplers].slice(0, 12).join(', ')}.`);
  }
}
