import pg from 'pg';

/** Where a PostgreSQL store or blob store lives: a URL (it then owns its pool) or a shared pool. */
export type PostgresTarget =
  | string
  | {
      pool: pg.Pool;
      /** Tables live in this schema (created by `migrate`); default: the connection's search_path. */
      schema?: string;
      /** End the pool on `close()`; default false, since a shared pool belongs to its creator. */
      endPoolOnClose?: boolean;
    };

export interface PostgresHandle {
  pool: pg.Pool;
  schema: string | undefined;
  /** `"schema".` or empty: prefixed to every table name. */
  prefix: string;
  ownsPool: boolean;
}

/**
 * A pool for a URL. pg emits 'error' on the pool when an idle connection dies (a database restart);
 * with no listener that would crash the process. The dead client is discarded and the next query
 * reconnects, so the error is only reported.
 */
export function createPool(url: string, onError: (err: Error) => void = () => {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: url });
  pool.on('error', onError);
  return pool;
}

export function openPostgres(target: PostgresTarget): PostgresHandle {
  if (typeof target === 'string') return { pool: createPool(target), schema: undefined, prefix: '', ownsPool: true };
  const schema = target.schema;
  return { pool: target.pool, schema, prefix: schema ? `${quoteIdent(schema)}.` : '', ownsPool: target.endPoolOnClose ?? false };
}

export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** BIGINT columns come back from pg as strings (they may exceed 2^53); ours are epoch ms and counts. */
export const toNumber = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
