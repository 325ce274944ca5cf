import { describe, expect, it } from 'vitest';
import type { Job } from '../../../src/core/job.ts';
import type { ProviderCapabilities } from '../../../src/core/provider.ts';
import { defineCommand } from '../../../src/core/command.ts';
import { imagineOptionsSchema } from '../../../src/core/imagine-options.ts';
import { escapeMrkdwn, renderJobMessage, shouldPing } from '../../../src/platforms/slack/blocks.ts';
import { imagineModal, readModalValues, remixModal } from '../../../src/platforms/slack/modals.ts';
import { blockKitProblems, checkCall, loadMethodSpecs, viewProblems } from '../../fakes/slack/method-specs.ts';

const caps: ProviderCapabilities = { modes: ['simple'], fields: ['aspectRatio', 'count', 'seed'], aspectRatios: 'any', maxCount: 8, upscale: true, variations: true, progressPercent: true, previews: false, webhooks: false };

function job(over: Partial<Job> = {}): Job {
  return {
    id: 'job_01HXYZ',
    action: { kind: 'imagine' },
    state: 'succeeded',
    provider: 'local',
    request: { prompt: 'a <b>bold</b> & brave fox', mode: 'simple', count: 8, seed: 42 } as Job['request'],
    owner: { platform: 'slack', userId: 'U1', displayName: 'alice <@U2>' },
    where: { platform: 'slack', channelId: 'C1', serverId: 'T1' },
    private: false,
    createdAt: 1_000,
    startedAt: 2_000,
    finishedAt: 5_000,
    progress: {},
    attempts: 1,
    result: { imageIds: ['1', '2', '3', '4', '5', '6', '7', '8'], seed: 42 },
    notes: [],
    version: 3,
    ...over,
  };
}

describe('renderJobMessage', () => {
  it('escapes user text so a prompt or name cannot mention or link anyone', () => {
    const m = renderJobMessage(job(), caps, 8);
    const all = JSON.stringify(m.blocks);
    expect(all).not.toContain('<@U2>');
    expect(all).toContain(escapeMrkdwn('<b>bold</b> & brave'));
    expect(all).toContain('local · seed 42');
  });

  it('fits Block Kit with eight images, U and V for each', () => {
    const m = renderJobMessage(job(), caps, 8);
    expect(blockKitProblems('test', m.blocks)).toEqual([]);
    const ids = m.blocks.filter((b) => b.type === 'actions').flatMap((b) => (b.elements as { action_id: string }[]).map((e) => e.action_id));
    expect(ids.filter((id) => id.startsWith('a:upscale:'))).toHaveLength(8);
    expect(ids.filter((id) => id.startsWith('a:vary:'))).toHaveLength(8);
  });

  it('offers cancel while running and no provider facts yet', () => {
    const m = renderJobMessage(job({ state: 'running', progress: { percent: 40 }, result: undefined, finishedAt: undefined }), caps, 0);
    const ids = m.blocks.filter((b) => b.type === 'actions').flatMap((b) => (b.elements as { action_id: string }[]).map((e) => e.action_id));
    expect(ids).toEqual(['a:cancel:0:job_01HXYZ']);
    expect(JSON.stringify(m.blocks)).toContain('40%');
  });

  it('pings only for jobs longer than a minute', () => {
    expect(shouldPing(job())).toBe(false);
    expect(shouldPing(job({ finishedAt: 2_000 + 61_000 }))).toBe(true);
    expect(shouldPing(job({ state: 'canceled', finishedAt: 2_000 + 61_000 }))).toBe(false);
  });
});

describe('modals', () => {
  const def = defineCommand({ name: 'imagine', description: 'x', options: imagineOptionsSchema, positional: 'prompt', run: async () => ({ type: 'message', text: '', ephemeral: true }) });

  it('fit Slack view limits', () => {
    expect(viewProblems('imagine', imagineModal(def, { channelId: 'C1' }, { dynamic: { provider: ['local', 'leonardo'] } }))).toEqual([]);
    expect(viewProblems('remix', remixModal('x'.repeat(5000), { channelId: 'C1', jobId: 'j' }))).toEqual([]);
  });

  it('read submitted values back into typed input', () => {
    const raw = readModalValues(def, {
      prompt: { prompt: { type: 'plain_text_input', value: 'a fox' } },
      count: { count: { type: 'number_input', value: '3' } },
      weather: { weather: { type: 'static_select', selected_option: { value: 'rainy' } } },
      private: { private: { type: 'checkboxes', selected_options: [{ value: 'true' }] } },
      seed: { seed: { type: 'number_input', value: null } },
    });
    expect(raw).toEqual({ prompt: 'a fox', count: 3, weather: 'rainy', private: true });
    expect(def.options.safeParse(raw).success).toBe(true);
  });
});

describe('the fake checks themselves', () => {
  it('flag what Slack would refuse', () => {
    const specs = loadMethodSpecs();
    expect(checkCall(specs, 'chat.update', { channel: 'C1', text: 'x' }, true)).toEqual(['chat.update: required argument "ts" missing']);
    expect(checkCall(specs, 'chat.postMessage', { channel: 'C1', colour: 'red' }, true)).toEqual(['chat.postMessage: unknown argument "colour"']);
    expect(checkCall(specs, 'chat.postMessage', { channel: 'C1' }, false)).toEqual(['chat.postMessage: required argument "token" missing']);
    expect(checkCall(specs, 'files.upload', {}, true)[0]).toMatch(/no vendored spec/);
    const tooLong = [{ type: 'actions', elements: [{ type: 'button', action_id: 'a', text: { type: 'plain_text', text: 'x'.repeat(76) } }, { type: 'button', action_id: 'a', text: { type: 'plain_text', text: 'y' }, style: 'secondary' }] }];
    expect(blockKitProblems('t', JSON.stringify(tooLong))).toEqual(['t: button text length 76 (1-75)', 't: duplicate action_id a', 't: button style secondary']);
  });
});
