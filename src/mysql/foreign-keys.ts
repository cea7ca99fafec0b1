import type mysql from 'mysql2/promise';

/** A MySQL foreign key: its columns in order and what they reference. */
export interface MysqlForeignKey {
  schema: string;
  table: string;
  name: string;
  columns: string[];
  refSchema: string;
  refTable: string;
  refColumns: string[];
  /** RESTRICT, CASCADE, SET NULL, NO ACTION or SET DEFAULT: PostgreSQL has the same. */
  onUpdate: string;
  onDelete: string;
}

const RULES = new Set(['RESTRICT', 'CASCADE', 'SET NULL', 'NO ACTION', 'SET DEFAULT']);

/** The foreign keys of the tables of the given databases. */
export async function readForeignKeys(conn: mysql.Connection, schemas: string[]): Promise<MysqlForeignKey[]> {
  if (schemas.length === 0) return [];
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT k.CONSTRAINT_SCHEMA AS s, k.TABLE_NAME AS t, k.CONSTRAINT_NAME AS n, k.COLUMN_NAME AS c,
            k.REFERENCED_TABLE_SCHEMA AS rs, k.REFERENCED_TABLE_NAME AS rt, k.REFERENCED_COLUMN_NAME AS rc,
            r.UPDATE_RULE AS u, r.DELETE_RULE AS d
       FROM information_schema.KEY_COLUMN_USAGE k
       JOIN information_schema.REFERENTIAL_CONSTRAINTS r
         ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
      WHERE k.CONSTRAINT_SCHEMA IN (?) AND k.REFERENCED_TABLE_NAME IS NOT NULL
      ORDER BY k.CONSTRAINT_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
    [schemas],
  );
  const keys = new Map<string, MysqlForeignKey>();
  for (const r of rows) {
    const id = `${r.s}\u0000${r.t}\u0000${r.n}`;
    let fk = keys.get(id);
    if (!fk) {
      const rule = (v: unknown): string => (RULES.has(String(v).toUpperCase()) ? String(v).toUpperCase() : 'NO ACTION');
      fk = { schema: String(r.s), table: String(r.t), name: String(r.n), columns: [], refSchema: String(r.rs), refTable: String(r.rt),
        refColumns: [], onUpdate: rule(r.u), onDelete: rule(r.d) };
      keys.set(id, fk);
    }
    fk.columns.push(String(r.c));
    fk.refColumns.push(String(r.rc));
  }
  return [...keys.values()];
}
