import pino from 'pino';
import type { Logger } from './core/ports.ts';

/** Paths whose values never reach a log line, wherever they appear in a logged object. */
export const REDACT_PATHS = [
  '*.token',
  '*.apiKey',
  '*.api_key',
  '*.authorization',
  '*.Authorization',
  '*["api-key"]',
  '*.password',
  '*.secret',
  'headers.authorization',
  'headers["api-key"]',
  'config.DISCORD_TOKEN',
  'config.SLACK_BOT_TOKEN',
  'config.SLACK_SIGNING_SECRET',
  'config.SLACK_APP_TOKEN',
  'config.ALLIMAGES_API_KEY',
  'config.LEONARDO_API_KEY',
  'config.LEONARDO_WEBHOOK_TOKEN',
  'config.POMELO_API_KEY',
  'config.PLAYGROUND_TOKEN',
  'config.A1111_AUTH',
  'config.DATABASE_URL',
];

/** Structured JSON logs on stderr (stdout stays clean for `--json` output). */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { app: 'atelier' } }, destination as pino.DestinationStream) as unknown as Logger;
}
