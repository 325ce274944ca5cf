import { describe, expect, it } from 'vitest';
import { assertTransition, IllegalTransitionError, isFinal, type JobState } from '../../src/core/job.ts';

const all: JobState[] = ['queued', 'running', 'succeeded', 'failed', 'canceled'];
const legal = new Set(['queued>running', 'queued>failed', 'queued>canceled', 'running>succeeded', 'running>failed', 'running>canceled', 'running>queued']);

describe('job state machine', () => {
  it.each(all.flatMap((from) => all.map((to) => [from, to] as const)))('%s -> %s', (from, to) => {
    if (legal.has(`${from}>${to}`)) expect(() => assertTransition(from, to)).not.toThrow();
    else expect(() => assertTransition(from, to)).toThrow(IllegalTransitionError);
  });

  it('knows the final states', () => {
    expect(all.filter(isFinal)).toEqual(['succeeded', 'failed', 'canceled']);
  });
});
