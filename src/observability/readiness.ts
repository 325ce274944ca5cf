import type { Store } from '../core/ports.ts';

export interface ReadinessChecks {
  store: Pick<Store, 'getValue'>;
  /** Present when this process depends on Redis (REDIS_URL). */
  redisPing?: () => Promise<unknown>;
  timeoutMs?: number;
}

export interface Readiness {
  ok: boolean;
  checks: Record<string, 'ok' | string>;
}

const within = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);

/**
 * Whether this process can do its work: the database answers (one indexed key read, the same query
 * on SQLite and PostgreSQL) and, when configured, Redis answers PING.
 */
export async function checkReadiness(c: ReadinessChecks): Promise<Readiness> {
  const ms = c.timeoutMs ?? 2_000;
  const checks: Record<string, string> = {};
  const run = async (name: string, probe: () => Promise<unknown>) => {
    try {
      await within(probe(), ms);
      checks[name] = 'ok';
    } catch (err) {
      checks[name] = `unreachable: ${err instanceof Error ? err.message : String(err)}`;
    }
  };
  await Promise.all([run('database', () => c.store.getValue('atelier:readyz')), ...(c.redisPing ? [run('redis', c.redisPing)] : [])]);
  return { ok: Object.values(checks).every((v) => v === 'ok'), checks };
}
