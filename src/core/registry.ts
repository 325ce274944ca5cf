import { UserError } from './errors.ts';
import type { ImageProvider, ProviderCapabilities } from './provider.ts';

/** What a job of a provider that is no longer configured can still offer: nothing but its images. */
export const NO_CAPABILITIES: ProviderCapabilities = {
  modes: ['simple'],
  fields: [],
  aspectRatios: 'any',
  maxCount: 1,
  upscale: false,
  variations: false,
  progressPercent: false,
  previews: false,
  webhooks: false,
};

/** Providers by id; the CLI, commands and `/help` list from here. */
export class ProviderRegistry {
  private readonly byId = new Map<string, ImageProvider>();

  register(provider: ImageProvider): this {
    this.byId.set(provider.id, provider);
    return this;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get(id: string): ImageProvider {
    const p = this.byId.get(id);
    if (!p) {
      throw new UserError('NOT_CONFIGURED', `Provider "${id}" is not configured here. Available: ${this.ids().join(', ') || 'none'}.`);
    }
    return p;
  }

  /** A provider's capabilities, or none when it was removed from the configuration since the job ran. */
  capabilities(id: string): ProviderCapabilities {
    return this.byId.get(id)?.capabilities ?? NO_CAPABILITIES;
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  all(): ImageProvider[] {
    return [...this.byId.values()];
  }
}
