import { afterEach, describe, expect, it } from 'vitest';
import { JobEvents, type JobEvent } from '../../src/core/events.ts';
import type { Job } from '../../src/core/job.ts';
import { silentLogger } from '../../src/core/ports.ts';
import { createEventBridge, isRemoteEvent, localOnly } from '../../src/queue/event-bridge.ts';
import { createRedis } from '../../src/queue/redis.ts';
import { REDIS_URL, uniquePrefix, warnSkipped } from './redis-env.ts';

warnSkipped('event bridge tests', ['REDIS_URL']);

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const job = (id: string, version: number): Job => ({
  id,
  action: { kind: 'imagine' },
  state: version === 0 ? 'queued' : 'running',
  provider: 'local',
  request: { mode: 'simple', prompt: 'a kite' },
  owner: { platform: 'discord', userId: 'u', displayName: 'U' },
  where: { platform: 'discord', channelId: 'c' },
  private: false,
  createdAt: 1,
  progress: { percent: version * 10 },
  attempts: 0,
  notes: [],
  version,
});

/** A process's bus joined to the channel, as the Redis queue joins it. */
async function processOn(channel: string) {
  const pub = createRedis(REDIS_URL!);
  const sub = createRedis(REDIS_URL!);
  const events = new JobEvents();
  const bridge = createEventBridge({ pub, sub, channel, events, logger: silentLogger });
  await bridge.start();
  cleanup.push(async () => {
    await bridge.stop();
    pub.disconnect();
    sub.disconnect();
  });
  const seen: { event: JobEvent; remote: boolean }[] = [];
  events.subscribe((event) => seen.push({ event, remote: isRemoteEvent(event) }));
  return { events, seen };
}

const until = async (test: () => boolean) => {
  for (let i = 0; i < 200 && !test(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(test()).toBe(true);
};

describe.skipIf(!REDIS_URL)('event bridge (Redis pub/sub)', () => {
  it('re-emits every process’s snapshots in the others once, marked remote, and never echoes them back', async () => {
    const channel = `${uniquePrefix('bridge')}:events`;
    const a = await processOn(channel);
    const b = await processOn(channel);
    const c = await processOn(channel);
    a.events.emit({ type: 'job.updated', job: job('j1', 1) });
    b.events.emit({ type: 'job.deleted', job: job('j2', 0) });
    await until(() => a.seen.length === 2 && b.seen.length === 2 && c.seen.length === 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(a.seen.map((s) => [s.event.job.id, s.remote])).toEqual([
      ['j1', false],
      ['j2', true],
    ]);
    expect(b.seen.map((s) => [s.event.job.id, s.remote])).toEqual([
      ['j2', false],
      ['j1', true],
    ]);
    expect(c.seen.every((s) => s.remote)).toBe(true);
    // The snapshot arrives whole: a renderer needs nothing else.
    expect(c.seen.find((s) => s.event.job.id === 'j1')?.event).toEqual({ type: 'job.updated', job: job('j1', 1) });
    expect(c.seen.find((s) => s.event.job.id === 'j2')?.event.type).toBe('job.deleted');
  });

  it("gives a local-only bus this process's events and none bridged in (the one-writer rule for chat messages)", async () => {
    const channel = `${uniquePrefix('bridge')}:events`;
    const worker = await processOn(channel);
    const web = await processOn(channel);
    const { bus, detach } = localOnly(web.events);
    const drawn: string[] = [];
    bus.subscribe((e) => drawn.push(`${e.job.id}@${e.job.version}`));
    web.events.emit({ type: 'job.updated', job: job('mine', 0) });
    worker.events.emit({ type: 'job.updated', job: job('theirs', 3) });
    await until(() => web.seen.length === 2);
    expect(drawn).toEqual(['mine@0']);
    detach();
    web.events.emit({ type: 'job.updated', job: job('mine', 1) });
    expect(drawn).toEqual(['mine@0']);
  });
});
