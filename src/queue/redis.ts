import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * A connection BullMQ accepts for queues and workers: BullMQ's blocking commands need
 * `maxRetriesPerRequest: null`, or a slow Redis would throw inside the worker loop.
 */
export function createRedis(url: string, name?: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, connectionName: name, lazyConnect: false });
}

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * A lease in Redis (SET NX PX): held by at most one process at a time, and it expires on its own when
 * its holder is killed, so a crashed process never blocks the others for longer than `ttlMs`.
 */
export class RedisLease {
  private readonly token = randomUUID();

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    private readonly ttlMs: number,
  ) {}

  async acquire(): Promise<boolean> {
    return (await this.redis.set(this.key, this.token, 'PX', this.ttlMs, 'NX')) === 'OK';
  }

  /** Releases only if we still hold it: a lease that expired and went to another process stays theirs. */
  async release(): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key, this.token);
  }
}
