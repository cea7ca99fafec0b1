import type mysql from 'mysql2/promise';
import type { MysqlColumn } from './column.js';

export interface MysqlIndex {
  name: string;
  unique: boolean;
  primary: boolean;
  /** FULLTEXT, SPATIAL, BTREE, HASH */
  kind: string;
  /** In key order; `descending` for a DESC key part (MySQL 8, MariaDB 10.8+). */
  columns: { name: string; prefixLength: number | null; descending: boolean }[];
}

export interface MysqlTable {
  schema: string;
  name: string;
  engine: string | null;
  rowsEstimate: number;
  comment: string;
  autoIncrement: string | null;
  columns: MysqlColumn[];
  indexes: MysqlIndex[];
  primaryKey: string[];
}

/** Base tables of the given databases, with columns, indexes and row estimates. */
export async function readTables(conn: mysql.Connection, schemas: string[]): Promise<MysqlTable[]> {
  if (schemas.length === 0) return [];
  const [tables] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, ENGINE AS engine, TABLE_ROWS AS rows_estimate,
            TABLE_COMMENT AS comment, AUTO_INCREMENT AS auto_increment
       FROM information_schema.TABLES
      WHERE TABLE_SCHEMA IN (?) AND TABLE_TYPE = 'BASE TABLE'
      ORDER BY TABLE_SCHEMA, TABLE_NAME`,
    [schemas],
  );
  const [columns] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, COLUMN_NAME AS name, ORDINAL_POSITION AS ordinal,
            LOWER(DATA_TYPE) AS data_type, LOWER(COLUMN_TYPE) AS column_type, IS_NULLABLE AS nullable,
            COLUMN_DEFAULT AS default_value, NUMERIC_PRECISION AS num_precision, NUMERIC_SCALE AS num_scale,
            DATETIME_PRECISION AS dt_precision, CHARACTER_MAXIMUM_LENGTH AS char_len,
            CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation, EXTRA AS extra,
            GENERATION_EXPRESSION AS gen_expr, COLUMN_COMMENT AS comment
       FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA IN (?)
      ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
    [schemas],
  );
  const jsonColumns = await readJsonChecks(conn, schemas);
  const [stats] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, INDEX_NAME AS name, NON_UNIQUE AS non_unique,
            SEQ_IN_INDEX AS seq, COLUMN_NAME AS col, SUB_PART AS sub_part, INDEX_TYPE AS kind,
            COLLATION AS collation
       FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA IN (?)
      ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
    [schemas],
  );

  const key = (s: string, t: string): string => `${s}\u0000${t}`;
  const byTable = new Map<string, MysqlTable>();
  for (const r of tables) {
    byTable.set(key(r.s, r.t), {
      schema: r.s,
      name: r.t,
      engine: r.engine ?? null,
      rowsEstimate: Number(r.rows_estimate ?? 0),
      comment: r.comment ?? '',
      autoIncrement: r.auto_increment === null || r.auto_increment === undefined ? null : String(r.auto_increment),
      columns: [],
      indexes: [],
      primaryKey: [],
    });
  }
  for (const r of columns) {
    const table = byTable.get(key(r.s, r.t));
    if (!table) continue;
    const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
    table.columns.push({
      name: r.name,
      ordinal: Number(r.ordinal),
      dataType: String(r.data_type),
      columnType: String(r.column_type),
      nullable: r.nullable === 'YES',
      defaultValue: r.default_value ?? null,
      numericPrecision: num(r.num_precision),
      numericScale: num(r.num_scale),
      datetimePrecision: num(r.dt_precision),
      charMaxLength: num(r.char_len),
      charset: r.charset ?? null,
      collation: r.collation ?? null,
      extra: r.extra ?? '',
      generationExpression: r.gen_expr ?? null,
      comment: r.comment ?? '',
      isJson: r.data_type === 'json' || jsonColumns.has(`${key(r.s, r.t)}\u0000${r.name}`),
    });
  }
  for (const r of stats) {
    const table = byTable.get(key(r.s, r.t));
    if (!table) continue;
    let index = table.indexes.find((i) => i.name === r.name);
    if (!index) {
      index = { name: r.name, unique: Number(r.non_unique) === 0, primary: r.name === 'PRIMARY', kind: String(r.kind), columns: [] };
      table.indexes.push(index);
    }
    index.columns.push({ name: r.col, prefixLength: r.sub_part === null ? null : Number(r.sub_part), descending: r.collation === 'D' });
  }
  for (const table of byTable.values()) {
    table.primaryKey = table.indexes.find((i) => i.primary)?.columns.map((c) => c.name) ?? [];
  }
  return [...byTable.values()];
}

/** MariaDB declares JSON columns as LONGTEXT with a json_valid() check. */
async function readJsonChecks(conn: mysql.Connection, schemas: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT CONSTRAINT_SCHEMA AS s, TABLE_NAME AS t, CHECK_CLAUSE AS clause
         FROM information_schema.CHECK_CONSTRAINTS
        WHERE CONSTRAINT_SCHEMA IN (?) AND CHECK_CLAUSE LIKE 'json\\_valid(%'`,
      [schemas],
    );
    for (const r of rows) {
      const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(String(r.clause).trim());
      if (m) out.add(`${r.s}\u0000${r.t}\u0000${m[1].replace(/``/g, '`')}`);
    }
  } catch {
    // servers without CHECK_CONSTRAINTS (MySQL 5.7) have real JSON types instead
  }
  return out;
}
