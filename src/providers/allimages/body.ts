import { UserError } from '../../core/errors.ts';
import { formatPrompt } from '../../core/prompt.ts';
import { FIELD_LABELS, FORMATS, PHOTO_TYPES, TIMES, WEATHERS, type GenerationRequest, type RequestField } from '../../core/request.ts';
import { midjourneyVersion, promptWithPictures, type PictureUrl } from '../midjourney-pictures.ts';

/** The create body as all-images.ai documents it (POST /v1/image-generations). */
export interface AllImagesCreateBody {
  name: string;
  mode: 'simple' | 'advanced';
  prompt: string;
  optimizePrompt?: boolean;
  processMode?: 'fast' | 'relax';
  params?: { name: string; value: string }[];
  tags?: string[];
  metaData?: Record<string, string>;
}

export const ALLIMAGES_PROMPT_MAX = 4096;
/** all-images.ai always proposes four images per generation. */
export const ALLIMAGES_IMAGE_COUNT = 4;
/**
 * The integration guide spells the time-of-day parameter `Time`; the API reference (the OpenAPI
 * `ApiPrintParam` enum, transcribed by corsairdev/corsair) lists `time`. The reference defines what the
 * server validates, so we send `time`.
 */
export const TIME_PARAM = 'time';
const VERSION = /^[\w.-]{1,16}$/;

export const SIMPLE_FIELDS: readonly RequestField[] = ['aspectRatio', 'chaos', 'stylize', 'negativePrompt', 'photo', 'weather', 'timeOfDay', 'camera', 'optimize', 'processMode', 'count', 'model'];
const ADVANCED_FIELDS: readonly RequestField[] = ['aspectRatio', 'chaos', 'stylize', 'negativePrompt', 'seed', 'tiling', 'midjourney', 'processMode', 'count'];
/** Fields that Midjourney flags can carry: in simple mode we point the user to advanced mode for them. */
const FLAG_FIELDS = new Set<RequestField>(['seed', 'tiling', 'midjourney']);

const invalid = (msg: string) => new UserError('INVALID_OPTIONS', msg);

/** The user's pictures are mapped by `buildAllImagesBody` itself (fromImageUrl, or a Midjourney prompt). */
const PICTURE_FIELDS = new Set<RequestField>(['images', 'imageWeight', 'blend']);
/** Simple-mode settings that have no Midjourney flag, so they cannot travel in a prompt with pictures. */
const SIMPLE_ONLY: readonly RequestField[] = ['photo', 'weather', 'timeOfDay', 'camera', 'optimize'];

function refuseUnsupported(req: GenerationRequest, allowed: readonly RequestField[]): void {
  for (const field of Object.keys(FIELD_LABELS) as RequestField[]) {
    const value = req[field];
    if (value === undefined || allowed.includes(field) || PICTURE_FIELDS.has(field)) continue;
    if (field === 'midjourney' && Object.keys(value as object).length === 0) continue;
    const hint =
      req.mode === 'simple' && FLAG_FIELDS.has(field)
        ? ' Switch to advanced mode to send Midjourney parameters, or remove it.'
        : req.mode === 'advanced'
          ? ' It is a simple-mode setting: switch to simple mode or remove it.'
          : ' Remove it or pick another provider.';
    throw new UserError('UNSUPPORTED', `all-images.ai (${req.mode} mode) cannot use ${FIELD_LABELS[field]}.${hint}`);
  }
}

/**
 * Checks every documented rule and builds the body. Throws a UserError naming the field before anything
 * is sent, so a bad request is never billed. `pictures` are the public URLs of `req.images`, in order:
 * one image prompt in simple mode is the reference's own `fromImageUrl` param; anything more (style
 * references, --iw, a blend, several pictures) only Midjourney's prompt can say, so it goes in advanced mode.
 */
export function buildAllImagesBody(req: GenerationRequest, ids: { name: string; metaData: Record<string, string> }, pictures: readonly PictureUrl[] = []): AllImagesCreateBody {
  if (req.mode !== 'simple' && req.mode !== 'advanced') throw new UserError('UNSUPPORTED', `all-images.ai has simple and advanced modes, not "${String(req.mode)}".`);
  if (req.processMode !== undefined && req.processMode !== 'fast' && req.processMode !== 'relax') {
    throw invalid(`process mode (fast/relax) must be fast or relax, not "${String(req.processMode)}".`);
  }
  if (req.count !== undefined && req.count !== ALLIMAGES_IMAGE_COUNT) {
    throw new UserError('UNSUPPORTED', `all-images.ai always makes ${ALLIMAGES_IMAGE_COUNT} images: remove the image count (count) option.`);
  }
  // Advanced mode sends --ar verbatim to Midjourney, which takes any whole-number W:H; only simple mode's `format` has a list.
  if (req.mode === 'simple' && req.aspectRatio !== undefined && !(FORMATS as readonly string[]).includes(req.aspectRatio)) {
    throw invalid(`all-images.ai supports the aspect ratios ${FORMATS.join(', ')} in simple mode; ${req.aspectRatio} is not one of them. Use advanced mode for any --ar W:H.`);
  }
  const base = {
    name: ids.name,
    ...(req.processMode ? { processMode: req.processMode } : {}),
    ...(req.tags?.length ? { tags: [...req.tags] } : {}),
    metaData: { ...req.metadata, ...ids.metaData },
  };
  if ((req.images?.length ?? 0) !== pictures.length) throw new Error('every picture needs its public URL');
  const asPrompt = pictures.length > 0 && (req.mode === 'advanced' || pictures.length > 1 || pictures[0]!.role !== 'prompt' || req.imageWeight !== undefined || req.blend === true);
  if (asPrompt && req.mode === 'simple') {
    const simpleOnly = SIMPLE_ONLY.filter((f) => req[f] !== undefined);
    if (simpleOnly.length) {
      throw new UserError('UNSUPPORTED', `all-images.ai takes style references, --iw, blends and several pictures only as a Midjourney prompt, which has no ${simpleOnly.map((f) => FIELD_LABELS[f]).join(', ')}: remove it, or give a single image prompt.`);
    }
  }
  if (req.mode === 'advanced' || asPrompt) {
    refuseUnsupported(req, req.mode === 'advanced' ? ADVANCED_FIELDS : SIMPLE_FIELDS);
    // Advanced mode sends what the user typed, unknown flags included; typed options were appended as flags.
    if (req.mode === 'simple') {
      const flag = /(^|\s)(--[a-zA-Z][\w-]*)/.exec(req.prompt);
      if (flag) throw invalid(`all-images.ai simple mode takes a plain description, without Midjourney parameters: remove "${flag[2]}" or switch to advanced mode.`);
    }
    let prompt = req.mode === 'advanced' ? (req.rawPrompt ?? formatPrompt(req)) : formatPrompt({ ...req, mode: 'advanced' });
    if (req.mode === 'simple' && req.model !== undefined) {
      if (!VERSION.test(req.model)) throw invalid(`model is the Midjourney version all-images.ai should use, such as "6.1", not "${req.model}".`);
      prompt = `${prompt} --v ${req.model}`;
    }
    if (pictures.length) {
      const version = midjourneyVersion(req.mode === 'simple' ? req.model : undefined, prompt);
      prompt = promptWithPictures(prompt, pictures, { ...(req.imageWeight !== undefined ? { weight: req.imageWeight } : {}), blend: req.blend === true, ...(version !== undefined ? { version } : {}), provider: 'all-images.ai' });
    }
    if (prompt.length > ALLIMAGES_PROMPT_MAX) throw invalid(`The prompt is ${prompt.length} characters; all-images.ai takes at most ${ALLIMAGES_PROMPT_MAX}. Shorten it.`);
    return { ...base, mode: 'advanced', prompt };
  }

  refuseUnsupported(req, SIMPLE_FIELDS);
  const prompt = req.prompt.trim();
  const params: { name: string; value: string }[] = [];
  if (pictures[0]) params.push({ name: 'fromImageUrl', value: pictures[0].url });
  const flag = /(^|\s)(--[a-zA-Z][\w-]*)/.exec(prompt);
  if (flag) {
    throw invalid(`all-images.ai simple mode takes a plain description, without Midjourney parameters: remove "${flag[2]}" or switch to advanced mode.`);
  }
  if (prompt.length > ALLIMAGES_PROMPT_MAX) throw invalid(`The prompt is ${prompt.length} characters; all-images.ai takes at most ${ALLIMAGES_PROMPT_MAX}. Shorten it.`);
  if (req.model !== undefined) {
    if (!VERSION.test(req.model)) throw invalid(`model is the Midjourney version all-images.ai should use, such as "6.1", not "${req.model}".`);
    params.push({ name: 'version', value: req.model });
  }
  if (req.photo !== undefined) {
    if (!(PHOTO_TYPES as readonly string[]).includes(req.photo)) throw invalid(`photo type must be one of ${PHOTO_TYPES.join(', ')}.`);
    params.push({ name: 'templatePrompt', value: req.photo });
  }
  if (req.aspectRatio !== undefined) params.push({ name: 'format', value: req.aspectRatio });
  if (req.weather !== undefined) {
    if (!(WEATHERS as readonly string[]).includes(req.weather)) throw invalid(`weather must be one of ${WEATHERS.join(', ')}.`);
    params.push({ name: 'weather', value: req.weather });
  }
  if (req.timeOfDay !== undefined) {
    if (!(TIMES as readonly string[]).includes(req.timeOfDay)) throw invalid(`time of day must be one of ${TIMES.join(', ')}.`);
    params.push({ name: TIME_PARAM, value: req.timeOfDay });
  }
  if (req.camera !== undefined) {
    const camera = req.camera.trim();
    if (!camera) throw invalid('camera is empty: name a camera (e.g. GoPro) or remove the option.');
    params.push({ name: 'camera', value: camera });
  }
  if (req.chaos !== undefined) {
    if (!Number.isInteger(req.chaos) || req.chaos < 0 || req.chaos > 100) throw invalid(`chaos (--chaos) must be a whole number from 0 to 100, not ${req.chaos}.`);
    params.push({ name: 'chaos', value: String(req.chaos) });
  }
  if (req.stylize !== undefined) {
    if (!Number.isInteger(req.stylize) || req.stylize < 0 || req.stylize > 1000) throw invalid(`stylize (--stylize) must be a whole number from 0 to 1000, not ${req.stylize}.`);
    params.push({ name: 'stylize', value: String(req.stylize) });
  }
  if (req.negativePrompt !== undefined) {
    const no = req.negativePrompt.trim();
    if (!no) throw invalid('negative prompt (--no) is empty: list what to leave out or remove it.');
    params.push({ name: 'interdiction', value: no });
  }
  return {
    ...base,
    mode: 'simple',
    prompt,
    ...(req.optimize !== undefined ? { optimizePrompt: req.optimize } : {}),
    ...(params.length ? { params } : {}),
  };
}
