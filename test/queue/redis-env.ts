import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** Redis for these tests comes from REDIS_URL; without it they are skipped, and say so. */
export const REDIS_URL = process.env.REDIS_URL;
export const DATABASE_URL = process.env.DATABASE_URL;

export function warnSkipped(what: string, needs: string[]): void {
  const missing = needs.filter((n) => !process.env[n]);
  if (missing.length) console.warn(`[skipped] ${what}: set ${missing.join(' and ')} to run it (.ci/run does)`);
}

/** A BullMQ prefix of its own, so parallel runs never share keys. */
export const uniquePrefix = (what: string) => `atelier-test-${what}-${randomUUID().slice(0, 8)}`;

/** Deletes every key under the prefix. */
export async function dropPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 3 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
