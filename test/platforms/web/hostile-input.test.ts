import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFinal, type Job } from '../../../src/core/job.ts';
import { startPlayground, type Playground } from './harness.ts';

const ann = { id: 'ann-0001', name: 'Ann' };

describe('playground /imagine: hostile input gets a clear answer, never a surprise', () => {
  let pg: Playground;
  beforeAll(async () => {
    pg = await startPlayground();
  });
  afterAll(() => pg.stop());

  let cookie: string | undefined;
  /** Ann's browser: the session cookie the server gave it, opened on first use. */
  async function session(): Promise<string> {
    if (cookie) return cookie;
    const res = await fetch(`${pg.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    return cookie;
  }

  async function command(text: string): Promise<{ status: number; message: string; jobId?: string }> {
    const headers = { 'content-type': 'application/json', cookie: await session() };
    const res = await fetch(`${pg.url}/api/command`, { method: 'POST', headers, body: JSON.stringify({ user: ann, text }) });
    const data = (await res.json()) as { error?: { message: string }; message?: { id: string } };
    return { status: res.status, message: data.error?.message ?? '', jobId: data.message?.id };
  }

  /** The job once it has finished, so nothing is still writing when the playground stops. */
  async function settled(jobId: string): Promise<Job> {
    for (;;) {
      const job = await pg.atelier.getJob(jobId);
      if (job && isFinal(job.state)) return job;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('flags named after Object.prototype members are unknown flags, named as such', async () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
      const res = await command(`/imagine a fox --${name} x`);
      expect(res.status, name).toBe(400);
      expect(res.message, name).toContain(`--${name.toLowerCase()} is not a flag Atelier knows`);
    }
  });

  it('numbers are decimal: --seed 0x10 and --count 0x2 are refused in plain words', async () => {
    expect((await command('/imagine a fox --seed 0x10')).message).toMatch(/--seed must be a whole number from 0 to 4294967295, not "0x10"/);
    expect((await command('/imagine a fox --count 0x2')).message).toMatch(/--count takes a whole number from 1 to 8, not "0x2"/);
    expect((await command('/imagine a fox --seed 1e21')).message).toMatch(/--seed must be a whole number from 0 to 4294967295, not "1e21"/);
  });

  it('--ar=3:2 is read as a flag, --ar 1:5 is refused with the bound', async () => {
    const ok = await command('/imagine a wide fox --ar=3:2');
    expect(ok.status).toBe(200);
    expect((await settled(ok.jobId!)).request).toMatchObject({ prompt: 'a wide fox', aspectRatio: '3:2' });
    expect((await command('/imagine a tall fox --ar 1:5')).message).toMatch(/1:5 is too far from square/);
  });

  it('a prompt of zero-width characters is empty; control characters are stripped', async () => {
    expect((await command('/imagine \u200B\u200B\u2060')).message).toMatch(/write a prompt/);
    const ok = await command('/imagine a \u001B[31mred\u0007 fox');
    expect((await settled(ok.jobId!)).request.prompt).toBe('a [31mred fox');
  });
});
