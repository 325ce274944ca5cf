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

describe('pictures in the job message and the forms', () => {
  const toolCaps: ProviderCapabilities = { ...caps, outpaint: true, inpaint: true, varyStrength: true, upscaleModes: ['subtle', 'creative'] };
  const upscaled = (c: ProviderCapabilities) => renderJobMessage(job({ action: { kind: 'upscale', index: 1 }, result: { imageIds: ['1'], seed: 42 } }), c, 1);
  const labels = (m: ReturnType<typeof renderJobMessage>) => m.blocks.filter((b) => b.type === 'actions').flatMap((b) => (b.elements as { text: { text: string } }[]).map((e) => e.text.text));

  it('under an upscale: the toolbox the provider can do, in actions blocks of at most 5 (Slack allows 25)', () => {
    const m = upscaled(toolCaps);
    expect(labels(m)).toEqual(expect.arrayContaining(['Upscale (Subtle)', 'Vary (Strong)', 'Vary (Region)', 'Zoom Out 2x', 'Custom Zoom', '⬅️ Pan Left']));
    for (const b of m.blocks.filter((x) => x.type === 'actions')) expect((b.elements as unknown[]).length).toBeLessThanOrEqual(5);
    expect(blockKitProblems('chat.update', m.blocks)).toEqual([]);
    // Without outpainting or inpainting there is nothing to zoom, pan or repaint.
    expect(labels(upscaled(caps)).filter((l) => /Zoom|Pan|Region|Square/.test(l))).toEqual([]);
  });

  it('names the pictures a job started from, with their Slack files shown small', () => {
    const withInputs = job({ inputs: [{ imageId: 'i1', source: 'harbour.png' }] });
    const m = renderJobMessage(withInputs, caps, 8, { thumbs: [{ slackFile: 'https://files.slack.com/files-pri/T1-F1/harbour.png', name: 'harbour.png' }] });
    const inputs = m.blocks.find((b) => b.block_id === 'inputs') as { elements: Record<string, unknown>[] };
    expect(inputs.elements).toEqual([
      { type: 'image', slack_file: { url: 'https://files.slack.com/files-pri/T1-F1/harbour.png' }, alt_text: 'harbour.png' },
      { type: 'mrkdwn', text: 'Started from 1 picture: harbour.png' },
    ]);
    expect(blockKitProblems('chat.postMessage', m.blocks)).toEqual([]);
    expect(renderJobMessage(job(), caps, 8).blocks.some((b) => b.block_id === 'inputs')).toBe(false);
  });

  it('the forms pass the spec checks: /imagine with a file input and the shortcut\'s pictures, /blend, Custom Zoom, Vary (Region)', async () => {
    const { blendModal, regionModal, zoomModal } = await import('../../../src/platforms/slack/modals.ts');
    const { blend } = await import('../../../commands/blend.ts');
    const def = defineCommand({ name: 'imagine', description: 'x', options: imagineOptionsSchema, positional: 'prompt', run: async () => ({ type: 'message', text: '', ephemeral: true }) });
    const views = [
      imagineModal(def, { channelId: 'C1', files: [{ url: 'https://files.slack.com/files-pri/T1-F1/download/a.png', name: 'a.png' }] }, { only: ['prompt', 'iw'] }, { maxImages: 5, blenders: [] }),
      blendModal(blend as never, { channelId: 'C1' }, { dynamic: { provider: ['local', 'other'] }, initial: { dimensions: 'landscape' } }),
      zoomModal('a fox', { channelId: 'C1', jobId: 'j', index: 1 }),
      regionModal('a fox', { channelId: 'C1', jobId: 'j', index: 1 }),
    ];
    for (const v of views) expect(viewProblems('views.open', v)).toEqual([]);
    const imagine = views[0]!.blocks as { block_id: string; label?: { text: string }; element?: { max_files?: number } }[];
    expect(imagine.find((b) => b.block_id === 'images')?.element?.max_files).toBe(4);
    expect(imagine.find((b) => b.block_id === 'iw')?.label?.text).toBe('Image weight (--iw)');
    const blendBlocks = views[1]!.blocks as { block_id: string; optional?: boolean; element?: { type: string; max_files?: number; initial_option?: { value: string } } }[];
    expect(blendBlocks[0]).toMatchObject({ block_id: 'images', optional: false, element: { type: 'file_input', max_files: 5 } });
    expect(blendBlocks.find((b) => b.block_id === 'dimensions')?.element?.initial_option?.value).toBe('landscape');
    // A file input outside a modal, or with too many files, is refused by the fake as Slack refuses it.
    expect(blockKitProblems('chat.postMessage', [{ type: 'input', block_id: 'x', label: { type: 'plain_text', text: 'x' }, element: { type: 'file_input', max_files: 11 } }])).toHaveLength(2);
  });
});
