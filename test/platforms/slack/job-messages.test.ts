import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Atelier, ImageHandle } from '../../../src/core/atelier.ts';
import { JobEvents } from '../../../src/core/events.ts';
import type { Job } from '../../../src/core/job.ts';
import { silentLogger, type ImageTools, type MessageRef } from '../../../src/core/ports.ts';
import type { ImageProvider } from '../../../src/core/provider.ts';
import { ProviderRegistry } from '../../../src/core/registry.ts';
import { JobMessages } from '../../../src/platforms/slack/job-messages.ts';
import { UpdateBudget } from '../../../src/platforms/slack/update-budget.ts';
import { createWebClient } from '../../../src/platforms/slack/web-client.ts';
import { BOT_TOKEN, SlackFake } from '../../fakes/slack/slack-fake.ts';
import { eventually } from './harness.ts';

const fake = new SlackFake();
beforeAll(() => fake.start());
afterAll(() => fake.stop());

const provider: ImageProvider = {
  id: 'stub',
  displayName: 'Stub',
  capabilities: { modes: ['simple'], fields: [], aspectRatios: 'any', maxCount: 4, upscale: true, variations: false, progressPercent: true, previews: false, webhooks: false },
  generate: () => Promise.reject(new Error('not used')),
};

/** The part of the core JobMessages uses, in memory: events, message refs, providers, images. */
function stubAtelier(refs = new Map<string, MessageRef>()) {
  const events = new JobEvents();
  const images: ImageHandle[] = [1, 2].map((index) => ({ meta: { id: `i${index}`, jobId: 'j', index, kind: 'image', mime: 'image/png', width: 8, height: 8, size: 4, blobKey: 'k', createdAt: 0 }, bytes: async () => new Uint8Array([index, 2, 3, 4]) }));
  const atelier = {
    events,
    providers: new ProviderRegistry().register(provider),
    store: { getMessageRef: async (id: string) => refs.get(id), setMessageRef: async (id: string, _p: string, ref: MessageRef) => void refs.set(id, ref) },
    images: async () => images,
  } as unknown as Atelier;
  return { atelier, events, refs };
}

const tools = { fit: async (bytes: Uint8Array) => ({ bytes, mime: 'image/png', width: 8, height: 8 }) } as unknown as ImageTools;

function job(over: Partial<Job>): Job {
  return {
    id: 'job_long',
    action: { kind: 'imagine' },
    state: 'running',
    provider: 'stub',
    request: { prompt: 'a very slow sunrise', mode: 'simple' } as Job['request'],
    owner: { platform: 'slack', userId: fake.users.alice.id, displayName: 'alice' },
    where: { platform: 'slack', channelId: fake.channel, serverId: fake.teamId },
    private: false,
    createdAt: Date.now() - 120_000,
    startedAt: Date.now() - 120_000,
    progress: { percent: 10 },
    attempts: 1,
    notes: [],
    version: 1,
    ...over,
  };
}

function messagesFor(atelier: Atelier) {
  const client = createWebClient(BOT_TOKEN, fake.apiUrl, silentLogger);
  const m = new JobMessages({ atelier, client, images: tools, budget: new UpdateBudget({ minIntervalMs: 0 }), logger: silentLogger });
  m.start();
  return m;
}

describe('JobMessages', () => {
  it('mentions a long job requester on the file message itself, not in a reply that could overtake it', async () => {
    const { atelier, events } = stubAtelier();
    const messages = messagesFor(atelier);
    const running = job({});
    const opened = await messages.open(running);
    expect(opened.ok).toBe(true);
    const before = fake.proxy.calls.length;
    events.emit({ type: 'job.updated', job: { ...running, state: 'succeeded', finishedAt: Date.now(), result: { imageIds: ['i1', 'i2'] }, version: 2 } });
    await messages.settled();
    const after = fake.proxy.calls.slice(before);
    const complete = after.find((c) => c.method === 'files.completeUploadExternal');
    expect(complete?.args.initial_comment).toBe(`<@${fake.users.alice.id}> your images are ready.`);
    expect(after.filter((c) => c.method === 'chat.postMessage')).toEqual([]);
    messages.stop();
  });

  it('after a restart, edits the stored message instead of posting a new one, and deletes it with the job', async () => {
    const refs = new Map<string, MessageRef>();
    const first = stubAtelier(refs);
    const m1 = messagesFor(first.atelier);
    const j = job({ id: 'job_restart', createdAt: Date.now(), startedAt: Date.now() });
    const opened = await m1.open(j);
    if (!opened.ok) throw new Error(opened.code);
    m1.stop();

    const second = stubAtelier(refs);
    const m2 = messagesFor(second.atelier);
    const posts = fake.proxy.callsOf('chat.postMessage').length;
    second.events.emit({ type: 'job.updated', job: { ...j, state: 'canceled', finishedAt: Date.now(), version: 5 } });
    await eventually(async () => fake.proxy.callsOf('chat.update').filter((c) => c.args.ts === opened.ref.ts), (cs) => cs.length > 0, 'edit of the stored message');
    expect(fake.proxy.callsOf('chat.postMessage').length).toBe(posts);
    second.events.emit({ type: 'job.deleted', job: { ...j, version: 6 } });
    await eventually(async () => fake.proxy.callsOf('chat.delete').filter((c) => c.args.ts === opened.ref.ts && c.answer.ok), (cs) => cs.length === 1, 'delete of the stored message');
    m2.stop();
  });

  it('deletes a finished job message the store no longer knows, located by the press', async () => {
    const first = stubAtelier();
    const m1 = messagesFor(first.atelier);
    const j = job({ id: 'job_located', createdAt: Date.now(), startedAt: Date.now() });
    const opened = await m1.open(j);
    if (!opened.ok) throw new Error(opened.code);
    m1.stop();
    // A new process, and the store dropped the job's refs with the job (ON DELETE CASCADE).
    const second = stubAtelier(new Map());
    const m2 = messagesFor(second.atelier);
    await m2.locate(j.id, opened.ref.channel, opened.ref.ts);
    second.events.emit({ type: 'job.deleted', job: { ...j, state: 'succeeded', version: 9 } });
    await eventually(async () => fake.proxy.callsOf('chat.delete').filter((c) => c.args.ts === opened.ref.ts && c.answer.ok), (cs) => cs.length === 1, 'delete of the located message');
    m2.stop();
  });
});
