import { App, SocketModeReceiver, type Receiver } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { PlatformContext, RunningPlatform } from '../context.ts';
import { boltLogger } from './bolt-logger.ts';
import { ReplayGuard } from '../replay-guard.ts';
import { SlackHttpReceiver } from './http-receiver.ts';
import { JobMessages } from './job-messages.ts';
import { registerListeners } from './listeners.ts';
import { SLACK_EVENTS_PATH } from './manifest.ts';
import { UpdateBudget, type UpdateBudgetOptions } from './update-budget.ts';
import { clientOptions, withRetryAfter } from './web-client.ts';

export { renderManifest } from './manifest.ts';

/** Knobs tests and benchmarks turn; production uses the defaults, which follow Slack's limits. */
export interface SlackTuning {
  budget?: Partial<UpdateBudgetOptions>;
  ackTimeoutMs?: number;
  /** Socket Mode: how long to wait for the server's pings before reconnecting. */
  serverPingTimeoutMs?: number;
}

export interface RunningSlack extends RunningPlatform {
  messages: JobMessages;
  client: WebClient;
}

const ADMIN_CACHE_MS = 5 * 60 * 1000;

/**
 * Slack through Bolt: Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP at POST /slack/events on
 * the shared server. Job messages follow the core's job events.
 */
export async function startSlack(ctx: PlatformContext, tuning: SlackTuning = {}): Promise<RunningSlack> {
  const { config } = ctx;
  const logger = ctx.logger.child({ platform: 'slack' });
  if (!config.SLACK_BOT_TOKEN) throw new Error('SLACK_BOT_TOKEN is required for Slack');
  if (!config.SLACK_APP_TOKEN && !config.SLACK_SIGNING_SECRET) throw new Error('Set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP) for Slack');
  const options = clientOptions(config.SLACK_API_URL, logger);

  let receiver: Receiver;
  if (config.SLACK_APP_TOKEN) {
    receiver = new SocketModeReceiver({
      appToken: config.SLACK_APP_TOKEN,
      logger: boltLogger(logger),
      installerOptions: { clientOptions: options },
      ...(tuning.serverPingTimeoutMs ? { serverPingTimeout: tuning.serverPingTimeoutMs } : {}),
    });
  } else {
    receiver = new SlackHttpReceiver({
      server: ctx.server,
      signingSecret: config.SLACK_SIGNING_SECRET!,
      path: SLACK_EVENTS_PATH,
      logger,
      replays: new ReplayGuard(ctx.atelier.store),
      ...(tuning.ackTimeoutMs ? { ackTimeoutMs: tuning.ackTimeoutMs } : {}),
    });
  }

  const app = new App({ token: config.SLACK_BOT_TOKEN, receiver, clientOptions: options, logger: boltLogger(logger), deferInitialization: true });
  await app.init();
  const client = app.client;

  const admins = new Map<string, { admin: boolean; at: number }>();
  const isAdmin = async (userId: string): Promise<boolean> => {
    const hit = admins.get(userId);
    if (hit && Date.now() - hit.at < ADMIN_CACHE_MS) return hit.admin;
    const res = await withRetryAfter(() => client.users.info({ user: userId }));
    const admin = Boolean(res.user?.is_admin || res.user?.is_owner || res.user?.is_primary_owner);
    admins.set(userId, { admin, at: Date.now() });
    return admin;
  };

  const messages = new JobMessages({ atelier: ctx.atelier, client, images: ctx.images, budget: new UpdateBudget(tuning.budget), logger, ...(ctx.publicImageUrl ? { publicImageUrl: ctx.publicImageUrl } : {}) });
  messages.start();
  registerListeners(app, { atelier: ctx.atelier, commands: ctx.commands, messages, client, logger, isAdmin, apiUrl: config.SLACK_API_URL });
  await app.start();
  logger.info({ mode: config.SLACK_APP_TOKEN ? 'socket' : 'http' }, 'slack started');

  return {
    name: 'slack',
    messages,
    client,
    async stop() {
      messages.stop();
      await app.stop();
    },
  };
}
