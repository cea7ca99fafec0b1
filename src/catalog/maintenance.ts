/**
 * Maintenance of the log: applied batches pruned past batch_retention, then
 * VACUUM of the log and batch tables (run_maintenance, auto_maintenance).
 * VACUUM runs in no transaction and no function, so the agent runs it here
 * rather than the SQL function that asks for it.
 */
import type pg from 'pg';
import { ChameleonError, ErrorCodes } from '../errors.js';
import { pruneBatches } from './batches.js';
import type { Source } from './sources.js';

/** The catalogue's queue tables: every source's rows, so vacuumed for all of them at once. */
const TABLES = ['t_log_events', 't_batches'] as const;

export interface MaintenanceResult {
  full: boolean;
  /** Applied batches of the source pruned (older than batch_retention). */
  prunedBatches: number;
  /** Size of each table before and after, in bytes. */
  tables: Record<string, { before: number; after: number }>;
}

async function sizes(client: pg.PoolClient): Promise<Record<string, number>> {
  const res = await client.query<{ name: string; bytes: string }>(
    `SELECT c.relname AS name, pg_total_relation_size(c.oid)::text AS bytes
       FROM pg_class c WHERE c.relnamespace = 'sch_chameleon'::regnamespace AND c.relname = ANY ($1)`,
    [TABLES],
  );
  return Object.fromEntries(res.rows.map((r) => [r.name, Number(r.bytes)]));
}

/**
 * Prunes the source's batches, then vacuums the log (VACUUM FULL when
 * `full`: the tables are rewritten and every source's reader and replayer
 * wait for the lock meanwhile; `lockTimeout` bounds the wait for it).
 */
export async function runMaintenance(
  pool: pg.Pool,
  source: Pick<Source, 'id' | 'name'> & { options: Pick<Source['options'], 'batch_retention' | 'lock_timeout'> },
  full: boolean,
): Promise<MaintenanceResult> {
  const client = await pool.connect();
  try {
    // a VACUUM by a role that does not own the table is skipped with a mere warning: say so instead
    const owners = await client.query<{ name: string; owner: string }>(
      `SELECT c.relname AS name, pg_get_userbyid(c.relowner) AS owner
         FROM pg_class c
        WHERE c.relnamespace = 'sch_chameleon'::regnamespace AND c.relname = ANY ($1)
          AND NOT pg_has_role(current_user, c.relowner, 'USAGE')
        ORDER BY c.relname`,
      [TABLES],
    );
    if (owners.rows.length > 0) {
      const who = (await client.query<{ u: string }>('SELECT current_user AS u')).rows[0].u;
      throw new ChameleonError(
        ErrorCodes.CONFIG,
        `run_maintenance: the agent's role ${who} may not vacuum ${owners.rows.map((r) => `sch_chameleon.${r.name} (owned by ${r.owner})`).join(', ')}; ` +
          'run the agent as the catalogue\'s owner or a member of it',
        { source: source.name },
      );
    }
    const prunedBatches = await pruneBatches(pool, source.id, source.options.batch_retention);
    const before = await sizes(client);
    if (full) await client.query(`SELECT set_config('lock_timeout', $1, false)`, [source.options.lock_timeout]);
    for (const t of TABLES) await client.query(`VACUUM ${full ? '(FULL) ' : ''}sch_chameleon.${t}`);
    const after = await sizes(client);
    await client.query('UPDATE sch_chameleon.t_sources SET last_maintenance_at = now() WHERE source_id = $1', [source.id]);
    return {
      full,
      prunedBatches,
      tables: Object.fromEntries(TABLES.map((t) => [t, { before: before[t] ?? 0, after: after[t] ?? 0 }])),
    };
  } finally {
    // the session's lock_timeout must not follow the connection back into the pool
    await client.query('RESET lock_timeout').catch(() => undefined);
    client.release();
  }
}

/**
 * auto_maintenance: whether the source's maintenance is due (its interval
 * has passed since the last one). The first time, the count starts: a
 * source is not vacuumed the moment its replica starts.
 */
export async function maintenanceDue(pool: pg.Pool, sourceId: string): Promise<boolean> {
  const res = await pool.query<{ due: boolean }>(
    `UPDATE sch_chameleon.t_sources s
        SET last_maintenance_at = CASE WHEN s.last_maintenance_at IS NULL THEN now() ELSE s.last_maintenance_at END
      WHERE s.source_id = $1 AND s.options ->> 'auto_maintenance' <> 'disabled'
      RETURNING s.last_maintenance_at < now() - (s.options ->> 'auto_maintenance')::interval AS due`,
    [sourceId],
  );
  return res.rows[0]?.due ?? false;
}
