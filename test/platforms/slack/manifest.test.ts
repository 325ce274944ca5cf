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

describe('pictures in the manifest', () => {
  it('has the "Imagine from this image" message shortcut and files:read', () => {
    const m = renderManifest(commands, { PUBLIC_URL: undefined, SLACK_APP_TOKEN: undefined });
    expect(m.features?.shortcuts).toEqual([{ type: 'message', name: 'Imagine from this image', callback_id: 'imagine_from_image', description: expect.any(String) }]);
    expect((m.features?.shortcuts?.[0]?.description ?? '').length).toBeLessThanOrEqual(150);
    expect(m.oauth_config?.scopes?.bot).toContain('files:read');
  });
});

describe('the manifest asks for exactly the scopes the code uses', () => {
  it('every Web API method the Slack adapter calls is covered by a bot scope, and no scope is asked for without a use', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { resolve } = await import('node:path');
    const { BOT_SCOPES } = await import('../../../src/platforms/slack/manifest.ts');
    const dir = resolve(import.meta.dirname, '../../../src/platforms/slack');
    const called = new Set<string>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      for (const m of readFileSync(resolve(dir, f), 'utf8').matchAll(/\bclient\.(\w+)\.(\w+)\(/g)) called.add(`${m[1]}.${m[2]}`);
    }
    expect(called.size).toBeGreaterThan(5);
    // Each method's scopes as Slack documents them (test/fixtures/slack/<method>.json, "scope.bot"); where
    // Slack lists alternatives (conversations.open), the one for what we do: open a DM (im:write).
    const prefer: Record<string, string> = { 'conversations.open': 'im:write' };
    const needed = new Set<string>(['commands']);
    for (const method of called) {
      const spec = JSON.parse(readFileSync(resolve(import.meta.dirname, `../../fixtures/slack/${method}.json`), 'utf8')) as { scope?: { bot?: string[] } };
      const bot = spec.scope?.bot ?? [];
      if (!bot.length) continue; // views.open, auth.test: any token
      needed.add(prefer[method] ?? bot[0]!);
    }
    // Not a method: Slack's file input element needs files:read ("In order to use the file_input element within
    // your app, your app must have the files:read scope": docs and @slack/types FileInput), and so does reading
    // a file's url_private with the bot token.
    const sources = readdirSync(dir).map((n) => readFileSync(resolve(dir, n), 'utf8')).join('\n');
    if (sources.includes("type: 'file_input'")) needed.add('files:read');
    expect(new Set(BOT_SCOPES)).toEqual(needed);
  });
});
