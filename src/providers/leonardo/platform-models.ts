import { UserError } from '../../core/errors.ts';
import { knownModel, LEONARDO_MODELS, sameModelName } from './models.ts';

export interface PlatformModel {
  id: string;
  name: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Turns a model name a user typed into the id Leonardo takes: our table first (no call), then the
 * platform's own list from `GET /platformModels`, fetched once and kept for `ttlMs`. A failed fetch is not
 * cached, so the next job asks again.
 */
export class PlatformModels {
  private cached: { at: number; list: PlatformModel[] } | undefined;

  constructor(
    private readonly fetchList: (signal: AbortSignal) => Promise<PlatformModel[]>,
    private readonly ttlMs = 60 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  async resolve(nameOrId: string, signal: AbortSignal): Promise<string> {
    const known = knownModel(nameOrId);
    if (known) return known.id;
    // A custom (fine-tuned) model is given by its id, which the platform list does not contain.
    if (UUID.test(nameOrId)) return nameOrId;
    const hit = (await this.list(signal)).find((m) => sameModelName(m.name, nameOrId));
    if (hit) return hit.id;
    throw new UserError(
      'INVALID_OPTIONS',
      `Leonardo.Ai has no model called "${nameOrId}". Try ${LEONARDO_MODELS.map((m) => m.name).join(', ')}, a platform model's name, or a model id.`,
    );
  }

  async list(signal: AbortSignal): Promise<PlatformModel[]> {
    if (this.cached && this.now() - this.cached.at < this.ttlMs) return this.cached.list;
    const list = await this.fetchList(signal);
    this.cached = { at: this.now(), list };
    return list;
  }
}
