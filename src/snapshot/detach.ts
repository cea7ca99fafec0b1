/**
 * detach_replica: the end of replication for a migration's cut-over. The
 * replicated tables become a standalone database: their sequences move
 * past the data and past MySQL's auto_increment counters, and MySQL's
 * foreign keys between them are created (NOT VALID, then validated).
 */
import type { Logger } from '../log.js';
import type { Catalog } from '../catalog/db.js';
import { markDetached, type Source } from '../catalog/sources.js';
import { listTables } from '../catalog/tables.js';
import { addForeignKey, restartSequences } from '../catalog/target.js';
import { connectMysql } from '../mysql/connection.js';
import { readTables } from '../mysql/metadata.js';
import { readForeignKeys } from '../mysql/foreign-keys.js';
import { pgColumnNames, pgIdentifier } from '../ddl/identifiers.js';

export interface DetachResult {
  sequences: number;
  foreignKeys: {
    /** Created and validated. */
    created: string[];
    /** Created, but the rows violate them: left NOT VALID. */
    notValid: { name: string; error: string }[];
    /** Not created: a table not replicated, or PostgreSQL refused it. */
    skipped: { name: string; reason: string }[];
  };
  /** Tables that were not in sync at the detach (excluded, or never copied). */
  tablesNotInSync: string[];
}

const LIVE = new Set(['copied', 'replicating']);

export async function detachSource(opts: { cat: Catalog; source: Source; log: Logger }): Promise<DetachResult> {
  const { cat, source, log } = opts;
  const pool = cat.pool;
  const tables = await listTables(cat, source.id);
  const byMysql = new Map(tables.map((t) => [`${t.mysql_schema}.${t.mysql_table}`, t]));
  const result: DetachResult = {
    sequences: 0,
    foreignKeys: { created: [], notValid: [], skipped: [] },
    tablesNotInSync: tables.filter((t) => !LIVE.has(t.state)).map((t) => `${t.mysql_schema}.${t.mysql_table} (${t.state})`),
  };
  const conn = await connectMysql(source.mysqlUrl);
  try {
    const schemas = Object.keys(source.schemaMappings);
    const mysqlTables = await readTables(conn, schemas);
    const meta = new Map(mysqlTables.map((t) => [`${t.schema}.${t.name}`, t]));
    // the snapshot's column names: the same allocation over the same columns
    const pgColumn = (schema: string, table: string, column: string): string | undefined => {
      const t = meta.get(`${schema}.${table}`);
      if (!t) return undefined;
      const names = pgColumnNames(t.columns.map((c) => c.name));
      return names[t.columns.findIndex((c) => c.name === column)];
    };
    for (const t of tables) {
      if (!LIVE.has(t.state)) continue;
      const auto = meta.get(`${t.mysql_schema}.${t.mysql_table}`)?.autoIncrement;
      result.sequences += await restartSequences(pool, t.pg_schema, t.pg_table, auto ? BigInt(auto) - 1n : 0n);
    }
    for (const fk of await readForeignKeys(conn, schemas)) {
      const label = `${fk.schema}.${fk.table}.${fk.name}`;
      const from = byMysql.get(`${fk.schema}.${fk.table}`);
      const to = byMysql.get(`${fk.refSchema}.${fk.refTable}`);
      if (!from || !to || !LIVE.has(from.state) || !LIVE.has(to.state)) {
        const missing = !from || !LIVE.has(from.state) ? `${fk.schema}.${fk.table}` : `${fk.refSchema}.${fk.refTable}`;
        result.foreignKeys.skipped.push({ name: label, reason: `${missing} is not a replicated table of this source` });
        continue;
      }
      const columns = fk.columns.map((c) => pgColumn(fk.schema, fk.table, c));
      const refColumns = fk.refColumns.map((c) => pgColumn(fk.refSchema, fk.refTable, c));
      if (columns.some((c) => c === undefined) || refColumns.some((c) => c === undefined)) {
        result.foreignKeys.skipped.push({ name: label, reason: 'a column of it is not in the table any more' });
        continue;
      }
      const r = await addForeignKey(pool, {
        schema: from.pg_schema, table: from.pg_table, name: pgIdentifier(fk.name), columns: columns as string[],
        refSchema: to.pg_schema, refTable: to.pg_table, refColumns: refColumns as string[], onUpdate: fk.onUpdate, onDelete: fk.onDelete,
      });
      if (!r.created) result.foreignKeys.skipped.push({ name: label, reason: r.error ?? 'not created' });
      else if (r.error) result.foreignKeys.notValid.push({ name: label, error: r.error });
      else result.foreignKeys.created.push(label);
    }
  } finally {
    await conn.end().catch(() => undefined);
  }
  await markDetached(cat, source.id);
  log.info({ source: source.name, ...result }, 'source detached');
  return result;
}
