import { Client, Events, GatewayIntentBits } from 'discord.js';
import type { REST } from '@discordjs/rest';
import { GatewayDispatchEvents, Routes, type APIInteraction, type GatewayDispatchPayload } from 'discord-api-types/v10';
import type { Logger } from '../../core/ports.ts';
import type { Handled } from './interactions.ts';
import { REST_DEFAULTS } from './rest.ts';
import type { WorkQueue } from './work-queue.ts';

export interface GatewayOptions {
  token: string;
  api: string;
  rest: REST;
  handle: (i: APIInteraction) => Promise<Handled>;
  work: WorkQueue;
  logger: Logger;
  /** Called with the application id from READY, for deployments that did not set DISCORD_APPLICATION_ID. */
  onReady?: (applicationId: string) => void;
}

/**
 * A discord.js Client on the gateway. Interactions are taken raw from the dispatch stream and go through
 * the same handler as HTTP; the answer is the interaction callback, sent before any other work.
 */
export async function startGateway(opts: GatewayOptions): Promise<Client> {
  const client = new Client({
    // Slash commands and buttons arrive as INTERACTION_CREATE, which needs no privileged intent.
    intents: [GatewayIntentBits.Guilds],
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
