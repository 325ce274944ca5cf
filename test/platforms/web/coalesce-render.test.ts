import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Job } from '../../../src/core/job.ts';
import { LOCAL_CAPABILITIES } from '../../../src/providers/local/index.ts';
import { JobCoalescer } from '../../../src/platforms/web/coalesce.ts';
import { renderJob } from '../../../src/platforms/web/render.ts';

const job = (over: Partial<Job> = {}): Job => ({
  id: 'job1',
  action: { kind: 'imagine' },
  state: 'queued',
  provider: 'local',
  request: { mode: 'simple', prompt: 'a fox', aspectRatio: '3:2' },
  owner: { platform: 'web', userId: 'ann-0001', displayName: 'Ann' },
  where: { platform: 'web', channelId: 'playground' },
  private: false,
  createdAt: 1_700_000_000_000,
  progress: {},
  attempts: 0,
  notes: [],
  version: 1,
  ...over,
});

describe('JobCoalescer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the first change at once, collapses the rest of the window into the newest, and never rolls back', () => {
    const sent: number[] = [];
    const c = new JobCoalescer((j) => sent.push(j.version), 100);
    c.push(job({ state: 'running', version: 2 }));
    c.push(job({ state: 'running', version: 3, progress: { percent: 10 } }));
    c.push(job({ state: 'running', version: 4, progress: { percent: 20 } }));
    expect(sent).toEqual([2]);
    vi.advanceTimersByTime(100);
    expect(sent).toEqual([2, 4]);
    c.push(job({ state: 'running', version: 3 }));
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual([2, 4]);
  });

  it('sends a final state immediately and drops the pending progress before it', () => {
    const sent: string[] = [];
    const c = new JobCoalescer((j) => sent.push(`${j.state}@${j.version}`), 100);
    c.push(job({ state: 'running', version: 2 }));
    c.push(job({ state: 'running', version: 3 }));
    c.push(job({ state: 'succeeded', version: 4 }));
    expect(sent).toEqual(['running@2', 'succeeded@4']);
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual(['running@2', 'succeeded@4']);
  });
});

describe('renderJob', () => {
  it('a queued job shows its place in the queue and only ⏹️', () => {
    const m = renderJob(job({ progress: { queuePosition: 3 } }), LOCAL_CAPABILITIES);
    expect(m.status).toBe('Waiting to start — #3 in queue');
    expect(m.queuePosition).toBe(3);
    expect(m.buttons.flat().map((b) => b.emoji)).toEqual(['⏹️']);
    expect(m.footer).toBe('');
  });

  it('a running job has its percent and a preview URL that changes with each version', () => {
    const m = renderJob(job({ state: 'running', version: 7, progress: { percent: 42.4, stage: 'Drawing', previewKey: 'previews/job1' } }), LOCAL_CAPABILITIES);
    expect(m.percent).toBe(42);
    expect(m.status).toBe('Drawing · 42%');
    expect(m.previewUrl).toBe('/api/previews/job1?v=7');
  });

  it('a finished child job is attributed to its presser, with the Discord buttons and its images', () => {
    const m = renderJob(
      job({ state: 'succeeded', action: { kind: 'vary', index: 2 }, parentId: 'job0', owner: { platform: 'web', userId: 'bob-0002', displayName: 'Bob' }, result: { imageIds: ['i1', 'i2', 'i3', 'i4'], gridImageId: 'g1', seed: 9 }, startedAt: 1_700_000_000_000, finishedAt: 1_700_000_004_000 }),
      LOCAL_CAPABILITIES,
    );
    expect(m.attribution).toBe('🎨 Variation of image 2 by Bob');
    expect(m.status).toBe('Done in 4s');
    expect(m.footer).toBe('local · seed 9');
    expect(m.gridUrl).toBe('/api/images/g1');
    expect(m.images[1]).toEqual({ id: 'i2', index: 2, url: '/api/images/i2', downloadUrl: '/api/images/i2?download=1' });
    expect(m.buttons.flat().map((b) => b.emoji ?? b.label)).toEqual(['U1', 'U2', 'U3', 'U4', '🔄', 'V1', 'V2', 'V3', 'V4', '✏️', 'ℹ️', '🗑️']);
  });

  it('a failed job shows the reason and offers a retry', () => {
    const m = renderJob(job({ state: 'failed', error: { code: 'PROVIDER_UNAVAILABLE', message: 'Local renderer is down.', retryable: true } }), LOCAL_CAPABILITIES);
    expect(m.status).toBe('Failed: Local renderer is down.');
    expect(m.error).toBe('Local renderer is down.');
    expect(m.buttons.flat().map((b) => b.kind)).toEqual(['retry', 'details', 'delete']);
  });
});
