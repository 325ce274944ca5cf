import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { JobEvents, type JobEvent } from '../core/events.ts';
import type { Logger } from '../core/ports.ts';

/** Events re-emitted from another process: they are never published again, so nothing echoes. */
const remote = new WeakSet<JobEvent>();

/** True when the event happened in another process and arrived through the Redis bridge. */
export const isRemoteEvent = (event: JobEvent): boolean => remote.has(event);

/**
 * A bus that carries only the events that happened in this process: what a platform subscribes to when
 * another process (the job's worker) is the writer of its messages. Returns the bus and its unsubscribe.
 */
export function localOnly(events: JobEvents): { bus: JobEvents; detach: () => void } {
  const bus = new JobEvents();
  const detach = events.subscribe((e) => {
    if (!remote.has(e)) bus.emit(e);
  });
  return { bus, detach };
}

interface Envelope {
  origin: string;
  event: JobEvent;
}

export interface EventBridge {
  readonly origin: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Job snapshots across processes over Redis pub/sub: every local event is published, and every event
 * another process published is re-emitted into this process's bus (marked remote). Renderers in any
 * process therefore see every job, and each still draws from the snapshot alone. Pub/sub is at most
 * once, which is enough: a snapshot carries the whole job, so the next one repairs a missed one, and
 * message sinks re-read the store when they pick a job up.
 */
export function createEventBridge(opts: { pub: Redis; sub: Redis; channel: string; events: JobEvents; logger: Logger }): EventBridge {
  const origin = randomUUID();
  let unsubscribe: (() => void) | undefined;

  const onMessage = (channel: string, message: string) => {
    if (channel !== opts.channel) return;
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message) as Envelope;
    } catch {
      return;
    }
    if (envelope.origin === origin) return;
    remote.add(envelope.event);
    opts.events.emit(envelope.event);
  };

  return {
    origin,
    async start() {
      opts.sub.on('message', onMessage);
      await opts.sub.subscribe(opts.channel);
      unsubscribe = opts.events.subscribe((event) => {
        if (remote.has(event)) return;
        opts.pub.publish(opts.channel, JSON.stringify({ origin, event } satisfies Envelope)).catch((err: unknown) => opts.logger.warn({ err, jobId: event.job.id }, 'event bridge: publish failed'));
      });
    },
    async stop() {
      unsubscribe?.();
      opts.sub.off('message', onMessage);
      await opts.sub.unsubscribe(opts.channel).catch(() => undefined);
    },
  };
}
