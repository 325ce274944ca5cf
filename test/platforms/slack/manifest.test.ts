import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCommand } from '../../../src/core/command.ts';
import { imagineOptionsSchema } from '../../../src/core/imagine-options.ts';
import { renderManifest } from '../../../src/platforms/slack/manifest.ts';

const commands = [
  defineCommand({ name: 'imagine', description: 'Generate images from a prompt', options: imagineOptionsSchema, positional: 'prompt', run: async () => ({ type: 'message', text: '', ephemeral: true }) }),
  defineCommand({ name: 'help', description: 'How to use Atelier', options: z.object({}), run: async () => ({ type: 'message', text: '', ephemeral: true }) }),
];

describe('renderManifest', () => {
  it('points commands and interactivity at PUBLIC_URL in HTTP mode', () => {
    const m = renderManifest(commands, { PUBLIC_URL: 'https://atelier.example.com', SLACK_APP_TOKEN: undefined });
    expect(m.settings?.socket_mode_enabled).toBe(false);
    expect(m.settings?.interactivity).toEqual({ is_enabled: true, request_url: 'https://atelier.example.com/slack/events' });
    const imagine = m.features?.slash_commands?.[0];
    expect(imagine).toMatchObject({ command: '/imagine', url: 'https://atelier.example.com/slack/events', should_escape: false });
    expect(imagine?.usage_hint).toMatch(/^<prompt> .*\[--count 1-8\]/);
    expect(m.features?.slash_commands?.[1]).toEqual({ command: '/help', description: 'How to use Atelier', should_escape: false, url: 'https://atelier.example.com/slack/events' });
    expect(m.oauth_config?.scopes?.bot).toEqual(expect.arrayContaining(['commands', 'chat:write', 'files:write', 'channels:join']));
  });
  it('uses Socket Mode with an app token or without a public URL', () => {
    for (const cfg of [{ PUBLIC_URL: 'https://a.example', SLACK_APP_TOKEN: 'xapp-1' }, { PUBLIC_URL: undefined, SLACK_APP_TOKEN: undefined }]) {
      const m = renderManifest(commands, cfg);
      expect(m.settings?.socket_mode_enabled).toBe(true);
      expect(m.settings?.interactivity).toEqual({ is_enabled: true });
      expect(m.features?.slash_commands?.every((c) => c.url === undefined)).toBe(true);
    }
  });
  it('keeps every field inside Slack limits', () => {
    const m = renderManifest(commands, { PUBLIC_URL: undefined, SLACK_APP_TOKEN: undefined });
    for (const c of m.features?.slash_commands ?? []) {
      expect(c.command.length).toBeLessThanOrEqual(32);
      expect((c.usage_hint ?? '').length).toBeLessThanOrEqual(1000);
    }
  });
});
