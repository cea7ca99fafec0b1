import { sql } from 'kysely';
import type { Catalog } from './db.js';
import type { TablesTable } from './schema.js';

export interface TableEntry {
  mysqlSchema: string;
  mysqlTable: string;
  pgSchema: string;
  pgTable: string;
  pkColumns: string[];
  rowsEstimate: number;
}

/**
 * Registers the tables about to be copied. With `reset` (init_replica) their
 * state and counters start again; without (refresh_schema, sync_tables)
 * known tables keep replicating until their own copy starts, and only new
 * ones are added.
 */
export async function registerTables(cat: Catalog, sourceId: string, tables: TableEntry[], opts: { reset: boolean } = { reset: true }): Promise<void> {
  if (tables.length === 0) return;
  await cat.db
    .insertInto('sch_chameleon.t_tables')
    .values(
      tables.map((t) => ({
        source_id: sourceId,
        mysql_schema: t.mysqlSchema,
        mysql_table: t.mysqlTable,
        pg_schema: t.pgSchema,
        pg_table: t.pgTable,
        pk_columns: t.pkColumns,
        state: 'pending' as const,
        rows_estimate: t.rowsEstimate,
        rows_copied: 0,
        bytes_copied: 0,
        events_applied: 0,
      })),
    )
    .onConflict((oc) =>
      oc.columns(['source_id', 'mysql_schema', 'mysql_table']).doUpdateSet((eb) =>
        opts.reset
          ? {
              pg_schema: eb.ref('excluded.pg_schema'),
              pg_table: eb.ref('excluded.pg_table'),
              pk_columns: eb.ref('excluded.pk_columns'),
              state: 'pending',
              rows_estimate: eb.ref('excluded.rows_estimate'),
              rows_copied: 0,
              bytes_copied: 0,
              copy_ranges: 0,
              copy_command: null,
              reason: null,
              copy_file: null,
              copy_pos: null,
              copy_gtid: null,
              copy_started_at: null,
              copy_finished_at: null,
              updated_at: new Date(),
            }
          : { rows_estimate: eb.ref('excluded.rows_estimate'), updated_at: new Date() },
      ),
    )
    .execute();
}

/**
 * A table's copy begins: the decoder leaves its events alone until the copy
 * is swapped in. The command copying it is recorded, so that its re-run
 * (its agent died meanwhile) knows the table for one of its own.
 */
export async function startTableCopy(cat: Catalog, sourceId: string, mysqlSchema: string, mysqlTable: string, commandId: string | null): Promise<void> {
  await updateTable(cat, sourceId, mysqlSchema, mysqlTable, {
    state: 'copying', copy_started_at: new Date(), copy_finished_at: null, rows_copied: 0, bytes_copied: 0, copy_ranges: 0, reason: null,
    ...(commandId !== null ? { copy_command: commandId } : {}),
  });
}

/** The earliest copy coordinates of the source's copied tables: where its replica starts reading. */
export async function earliestCopyPosition(cat: Catalog, sourceId: string): Promise<{ file: string; pos: string; gtid: string | null } | null> {
  const row = await cat.db
    .selectFrom('sch_chameleon.t_tables')
    .select(['copy_file', 'copy_pos', 'copy_gtid'])
    .where('source_id', '=', sourceId)
    .where('state', 'in', ['copied', 'replicating'])
    .where('copy_file', 'is not', null)
    .orderBy('copy_file')
    .orderBy('copy_pos')
    .limit(1)
    .executeTakeFirst();
  return row ? { file: row.copy_file!, pos: String(row.copy_pos), gtid: row.copy_gtid } : null;
}

/** Tables of the source no longer in MySQL (or no longer selected) leave the catalogue. */
export async function forgetTablesExcept(cat: Catalog, sourceId: string, keep: { mysqlSchema: string; mysqlTable: string }[], schemas: string[]): Promise<void> {
  const keepKeys = keep.map((k) => `${k.mysqlSchema}.${k.mysqlTable}`);
  await sql`DELETE FROM sch_chameleon.t_tables
             WHERE source_id = ${sourceId} AND mysql_schema = ANY(${schemas}::text[])
               AND NOT (mysql_schema || '.' || mysql_table = ANY(${keepKeys}::text[]))`.execute(cat.db);
}

export async function updateTable(
  cat: Catalog,
  sourceId: string,
  mysqlSchema: string,
  mysqlTable: string,
  set: Partial<{
    state: TablesTable['state'];
    rows_copied: number;
    bytes_copied: number;
    rows_estimate: number;
    reason: string | null;
    copy_started_at: Date | null;
    copy_finished_at: Date | null;
    copy_ranges: number;
    copy_file: string | null;
    copy_pos: string | null;
    copy_gtid: string | null;
    copy_command: string | null;
  }>,
): Promise<void> {
  await cat.db
    .updateTable('sch_chameleon.t_tables')
    .set({ ...set, updated_at: new Date() })
    .where('source_id', '=', sourceId)
    .where('mysql_schema', '=', mysqlSchema)
    .where('mysql_table', '=', mysqlTable)
    .execute();
}

export async function getTable(cat: Catalog, sourceId: string, mysqlSchema: string, mysqlTable: string) {
  return cat.db
    .selectFrom('sch_chameleon.t_tables')
    .selectAll()
    .where('source_id', '=', sourceId)
    .where('mysql_schema', '=', mysqlSchema)
    .where('mysql_table', '=', mysqlTable)
    .executeTakeFirst();
}

export async function listTables(cat: Catalog, sourceId: string) {
  return cat.db.selectFrom('sch_chameleon.t_tables').selectAll().where('source_id', '=', sourceId).execute();
}

export async function markTablesReplicating(cat: Catalog, sourceId: string): Promise<void> {
  await cat.db
    .updateTable('sch_chameleon.t_tables')
    .set({ state: 'replicating', updated_at: new Date() })
    .where('source_id', '=', sourceId)
    .where('state', '=', 'copied')
    .execute();
}

/**
 * JSON text for a jsonb column that cannot hold U+0000: each NUL that
 * JSON.stringify escaped becomes the text \u0000, visible in the image. Only
 * an escape whose backslash is not itself escaped is a NUL: in `\\u0000`
 * the value holds a backslash and the text u0000, and turning that into
 * `\\\u0000` would make it a NUL again, which jsonb refuses.
 */
export function jsonbWithoutNul(json: string): string {
  return json.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\\\u0000');
}

export async function recordDiscardedRows(
  cat: Catalog,
  rows: { sourceId: string; mysqlSchema: string; mysqlTable: string; origin: 'snapshot' | 'replica'; image: unknown; reason: string }[],
): Promise<void> {
  if (rows.length === 0) return;
  await cat.db
    .insertInto('sch_chameleon.t_discarded_rows')
    .values(
      rows.map((r) => ({
        source_id: r.sourceId,
        mysql_schema: r.mysqlSchema,
        mysql_table: r.mysqlTable,
        origin: r.origin,
        row_image: jsonbWithoutNul(JSON.stringify(r.image)),
        reason: r.reason,
      })),
    )
    .execute();
}
