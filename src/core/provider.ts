import type { ImageRole, GenerationRequest, Mode, RequestField } from './request.ts';
import type { UpscaleMode, VaryStrength } from './job.ts';

/**
 * What a provider can do. The UI offers only this, and `checkCapabilities` refuses a request
 * that asks for more before anything is billed.
 */
export interface ProviderCapabilities {
  modes: readonly Mode[];
  /** Request fields this provider expresses in simple mode; anything else set on a request is refused. */
  fields: readonly RequestField[];
  /** Allowed aspect ratios, or 'any' for any whole-number W:H. */
  aspectRatios: readonly string[] | 'any';
  maxCount: number;
  /** Images per generation when the provider decides it (all-images.ai always returns four). */
  fixedCount?: number;
  upscale: boolean;
  variations: boolean;
  progressPercent: boolean;
  previews: boolean;
  webhooks: boolean;
  // Optional refinements: a provider that leaves one out offers that option as its field allows (free text,
  // the request schema's range), so older adapters keep working unchanged.
  /** Models users may pick by name with the `model` option; the first is the default. */
  models?: readonly ProviderModel[];
  /** Style names the `style` option accepts; absent: free text. */
  styles?: readonly string[];
  /** Accepted range of the `steps` option. */
  steps?: NumberRange;
  /** Accepted range of the `guidance` option. */
  guidance?: NumberRange;
  /** Bounds of explicit `width` / `height`. */
  size?: NumberRange & { multipleOf: number };
  /** Fewer images above a side length (Leonardo: at most 4 when a side is over 768 px). */
  largeSize?: { overSide: number; maxCount: number };
  /** Takes a user's own pictures (`request.images`): absent, it takes none and no image option is offered. */
  imageInput?: ImageInputCapability;
  /** Paints past a picture's edges (`request.edit` outpaint): Zoom Out, Custom Zoom, pan, Make Square. */
  outpaint?: boolean;
  /** Repaints a region of a picture (`request.edit` inpaint): Vary (Region). */
  inpaint?: boolean;
  /** Maps Vary (Subtle) and Vary (Strong) to its own strength (`SourceImage.strength`). */
  varyStrength?: boolean;
  /** Upscalers beyond the plain U (`SourceImage.upscaleMode`): Upscale (Subtle / Creative). */
  upscaleModes?: readonly UpscaleMode[];
  /** What /help should also say: which models are reachable, what a setting costs. */
  notes?: readonly string[];
}

export interface ImageInputCapability {
  /** How many pictures one request may carry (1-5). */
  maxImages: number;
  /** Which uses it has for them: image prompt, style reference (--sref), character reference (--cref). */
  roles: readonly ImageRole[];
  /** At most this many pictures in one role (Leonardo: one image prompt, one style, one character reference). */
  perRole?: number;
  /** Whether --iw (image weight) maps to something it has (a strength): otherwise --iw is refused. */
  weight?: boolean;
  /** Whether it can combine 2+ pictures into one (/blend). */
  blend?: boolean;
  /** Needs the pictures at a public URL it fetches itself (all-images.ai, the Midjourney gateway): PUBLIC_URL must be set. */
  needsPublicUrl?: boolean;
}

export interface NumberRange {
  min: number;
  max: number;
}

/** A model offered by name; `id` is what the provider's API takes. */
export interface ProviderModel {
  name: string;
  id: string;
  /** What the model needs or refuses, for /help (e.g. "no steps or guidance"). */
  note?: string;
}

/** Progress a provider reports while it runs; every field optional because providers report differently. */
export interface ProviderProgress {
  percent?: number;
  stage?: string;
  /** A low-resolution preview of the images so far. */
  preview?: { bytes: Uint8Array; mime: string };
}

export interface ProviderImage {
  bytes: Uint8Array;
  mime: string;
  width: number;
  height: number;
  /** The provider's id for this image, needed for its native upscale / variation calls. */
  providerImageId?: string;
  nsfw?: boolean;
  seed?: number;
}

export interface ProviderResult {
  images: ProviderImage[];
  seed?: number;
  providerJobId?: string;
  /** A note shown with the result (e.g. "2 images withheld: flagged NSFW"). */
  note?: string;
  /** What the provider says the job used (OpenAI's token counts), kept with the job for /info and billing. */
  usage?: Record<string, number>;
}

/** What a provider is about to send for a billable create, recorded before the call. */
export interface ProviderIntent {
  /** A key unique to this job and attempt, sent to the provider where it accepts one (all-images.ai `name`). */
  key: string;
  operation: 'generate' | 'upscale' | 'vary';
  body: unknown;
}

/** Everything a provider needs from its surroundings while it runs one job. */
export interface ProviderRunContext {
  jobId: string;
  signal: AbortSignal;
  progress(update: ProviderProgress): void;
  /** Persist the intent before the create; resolves once it is durable. */
  recordIntent(intent: ProviderIntent): Promise<void>;
  /** Persist the provider's job id right after the create, so a restart polls instead of creating again. */
  recordSubmitted(providerJobId: string): Promise<void>;
  /** Present when resuming a job: what an earlier attempt recorded. */
  resume?: { intent?: ProviderIntent; providerJobId?: string };
  /** Whether the channel allows NSFW images; providers that flag images withhold the rest. */
  allowNsfw: boolean;
  /** Whether the channel lets U spend provider credits on a full-resolution purchase (all-images.ai). */
  paidUpscale?: boolean;
  /** Reads one of our stored images: the user's pictures (`request.images`), an edit's source, `init.imageId`. */
  readImage?(imageId: string): Promise<{ bytes: Uint8Array; mime: string; width: number; height: number }>;
  /**
   * A public URL of one of our stored images that expires (an unguessable path under PUBLIC_URL), for providers
   * that fetch pictures themselves. Absent when no PUBLIC_URL is set.
   */
  publicImageUrl?(imageId: string): Promise<string>;
}

/** A stored source image for upscale / variation. */
export interface SourceImage {
  bytes: Uint8Array;
  mime: string;
  width: number;
  height: number;
  index: number;
  providerImageId?: string;
  seed?: number;
  request: GenerationRequest;
  /** Vary (Subtle / Strong); absent: the provider's own variation strength. */
  strength?: VaryStrength;
  /** Upscale (Subtle / Creative); absent: the plain upscale. */
  upscaleMode?: UpscaleMode;
}

export interface ImageProvider {
  readonly id: string;
  readonly displayName: string;
  readonly capabilities: ProviderCapabilities;
  /**
   * Jobs the provider runs at once for this key (Leonardo's concurrency slots, a single self-hosted GPU).
   * The queue starts no more than this at it, so jobs past its capacity wait their round-robin turn in
   * our queue, not first-come in the adapter's own line, and leave the other providers' slots alone.
   */
  readonly concurrency?: number;
  generate(request: GenerationRequest, ctx: ProviderRunContext): Promise<ProviderResult>;
  /** The image at full size, through the provider's native upscale where it has one. */
  upscale?(source: SourceImage, ctx: ProviderRunContext): Promise<ProviderResult>;
  /** A variation of the image (native, or image-to-image). */
  vary?(source: SourceImage, ctx: ProviderRunContext): Promise<ProviderResult>;
  /** Values the provider's own server offers for a field (its installed models, samplers), cached; for autocomplete. */
  choices?(field: 'model' | 'sampler', signal: AbortSignal): Promise<string[]>;
  /**
   * Checks the configuration against the live server at start-up. Throws a NOT_CONFIGURED UserError when
   * the configuration can never work there (so the process exits with one line); a server that is merely
   * unreachable now does not throw.
   */
  prepare?(signal: AbortSignal): Promise<void>;
  /** Health / key check for `doctor`. */
  check?(signal: AbortSignal): Promise<{ ok: boolean; detail: string }>;
}
