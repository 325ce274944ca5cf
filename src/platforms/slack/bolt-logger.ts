import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from '../../core/ports.ts';

// Slack tokens (xoxb-, xoxp-, xapp-, …) must never reach a log line, whatever the SDK chooses to print.
const TOKEN = /\bx(?:ox[a-z]|app)-[\w-]+/gi;
export const redactTokens = (s: string): string => s.replace(TOKEN, '[redacted]');

const text = (msg: unknown[]): string =>
  redactTokens(msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : safeJson(m))).join(' '));

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Bolt, the WebClient and Socket Mode log through this into the app's logger, tokens redacted. */
export function boltLogger(logger: Logger): SlackLogger {
  let level = LogLevel.INFO;
  return {
    debug: (...m: unknown[]) => logger.debug({ src: 'slack-sdk' }, text(m)),
    info: (...m: unknown[]) => logger.info({ src: 'slack-sdk' }, text(m)),
    warn: (...m: unknown[]) => logger.warn({ src: 'slack-sdk' }, text(m)),
    error: (...m: unknown[]) => logger.error({ src: 'slack-sdk' }, text(m)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
