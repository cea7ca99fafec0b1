import { sql } from 'kysely';
import type { Catalog } from './db.js';
import { errorMessage } from '../errors.js';

/**
 * Thin calls of the SQL control functions, for the CLI and the demo. The SQL
 * functions validate everything; nothing here duplicates that.
 */
export async function callControl(cat: Catalog, fn: ControlFunction, args: unknown[]): Promise<string> {
  const spec = CONTROL_FUNCTIONS[fn];
  const params = args.map((a, i) => sql`${a}::${sql.raw(spec[i])}`);
  const res = await sql<{ r: string }>`SELECT sch_chameleon.${sql.id(fn)}(${sql.join(params)})::text AS r`.execute(cat.db);
  return res.rows[0].r;
}

/**
 * add_source for each source, in one transaction: all are registered, or
 * (the first refusal's error) none is. Returns the source ids.
 */
export async function addSources(
  cat: Catalog,
  sources: { source: string; mysqlUrl: string; schemaMappings: Record<string, string>; options: Record<string, unknown> }[],
): Promise<string[]> {
  return cat.db.transaction().execute(async (trx) => {
    const ids: string[] = [];
    for (const s of sources) {
      try {
        const res = await sql<{ id: string }>`SELECT sch_chameleon.add_source(${s.source}, ${s.mysqlUrl},
                                                ${JSON.stringify(s.schemaMappings)}::jsonb, ${JSON.stringify(s.options)}::jsonb)::text AS id`.execute(trx);
        ids.push(res.rows[0].id);
      } catch (err) {
        // which of the sources was refused (the SQL error's detail and hint kept); nothing of any of them is kept
        const e = err as { detail?: string; hint?: string; code?: string };
        throw Object.assign(new Error(`source "${s.source}": ${errorMessage(err)}`), { detail: e.detail, hint: e.hint, code: e.code });
      }
    }
    return ids;
  });
}

/** Argument types of each control function, in order. */
export const CONTROL_FUNCTIONS = {
  add_source: ['text', 'text', 'jsonb', 'jsonb'],
  alter_source: ['text', 'jsonb'],
  update_schema_mappings: ['text', 'jsonb'],
  drop_source: ['text'],
  init_replica: ['text'],
  copy_schema: ['text'],
  refresh_schema: ['text', 'text'],
  sync_tables: ['text', 'text[]'],
  start_replica: ['text'],
  stop_replica: ['text'],
  enable_replica: ['text'],
  cancel_command: ['bigint'],
  run_maintenance: ['text', 'boolean'],
  detach_replica: ['text'],
  cutover: ['text', 'interval'],
  resolve_ddl: ['bigint', 'text'],
  verify: ['text', 'text[]'],
  repair: ['text', 'text'],
} as const;
export type ControlFunction = keyof typeof CONTROL_FUNCTIONS;

export interface CommandRow {
  id: string;
  source: string | null;
  command: string;
  state: string;
  progress: Record<string, unknown> | null;
  error: string | null;
}

export async function commandState(cat: Catalog, id: string): Promise<CommandRow | null> {
  const res = await sql<CommandRow>`SELECT id, source, command, state, progress, error
                                      FROM sch_chameleon.show_commands() WHERE id = ${id}`.execute(cat.db);
  return res.rows[0] ?? null;
}

export async function showStatus(cat: Catalog): Promise<Record<string, unknown>[]> {
  const res = await sql<Record<string, unknown>>`SELECT * FROM sch_chameleon.show_status()`.execute(cat.db);
  return res.rows;
}

/** show_verify(source): per table, the last verify or repair. */
export async function showVerify(cat: Catalog, source: string): Promise<Record<string, unknown>[]> {
  const res = await sql<Record<string, unknown>>`SELECT * FROM sch_chameleon.show_verify(${source})`.execute(cat.db);
  return res.rows;
}

/** show_ddl(): the DDL statements the replica met, quarantined ones first. */
export async function showDdl(cat: Catalog, source: string | null): Promise<Record<string, unknown>[]> {
  const res = await sql<Record<string, unknown>>`SELECT ddl_id, source, mysql_schema, mysql_table, binlog_position, state, mysql_ddl, error, resolved_at
                                                   FROM sch_chameleon.show_ddl(${source})`.execute(cat.db);
  return res.rows;
}

export async function showTables(cat: Catalog, source: string): Promise<Record<string, unknown>[]> {
  const res = await sql<Record<string, unknown>>`SELECT * FROM sch_chameleon.show_tables(${source})`.execute(cat.db);
  return res.rows;
}

