import { UserError } from './errors.ts';
import type { ImagineOptions } from './imagine-options.ts';
import type { ImageProvider } from './provider.ts';
import { formatFlags, parsePrompt, readFlags } from './prompt.ts';
import { FIELD_LABELS, generationRequestSchema, type GenerationRequest, type RequestField } from './request.ts';
import type { Settings } from './settings.ts';

/** Picks the provider: typed option, then user / channel / server default, then the deployment's. */
export function chooseProvider(options: Pick<ImagineOptions, 'provider'>, merged: Settings, fallback: string): string {
  const id = options.provider ?? merged.provider ?? fallback;
  if (merged.allowedProviders?.length && !merged.allowedProviders.includes(id)) {
    throw new UserError('NOT_ALLOWED', `Provider "${id}" is not allowed in this channel. Allowed: ${merged.allowedProviders.join(', ')}.`);
  }
  return id;
}

/** A typed option and a flag for the same field must agree. */
function agree<T>(typed: T | undefined, flagged: T | undefined, typedName: string, flagRaw: string): T | undefined {
  if (typed !== undefined && flagged !== undefined && typed !== flagged) {
    throw new UserError('CONFLICT', `The option ${typedName}:${String(typed)} and the flag ${flagRaw} disagree. Keep one of them.`);
  }
  return typed ?? flagged;
}

/**
 * Typed options + prompt flags + defaults -> the normalized request, checked against the provider.
 * Precedence: typed option = flag (they must agree), then user, channel, server default, then the provider's.
 * Defaults only apply where the provider can express them; an explicit ask it cannot express is an error.
 */
export function resolveRequest(options: ImagineOptions, merged: Settings, provider: ImageProvider): GenerationRequest {
  return resolveWithDefaults(options, merged, provider).request;
}

/** The request, and which of its fields came from a user / channel / server default rather than the ask. */
export function resolveWithDefaults(options: ImagineOptions, merged: Settings, provider: ImageProvider): { request: GenerationRequest; defaulted: RequestField[] } {
  const defaulted: RequestField[] = [];
  const mode = options.mode ?? merged.mode ?? 'simple';
  const caps = provider.capabilities;
  if (!caps.modes.includes(mode)) {
    throw new UserError(
      'UNSUPPORTED',
      mode === 'advanced'
        ? `Advanced mode sends the raw Midjourney prompt, and ${provider.displayName} is not Midjourney-backed. Use mode:simple, or a Midjourney provider.`
        : `${provider.displayName} only takes advanced (raw Midjourney) prompts. Use mode:advanced.`,
    );
  }
  const parsed = parsePrompt(options.prompt);
  if (!parsed.text) throw new UserError('INVALID_OPTIONS', 'The prompt has flags but no description: say what to draw before the --flags.');
  const flags = readFlags(parsed.flags);
  const rawOf = (names: string[]) => parsed.flags.find((f) => names.includes(f.name))?.raw ?? '';

  // Multi-prompt weights (`cat:: dog::2`) mean something only to Midjourney, which gets them verbatim in advanced mode.
  if (mode === 'simple' && options.prompt.includes('::')) {
    throw new UserError(
      'UNSUPPORTED',
      `Multi-prompts with :: weights work only in advanced mode with a Midjourney provider${caps.modes.includes('advanced') ? ' (add mode:advanced)' : `, and ${provider.displayName} is not one`}. Remove the :: or choose such a provider.`,
    );
  }
  if (mode === 'simple' && flags.unknown.length) {
    const names = flags.unknown.map((f) => `--${f.name}`).join(', ');
    throw new UserError('UNKNOWN_FLAG', `${names} is not a flag Atelier knows. Remove it${caps.modes.includes('advanced') ? ', or use mode:advanced to send the prompt to Midjourney as typed' : ''}.`);
  }

  const req: Record<string, unknown> = {
    mode,
    prompt: parsed.text,
    aspectRatio: agree(options.format, flags.fields.aspectRatio, 'format', rawOf(['ar', 'aspect'])),
    negativePrompt: agree(options.no, flags.fields.negativePrompt, 'no', rawOf(['no'])),
    seed: agree(options.seed, flags.fields.seed, 'seed', rawOf(['seed'])),
    chaos: agree(options.chaos, flags.fields.chaos, 'chaos', rawOf(['chaos', 'c'])),
    stylize: agree(options.stylize, flags.fields.stylize, 'stylize', rawOf(['stylize', 's'])),
    tiling: agree(options.tile, flags.fields.tiling, 'tile', rawOf(['tile'])),
    steps: options.steps,
    guidance: options.guidance,
    width: options.width,
    height: options.height,
    transparency: options.transparent,
    count: options.count,
    photo: options.photo,
    weather: options.weather,
    timeOfDay: options.time,
    camera: options.camera,
    model: options.model,
    style: options.style,
    optimize: options.optimize,
    midjourney: Object.keys(flags.midjourney).length ? flags.midjourney : undefined,
  };

  if (mode === 'simple') {
    for (const [field, value] of Object.entries(req)) {
      if (value === undefined || field === 'mode' || field === 'prompt') continue;
      if (!caps.fields.includes(field as RequestField)) {
        throw new UserError(
          'UNSUPPORTED',
          `${provider.displayName} cannot do ${FIELD_LABELS[field as RequestField] ?? field}. Remove it${caps.modes.includes('advanced') ? ', use mode:advanced,' : ''} or choose another provider (provider option).`,
        );
      }
    }
  } else {
    // Advanced: the prompt goes verbatim; typed options ride along as flags the prompt does not already carry.
    const typedAsFlags = formatFlags({
      aspectRatio: flags.fields.aspectRatio ? undefined : options.format,
      chaos: flags.fields.chaos !== undefined ? undefined : options.chaos,
      stylize: flags.fields.stylize !== undefined ? undefined : options.stylize,
      seed: flags.fields.seed !== undefined ? undefined : options.seed,
      negativePrompt: flags.fields.negativePrompt ? undefined : options.no,
    });
    req.rawPrompt = [options.prompt.trim(), ...typedAsFlags].join(' ');
  }

  // Defaults fill only what the provider can express.
  // An explicit size is the shape: a default format would only conflict with it.
  const sized = req.width !== undefined || req.height !== undefined;
  if (req.aspectRatio === undefined && !sized && merged.format && caps.fields.includes('aspectRatio')) {
    req.aspectRatio = merged.format;
    defaulted.push('aspectRatio');
  }
  if (merged.processMode && caps.fields.includes('processMode')) {
    req.processMode = merged.processMode;
    defaulted.push('processMode');
  }

  // Tags label the generation at the provider (all-images.ai's dashboard); a channel or server sets them.
  if (merged.tags?.length) req.tags = merged.tags;

  // Advanced mode sends --ar verbatim to Midjourney, which takes any W:H: the list binds simple mode only.
  if (mode === 'simple' && typeof req.aspectRatio === 'string' && caps.aspectRatios !== 'any' && !caps.aspectRatios.includes(req.aspectRatio)) {
    throw new UserError('UNSUPPORTED', `${provider.displayName} does not offer the aspect ratio ${req.aspectRatio}. Pick one of ${caps.aspectRatios.join(', ')}.`);
  }
  const count = req.count as number | undefined;
  if (count !== undefined && count > caps.maxCount) {
    throw new UserError('UNSUPPORTED', `${provider.displayName} makes at most ${caps.maxCount} images at a time; ask for count:${caps.maxCount} or fewer.`);
  }
  checkDeclaredRanges(req, caps, provider.displayName);
  if (caps.fixedCount !== undefined && count !== undefined && count !== caps.fixedCount) {
    throw new UserError('UNSUPPORTED', `${provider.displayName} always makes ${caps.fixedCount} images; remove the count option.`);
  }
  return { request: generationRequestSchema.parse(req), defaulted };
}

/**
 * A request moved to another provider (failover), checked against that provider's capabilities: what
 * only a default put there is dropped with a note; anything the user asked for that it cannot express
 * stops the move, with the reason.
 */
export function adaptRequest(request: GenerationRequest, provider: ImageProvider, defaulted: readonly RequestField[]): { request: GenerationRequest; dropped: string[] } | { refusal: string } {
  const caps = provider.capabilities;
  if (!caps.modes.includes(request.mode)) return { refusal: `${provider.displayName} does not take ${request.mode}-mode prompts` };
  const out: Record<string, unknown> = { ...request };
  const dropped: string[] = [];
  const cannot = (field: RequestField): { refusal: string } | undefined => {
    if (!defaulted.includes(field)) return { refusal: `${provider.displayName} cannot do ${FIELD_LABELS[field] ?? field}, which you asked for` };
    delete out[field];
    dropped.push(FIELD_LABELS[field] ?? field);
    return undefined;
  };
  // Advanced prompts travel verbatim: only a provider that takes them (checked above) can receive one.
  if (request.mode === 'simple') {
    for (const [field, value] of Object.entries(request)) {
      if (value === undefined || field === 'mode' || field === 'prompt' || field === 'rawPrompt' || field === 'tags' || field === 'metadata') continue;
      if (PICTURE_FIELDS.has(field)) continue;
      if (!caps.fields.includes(field as RequestField)) {
        const refused = cannot(field as RequestField);
        if (refused) return refused;
      }
    }
  }
  // Pictures are never a default: a provider that cannot take them as asked stops the move.
  const pictures = pictureRefusal(request, caps);
  if (pictures) return { refusal: `${provider.displayName} cannot do ${pictures}, which you asked for` };
  if (typeof out.aspectRatio === 'string' && caps.aspectRatios !== 'any' && !caps.aspectRatios.includes(out.aspectRatio)) {
    const refused = cannot('aspectRatio');
    if (refused) return refused;
  }
  if (request.count !== undefined && (request.count > caps.maxCount || (caps.fixedCount !== undefined && request.count !== caps.fixedCount))) {
    return { refusal: `${provider.displayName} cannot make ${request.count} images at a time` };
  }
  return { request: generationRequestSchema.parse(out), dropped };
}

/** Request fields about the user's pictures: their capabilities are `imageInput`, `outpaint` and `inpaint`, not `fields`. */
const PICTURE_FIELDS = new Set(['images', 'imageWeight', 'blend', 'edit']);

/** What of the request's pictures a provider cannot take, as a label; undefined when it can take them all. */
export function pictureRefusal(request: GenerationRequest, caps: ImageProvider['capabilities']): string | undefined {
  const input = caps.imageInput;
  if (request.images?.length) {
    if (!input || request.images.length > input.maxImages || request.images.some((i) => !input.roles.includes(i.role))) return FIELD_LABELS.images;
    if (request.imageWeight !== undefined && !input.weight) return FIELD_LABELS.imageWeight;
    if (request.blend && !input.blend) return FIELD_LABELS.blend;
  }
  if (request.edit && !(request.edit.kind === 'outpaint' ? caps.outpaint : caps.inpaint)) return FIELD_LABELS.edit;
  return undefined;
}

/** Ranges a provider declares are checked here, before anything is queued or billed. */
function checkDeclaredRanges(req: Record<string, unknown>, caps: ImageProvider['capabilities'], name: string): void {
  const within = (field: 'steps' | 'guidance', label: string) => {
    const v = req[field] as number | undefined;
    const range = caps[field];
    if (v !== undefined && range && (v < range.min || v > range.max)) {
      throw new UserError('INVALID_OPTIONS', `${name} takes ${label} from ${range.min} to ${range.max}, not ${v}.`);
    }
  };
  within('steps', 'steps');
  within('guidance', 'guidance');
  for (const side of ['width', 'height'] as const) {
    const v = req[side] as number | undefined;
    const size = caps.size;
    if (v !== undefined && size && (v < size.min || v > size.max || v % size.multipleOf !== 0)) {
      throw new UserError('INVALID_OPTIONS', `${name} takes a ${side} that is a multiple of ${size.multipleOf} from ${size.min} to ${size.max}, not ${v}.`);
    }
  }
  const style = req.style as string | undefined;
  if (style !== undefined && caps.styles && !caps.styles.some((s) => sameName(s, style))) {
    throw new UserError('INVALID_OPTIONS', `${name} has no style "${style}". Pick one of: ${caps.styles.join(', ')}.`);
  }
}

/** Names match ignoring case, spaces, dashes and underscores ("cinematic close-up" = "CINEMATIC_CLOSE_UP"). */
export function sameName(a: string, b: string): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/[\s_\-()&.]+/g, '');
  return norm(a) === norm(b);
}
