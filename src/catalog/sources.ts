import { sql } from 'kysely';
import type { Catalog } from './db.js';
import type { SourcesTable } from './schema.js';

export interface SourceOptions {
  limit_tables: string[];
  skip_tables: string[];
  grant_select_to: string[];
  lock_timeout: string;
  /** null: 1000 + the source id. */
  my_server_id: number | null;
  replica_batch_size: number;
  replay_max_rows: number;
  batch_retention: string;
  copy_max_memory: string;
  /** "auto": resolved by the agent from its CPU cores (copyJobs in src/snapshot/plan.ts). */
  copy_jobs: number | 'auto';
  copy_range_rows: number;
  sleep_loop: number;
  on_error_replay: 'continue' | 'exit';
  on_error_read: 'continue' | 'exit';
  auto_maintenance: string;
  gtid_enable: boolean;
  skip_events: { insert?: string[]; update?: string[]; delete?: string[] };
  keep_existing_schema: boolean;
  net_read_timeout: number;
  type_override: Record<string, { override_to: string; override_tables?: string[] }>;
  fillfactor: Record<string, { tables: string[] }>;
}

export interface Source {
  id: string;
  name: string;
  mysqlUrl: string;
  schemaMappings: Record<string, string>;
  options: SourceOptions;
  status: SourcesTable['status'];
  replicaEnabled: boolean;
  readFile: string | null;
  readPos: string | null;
  readGtid: string | null;
}

export async function loadSource(cat: Catalog, sourceId: string): Promise<Source | null> {
  const row = await cat.db.selectFrom('sch_chameleon.t_sources').selectAll().where('source_id', '=', sourceId).executeTakeFirst();
  if (!row) return null;
  const read = await sql<{ file: string | null; pos: string | null; gtid: string | null }>`
    SELECT file, pos, gtid FROM sch_chameleon.fn_read_position(${sourceId})`.execute(cat.db);
  const position = read.rows[0];
  return {
    id: String(row.source_id),
    name: row.source_name,
    mysqlUrl: row.mysql_url,
    schemaMappings: row.schema_mappings as Record<string, string>,
    options: row.options as SourceOptions,
    status: row.status,
    replicaEnabled: row.replica_enabled,
    readFile: position?.file ?? null,
    readPos: position?.pos ?? null,
    readGtid: position?.gtid ?? null,
  };
}

export async function setSourceStatus(
  cat: Catalog,
  sourceId: string,
  status: SourcesTable['status'],
  extra: { lastError?: string | null; replicaEnabled?: boolean } = {},
): Promise<void> {
  await cat.db
    .updateTable('sch_chameleon.t_sources')
    .set({
      status,
      updated_at: new Date(),
      ...(extra.lastError !== undefined ? { last_error: extra.lastError } : {}),
      ...(extra.replicaEnabled !== undefined ? { replica_enabled: extra.replicaEnabled } : {}),
    })
    .where('source_id', '=', sourceId)
    .execute();
}

/** After a snapshot: the replica starts at the earliest table coordinates, with nothing pending. */
export async function resetPositions(cat: Catalog, sourceId: string, start: { file: string; pos: string; gtid: string | null }): Promise<void> {
  await cat.db.transaction().execute(async (trx) => {
    await sql`DELETE FROM sch_chameleon.t_log_events l USING sch_chameleon.t_batches b
               WHERE l.batch_id = b.batch_id AND b.source_id = ${sourceId}`.execute(trx);
    await sql`DELETE FROM sch_chameleon.t_batches WHERE source_id = ${sourceId}`.execute(trx);
    await trx
      .updateTable('sch_chameleon.t_sources')
      .set({
        read_file: start.file, read_pos: start.pos, read_gtid: start.gtid,
        replay_file: start.file, replay_pos: start.pos, replay_gtid: start.gtid,
        last_read_at: null, last_read_event_at: null, last_replayed_at: null, last_replay_event_at: null,
        updated_at: new Date(),
      })
      .where('source_id', '=', sourceId)
      .execute();
  });
}

export async function setSourceWarning(cat: Catalog, sourceId: string, warning: string | null): Promise<void> {
  await cat.db.updateTable('sch_chameleon.t_sources').set({ warning }).where('source_id', '=', sourceId).execute();
}

/** Seconds since the newest event the reader has stored, or null when it is caught up. */
export async function readLagSeconds(cat: Catalog, sourceId: string): Promise<number | null> {
  const r = await sql<{ lag: number | null }>`
    SELECT extract(epoch FROM read_lag)::float8 AS lag FROM sch_chameleon.show_status() s
      JOIN sch_chameleon.t_sources t ON t.source_name = s.source WHERE t.source_id = ${sourceId}`.execute(cat.db);
  return r.rows[0]?.lag ?? null;
}

/**
 * The end of a source's replication (detach_replica): its batches and log
 * rows go, nothing will apply them; the source row stays, `detached`, with
 * its tables' records, and no control function starts it again.
 */
export async function markDetached(cat: Catalog, sourceId: string): Promise<void> {
  await cat.db.transaction().execute(async (tx) => {
    await sql`DELETE FROM sch_chameleon.t_log_events l
               WHERE l.batch_id IN (SELECT b.batch_id FROM sch_chameleon.t_batches b WHERE b.source_id = ${sourceId})`.execute(tx);
    await tx.deleteFrom('sch_chameleon.t_batches').where('source_id', '=', sourceId).execute();
    await tx.updateTable('sch_chameleon.t_sources')
      .set({ status: 'detached', replica_enabled: false, updated_at: sql`now()` })
      .where('source_id', '=', sourceId)
      .execute();
  });
}

/** What the operator asked for (start_replica / stop_replica), set on the agent's behalf. */
export async function setSourceEnabled(cat: Catalog, sourceId: string, enabled: boolean): Promise<void> {
  await cat.db.updateTable('sch_chameleon.t_sources').set({ replica_enabled: enabled, updated_at: sql`now()` }).where('source_id', '=', sourceId).execute();
}

/** wait_for_position: returns once the source's replay has reached the position; raises when the timeout passes first. */
export async function waitForPosition(cat: Catalog, source: string, position: string, timeout: string): Promise<void> {
  await sql`SELECT sch_chameleon.wait_for_position(${source}, ${position}, ${timeout}::interval)`.execute(cat.db);
}
