import type { PlatformContext, RunningPlatform } from '../context.ts';
import { ChannelBudget } from './channel-budget.ts';
import { mountInteractions } from './http.ts';
import { createInteractionHandler } from './interactions.ts';
import { ReplayGuard } from '../replay-guard.ts';
import { JobMessages } from './job-messages.ts';
import { createRest } from './rest.ts';
import { WorkQueue } from './work-queue.ts';

export { registerCommands, toDiscordCommand } from './register.ts';
export { render } from './render.ts';
export { createRest } from './rest.ts';
export { INTERACTIONS_PATH } from './http.ts';

/** Interactions whose work runs at once; the rest wait their turn (see WorkQueue). */
const WORK_CONCURRENCY = 8;

/** A started Discord adapter; `messages` lets tests and shutdown wait for pending edits. */
export interface RunningDiscord extends RunningPlatform {
  messages: JobMessages;
}

/**
 * HTTP interactions when DISCORD_PUBLIC_KEY is set (stateless, so many processes can sit behind a load
 * balancer, and no gateway is opened); otherwise the gateway with DISCORD_TOKEN. Either way, REST goes
 * through one client pointed at DISCORD_API_URL and job messages are drawn from job events.
 */
export async function startDiscord(ctx: PlatformContext): Promise<RunningDiscord> {
  const { config, atelier, logger: rootLogger } = ctx;
  const logger = rootLogger.child({ platform: 'discord' });
  const rest = createRest({ api: config.DISCORD_API_URL, token: config.DISCORD_TOKEN });
  let applicationId = config.DISCORD_APPLICATION_ID ?? '';
  const messages = new JobMessages({ rest, atelier, images: ctx.images, logger, budget: new ChannelBudget(), hasBotToken: Boolean(config.DISCORD_TOKEN) });
  const unsubscribe = atelier.events.subscribe((e) => messages.onEvent(e));
  const work = new WorkQueue(WORK_CONCURRENCY, (err) => logger.error({ err: err instanceof Error ? err.message : String(err) }, 'discord: interaction work failed'));
  const handle = createInteractionHandler({
    atelier,
    commands: ctx.commands,
    rest,
    logger,
    messages,
    applicationId: () => applicationId,
    replays: new ReplayGuard(atelier.store),
    maxPictureBytes: config.IMAGE_INPUT_MAX_MB * 1024 * 1024,
  });

  if (config.DISCORD_PUBLIC_KEY) {
    if (!applicationId) throw new Error('DISCORD_APPLICATION_ID: required with DISCORD_PUBLIC_KEY (interaction webhooks are addressed by it)');
    mountInteractions(ctx.server, config.DISCORD_PUBLIC_KEY, handle, work, logger);
    logger.info({}, 'discord: HTTP interactions at /discord/interactions');
    return {
      name: 'discord-http',
      messages,
      async stop() {
        unsubscribe();
        await drain(messages);
      },
    };
  }
  if (!config.DISCORD_TOKEN) throw new Error('DISCORD_TOKEN: set it (gateway) or DISCORD_PUBLIC_KEY + DISCORD_APPLICATION_ID (HTTP interactions)');
  // discord.js (about 17 MiB of RSS) loads only for the gateway: HTTP interactions need REST alone.
  const { startGateway } = await import('./gateway.ts');
  const client = await startGateway({
    token: config.DISCORD_TOKEN,
    shards: config.DISCORD_SHARDS,
    api: config.DISCORD_API_URL,
    rest,
    handle,
    work,
    logger,
    onReady: (id) => {
      applicationId ||= id;
    },
  });
  return {
    name: 'discord-gateway',
    messages,
    async stop() {
      unsubscribe();
      await drain(messages);
      await client.destroy();
    },
  };
}

/** Shutdown gives pending edits a bounded moment; what is left is redrawn from the store after the restart. */
async function drain(messages: JobMessages, ms = 5_000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([messages.idle(), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
