import { describe, expect, it } from 'vitest';
import { CONFIG_NAMES, ConfigError, loadConfig } from '../src/config.ts';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PORT: 8787, HOST: '127.0.0.1', DATA_DIR: './data', DEFAULT_PROVIDER: 'local', DISCORD_API_URL: 'https://discord.com/api', SLACK_API_URL: 'https://slack.com/api/' });
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT: '', DISCORD_TOKEN: '' })).toMatchObject({ PORT: 8787, DISCORD_TOKEN: undefined });
  });

  it('fails with one line per bad variable, naming it and what it expects', () => {
    try {
      loadConfig({ PORT: 'eighty', DISCORD_PUBLIC_KEY: 'xyz', REDIS_URL: 'not a url' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const lines = (err as Error).message.split('\n').slice(1);
      expect(lines).toHaveLength(3);
      expect(lines.find((l) => l.startsWith('PORT:'))).toBeTruthy();
      expect(lines.find((l) => l.startsWith('DISCORD_PUBLIC_KEY:'))).toMatch(/64-hex-digit/);
      expect(lines.find((l) => l.startsWith('REDIS_URL:'))).toMatch(/URL/);
    }
  });

  it('knows every name operators and later work rely on', () => {
    for (const name of ['PORT', 'HOST', 'DATA_DIR', 'DATABASE_URL', 'REDIS_URL', 'DEFAULT_PROVIDER', 'LOG_LEVEL', 'PUBLIC_URL', 'DISCORD_TOKEN', 'DISCORD_APPLICATION_ID', 'DISCORD_PUBLIC_KEY', 'DISCORD_API_URL', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'SLACK_API_URL', 'ALLIMAGES_API_KEY', 'ALLIMAGES_API_URL', 'LEONARDO_API_KEY', 'LEONARDO_API_URL', 'POMELO_API_KEY', 'POMELO_API_URL']) {
      expect(CONFIG_NAMES).toContain(name);
    }
  });
});
