import type pg from 'pg';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import { inTransaction } from './db.js';
import { qualified, quoteIdent, quoteLiteral } from '../ddl/identifiers.js';
import { sequenceRestart } from '../ddl/create-table.js';

/**
 * Raw SQL against the target tables: DDL, COPY and the loading-schema swap.
 * Kept in one place because kysely cannot express it.
 */

export async function ensureSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
}

/** The source's private loading schema, emptied: a failed earlier copy leaves nothing behind. */
export async function recreateLoadingSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  await pool.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
}

/**
 * The loading schema emptied of everything but the tables named in `keep`
 * (ranged copies an interrupted run left there, which the run resumes);
 * with nothing to keep, dropped and created again.
 */
export async function clearLoadingSchema(pool: pg.Pool, schema: string, keep: string[]): Promise<void> {
  if (keep.length === 0) {
    await recreateLoadingSchema(pool, schema);
    return;
  }
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  // sequences a table owns (identity, OWNED BY) go with it; only ownerless ones are left to drop
  const res = await pool.query<{ name: string; kind: string }>(
    `SELECT c.relname AS name, c.relkind::text AS kind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'S') AND NOT (c.relname = ANY($2::text[]))
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                               AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
      ORDER BY c.relkind DESC, c.relname`,
    [schema, keep],
  );
  for (const r of res.rows) {
    await pool.query(`DROP ${r.kind === 'S' ? 'SEQUENCE' : 'TABLE'} IF EXISTS ${qualified(schema, r.name)} CASCADE`);
  }
}

/** Drops the schemas whose names start with prefix, but those in keep. */
export async function dropSchemasLike(pool: pg.Pool, prefix: string, keep: string[]): Promise<void> {
  const res = await pool.query<{ name: string }>(
    'SELECT nspname AS name FROM pg_namespace WHERE starts_with(nspname, $1) AND NOT (nspname = ANY($2::text[]))',
    [prefix, keep],
  );
  for (const r of res.rows) await dropSchemaIfExists(pool, r.name);
}

export async function dropSchemaIfExists(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
}

export async function runStatements(pool: pg.Pool, statements: string[]): Promise<void> {
  for (const s of statements) await pool.query(s);
}

/** Streams text-format COPY lines into a table; resolves with the row count PostgreSQL reports. */
export async function copyLines(pool: pg.Pool, schema: string, table: string, columns: string[], lines: Readable): Promise<number> {
  const client = await pool.connect();
  try {
    return await copyLinesOn(client, schema, table, columns, lines);
  } finally {
    client.release();
  }
}

/** As copyLines, on a given client: inside the transaction it holds open. */
export async function copyLinesOn(client: pg.PoolClient, schema: string, table: string, columns: string[], lines: Readable): Promise<number> {
  const stream = client.query(copyFrom(`COPY ${qualified(schema, table)} (${columns.map(quoteIdent).join(', ')}) FROM STDIN`));
  await pipeline(lines, stream);
  return Number(stream.rowCount ?? 0);
}

export async function tableExists(pool: pg.Pool, schema: string, table: string): Promise<boolean> {
  const res = await pool.query('SELECT to_regclass($1) IS NOT NULL AS found', [qualified(schema, table)]);
  return res.rows[0].found === true;
}

export async function tableComment(pool: pg.Pool, schema: string, table: string): Promise<string | null> {
  const res = await pool.query<{ comment: string | null }>(
    "SELECT obj_description(to_regclass($1), 'pg_class') AS comment",
    [qualified(schema, table)],
  );
  return res.rows[0]?.comment ?? null;
}

export async function setTableComment(pool: pg.Pool, schema: string, table: string, comment: string | null): Promise<void> {
  await pool.query(`COMMENT ON TABLE ${qualified(schema, table)} IS ${comment === null ? 'NULL' : quoteLiteral(comment)}`);
}

/** Rows of a table and the largest value of an integer column, as text (null when the table is empty). */
export async function integerExtent(pool: pg.Pool, schema: string, table: string, column: string): Promise<{ rows: number; max: string | null }> {
  const res = await pool.query<{ rows: string; max: string | null }>(
    `SELECT count(*) AS rows, max(${quoteIdent(column)})::text AS max FROM ${qualified(schema, table)}`,
  );
  return { rows: Number(res.rows[0].rows), max: res.rows[0].max };
}

/** Drops a table's constraints that own an index (primary key, unique) and its other indexes. */
export async function dropIndexes(pool: pg.Pool, schema: string, table: string): Promise<void> {
  const res = await pool.query<{ name: string; constraint: string | null }>(
    `SELECT c.relname AS name, k.conname AS constraint
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid
      WHERE i.indrelid = $1::regclass
      ORDER BY c.relname`,
    [qualified(schema, table)],
  );
  for (const r of res.rows) {
    await pool.query(r.constraint !== null
      ? `ALTER TABLE ${qualified(schema, table)} DROP CONSTRAINT IF EXISTS ${quoteIdent(r.constraint)}`
      : `DROP INDEX IF EXISTS ${qualified(schema, r.name)}`);
  }
}

export async function hasExtension(pool: pg.Pool, name: string): Promise<boolean> {
  const res = await pool.query('SELECT 1 FROM pg_extension WHERE extname = $1', [name]);
  return res.rows.length > 0;
}

/** What the catalogue records for a finished copy, in the transaction that makes the data visible. */
export interface CopyRecord {
  sourceId: string;
  mysqlSchema: string;
  mysqlTable: string;
  pgSchema: string;
  pgTable: string;
  pkColumns: string[];
  coordinates: { file: string; pos: string; gtid: string | null };
  rowsCopied: number;
  bytesCopied: number;
  ranges: number;
  /** The command that copied the table (a re-run of it keeps the table). */
  commandId: string | null;
}

async function recordCopy(client: pg.PoolClient, rec: CopyRecord): Promise<void> {
  await client.query(
    `UPDATE sch_chameleon.t_tables
        SET state = 'copied', copy_file = $4, copy_pos = $5, copy_gtid = $6, decoder_statements = NULL,
            rows_copied = $7, bytes_copied = $8, copy_ranges = $9, copy_command = $10,
            pg_schema = $11, pg_table = $12, pk_columns = $13,
            copy_finished_at = now(), reason = NULL, updated_at = now()
      WHERE source_id = $1 AND mysql_schema = $2 AND mysql_table = $3`,
    [rec.sourceId, rec.mysqlSchema, rec.mysqlTable, rec.coordinates.file, rec.coordinates.pos, rec.coordinates.gtid,
      rec.rowsCopied, rec.bytesCopied, rec.ranges, rec.commandId, rec.pgSchema, rec.pgTable, rec.pkColumns],
  );
  // a DDL statement that quarantined the table is behind it: the copy holds its effect
  await client.query(
    `UPDATE sch_chameleon.t_ddl_events SET state = 'recopied', resolved_at = now()
      WHERE source_id = $1 AND mysql_schema = $2 AND mysql_table = $3 AND state = 'quarantined'`,
    [rec.sourceId, rec.mysqlSchema, rec.mysqlTable],
  );
  // events the replica read during the copy, kept back by the decoder: applied now, with the copy
  await client.query('SELECT sch_chameleon.fn_replay_retained($1, $2, $3)', [rec.sourceId, rec.mysqlSchema, rec.mysqlTable]);
}

async function grantSelect(client: pg.PoolClient, schema: string, table: string, roles: string[]): Promise<void> {
  if (roles.length === 0) return;
  // tables of one schema are swapped in parallel, and each swap grants USAGE on the
  // schema: PostgreSQL rewrites the schema's catalogue row in place and fails the
  // second of two concurrent grants ("tuple concurrently updated"), so they take turns
  await client.query("SELECT pg_advisory_xact_lock(hashtext('sch_chameleon.grant_select_to'), hashtext($1))", [schema]);
  for (const role of roles) {
    await client.query(`GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(role)}`);
    await client.query(`GRANT SELECT ON ${qualified(schema, table)} TO ${quoteIdent(role)}`);
  }
}

/**
 * Replaces the live table with the loaded one and records the copy
 * coordinates in the same short transaction, so readers see the old table or
 * the new one, and the catalogue never disagrees with the data.
 */
export async function swapLoadedTable(
  pool: pg.Pool,
  req: CopyRecord & { loadingSchema: string; lockTimeout: string; grantSelectTo: string[] },
): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(`SET LOCAL lock_timeout = ${quoteLiteral(req.lockTimeout)}`);
    await client.query(`DROP TABLE IF EXISTS ${qualified(req.pgSchema, req.pgTable)}`);
    await client.query(`ALTER TABLE ${qualified(req.loadingSchema, req.pgTable)} SET SCHEMA ${quoteIdent(req.pgSchema)}`);
    await grantSelect(client, req.pgSchema, req.pgTable, req.grantSelectTo);
    await recordCopy(client, req);
  });
}

/**
 * A reload of an existing table in place (keep_existing_schema): one
 * transaction on one client, from the lock to the catalogue update, so the
 * table keeps its identity, grants, constraints and dependent objects, and
 * readers see the old rows or the new ones, never an empty table (they wait
 * on the lock while it loads).
 */
export class InPlaceReload {
  private indexes: { name: string; def: string }[] = [];
  private finished = false;

  private constructor(readonly client: pg.PoolClient, private readonly schema: string, private readonly table: string) {}

  /**
   * Locks the table and, with `empty`, drops its secondary indexes (their
   * definitions kept to build them again after the data) and empties it.
   * Indexes behind a constraint, or that a foreign key relies on, stay.
   */
  static async begin(pool: pg.Pool, schema: string, table: string, lockTimeout: string, opts: { empty: boolean }): Promise<InPlaceReload> {
    const client = await pool.connect();
    const reload = new InPlaceReload(client, schema, table);
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = ${quoteLiteral(lockTimeout)}`);
      await client.query(`LOCK TABLE ${qualified(schema, table)} IN ACCESS EXCLUSIVE MODE`);
      if (!opts.empty) return reload;
      const res = await client.query<{ name: string; def: string }>(
        `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE i.indrelid = $1::regclass AND NOT i.indisprimary
            AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
          ORDER BY c.relname`,
        [qualified(schema, table)],
      );
      reload.indexes = res.rows;
      for (const idx of reload.indexes) await client.query(`DROP INDEX ${qualified(schema, idx.name)}`);
      await client.query(`TRUNCATE ${qualified(schema, table)}`);
      return reload;
    } catch (err) {
      await reload.abort();
      throw err;
    }
  }

  /** Rebuilds the dropped indexes, runs the given statements, grants, records the copy and commits. */
  async commit(statements: string[], grantSelectTo: string[], rec: CopyRecord): Promise<void> {
    try {
      for (const idx of this.indexes) await this.client.query(idx.def);
      for (const stmt of statements) await this.client.query(stmt);
      await grantSelect(this.client, this.schema, this.table, grantSelectTo);
      await recordCopy(this.client, rec);
      await this.client.query('COMMIT');
    } catch (err) {
      await this.abort();
      throw err;
    }
    this.finished = true;
    this.client.release();
  }

  /** Rolls back: the table is left as it was before begin(). */
  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    try {
      await this.client.query('ROLLBACK');
      this.client.release();
    } catch (err) {
      // a client whose connection broke must not return to the pool
      this.client.release(err as Error);
    }
  }
}

/** A foreign key to create on a target table, in PostgreSQL names. */
export interface TargetForeignKey {
  schema: string;
  table: string;
  name: string;
  columns: string[];
  refSchema: string;
  refTable: string;
  refColumns: string[];
  onUpdate: string;
  onDelete: string;
}

/**
 * Creates the foreign key NOT VALID (a short lock, no scan), then validates
 * it (a scan that lets writes go on). Returns null when it holds, or why it
 * does not: a key the rows violate stays, NOT VALID, for the operator to
 * look at; one PostgreSQL refuses to create is not created.
 */
export async function addForeignKey(pool: pg.Pool, fk: TargetForeignKey): Promise<{ created: boolean; error: string | null }> {
  const target = qualified(fk.schema, fk.table);
  const exists = await pool.query(
    'SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = $1::regclass AND conname = $2',
    [target, fk.name],
  );
  if (exists.rows.length > 0) return { created: false, error: 'a constraint of that name exists already' };
  const cols = (names: string[]): string => names.map(quoteIdent).join(', ');
  try {
    await pool.query(`ALTER TABLE ${target} ADD CONSTRAINT ${quoteIdent(fk.name)} FOREIGN KEY (${cols(fk.columns)}) ` +
      `REFERENCES ${qualified(fk.refSchema, fk.refTable)} (${cols(fk.refColumns)}) ON UPDATE ${fk.onUpdate} ON DELETE ${fk.onDelete} NOT VALID`);
  } catch (err) {
    return { created: false, error: (err as Error).message };
  }
  try {
    await pool.query(`ALTER TABLE ${target} VALIDATE CONSTRAINT ${quoteIdent(fk.name)}`);
    return { created: true, error: null };
  } catch (err) {
    return { created: true, error: (err as Error).message };
  }
}

/** Moves the sequences of a table's columns past its rows and past `floor` (sequenceRestart). Returns how many were moved. */
export async function restartSequences(pool: pg.Pool, schema: string, table: string, floor: bigint): Promise<number> {
  const target = qualified(schema, table);
  const seqs = await pool.query<{ col: string }>(
    `SELECT a.attname AS col
       FROM pg_catalog.pg_attribute a
      WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND pg_get_serial_sequence($1::text, a.attname::text) IS NOT NULL`,
    [target],
  );
  for (const s of seqs.rows) await pool.query(sequenceRestart(target, s.col, floor));
  return seqs.rows.length;
}
