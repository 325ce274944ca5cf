import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.ts';
import type { ImageProvider, ProviderCapabilities } from '../../src/core/provider.ts';
import type { Job } from '../../src/core/job.ts';
import { alice, bob, createHarness, here, mod, type Harness } from '../helpers/harness.ts';

let h: Harness;
afterEach(async () => h?.close());

const caps = (over: Partial<ProviderCapabilities> = {}): ProviderCapabilities => ({
  modes: ['simple'],
  fields: ['aspectRatio', 'seed'],
  aspectRatios: 'any',
  maxCount: 4,
  upscale: false,
  variations: false,
  progressPercent: false,
  previews: false,
  webhooks: false,
  ...over,
});

/** A provider that records what it was asked and answers with a 1×1 PNG per image. */
function recordingProvider(id: string, over: Partial<ProviderCapabilities> = {}, fail?: () => Error): ImageProvider & { seen: unknown[]; aborted: boolean } {
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d6a8b20000000049454e44ae426082', 'hex');
  const p = {
    id,
    displayName: `Provider ${id}`,
    capabilities: caps(over),
    seen: [] as unknown[],
    aborted: false,
    async generate(request: unknown, ctx: { recordIntent(i: unknown): Promise<void>; recordSubmitted(id: string): Promise<void>; signal: AbortSignal }) {
      p.seen.push(request);
      await ctx.recordIntent({ key: `k-${p.seen.length}`, operation: 'generate', body: request });
      if (fail) throw fail();
      await ctx.recordSubmitted(`remote-${p.seen.length}`);
      return { images: [{ bytes: png, mime: 'image/png', width: 1, height: 1 }], seed: 5 };
    },
  };
  return p as never;
}

const rejects = async (p: Promise<unknown>, code: string, message: RegExp) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  expect((err as UserError).code).toBe(code);
  expect((err as Error).message).toMatch(message);
};

describe('imagine', () => {
  it('runs a job to four stored images and a grid, announcing each state', async () => {
    h = await createHarness();
    const states: string[] = [];
    h.atelier.events.subscribe((e) => states.push(`${e.job.state}${e.job.progress.percent !== undefined ? `:${e.job.progress.percent}` : ''}`));
    const job = await h.atelier.imagine({ prompt: 'a lighthouse in a storm --ar 16:9 --seed 7' }, alice, here);
    expect(job.request).toMatchObject({ prompt: 'a lighthouse in a storm', aspectRatio: '16:9', seed: 7, mode: 'simple' });
    const done = await h.settle(job.id);
    expect(done.state).toBe('succeeded');
    expect(done.result?.seed).toBe(7);
    const imgs = await h.atelier.images(job.id);
    expect(imgs.filter((i) => i.meta.kind === 'image')).toHaveLength(4);
    expect(imgs.filter((i) => i.meta.kind === 'grid')).toHaveLength(1);
    const first = imgs.find((i) => i.meta.index === 1)!;
    expect(first.meta.width / first.meta.height).toBeCloseTo(16 / 9, 1);
    expect(Buffer.from(await first.bytes()).subarray(1, 4).toString()).toBe('PNG');
    expect(states[0]).toBe('queued');
    expect(states).toContain('running');
    expect(states.some((s) => /^running:\d+/.test(s))).toBe(true);
    expect(states.at(-1)).toMatch(/^succeeded/);
  });

  it('shows every preview a provider sent before its result, in the order sent, before the final state', async () => {
    // A provider that streams partial images and its result in one burst (OpenAI's stream on a fast
    // connection) must not have its previews dropped or reordered by the time the job finishes.
    const sharp = (await import('sharp')).default;
    const shade = (v: number) => sharp({ create: { width: 512, height: 512, channels: 3, background: { r: v, g: v, b: v } } }).png().toBuffer();
    const [first, second] = [await shade(40), await shade(200)];
    const bursty = recordingProvider('bursty', { previews: true, progressPercent: true });
    const generate = bursty.generate.bind(bursty);
    bursty.generate = (async (request: never, ctx: { progress(p: unknown): void }) => {
      ctx.progress({ percent: 30, preview: { bytes: first, mime: 'image/png' } });
      ctx.progress({ percent: 60, preview: { bytes: second, mime: 'image/png' } });
      ctx.progress({ percent: 90, stage: 'almost' });
      return generate(request, ctx as never);
    }) as never;
    h = await createHarness({ providers: [bursty] });
    const seen: { state: string; percent?: number; previewKey?: string }[] = [];
    h.atelier.events.subscribe((e) => seen.push({ state: e.job.state, percent: e.job.progress.percent, previewKey: e.job.progress.previewKey }));
    const job = await h.atelier.imagine({ prompt: 'a lighthouse', provider: 'bursty' }, alice, here);
    const done = await h.settle(job.id);
    expect(done.state).toBe('succeeded');
    const running = seen.filter((s) => s.state === 'running' && s.percent !== undefined);
    // Reports that arrive while one is written may merge, but never go backwards.
    const percents = running.map((s) => s.percent!);
    expect(percents[0]).toBe(30);
    expect(percents.at(-1)).toBe(90);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    const last = done.progress.previewKey!;
    expect(last).toBe(running.at(-1)!.previewKey);
    const stats = await sharp(Buffer.from((await h.atelier.blobs.get(last))!)).stats();
    expect(stats.channels[0]!.mean).toBeGreaterThan(150);
  });

  it('refuses an unknown flag in simple mode, naming it, and queues nothing', async () => {
    h = await createHarness();
    await rejects(h.atelier.imagine({ prompt: 'a dog --bogus 3' }, alice, here), 'UNKNOWN_FLAG', /--bogus/);
    expect(await h.atelier.store.listJobs({})).toEqual([]);
  });

  it('refuses a field the provider cannot express, naming it, rather than dropping it', async () => {
    h = await createHarness();
    await rejects(h.atelier.imagine({ prompt: 'a dog', camera: 'GoPro' }, alice, here), 'UNSUPPORTED', /Local renderer cannot do camera/);
    await rejects(h.atelier.imagine({ prompt: 'a dog --v 6' }, alice, here), 'UNSUPPORTED', /Midjourney parameters/);
    await rejects(h.atelier.imagine({ prompt: 'a dog', mode: 'advanced' }, alice, here), 'UNSUPPORTED', /not Midjourney-backed/);
    expect(await h.atelier.store.listJobs({})).toEqual([]);
  });

  it('a typed option and a flag must agree', async () => {
    h = await createHarness();
    await rejects(h.atelier.imagine({ prompt: 'a dog --ar 16:9', format: '1:1' }, alice, here), 'CONFLICT', /format:1:1.*--ar 16:9/);
    const same = await h.atelier.imagine({ prompt: 'a dog --ar 16:9', format: '16:9' }, alice, here);
    expect(same.request.aspectRatio).toBe('16:9');
  });

  it('applies defaults in order: typed, then user, channel, server', async () => {
    h = await createHarness();
    const s = (kind: 'user' | 'channel' | 'server', id: string) => ({ kind, platform: 'web', id });
    await h.atelier.setSettings(s('server', 'srv'), { format: '2:3' }, mod);
    expect((await h.atelier.imagine({ prompt: 'a' }, alice, here)).request.aspectRatio).toBe('2:3');
    await h.atelier.setSettings(s('channel', 'general'), { format: '3:2' }, mod);
    expect((await h.atelier.imagine({ prompt: 'b' }, alice, here)).request.aspectRatio).toBe('3:2');
    await h.atelier.setSettings(s('user', 'alice'), { format: '9:16' }, alice);
    expect((await h.atelier.imagine({ prompt: 'c' }, alice, here)).request.aspectRatio).toBe('9:16');
    expect((await h.atelier.imagine({ prompt: 'd', format: '1:1' }, alice, here)).request.aspectRatio).toBe('1:1');
    expect((await h.atelier.imagine({ prompt: 'e' }, bob, here)).request.aspectRatio).toBe('3:2');
  });

  it('only moderators change channel and server settings, and only your own user settings', async () => {
    h = await createHarness();
    await rejects(h.atelier.setSettings({ kind: 'channel', platform: 'web', id: 'general' }, { nsfw: true }, alice), 'NOT_ALLOWED', /Only visitors who ticked "moderator" may change this channel's settings/);
    await rejects(h.atelier.setSettings({ kind: 'user', platform: 'web', id: 'bob' }, { format: '1:1' }, alice), 'NOT_ALLOWED', /your own/);
    await rejects(h.atelier.setSettings({ kind: 'user', platform: 'web', id: 'alice' }, { provider: 'nope' }, alice), 'INVALID_OPTIONS', /no provider "nope"/);
  });

  it('moderates before queueing: banned words, NSFW, roles and allowed providers', async () => {
    h = await createHarness({ providers: [recordingProvider('other')] });
    await h.atelier.setSettings({ kind: 'channel', platform: 'web', id: 'general' }, { bannedWords: ['gizmo'], allowedProviders: ['local'] }, mod);
    await h.atelier.setSettings({ kind: 'server', platform: 'web', id: 'srv' }, { bannedWords: ['widget'] }, mod);
    await rejects(h.atelier.imagine({ prompt: 'a gizmo' }, alice, here), 'MODERATION', /"gizmo"/);
    await rejects(h.atelier.imagine({ prompt: 'a widget' }, alice, here), 'MODERATION', /"widget"/);
    await rejects(h.atelier.imagine({ prompt: 'a nude figure' }, alice, here), 'MODERATION', /NSFW/);
    await rejects(h.atelier.imagine({ prompt: 'a cat', provider: 'other' }, alice, here), 'NOT_ALLOWED', /not allowed in this channel/);
    await h.atelier.setSettings({ kind: 'channel', platform: 'web', id: 'general' }, { allowedRoles: ['artist'] }, mod);
    await rejects(h.atelier.imagine({ prompt: 'a cat' }, alice, here), 'NOT_ALLOWED', /roles/);
    await h.atelier.imagine({ prompt: 'a cat' }, { ...alice, roles: ['artist'] }, here);
    expect(await h.atelier.store.listJobs({})).toHaveLength(1);
  });

  it('caps queued jobs per user and enforces a daily quota', async () => {
    h = await createHarness({ scheduler: { global: 0 }, limits: { maxQueuedPerUser: 2, dailyQuotaPerUser: 3 } });
    await h.atelier.imagine({ prompt: 'one' }, alice, here);
    await h.atelier.imagine({ prompt: 'two' }, alice, here);
    await rejects(h.atelier.imagine({ prompt: 'three' }, alice, here), 'QUEUE_FULL', /queue is full/);
    await h.atelier.imagine({ prompt: 'bob is fine' }, bob, here);
    await h.atelier.cancelMine(alice, here);
    await h.atelier.imagine({ prompt: 'three' }, alice, here);
    await rejects(h.atelier.imagine({ prompt: 'four' }, alice, here), 'QUOTA_EXCEEDED', /3 jobs for today/);
  });

  it('reports queue positions in fair order', async () => {
    h = await createHarness({ scheduler: { global: 0 } });
    const a1 = await h.atelier.imagine({ prompt: 'a1' }, alice, here);
    const a2 = await h.atelier.imagine({ prompt: 'a2' }, alice, here);
    const b1 = await h.atelier.imagine({ prompt: 'b1' }, bob, here);
    const order = (await h.atelier.queue(here)).map((j) => j.id);
    expect(order).toEqual([a1.id, b1.id, a2.id]);
    await new Promise((r) => setTimeout(r, 20));
    expect((await h.atelier.getJob(b1.id))?.progress.queuePosition).toBe(2);
  });
});

describe('advanced mode', () => {
  it('sends the prompt verbatim, unknown flags included, with typed options appended as flags', async () => {
    const mj = recordingProvider('mj', { modes: ['simple', 'advanced'] });
    h = await createHarness({ providers: [mj] });
    const job = await h.atelier.imagine({ prompt: 'a cat --weird 50 --zzz 1', mode: 'advanced', provider: 'mj', format: '3:2', seed: 9 }, alice, here);
    expect(job.request.rawPrompt).toBe('a cat --weird 50 --zzz 1 --ar 3:2 --seed 9');
    await h.settle(job.id);
    expect(mj.seen).toHaveLength(1);
  });
});

describe('cancel', () => {
  it('cancels a queued job, and aborts a running one through its signal', async () => {
    let aborted = false;
    const hanging: ImageProvider = {
      id: 'hang',
      displayName: 'Hang',
      capabilities: caps(),
      generate: (_r, ctx) =>
        new Promise((_res, rej) =>
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            rej(new Error('aborted'));
          }),
        ),
    };
    h = await createHarness({ providers: [hanging], scheduler: { global: 1 } });
    const running = await h.atelier.imagine({ prompt: 'x', provider: 'hang' }, alice, here);
    const queued = await h.atelier.imagine({ prompt: 'y', provider: 'hang' }, bob, here);
    await rejects(h.atelier.cancel(running.id, bob, here), 'NOT_ALLOWED', /Alice or a moderator/);
    expect((await h.atelier.cancel(queued.id, bob, here)).state).toBe('canceled');
    await vi_waitFor(async () => (await h.atelier.getJob(running.id))?.state === 'running');
    await h.atelier.cancel(running.id, alice, here);
    expect((await h.settle(running.id)).state).toBe('canceled');
    expect(aborted).toBe(true);
  });
});

describe('buttons', () => {
  it('reroll, upscale, vary, remix and retry create attributed child jobs', async () => {
    h = await createHarness();
    const parent = await h.settle((await h.atelier.imagine({ prompt: 'a red fox --seed 3' }, alice, here)).id);
    const reroll = await h.atelier.act(parent.id, { kind: 'reroll' }, bob, here);
    expect(reroll).toMatchObject({ parentId: parent.id, owner: { userId: 'bob' }, action: { kind: 'reroll' } });
    expect(reroll.request.seed).toBeUndefined();
    const up = await h.settle((await h.atelier.act(parent.id, { kind: 'upscale', index: 2 }, bob, here)).id);
    const [upImg] = (await h.atelier.images(up.id)).filter((i) => i.meta.kind === 'image');
    const [src2] = (await h.atelier.images(parent.id)).filter((i) => i.meta.index === 2);
    expect(upImg!.meta.width).toBe(src2!.meta.width * 2);
    const vary = await h.settle((await h.atelier.act(parent.id, { kind: 'vary', index: 3 }, alice, here)).id);
    expect(vary.state).toBe('succeeded');
    const remix = await h.atelier.act(parent.id, { kind: 'remix', prompt: 'a blue fox --ar 2:3' }, alice, here);
    expect(remix.request).toMatchObject({ prompt: 'a blue fox', aspectRatio: '2:3' });
    await rejects(h.atelier.act(parent.id, { kind: 'remix', prompt: 'a fox --nope' }, alice, here), 'UNKNOWN_FLAG', /--nope/);
    await rejects(h.atelier.act(parent.id, { kind: 'upscale', index: 9 }, alice, here), 'INVALID_OPTIONS', /pick 1 to 4/);
    await rejects(h.atelier.act(parent.id, { kind: 'retry' }, alice, here), 'INVALID_OPTIONS', /Only a failed job/);
    await h.settle(reroll.id);
    await h.settle(remix.id);
  });

  it('holds the channel button policy: owner-only keeps others out, moderators still pass', async () => {
    h = await createHarness();
    const parent = await h.settle((await h.atelier.imagine({ prompt: 'a fox' }, alice, here)).id);
    await h.atelier.setSettings({ kind: 'channel', platform: 'web', id: 'general' }, { buttons: 'owner' }, mod);
    await rejects(h.atelier.act(parent.id, { kind: 'reroll' }, bob, here), 'NOT_ALLOWED', /Only Alice/);
    expect(await h.atelier.mayPress(parent, { kind: 'details' }, bob)).toBe(true);
    await h.settle((await h.atelier.act(parent.id, { kind: 'reroll' }, mod, here)).id);
  });

  it('a button on a deleted job explains itself', async () => {
    h = await createHarness();
    await rejects(h.atelier.act('gone', { kind: 'reroll' }, bob, here), 'NOT_FOUND', /no longer exists/);
  });

  it('delete removes the job and its stored image bytes; only the owner or a moderator may', async () => {
    h = await createHarness();
    const job = await h.settle((await h.atelier.imagine({ prompt: 'a fox' }, alice, here)).id);
    const files = (await h.atelier.images(job.id)).map((i) => join(h.dir, 'images', i.meta.blobKey));
    expect(files.every((f) => existsSync(f))).toBe(true);
    await rejects(h.atelier.delete(job.id, bob, here), 'NOT_ALLOWED', /manage messages/);
    await h.atelier.delete(job.id, alice, here);
    expect(files.some((f) => existsSync(f))).toBe(false);
    expect(await h.atelier.getJob(job.id)).toBeUndefined();
  });
});

describe('provider failures', () => {
  it('fail visibly and can be retried', async () => {
    let calls = 0;
    const flaky = recordingProvider('flaky', {}, () => (++calls === 1 ? new UserError('PROVIDER_UNAVAILABLE', 'Flaky is down.') : new Error('never')));
    h = await createHarness({ providers: [flaky] });
    const failed = await h.settle((await h.atelier.imagine({ prompt: 'x', provider: 'flaky' }, alice, here)).id);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', message: 'Flaky is down.', retryable: true });
    expect(failed.intent?.key).toBe('k-1');
    const retry = await h.atelier.act(failed.id, { kind: 'retry' }, alice, here);
    expect(retry.request).toEqual(failed.request);
  });

  it('an unexpected error becomes an incident id, never a stack trace', async () => {
    const broken = recordingProvider('broken', {}, () => new TypeError('cannot read x of undefined'));
    h = await createHarness({ providers: [broken] });
    const failed = await h.settle((await h.atelier.imagine({ prompt: 'x', provider: 'broken' }, alice, here)).id);
    expect(failed.error?.message).toMatch(/^Something went wrong \(incident [0-9a-f]{8}\)\.$/);
    expect(failed.error?.incidentId).toBeTruthy();
  });

  it('move to the channel fallback on a provider-side failure, with a visible note', async () => {
    const down = recordingProvider('down', {}, () => new UserError('PROVIDER_UNAVAILABLE', 'Down is down (503).'));
    h = await createHarness({ providers: [down] });
    await h.atelier.setSettings({ kind: 'channel', platform: 'web', id: 'general' }, { fallbackProvider: 'local' }, mod);
    const job = await h.settle((await h.atelier.imagine({ prompt: 'a fox', provider: 'down' }, alice, here)).id);
    expect(job.state).toBe('succeeded');
    expect(job.provider).toBe('local');
    expect(job.notes.join()).toMatch(/Moved to Local renderer after Provider down failed/);
  });

  it('never fail over on a user-side failure', async () => {
    const strict = recordingProvider('strict', {}, () => new UserError('MODERATION', 'Blocked by Strict.'));
    h = await createHarness({ providers: [strict] });
    await h.atelier.setSettings({ kind: 'channel', platform: 'web', id: 'general' }, { fallbackProvider: 'local' }, mod);
    const job = await h.settle((await h.atelier.imagine({ prompt: 'a fox', provider: 'strict' }, alice, here)).id);
    expect(job).toMatchObject({ state: 'failed', provider: 'strict', error: { code: 'MODERATION' } });
  });
});

describe('restart', () => {
  it('resumes queued and interrupted jobs from the same database file, handing the provider its intent', async () => {
    const resumes: unknown[] = [];
    const resumable: ImageProvider = {
      ...recordingProvider('resumable'),
      async generate(_r, ctx) {
        resumes.push(ctx.resume);
        const png = (await import('sharp')).default({ create: { width: 2, height: 2, channels: 3, background: '#f00' } }).png().toBuffer();
        return { images: [{ bytes: await png, mime: 'image/png', width: 2, height: 2 }] };
      },
    };
    h = await createHarness({ scheduler: { global: 0 } });
    const dir = h.dir;
    const queued = await h.atelier.imagine({ prompt: 'waiting' }, alice, here);
    const other = await h.atelier.imagine({ prompt: 'was running', provider: 'local' }, bob, here);
    // Simulate a crash mid-run: the job is running and its intent and remote id were recorded.
    const store = h.atelier.store;
    const current = (await store.getJob(other.id))!;
    await store.updateJob({ ...current, provider: 'resumable', state: 'running', intent: { key: 'k', operation: 'generate', body: {} }, providerJobId: 'remote-1' } as Job);
    await h.queue.stop();
    await store.close();
    h = await createHarness({ dir, providers: [resumable] });
    const [a, b] = await Promise.all([h.settle(queued.id), h.settle(other.id)]);
    expect(a.state).toBe('succeeded');
    expect(b).toMatchObject({ state: 'succeeded', attempts: 1 });
    expect(resumes).toEqual([{ intent: { key: 'k', operation: 'generate', body: {} }, providerJobId: 'remote-1' }]);
  });
});

async function vi_waitFor(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('provider registry', () => {
  it('offers no capabilities for a provider that is no longer configured', async () => {
    const { ProviderRegistry, NO_CAPABILITIES } = await import('../../src/core/registry.ts');
    const r = new ProviderRegistry();
    expect(r.capabilities('gone')).toBe(NO_CAPABILITIES);
    expect(NO_CAPABILITIES).toMatchObject({ upscale: false, variations: false });
  });
});
