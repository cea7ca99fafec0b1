import type mysql from 'mysql2/promise';
import type pg from 'pg';
import type { Logger } from '../log.js';
import type { Catalog } from '../catalog/db.js';
import type { Source } from '../catalog/sources.js';
import { copyLinesOn, hasExtension } from '../catalog/target.js';
import { listTables } from '../catalog/tables.js';
import {
  compareChunk, differingChunks, emptyChunkTable, keysInFlight, prepareChunkTable, recordChunk, replaceRange, waitForRead, CHUNK_TABLE,
  type ChunkDiff, type KeyRange,
} from '../catalog/verify.js';
import { connectMysql, serverInfo } from '../mysql/connection.js';
import { readTables } from '../mysql/metadata.js';
import { quoteMysqlIdent } from '../mysql/type-map.js';
import { ChameleonError, ErrorCodes, errorMessage } from '../errors.js';
import { copyLayout } from './copy-encoder.js';
import { streamCopyText } from './copy-stream.js';
import { openSnapshot, type Coordinates } from './snapshot-point.js';
import { integerKey, planTables, type TablePlan } from './plan.js';

/**
 * Rows per chunk: small enough that the replay is held only briefly while
 * one is read. A source's copy_range_rows below it sets a smaller one.
 */
export const VERIFY_CHUNK_ROWS = 10_000;
/** How long a chunk with differing rows waits for the reader to store the changes up to its snapshot. */
const READ_WAIT_MS = 10_000;

export interface VerifyRun {
  cat: Catalog;
  source: Source;
  log: Logger;
  commandId: string;
  /** "db.table" names, validated by verify() / repair(). */
  tables: string[];
  /** Holds the replay of the source's running replica (no-op when none runs here); resolves with the release. */
  holdReplay(): Promise<() => void>;
  /** A replica of the source runs here: rows that differ may be changes on their way, worth waiting for. */
  replicating(): boolean;
  /** Reports progress; resolves true when the command was cancelled. */
  progress(p: VerifyProgress): Promise<boolean>;
}

export interface VerifyProgress {
  tables: number;
  tables_done: number;
  chunks: number;
  chunks_differing: number;
  rows_compared: number;
  /** repair only */
  rows_deleted?: number;
  rows_inserted?: number;
  chunks_repaired?: number;
  differing_tables: string[];
  errors: { table: string; error: string }[];
}

/** A table's catalogue row, as listTables returns it. */
type TableEntry = Awaited<ReturnType<typeof listTables>>[number];

interface Session {
  conn: mysql.Connection;
  isMariaDB: boolean;
  client: pg.PoolClient;
}

/**
 * verify(): each table is compared chunk by chunk (ranges of an integer
 * primary-key column; one chunk for other tables). A chunk is read from a
 * MySQL consistent snapshot while the replay is held, so PostgreSQL shows
 * an earlier or equal point of the binlog, never a later one; rows that
 * differ because a change of theirs is on its way are told apart by the
 * log (compareAt), and only the others are reported.
 */
export async function verifyTables(run: VerifyRun): Promise<VerifyProgress> {
  return eachChunk(run, {}, async (s, plan) => {
    const ranges = await chunkRanges(s.conn, plan, Math.min(VERIFY_CHUNK_ROWS, run.source.options.copy_range_rows ?? VERIFY_CHUNK_ROWS));
    return ranges.map((range, i) => ({ ...range, chunkNo: i + 1 }));
  }, async () => 'same');
}

/**
 * repair(): the ranges the table's last verify found different are copied
 * again, each from a MySQL snapshot taken while the replay is held: the
 * target's rows of the range are replaced by MySQL's as of the snapshot, in
 * one transaction. The replay then goes on from where it was held, behind
 * the snapshot: re-applying those later changes to rows already at their
 * snapshot state ends with each row as MySQL had it, the decoder applying
 * whole row images by primary key. Each range is compared again after.
 */
export async function repairTable(run: VerifyRun): Promise<VerifyProgress> {
  const extra = { rows_deleted: 0, rows_inserted: 0, chunks_repaired: 0 };
  return eachChunk(run, extra, async (_s, plan, entry) => {
    if (entry.pk_columns.length === 0) {
      throw new ChameleonError(ErrorCodes.CONFIG, `${plan.key} has no primary key: sync_tables copies it again whole`);
    }
    return differingChunks(run.cat, run.source.id, plan.mysql.schema, plan.mysql.name);
  }, async (s, plan, entry, range, progress) => {
    const done = await repairRange(run, s, plan, entry, range);
    progress.rows_deleted! += done.deleted;
    progress.rows_inserted! += done.inserted;
    return 'repaired';
  });
}

/**
 * The loop of verify and repair: per table, its chunks; per chunk, `before`
 * (nothing for verify, the new copy for repair), then the comparison, its
 * record and the progress. A table that cannot be compared is reported and
 * the others go on; a cancelled command stops at the next chunk.
 */
async function eachChunk(
  run: VerifyRun,
  extra: Partial<VerifyProgress>,
  chunksOf: (s: Session, plan: TablePlan, entry: TableEntry) => Promise<(KeyRange & { chunkNo: number })[]>,
  before: (s: Session, plan: TablePlan, entry: TableEntry, range: KeyRange, progress: VerifyProgress) => Promise<'same' | 'repaired'>,
): Promise<VerifyProgress> {
  return withSession(run, async (s) => {
    const plans = await plansFor(run, s);
    const progress: VerifyProgress = { ...emptyProgress(plans.length), ...extra };
    for (const { plan, entry } of plans) {
      try {
        const chunks = await chunksOf(s, plan, entry);
        await prepareChunkTable(s.client, entry.pg_schema, entry.pg_table);
        let differs = false;
        for (const chunk of chunks) {
          const range: KeyRange = { key: chunk.key, from: chunk.from, to: chunk.to };
          const equal = await before(s, plan, entry, range, progress);
          const { diff, at } = await compareAt(run, s, plan, entry, range);
          progress.chunks++;
          progress.rows_compared += diff.mysqlRows;
          if (diff.differing > 0) {
            progress.chunks_differing++;
            differs = true;
          } else if (equal === 'repaired') {
            progress.chunks_repaired!++;
          }
          await recordChunk(run.cat, chunkRecord(run, plan, chunk.chunkNo, range, diff, diff.differing > 0 ? 'differs' : equal, at));
          if (await run.progress(progress)) throw new ChameleonError(ErrorCodes.CANCELLED, 'cancelled');
        }
        if (differs) progress.differing_tables.push(plan.key);
      } catch (err) {
        if (err instanceof ChameleonError && err.code === ErrorCodes.CANCELLED) throw err;
        tableFailed(run, plan, progress, err);
      }
      progress.tables_done++;
      await run.progress(progress);
    }
    return progress;
  });
}

function emptyProgress(tables: number): VerifyProgress {
  return { tables, tables_done: 0, chunks: 0, chunks_differing: 0, rows_compared: 0, differing_tables: [], errors: [] };
}

function tableFailed(run: VerifyRun, plan: TablePlan, progress: VerifyProgress, err: unknown): void {
  const message = errorMessage(err);
  run.log.warn({ table: plan.key, err }, 'table not compared');
  progress.errors.push({ table: plan.key, error: message });
  void recordChunk(run.cat, {
    commandId: run.commandId, sourceId: run.source.id, mysqlSchema: plan.mysql.schema, mysqlTable: plan.mysql.name,
    chunkNo: 0, range: { key: null, from: null, to: null }, diff: null, state: 'error', error: message, position: null,
  }).catch(() => undefined);
}

function chunkRecord(run: VerifyRun, plan: TablePlan, chunkNo: number, range: KeyRange, diff: ChunkDiff, state: 'same' | 'differs' | 'repaired', at: Coordinates) {
  return {
    commandId: run.commandId, sourceId: run.source.id, mysqlSchema: plan.mysql.schema, mysqlTable: plan.mysql.name,
    chunkNo, range, diff, state, position: `${at.file}:${at.pos}`,
  };
}

async function withSession<T>(run: VerifyRun, fn: (s: Session) => Promise<T>): Promise<T> {
  const conn = await connectMysql(run.source.mysqlUrl);
  const client = await run.cat.pool.connect();
  try {
    const isMariaDB = (await serverInfo(conn)).isMariaDB;
    return await fn({ conn, isMariaDB, client });
  } finally {
    await client.query(`DROP TABLE IF EXISTS pg_temp.${CHUNK_TABLE}`).catch(() => undefined);
    client.release();
    await conn.end().catch(() => undefined);
  }
}

/** The tables to compare with their plan (as a copy would read them now) and catalogue row. */
async function plansFor(run: VerifyRun, s: Session): Promise<{ plan: TablePlan; entry: TableEntry }[]> {
  const entries = new Map((await listTables(run.cat, run.source.id)).map((t) => [`${t.mysql_schema}.${t.mysql_table}`, t]));
  const wanted = run.tables.map((name) => {
    const entry = entries.get(name);
    if (!entry) throw new ChameleonError(ErrorCodes.CONFIG, `${name} is not a table of source ${run.source.name}`);
    return entry;
  });
  const schemas = [...new Set(wanted.map((e) => e.mysql_schema))];
  const postgis = await hasExtension(run.cat.pool, 'postgis');
  const plans = new Map(planTables(await readTables(s.conn, schemas), run.source, postgis, s.isMariaDB ? 'mariadb' : 'mysql').map((p) => [p.key, p]));
  return wanted.map((entry) => {
    const key = `${entry.mysql_schema}.${entry.mysql_table}`;
    const plan = plans.get(key);
    if (!plan) throw new ChameleonError(ErrorCodes.CONFIG, `${key} is no longer in MySQL`);
    return { plan, entry };
  });
}

/** Key ranges of about `rows` rows each, from MySQL's integer primary key; one range for other tables. */
async function chunkRanges(conn: mysql.Connection, plan: TablePlan, rows: number): Promise<KeyRange[]> {
  const key = integerKey(plan);
  if (key === null) return [{ key: null, from: null, to: null }];
  const k = quoteMysqlIdent(key);
  const from = `${quoteMysqlIdent(plan.mysql.schema)}.${quoteMysqlIdent(plan.mysql.name)}`;
  const ranges: KeyRange[] = [];
  let lo: string | null = null;
  for (;;) {
    // inlined, not a parameter: MySQL compares an integer with a string as doubles, inexact past 2^53
    const [r]: [mysql.RowDataPacket[], unknown] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT CAST(${k} AS CHAR) AS b FROM ${from}${lo !== null ? ` WHERE ${k} > ${lo}` : ''} ORDER BY ${k} LIMIT 1 OFFSET ${rows - 1}`,
    );
    const hi: string | null = r.length > 0 ? String(r[0].b) : null;
    if (hi !== null && !/^-?[0-9]+$/.test(hi)) throw new ChameleonError(ErrorCodes.ASSERTION, `${plan.key}: key value ${JSON.stringify(hi)} is not an integer`);
    ranges.push({ key, from: lo, to: hi });
    if (hi === null) return ranges;
    lo = hi;
  }
}

function mysqlCondition(range: KeyRange): string {
  if (range.key === null) return '';
  const k = quoteMysqlIdent(range.key);
  const parts: string[] = [];
  if (range.from !== null) parts.push(`${k} > ${range.from}`);
  if (range.to !== null) parts.push(`${k} <= ${range.to}`);
  return parts.length > 0 ? ` WHERE ${parts.join(' AND ')}` : '';
}

function pgNameOf(plan: TablePlan, mysqlName: string): string {
  return plan.columns.find((c) => c.col.name === mysqlName)?.pgName ?? mysqlName;
}

/**
 * Loads MySQL's rows of the range, read from a consistent snapshot, into
 * the session's chunk table; the caller holds the replay. Returns the
 * snapshot's coordinates.
 */
async function loadRange(run: VerifyRun, s: Session, plan: TablePlan, range: KeyRange): Promise<Coordinates> {
  const at = await openSnapshot(s.conn, s.isMariaDB, { table: plan.mysql, connect: () => connectMysql(run.source.mysqlUrl), log: run.log });
  try {
    const layout = copyLayout(plan.columns);
    const copied = plan.columns.filter((c) => !c.map.generated).map((c) => c.pgName);
    const core = (s.conn as unknown as { connection: import('mysql2').Connection }).connection;
    const from = `${quoteMysqlIdent(plan.mysql.schema)}.${quoteMysqlIdent(plan.mysql.name)}`;
    await emptyChunkTable(s.client);
    const { chunks } = streamCopyText(core, `SELECT ${layout.select} FROM ${from}${mysqlCondition(range)}`, layout, 1 << 20);
    await copyLinesOn(s.client, 'pg_temp', CHUNK_TABLE, copied, chunks);
  } catch (err) {
    s.conn.destroy();
    throw err;
  }
  await s.conn.query('COMMIT');
  return at;
}

/**
 * One chunk compared: with the replay held, PostgreSQL is at some point R
 * of the binlog and stays there; MySQL's snapshot is at P, never before R.
 * A key whose rows differ is a change on its way when the log holds a
 * change of it in (R, P], not applied yet: once the reader has stored
 * everything up to P, those are left out, and the rest are differences.
 */
async function compareAt(run: VerifyRun, s: Session, plan: TablePlan, entry: TableEntry, range: KeyRange): Promise<{ diff: ChunkDiff; at: Coordinates }> {
  const columns = plan.columns.filter((c) => !c.map.generated).map((c) => c.pgName);
  const pgRange: KeyRange = { ...range, key: range.key === null ? null : pgNameOf(plan, range.key) };
  const target = { schema: entry.pg_schema, table: entry.pg_table };
  const release = await run.holdReplay();
  try {
    const at = await loadRange(run, s, plan, range);
    const diff = await compareChunk(s.client, target, columns, entry.pk_columns, pgRange);
    if (diff.keys.length === 0 || !run.replicating()) return { diff, at };
    if (!(await waitForRead(run.cat.pool, run.source.id, at, READ_WAIT_MS))) {
      run.log.warn({ table: plan.key, position: `${at.file}:${at.pos}` }, 'the reader did not reach the snapshot in time: differing rows reported as they are');
      return { diff, at };
    }
    const moving = await keysInFlight(s.client, run.source.id, { mysqlSchema: plan.mysql.schema, mysqlTable: plan.mysql.name, ...target },
      entry.pk_columns, diff.keys, at);
    const keys = diff.keys.filter((k) => !moving.has(k));
    return { diff: { ...diff, differing: keys.length, keys }, at };
  } finally {
    release();
  }
}

async function repairRange(run: VerifyRun, s: Session, plan: TablePlan, entry: TableEntry, range: KeyRange): Promise<{ deleted: number; inserted: number }> {
  const columns = plan.columns.filter((c) => !c.map.generated).map((c) => c.pgName);
  const pgRange: KeyRange = { ...range, key: range.key === null ? null : pgNameOf(plan, range.key) };
  const release = await run.holdReplay();
  try {
    await loadRange(run, s, plan, range);
    await s.client.query('BEGIN');
    try {
      const result = await replaceRange(s.client, { schema: entry.pg_schema, table: entry.pg_table }, columns, pgRange);
      await s.client.query('COMMIT');
      run.log.info({ table: plan.key, range, ...result }, 'range repaired');
      return result;
    } catch (err) {
      await s.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    release();
  }
}
