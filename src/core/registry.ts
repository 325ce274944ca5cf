import { UserError } from './errors.ts';
import type { ImageProvider } from './provider.ts';

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

  ids(): string[] {
    return [...this.byId.keys()];
  }

  all(): ImageProvider[] {
    return [...this.byId.values()];
  }
}
