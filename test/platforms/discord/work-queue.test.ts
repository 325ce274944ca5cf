import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../src/platforms/discord/work-queue.ts';

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('WorkQueue: the work behind answers never starves the next answer', () => {
  it('starts one task per turn of the event loop, so requests that arrived in between are read first', async () => {
    const started: number[] = [];
    const q = new WorkQueue(8, () => undefined);
    for (let i = 0; i < 4; i++) q.push(async () => void started.push(i));
    expect(started).toEqual([]);
    await turn();
    expect(started).toEqual([0]);
    await turn();
    expect(started).toEqual([0, 1]);
    await turn();
    await turn();
    expect(started).toEqual([0, 1, 2, 3]);
  });

  it('holds its concurrency: a task waiting on I/O keeps its slot', async () => {
    const release: (() => void)[] = [];
    const started: number[] = [];
    const q = new WorkQueue(2, () => undefined);
    for (let i = 0; i < 4; i++) q.push(() => new Promise<void>((r) => (started.push(i), release.push(r))));
    for (let t = 0; t < 6; t++) await turn();
    expect(started).toEqual([0, 1]);
    expect(q.pending).toBe(4);
    release.shift()!();
    for (let t = 0; t < 4; t++) await turn();
    expect(started).toEqual([0, 1, 2]);
  });

  it('reports a failed task and goes on with the next', async () => {
    const errors: unknown[] = [];
    const done: string[] = [];
    const q = new WorkQueue(1, (e) => errors.push(e));
    q.push(async () => {
      throw new Error('boom');
    });
    q.push(async () => void done.push('next'));
    for (let t = 0; t < 6; t++) await turn();
    expect((errors[0] as Error).message).toBe('boom');
    expect(done).toEqual(['next']);
    expect(q.pending).toBe(0);
  });
});
