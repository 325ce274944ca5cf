import type { Atelier } from '../core/atelier.ts';
import type { ImageTools, Logger } from '../core/ports.ts';
import type { CommandDefinition } from '../core/command.ts';
import type { Config } from '../config.ts';
import type { HttpServer } from '../server.ts';

/** What the composition root hands every platform adapter. */
export interface PlatformContext {
  atelier: Atelier;
  server: HttpServer;
  config: Config;
  logger: Logger;
  images: ImageTools;
  commands: readonly CommandDefinition[];
  /** A signed public link to a stored picture (PUBLIC_URL/files/…), for platforms that show pictures by address; absent without PUBLIC_URL. */
  publicImageUrl?: (imageId: string) => Promise<string>;
}

/** A started platform adapter. */
export interface RunningPlatform {
  name: string;
  stop(): Promise<void>;
}
