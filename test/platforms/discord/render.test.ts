import { describe, expect, it } from 'vitest';
import type { Job } from '../../../src/core/job.ts';
import { LOCAL_CAPABILITIES } from '../../../src/providers/local/index.ts';
import { CONTENT_LIMIT, render } from '../../../src/platforms/discord/render.ts';
import { checkMessageLimits } from '../../fakes/discord/limits.ts';

const T0 = 1_800_000_000_000;
function job(over: Partial<Job> = {}): Job {
  return {
    id: 'a1b2c3d4e5f60718',
    action: { kind: 'imagine' },
    state: 'succeeded',
    provider: 'local',
    request: { mode: 'simple', prompt: 'a red lighthouse', seed: 7 },
    owner: { platform: 'discord', userId: '100000000000000001', displayName: 'alice' },
    where: { platform: 'discord', channelId: '1', serverId: '2' },
    private: false,
    createdAt: T0,
    startedAt: T0,
    finishedAt: T0 + 12_000,
    progress: {},
    attempts: 1,
    result: { imageIds: ['i1', 'i2', 'i3', 'i4'], seed: 7 },
    notes: [],
    version: 5,
    ...over,
  };
}
const file = { name: 'grid.png', data: new Uint8Array([1, 2, 3]), contentType: 'image/png' };

describe('render(job, files, caps)', () => {
  it('a finished grid: prompt, requester, provider, seed, elapsed; the file; U/V rows and tools within Discord limits', () => {
    const p = render(job(), [file], LOCAL_CAPABILITIES);
    expect(p.content).toContain('**a red lighthouse --seed 7**');
    expect(p.content).toContain('<@100000000000000001>');
    expect(p.content).toMatch(/local · seed 7 · 12s/);
    expect(p.content).toContain('Done in 12s');
    expect(p.attachments).toEqual([{ id: '0', filename: 'grid.png' }]);
    const labels = p.components.map((r) => r.components.map((b) => b.label));
    expect(labels[0]).toEqual(['U1', 'U2', 'U3', 'U4', 'Reroll']);
    expect(labels[1]).toEqual(['V1', 'V2', 'V3', 'V4']);
    expect(labels[2]).toEqual(['Remix', 'Details', 'Delete']);
    expect(checkMessageLimits(p as unknown as Record<string, unknown>)).toEqual([]);
    expect(p.flags).toBeUndefined();
  });

  it('pings nobody for a quick job, and only the requester after more than a minute', () => {
    expect(render(job(), [], LOCAL_CAPABILITIES).allowed_mentions).toEqual({ parse: [] });
    const slow = render(job({ finishedAt: T0 + 61_000 }), [], LOCAL_CAPABILITIES);
    expect(slow.allowed_mentions).toEqual({ parse: [], users: ['100000000000000001'] });
    // A running job, however long, pings nobody: only the result does.
    expect(render(job({ state: 'running', finishedAt: undefined, startedAt: Date.now() - 120_000 }), [], LOCAL_CAPABILITIES).allowed_mentions).toEqual({ parse: [] });
  });

  it('a running job shows stage, a progress bar and ⏹️; a queued one its place in the queue', () => {
    const running = render(job({ state: 'running', progress: { percent: 40, stage: 'forms' }, result: undefined, finishedAt: undefined }), [], LOCAL_CAPABILITIES);
    expect(running.content).toContain('forms ▰▰▰▰▱▱▱▱▱▱ 40%');
    expect(running.components.flatMap((r) => r.components.map((b) => b.emoji?.name))).toEqual(['⏹️']);
    const queued = render(job({ state: 'queued', progress: { queuePosition: 3 }, result: undefined, finishedAt: undefined, startedAt: undefined }), [], LOCAL_CAPABILITIES);
    expect(queued.content).toContain('Waiting to start — #3 in queue');
  });

  it('a failure says so with a retry button', () => {
    const p = render(job({ state: 'failed', result: undefined, error: { code: 'PROVIDER_UNAVAILABLE', message: 'Leonardo is down.', retryable: true } }), [], LOCAL_CAPABILITIES);
    expect(p.content).toContain('Failed: Leonardo is down.');
    expect(p.components[0]!.components[0]).toMatchObject({ label: 'Retry', emoji: { name: '🔄' }, custom_id: 'a:retry:0:a1b2c3d4e5f60718' });
  });

  it('a child job is attributed to whoever pressed', () => {
    const p = render(job({ action: { kind: 'reroll' }, owner: { platform: 'discord', userId: '100000000000000002', displayName: 'bob' } }), [], LOCAL_CAPABILITIES);
    expect(p.content).toContain('🔄 Reroll by <@100000000000000002>');
  });

  it('an enormous prompt gives way so the content fits 2000 characters; mentions in it ping nobody', () => {
    const p = render(job({ request: { mode: 'simple', prompt: `@everyone ${'x'.repeat(3990)}` } }), [], LOCAL_CAPABILITIES);
    expect(p.content.length).toBeLessThanOrEqual(CONTENT_LIMIT);
    expect(p.content).toContain('Done in');
    expect(p.allowed_mentions.parse).toEqual([]);
  });

  it('a private job is ephemeral; a provider without variations gets no V row', () => {
    const p = render(job({ private: true }), [], { ...LOCAL_CAPABILITIES, variations: false });
    expect(p.flags).toBe(64);
    expect(p.components.flatMap((r) => r.components.map((b) => b.label)).some((l) => l?.startsWith('V'))).toBe(false);
  });
});
