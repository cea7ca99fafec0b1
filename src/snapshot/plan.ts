import { availableParallelism } from 'node:os';
import type { Source, SourceOptions } from '../catalog/sources.js';
import type { MysqlTable } from '../mysql/metadata.js';
import type { MysqlColumn, ColumnMapping } from '../mysql/column.js';
import { mapColumn } from '../mysql/type-map.js';
import { NameAllocator, pgColumnNames, pgIdentifier } from '../ddl/identifiers.js';
import { tableDdl, type MappedColumn, type PlannedTableDdl } from '../ddl/create-table.js';

export interface TablePlan {
  mysql: MysqlTable;
  pgSchema: string;
  pgTable: string;
  columns: { col: MysqlColumn; map: ColumnMapping; pgName: string }[];
  ddl: PlannedTableDdl;
  /** 'db.table' */
  key: string;
}

/** Whether a 'db.table' list selects a table ('db.*' and '*' select everything they cover). */
export function listSelects(list: string[], schema: string, table: string): boolean {
  return list.some((entry) => entry === `${schema}.${table}` || entry === `${schema}.*` || entry === '*');
}

export function selectTables(tables: MysqlTable[], source: Source): MysqlTable[] {
  const { limit_tables: limit, skip_tables: skip } = source.options;
  return tables.filter(
    (t) => (limit.length === 0 || listSelects(limit, t.schema, t.name)) && !listSelects(skip, t.schema, t.name),
  );
}

function fillfactorFor(source: Source, key: string): number | undefined {
  for (const [value, spec] of Object.entries(source.options.fillfactor ?? {})) {
    if (spec.tables.includes(key)) return Number(value);
  }
  return undefined;
}

/** Target names, column mappings and DDL for every selected table; names unique per target schema. */
export function planTables(tables: MysqlTable[], source: Source, postgis: boolean, flavor: 'mysql' | 'mariadb'): TablePlan[] {
  const allocators = new Map<string, NameAllocator>();
  const allocator = (pgSchema: string): NameAllocator => {
    let names = allocators.get(pgSchema);
    if (!names) {
      names = new NameAllocator();
      allocators.set(pgSchema, names);
    }
    return names;
  };
  // every table is named before any index or sequence: a table keeps its MySQL
  // name even where another table's index would have taken it ("t" + index "x" vs table "t_x")
  const named = tables.flatMap((table) => {
    const pgSchema = source.schemaMappings[table.schema];
    return pgSchema === undefined ? [] : [{ table, pgSchema, pgTable: allocator(pgSchema).take(table.name) }];
  });
  return named.map(({ table, pgSchema, pgTable }) => {
    const key = `${table.schema}.${table.name}`;
    const colNames = pgColumnNames(table.columns.map((c) => c.name));
    const columns = table.columns.map((col, i) => ({
      col,
      map: mapColumn(col, { table: key, postgis, flavor, typeOverride: source.options.type_override ?? {} }),
      pgName: colNames[i],
    }));
    const mapped: MappedColumn[] = columns.map((c) => ({
      name: c.col.name,
      pgName: c.pgName,
      mapping: c.map,
      nullable: c.col.nullable,
      autoIncrement: /auto_increment/i.test(c.col.extra),
      comment: c.col.comment,
    }));
    const ddl = tableDdl(table, mapped, { schema: pgSchema, table: pgTable, fillfactor: fillfactorFor(source, key), names: allocator(pgSchema) });
    return { mysql: table, pgSchema, pgTable, columns, ddl, key };
  });
}

/**
 * Where a source's tables for one target schema are loaded before the swap.
 * One per target schema: names of tables and of their indexes are unique
 * only within a schema, and two mapped databases may each have a table t.
 */
export function loadingSchemaName(sourceId: string, pgSchema: string): string {
  return pgIdentifier(`_chameleon_load_${sourceId}_${pgSchema}`);
}

/** The prefix every loading schema of the source starts with (for clean-up of earlier runs). */
export function loadingSchemaPrefix(sourceId: string): string {
  return `_chameleon_load_${sourceId}_`;
}

const MYSQL_INTEGERS = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);

/**
 * The column a table is copied by in primary-key ranges, or null to copy it
 * in one read: only a single-column integer key orders and bounds ranges
 * cheaply, and only a table larger than one range gains from them.
 */
export function rangeKey(plan: TablePlan, rangeRows: number): string | null {
  return plan.mysql.rowsEstimate > rangeRows ? integerKey(plan) : null;
}

/** The table's primary key when it is a single integer column, whatever the table's size; else null. */
export function integerKey(plan: TablePlan): string | null {
  if (plan.mysql.primaryKey.length !== 1) return null;
  const col = plan.mysql.columns.find((c) => c.name === plan.mysql.primaryKey[0]);
  return col && MYSQL_INTEGERS.has(col.dataType) ? col.name : null;
}

/**
 * Splits "db.table" as sync_tables validated it: MySQL names may hold dots,
 * so the database is the longest mapped name the entry starts with.
 */
export function splitTableName(name: string, mappedDatabases: string[]): { schema: string; table: string } | null {
  const db = mappedDatabases
    .filter((d) => name.length > d.length + 1 && name.startsWith(`${d}.`))
    .sort((a, b) => b.length - a.length)[0];
  return db === undefined ? null : { schema: db, table: name.slice(db.length + 1) };
}

/** Most tables copy_jobs "auto" copies at once, however many cores the agent has. */
export const AUTO_COPY_JOBS_MAX = 8;

/**
 * Tables copied at once. "auto" follows the agent's CPU cores because the
 * agent encodes every job's COPY text itself, and stops at
 * AUTO_COPY_JOBS_MAX so that a large machine does not open more sessions
 * and snapshot read views on the source than a copy gains from; an explicit
 * number is taken as it is (add_source validated it).
 */
export function copyJobs(option: SourceOptions['copy_jobs'] | null | undefined, cores: number = availableParallelism()): number {
  if (typeof option === 'number' && Number.isInteger(option) && option >= 1) return option;
  return Math.max(1, Math.min(AUTO_COPY_JOBS_MAX, Math.floor(cores) || 1));
}
