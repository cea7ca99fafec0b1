import type pg from 'pg';
import { qualified, quoteIdent } from '../ddl/identifiers.js';
import type { Catalog } from './db.js';

/** The temporary table a chunk of MySQL rows is loaded into, on the session that compares it. */
export const CHUNK_TABLE = 'chameleon_verify_chunk';

/** A chunk of a table: key values above `from` and up to `to` (null: unbounded); no key: the whole table. */
export interface KeyRange {
  key: string | null;
  from: string | null;
  to: string | null;
}

export interface ChunkDiff {
  mysqlRows: number;
  pgRows: number;
  /** Keys whose rows differ: missing on one side, or changed. */
  differing: number;
  /** Those keys (as text, "a,b" for several columns; the whole row for a table without a key), in order. */
  keys: string[];
}

/** Keys of a chunk compared at most: past it the chunk is reported with its first differing keys only. */
export const MAX_KEYS = 10_000;

/** Makes (or empties) the session's chunk table, shaped like the target. */
export async function prepareChunkTable(client: pg.PoolClient, schema: string, table: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS pg_temp.${quoteIdent(CHUNK_TABLE)}`);
  // LIKE without constraints: a row PostgreSQL took in the target is a row it takes here
  await client.query(`CREATE TEMP TABLE ${quoteIdent(CHUNK_TABLE)} (LIKE ${qualified(schema, table)})`);
}

export async function emptyChunkTable(client: pg.PoolClient): Promise<void> {
  await client.query(`TRUNCATE pg_temp.${quoteIdent(CHUNK_TABLE)}`);
}

function rangeCondition(range: KeyRange, params: unknown[], alias: string): string {
  if (range.key === null) return 'true';
  const k = `${alias}.${quoteIdent(range.key)}`;
  const parts: string[] = [];
  // the bounds are integers (the chunk key is an integer column): numeric keeps all 64 bits of them
  if (range.from !== null) {
    params.push(range.from);
    parts.push(`${k} > $${params.length}::numeric`);
  }
  if (range.to !== null) {
    params.push(range.to);
    parts.push(`${k} <= $${params.length}::numeric`);
  }
  return parts.length > 0 ? parts.join(' AND ') : 'true';
}

/**
 * Compares the chunk table (MySQL's rows of the range, loaded through the
 * same COPY text a copy uses, so through the same input functions) with
 * the target's rows of the range, as multisets of whole rows.
 */
export async function compareChunk(
  client: pg.PoolClient,
  target: { schema: string; table: string },
  columns: string[],
  pkColumns: string[],
  range: KeyRange,
): Promise<ChunkDiff> {
  const params: unknown[] = [];
  const cond = rangeCondition(range, params, 't');
  const cols = columns.map(quoteIdent).join(', ');
  params.push(MAX_KEYS);
  const res = await client.query<{ mysql_rows: string; pg_rows: string; keys: string[] | null }>(
    `WITH m AS (SELECT ${cols} FROM pg_temp.${quoteIdent(CHUNK_TABLE)} t),
          p AS (SELECT ${cols} FROM ${qualified(target.schema, target.table)} t WHERE ${cond}),
          d AS ((SELECT * FROM m EXCEPT ALL SELECT * FROM p) UNION ALL (SELECT * FROM p EXCEPT ALL SELECT * FROM m))
     SELECT (SELECT count(*) FROM m) AS mysql_rows, (SELECT count(*) FROM p) AS pg_rows,
            (SELECT array_agg(k ORDER BY k) FROM (SELECT DISTINCT ${keyText(pkColumns, 'd')} AS k FROM d LIMIT $${params.length}) x) AS keys`,
    params,
  );
  const r = res.rows[0];
  const keys = r.keys ?? [];
  return { mysqlRows: Number(r.mysql_rows), pgRows: Number(r.pg_rows), differing: keys.length, keys };
}

/** A row's identity as text: its primary key ("a,b"), or the whole row for a table without one. */
function keyText(pkColumns: string[], alias: string): string {
  return pkColumns.length > 0 ? `concat_ws(',', ${pkColumns.map((c) => `${alias}.${quoteIdent(c)}::text`).join(', ')})` : `${alias}::text`;
}

/**
 * The keys among `keys` that a change of the source's log touches, one not
 * applied yet and at or before the position: rows on their way, not
 * differences. The images are read into the target's row type, so a key
 * reads as the target's does.
 */
export async function keysInFlight(
  client: pg.PoolClient,
  sourceId: string,
  table: { mysqlSchema: string; mysqlTable: string; schema: string; table: string },
  pkColumns: string[],
  keys: string[],
  upTo: { file: string; pos: string },
): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rowType = qualified(table.schema, table.table);
  const res = await client.query<{ k: string }>(
    `SELECT DISTINCT ${keyText(pkColumns, 'r')} AS k
       FROM sch_chameleon.t_log_events l
       JOIN sch_chameleon.t_batches b ON b.batch_id = l.batch_id
      CROSS JOIN LATERAL (VALUES (l.row_after), (l.row_before)) AS i(image)
      CROSS JOIN LATERAL jsonb_populate_record(NULL::${rowType}, i.image) AS r
      WHERE b.source_id = $1 AND b.applied_at IS NULL AND l.kind <> 'ddl' AND i.image IS NOT NULL
        AND l.mysql_schema = $2 AND l.mysql_table = $3
        AND (l.tx_file, l.tx_pos) <= ($4::text COLLATE "C", $5::bigint)
        AND ${keyText(pkColumns, 'r')} = ANY ($6::text[])`,
    [sourceId, table.mysqlSchema, table.mysqlTable, upTo.file, upTo.pos, keys],
  );
  return new Set(res.rows.map((r) => r.k));
}

/** The source's reader has stored everything up to the position (or the time ran out: false). */
export async function waitForRead(pool: pg.Pool, sourceId: string, at: { file: string; pos: string }, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await pool.query<{ ok: boolean | null }>(
      'SELECT sch_chameleon.fn_position_reached(r.file, r.pos, $2, $3) AS ok FROM sch_chameleon.fn_read_position($1) r',
      [sourceId, at.file, at.pos],
    );
    if (res.rows[0]?.ok === true) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Replaces the target's rows of the range with the chunk table's, in the caller's transaction. */
export async function replaceRange(
  client: pg.PoolClient,
  target: { schema: string; table: string },
  columns: string[],
  range: KeyRange,
): Promise<{ deleted: number; inserted: number }> {
  const params: unknown[] = [];
  const cond = rangeCondition(range, params, 't');
  const cols = columns.map(quoteIdent).join(', ');
  const del = await client.query(`DELETE FROM ${qualified(target.schema, target.table)} t WHERE ${cond}`, params);
  const ins = await client.query(`INSERT INTO ${qualified(target.schema, target.table)} (${cols}) SELECT ${cols} FROM pg_temp.${quoteIdent(CHUNK_TABLE)}`);
  return { deleted: del.rowCount ?? 0, inserted: ins.rowCount ?? 0 };
}

export interface ChunkRecord {
  commandId: string;
  sourceId: string;
  mysqlSchema: string;
  mysqlTable: string;
  chunkNo: number;
  range: KeyRange;
  diff: ChunkDiff | null;
  state: 'same' | 'differs' | 'repaired' | 'error';
  error?: string | null;
  position: string | null;
}

export async function recordChunk(cat: Catalog, r: ChunkRecord): Promise<void> {
  await cat.pool.query(
    `INSERT INTO sch_chameleon.t_verify_chunks (command_id, source_id, mysql_schema, mysql_table, chunk_no, key_column, range_from, range_to,
                                                mysql_rows, pg_rows, differing, differing_keys, state, error, checked_at_position)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (command_id, mysql_schema, mysql_table, chunk_no) DO UPDATE
     SET mysql_rows = excluded.mysql_rows, pg_rows = excluded.pg_rows, differing = excluded.differing,
         differing_keys = excluded.differing_keys, state = excluded.state, error = excluded.error,
         checked_at_position = excluded.checked_at_position, checked_at = now()`,
    [r.commandId, r.sourceId, r.mysqlSchema, r.mysqlTable, r.chunkNo, r.range.key, r.range.from, r.range.to,
      r.diff?.mysqlRows ?? 0, r.diff?.pgRows ?? 0, r.diff?.differing ?? 0, JSON.stringify(r.diff?.keys ?? []), r.state, r.error ?? null, r.position],
  );
}

/** The chunks of a table that its last verify (or repair) found different. */
export async function differingChunks(cat: Catalog, sourceId: string, schema: string, table: string): Promise<(KeyRange & { chunkNo: number })[]> {
  const res = await cat.pool.query<{ chunk_no: number; key_column: string | null; range_from: string | null; range_to: string | null }>(
    `SELECT c.chunk_no, c.key_column, c.range_from, c.range_to
       FROM sch_chameleon.t_verify_chunks c
      WHERE c.source_id = $1 AND c.mysql_schema = $2 AND c.mysql_table = $3 AND c.state = 'differs'
        AND c.command_id = (SELECT max(x.command_id) FROM sch_chameleon.t_verify_chunks x
                             WHERE x.source_id = $1 AND x.mysql_schema = $2 AND x.mysql_table = $3)
      ORDER BY c.chunk_no`,
    [sourceId, schema, table],
  );
  return res.rows.map((r) => ({ chunkNo: r.chunk_no, key: r.key_column, from: r.range_from, to: r.range_to }));
}
