import { Client, Events, GatewayIntentBits } from 'discord.js';
import type { REST } from '@discordjs/rest';
import { GatewayDispatchEvents, Routes, type APIInteraction, type GatewayDispatchPayload } from 'discord-api-types/v10';
import type { Logger } from '../../core/ports.ts';
import type { Handled } from './interactions.ts';
import { REST_DEFAULTS } from './rest.ts';
import type { WorkQueue } from './work-queue.ts';

export interface GatewayOptions {
  token: string;
  /** `DISCORD_SHARDS`: 'auto' (every shard Discord recommends, in this process) or `first-last/total`. */
  shards?: string;
  api: string;
  rest: REST;
  handle: (i: APIInteraction) => Promise<Handled>;
  work: WorkQueue;
  logger: Logger;
  /** Called with the application id from READY, for deployments that did not set DISCORD_APPLICATION_ID. */
  onReady?: (applicationId: string) => void;
}

/**
 * discord.js sharding options from `DISCORD_SHARDS`. 'auto' asks Discord for the recommended count and runs
 * every shard here; `0-3/8` runs shards 0 to 3 of 8, so several processes can split a large bot.
 */
export function shardOptions(spec = 'auto'): { shards: 'auto' } | { shards: number[]; shardCount: number } {
  if (spec === 'auto') return { shards: 'auto' };
  const m = /^(\d+)(?:-(\d+))?\/(\d+)$/.exec(spec);
  if (!m) throw new Error(`DISCORD_SHARDS: expects auto, or shard ids and the total like 0-3/8, not "${spec}"`);
  const first = Number(m[1]);
  const last = m[2] === undefined ? first : Number(m[2]);
  const shardCount = Number(m[3]);
  if (last < first || last >= shardCount) throw new Error(`DISCORD_SHARDS: shards ${first}-${last} do not fit in a total of ${shardCount}`);
  return { shards: Array.from({ length: last - first + 1 }, (_, i) => first + i), shardCount };
}

/**
 * A discord.js Client on the gateway. Interactions are taken raw from the dispatch stream and go through
 * the same handler as HTTP; the answer is the interaction callback, sent before any other work.
 */
export async function startGateway(opts: GatewayOptions): Promise<Client> {
  const client = new Client({
    // Slash commands and buttons arrive as INTERACTION_CREATE, which needs no privileged intent.
    intents: [GatewayIntentBits.Guilds],
    ...shardOptions(opts.shards),
    rest: { api: opts.api.replace(/\/+$/, ''), timeout: REST_DEFAULTS.timeoutMs, retries: REST_DEFAULTS.retries },
  });
  client.on(Events.Raw as never, (packet: GatewayDispatchPayload) => {
    if (packet.t !== GatewayDispatchEvents.InteractionCreate) return;
    const i = packet.d as APIInteraction;
    void (async () => {
      const handled = await opts.handle(i);
      await opts.rest.post(Routes.interactionCallback(i.id, i.token), { body: handled.response, auth: false });
      if (handled.after) opts.work.push(handled.after);
    })().catch((err: unknown) => opts.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'discord: interaction failed'));
  });
  client.once(Events.ClientReady, (c) => {
    opts.onReady?.(c.application.id);
    opts.logger.info({ user: c.user.tag }, 'discord: gateway ready');
  });
  await client.login(opts.token);
  return client;
}
