import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiAnswer } from '../../../src/platforms/web/api.ts';
import { sketchProvider } from '../../helpers/capability-providers.ts';
import { startPlayground, type Playground } from './harness.ts';

const ann = { id: 'ann-cap-0001', name: 'Ann' };
type Answer = ApiAnswer & { error?: { code: string; message: string } };

describe('playground buttons come from the provider capabilities', () => {
  let pg: Playground;
  beforeAll(async () => {
    pg = await startPlayground({}, [sketchProvider]);
  });
  afterAll(() => pg.stop());

  let cookie: string | undefined;
  /** POSTs as Ann's browser: with the session cookie the server issued (identity is the session). */
  async function post(path: string, body: unknown): Promise<{ status: number; data: Answer }> {
    if (!cookie) {
      const opened = await fetch(`${pg.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      cookie = opened.headers.get('set-cookie')!.split(';')[0]!;
    }
    const res = await fetch(`${pg.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify(body) });
    return { status: res.status, data: (await res.json()) as Answer };
  }
  const settled = (jobId: string) =>
    new Promise<void>((resolve) => {
      const check = async () => {
        const job = await pg.atelier.getJob(jobId);
        if (job && ['succeeded', 'failed', 'canceled'].includes(job.state)) {
          off();
          resolve();
        }
      };
      const off = pg.atelier.events.subscribe((e) => e.job.id === jobId && void check());
      void check();
    });

  it('no U or V on a provider without upscale or variations; a hand-made U1 press queues nothing', async () => {
    const { data } = await post('/api/command', { user: ann, text: '/imagine a chalk owl --provider sketch --count 2' });
    if (data.type !== 'job') throw new Error(`expected a job, got ${JSON.stringify(data)}`);
    const jobId = data.message.id;
    await settled(jobId);
    // A ⏹️ on a finished job answers with the job's message as it stands: its final buttons.
    const shown = await post('/api/press', { user: ann, id: `a:cancel:0:${jobId}` });
    if (shown.data.type !== 'job') throw new Error(`expected the job, got ${JSON.stringify(shown.data)}`);
    const kinds = shown.data.message.buttons.flat().map((b) => b.kind);
    expect(kinds).toEqual(expect.arrayContaining(['reroll', 'remix', 'details', 'delete']));
    expect(kinds).not.toContain('upscale');
    expect(kinds).not.toContain('vary');
    const before = (await pg.atelier.store.listJobs({})).length;
    const pressed = await post('/api/press', { user: ann, id: `a:upscale:1:${jobId}` });
    expect(pressed.data.error?.message).toMatch(/Sketch cannot upscale/);
    expect((await pg.atelier.store.listJobs({})).length).toBe(before);
  });
});
