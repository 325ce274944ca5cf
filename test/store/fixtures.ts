import { randomUUID } from 'node:crypto';
import type { Job } from '../../src/core/job.ts';
import type { StoredImage } from '../../src/core/ports.ts';
import { generationRequestSchema } from '../../src/core/request.ts';

/** A realistic job, with every optional part the store must carry through unchanged. */
export function makeJob(overrides: Partial<Job> = {}): Job {
  return {
    id: randomUUID(),
    action: { kind: 'imagine' },
    state: 'queued',
    provider: 'local',
    request: generationRequestSchema.parse({ prompt: 'a lighthouse in a storm', aspectRatio: '16:9', seed: 7, midjourney: { v: '6', tile: true } }),
    owner: { platform: 'discord', userId: 'u1', displayName: 'Ada', roles: ['artist'] },
    where: { platform: 'discord', serverId: 'g1', channelId: 'c1', nsfw: false },
    private: false,
    createdAt: 1_700_000_000_000,
    progress: { queuePosition: 1 },
    attempts: 0,
    notes: ['é ✓ "quoted"'],
    version: 1,
    ...overrides,
  };
}

export function makeImage(jobId: string, overrides: Partial<StoredImage> = {}): StoredImage {
  const id = overrides.id ?? randomUUID();
  return {
    id,
    jobId,
    index: 1,
    kind: 'image',
    mime: 'image/png',
    width: 1024,
    height: 576,
    size: 1234,
    blobKey: `jobs/${jobId}/${id}.png`,
    seed: 7,
    createdAt: 1_700_000_000_000,
    ...overrides,
  };
}
