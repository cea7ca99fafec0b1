import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { CatalogDatabase } from './schema.js';

// bigint (int8) comes back as string so that positions and counters stay exact
pg.types.setTypeParser(20, (v) => v);

export interface Catalog {
  pool: pg.Pool;
  db: Kysely<CatalogDatabase>;
  url: string;
  close(): Promise<void>;
}

export function openPool(url: string, opts: { max?: number; applicationName?: string } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'chameleon',
    keepAlive: true,
    idleTimeoutMillis: 30_000,
  });
  // a client whose server went away emits 'error', idle in the pool or checked
  // out between two queries; the query in flight (if any) fails on its own and
  // the pool replaces the client at the next checkout
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export function openCatalog(url: string, opts: { max?: number; applicationName?: string } = {}): Catalog {
  const pool = openPool(url, opts);
  const db = new Kysely<CatalogDatabase>({ dialect: new PostgresDialect({ pool }) });
  return {
    pool,
    db,
    url,
    async close() {
      await db.destroy();
    },
  };
}

/** Runs `fn` in one transaction on a dedicated client. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
