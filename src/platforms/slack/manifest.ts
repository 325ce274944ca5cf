import type { AppsManifestCreateArguments } from '@slack/web-api';
import type { CommandDefinition } from '../../core/command.ts';
import type { Config } from '../../config.ts';
import { usageHint } from '../command-text.ts';

export type SlackManifest = AppsManifestCreateArguments['manifest'];

/** Where Slack POSTs slash commands and interactivity in HTTP mode. */
export const SLACK_EVENTS_PATH = '/slack/events';

/**
 * What the bot needs and why: `commands` for the slash commands, `chat:write` for the job messages,
 * `files:write` for the external upload flow, `channels:join` to join a public channel it was not
 * invited to, `users:read` to tell workspace admins (who may change channel
 * settings) from members, `im:write` to deliver private jobs in a direct message, `files:read` for the
 * forms' file inputs and to download the users' pictures from `url_private` (Slack's file input docs).
 * test/platforms/slack/manifest.test.ts derives this list from what the adapter calls and uses.
 */
export const BOT_SCOPES = ['commands', 'chat:write', 'files:write', 'files:read', 'channels:join', 'users:read', 'im:write'] as const;

/** The message shortcut "Imagine from this image" (on any message with a picture). */
export const IMAGINE_FROM_IMAGE = 'imagine_from_image';

// Slack's manifest caps: command 32 characters with the slash, description 2000, usage hint 1000.
const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

/**
 * The Slack app manifest, generated from the same command definitions the adapter runs. Without
 * PUBLIC_URL Slack cannot reach this server, so the manifest enables Socket Mode (and the operator then
 * needs SLACK_APP_TOKEN); with SLACK_APP_TOKEN set it is Socket Mode regardless.
 */
export function renderManifest(commands: readonly CommandDefinition[], config: Pick<Config, 'PUBLIC_URL' | 'SLACK_APP_TOKEN'>): SlackManifest {
  const socketMode = Boolean(config.SLACK_APP_TOKEN) || !config.PUBLIC_URL;
  const requestUrl = socketMode ? undefined : new URL(SLACK_EVENTS_PATH, config.PUBLIC_URL).toString();
  return {
    display_information: {
      name: 'Atelier',
      description: 'Image generation with /imagine: live progress, upscales, variations and remix.',
    },
    features: {
      bot_user: { display_name: 'Atelier', always_online: true },
      slash_commands: commands.map((def) => {
        const hint = usageHint(def);
        return {
          command: clip(`/${def.name}`, 32),
          description: clip(def.description, 2000),
          should_escape: false,
          ...(hint ? { usage_hint: clip(hint, 1000) } : {}),
          ...(requestUrl ? { url: requestUrl } : {}),
        };
      }),
      // Manifest caps: 10 shortcuts, callback_id 255, description 150 (@slack/web-api ManifestShortcut).
      shortcuts: [{ type: 'message', name: 'Imagine from this image', callback_id: IMAGINE_FROM_IMAGE, description: 'Start /imagine from the picture in this message' }],
    },
    oauth_config: { scopes: { bot: [...BOT_SCOPES] } },
    settings: {
      interactivity: { is_enabled: true, ...(requestUrl ? { request_url: requestUrl } : {}) },
      org_deploy_enabled: false,
      socket_mode_enabled: socketMode,
      token_rotation_enabled: false,
    },
  };
}
