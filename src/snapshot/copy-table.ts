import type mysql from 'mysql2/promise';
import type pg from 'pg';
import type { Readable } from 'node:stream';
import type { Logger } from '../log.js';
import type { Catalog } from '../catalog/db.js';
import { copyLines, copyLinesOn, InPlaceReload, runStatements, setTableComment, swapLoadedTable, tableExists, type CopyRecord } from '../catalog/target.js';
import { getTable, recordDiscardedRows, startTableCopy, updateTable } from '../catalog/tables.js';
import { quoteMysqlIdent } from '../mysql/type-map.js';
import { qualified } from '../ddl/identifiers.js';
import { ChameleonError, ErrorCodes } from '../errors.js';
import { copyLayout, type CopyEncoder, type UnfitLine } from './copy-encoder.js';
import { streamCopyText } from './copy-stream.js';
import { copyFields } from './copy-text.js';
import { openSnapshot, type Coordinates } from './snapshot-point.js';
import { rangeKey, type TablePlan } from './plan.js';
import { interruptedCopy, resumableKey, resumeMark, resumePoint, type InterruptedRow, type RangeResume } from './range-resume.js';

export interface CopyContext {
  cat: Catalog;
  pool: pg.Pool;
  sourceId: string;
  loadingSchema: string;
  lockTimeout: string;
  grantSelectTo: string[];
  isMariaDB: boolean;
  chunkBytes: number;
  withData: boolean;
  log: Logger;
  /** Recorded with the table: a re-run of this command keeps what it already copied. */
  commandId: string | null;
  /** Rows per primary-key range (copy_range_rows). */
  rangeRows: number;
  /** keep_existing_schema: an existing target table is reloaded in place instead of replaced. */
  keepExisting: boolean;
  /**
   * Resolves once the replay of the source's running replica (if any) is
   * idle and held; the returned function releases it. Held from before the
   * snapshot until the copy is visible with its coordinates.
   */
  holdReplay(): Promise<() => void>;
  /** Rows and bytes that reached PostgreSQL, as each range (or the whole table) lands. */
  onRows(rows: number, bytes: number): void;
  /** Throws when the command was cancelled. */
  checkCancelled(): Promise<void>;
  /** A new connection to the source: MySQL's snapshot locks its table from a second session. */
  connect(): Promise<mysql.Connection>;
}

export interface CopyResult {
  rows: number;
  bytes: number;
  discarded: number;
  ranges: number;
  coordinates: Coordinates;
  inPlace: boolean;
}

interface RowsRead {
  rows: number;
  bytes: number;
  discarded: number;
  ranges: number;
}

/**
 * Copies one table at a consistent snapshot read on `conn`, then makes the
 * copy visible together with its coordinates: a new table loaded in the
 * loading schema and swapped in, or (keep_existing_schema) the existing one
 * reloaded in place. On failure `conn` is left destroyed or reusable, never
 * in the middle of a result.
 */
export async function copyTable(conn: mysql.Connection, plan: TablePlan, ctx: CopyContext): Promise<CopyResult> {
  const log = ctx.log.child({ table: plan.key });
  const started = Date.now();
  // read before startTableCopy resets its counters: a resumed copy goes on from an interrupted attempt's
  const before = await getTable(ctx.cat, ctx.sourceId, plan.mysql.schema, plan.mysql.name);
  await startTableCopy(ctx.cat, ctx.sourceId, plan.mysql.schema, plan.mysql.name, ctx.commandId);
  const inPlace = ctx.keepExisting && (await tableExists(ctx.pool, plan.pgSchema, plan.pgTable));
  const res = inPlace ? await reloadInPlace(conn, plan, ctx) : await loadAndSwap(conn, plan, ctx, log, before);
  log.info(
    { rows: res.rows, bytes: res.bytes, discarded: res.discarded, ranges: res.ranges, inPlace, ms: Date.now() - started,
      position: `${res.coordinates.file}:${res.coordinates.pos}` },
    inPlace ? 'table reloaded in place' : 'table copied',
  );
  return res;
}

function copyRecord(plan: TablePlan, ctx: CopyContext, coordinates: Coordinates, read: RowsRead): CopyRecord {
  return {
    sourceId: ctx.sourceId,
    mysqlSchema: plan.mysql.schema,
    mysqlTable: plan.mysql.name,
    pgSchema: plan.pgSchema,
    pgTable: plan.pgTable,
    pkColumns: plan.mysql.primaryKey.map((k) => plan.columns.find((c) => c.col.name === k)!.pgName),
    coordinates,
    rowsCopied: read.rows,
    bytesCopied: read.bytes,
    ranges: read.ranges,
    commandId: ctx.commandId,
  };
}

async function loadAndSwap(conn: mysql.Connection, plan: TablePlan, ctx: CopyContext, log: Logger, before: InterruptedRow | undefined): Promise<CopyResult> {
  const ddl = plan.ddl.inSchema(ctx.loadingSchema);
  const columns = plan.columns.filter((c) => !c.map.generated).map((c) => c.pgName);
  const first = ctx.withData ? await interruptedCopy(ctx.pool, ctx.loadingSchema, plan, before, ctx.commandId) : null;
  const resume = first ? await resumePoint(ctx.pool, ctx.loadingSchema, plan, before!, first, ctx.rangeRows) : null;
  // a ranged copy that an interruption could leave with ranges landed: marked so that the next attempt may resume it
  const resumable = resume === null && ctx.withData && ctx.commandId !== null
    && rangeKey(plan, ctx.rangeRows) !== null && resumableKey(plan) !== null;
  if (resume) {
    log.info({ after: resume.after, rows: resume.rows, ranges: resume.ranges, position: `${resume.coordinates.file}:${resume.coordinates.pos}` },
      'resuming the interrupted copy past the ranges already loaded');
  } else {
    await runStatements(ctx.pool, [`DROP TABLE IF EXISTS ${qualified(ctx.loadingSchema, plan.pgTable)}`, ddl.createTable]);
  }

  // The table is 'copying' (startTableCopy), so a replica of the source
  // that runs meanwhile keeps its events in the log rather than apply them
  // to the table being replaced; its other tables go on replicating.
  const snapshot = await openSnapshot(conn, ctx.isMariaDB, { table: plan.mysql, connect: ctx.connect, log });
  // Kept before any range lands: an attempt that resumes this copy records
  // them for the whole table, as the oldest snapshot of its rows. The mark
  // comes after them, so that it never vouches for an older attempt's.
  if (resumable) {
    await updateTable(ctx.cat, ctx.sourceId, plan.mysql.schema, plan.mysql.name, {
      copy_file: snapshot.file, copy_pos: snapshot.pos, copy_gtid: snapshot.gtid, copy_command: ctx.commandId,
    });
    await setTableComment(ctx.pool, ctx.loadingSchema, plan.pgTable, resumeMark(plan, ctx.loadingSchema));
  }
  const coordinates = resume?.coordinates ?? snapshot;
  const read = await inSnapshot(conn, () =>
    ctx.withData
      ? readRows(conn, plan, ctx, (lines) => copyLines(ctx.pool, ctx.loadingSchema, plan.pgTable, columns, lines), resume)
      : Promise.resolve({ rows: 0, bytes: 0, discarded: 0, ranges: 0 }),
  );
  await ctx.checkCancelled();
  await runStatements(ctx.pool, ddl.indexes);
  await runStatements(ctx.pool, ddl.identityRestart);
  // the mark goes only now, so that an index build cut short still resumes; it must not reach the target table
  if (resumable || resume) await setTableComment(ctx.pool, ctx.loadingSchema, plan.pgTable, null);
  await runStatements(ctx.pool, ddl.comments);
  for (const skipped of ddl.skippedIndexes) log.warn({ index: skipped.name, reason: skipped.reason }, 'index not created');
  // The swap applies the kept events: no decoder call may run alongside it,
  // or the events it keeps back for the table in a batch it is applying would
  // never be applied once the table is in place.
  const release = await ctx.holdReplay();
  try {
    await swapLoadedTable(ctx.pool, { ...copyRecord(plan, ctx, coordinates, read), loadingSchema: ctx.loadingSchema, lockTimeout: ctx.lockTimeout, grantSelectTo: ctx.grantSelectTo });
  } finally {
    release();
  }
  return { ...read, coordinates, inPlace: false };
}

async function reloadInPlace(conn: mysql.Connection, plan: TablePlan, ctx: CopyContext): Promise<CopyResult> {
  const columns = plan.columns.filter((c) => !c.map.generated).map((c) => c.pgName);
  // The table is 'copying': the decoder leaves it alone (its events wait in
  // the log), so the lock the reload holds for the whole copy stops nothing
  // else. copy_schema (no data) keeps an existing table's rows as well as its definition.
  const reload = await InPlaceReload.begin(ctx.pool, plan.pgSchema, plan.pgTable, ctx.lockTimeout, { empty: ctx.withData });
  try {
    const coordinates = await openSnapshot(conn, ctx.isMariaDB, { table: plan.mysql, connect: ctx.connect, log: ctx.log });
    const read = await inSnapshot(conn, () =>
      ctx.withData
        ? readRows(conn, plan, ctx, (lines) => copyLinesOn(reload.client, plan.pgSchema, plan.pgTable, columns, lines))
        : Promise.resolve({ rows: 0, bytes: 0, discarded: 0, ranges: 0 }),
    );
    await ctx.checkCancelled();
    // the commit applies the kept events: alone, as the swap does
    const release = await ctx.holdReplay();
    try {
      await reload.commit(ctx.withData ? plan.ddl.identityRestart : [], ctx.grantSelectTo, copyRecord(plan, ctx, coordinates, read));
    } finally {
      release();
    }
    return { ...read, coordinates, inPlace: true };
  } catch (err) {
    await reload.abort();
    throw err;
  }
}

/**
 * Runs the reads of an open snapshot and ends it. After a failure the
 * connection may sit in the middle of a result that nobody reads any more:
 * it is destroyed rather than asked to COMMIT, which would wait forever.
 */
async function inSnapshot<T>(conn: mysql.Connection, reads: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await reads();
  } catch (err) {
    conn.destroy();
    throw err;
  }
  await conn.query('COMMIT');
  return result;
}

/**
 * Streams the table's rows into `copy`: in one read, or for a table larger
 * than copy_range_rows with an integer key, in key ranges read one after the
 * other in the same snapshot. A range is a short query, so MySQL never holds
 * a result open while PostgreSQL is slow to take it (net_write_timeout), and
 * each range's rows land in one COPY and are recorded as done. A resumed
 * copy counts the ranges already loaded and reads past them, by ranges
 * whatever the table's size now.
 */
async function readRows(
  conn: mysql.Connection,
  plan: TablePlan,
  ctx: CopyContext,
  copy: (lines: Readable) => Promise<number>,
  resume: RangeResume | null = null,
): Promise<RowsRead> {
  const from = `${quoteMysqlIdent(plan.mysql.schema)}.${quoteMysqlIdent(plan.mysql.name)}`;
  const key = resume?.key ?? rangeKey(plan, ctx.rangeRows);
  const layout = copyLayout(plan.columns, key);
  const core = (conn as unknown as { connection: import('mysql2').Connection }).connection;
  let discarded = 0;
  const done = { rows: resume?.rows ?? 0, bytes: resume?.bytes ?? 0, ranges: resume?.ranges ?? 0 };
  if (resume) ctx.onRows(resume.rows, resume.bytes);
  let current: CopyEncoder | null = null;

  const copyQuery = async (sql: string): Promise<CopyEncoder> => {
    const { chunks, encoder } = streamCopyText(core, sql, layout, ctx.chunkBytes);
    current = encoder;
    await copy(chunks);
    if (encoder.unfit.length > 0) discarded += await recordUnfit(plan, layout.names, encoder.unfit, ctx);
    done.rows += encoder.rows;
    done.bytes += encoder.bytes;
    done.ranges++;
    current = null;
    ctx.onRows(encoder.rows, encoder.bytes);
    return encoder;
  };
  // one write at a time, its figures taken when its turn comes, and none left once the rows are
  // read: the timer's write and a range's write on two pool connections could otherwise land out
  // of order, and show_tables would see the counts go back (or keep a smaller one after the copy)
  let recorded: Promise<void> = Promise.resolve();
  const record = (): Promise<void> => {
    recorded = recorded.catch(() => undefined).then(() => {
      const live = current as CopyEncoder | null;
      return updateTable(ctx.cat, ctx.sourceId, plan.mysql.schema, plan.mysql.name, {
        rows_copied: done.rows + (live?.rows ?? 0), bytes_copied: done.bytes + (live?.bytes ?? 0), copy_ranges: key === null ? 0 : done.ranges,
      });
    });
    return recorded;
  };

  const timer = setInterval(() => void record().catch(() => undefined), 1000);
  if (resume) void record().catch(() => undefined);
  try {
    if (key === null) {
      await copyQuery(`SELECT ${layout.select} FROM ${from}`);
      return { ...done, ranges: 0, discarded };
    }
    const k = quoteMysqlIdent(key);
    let after: string | null = resume?.after ?? null;
    for (;;) {
      const encoder = await copyQuery(
        `SELECT ${layout.select} FROM ${from}${after !== null ? ` WHERE ${k} > ${after}` : ''} ORDER BY ${k} LIMIT ${ctx.rangeRows}`,
      );
      await record();
      if (encoder.rows + encoder.unfit.length < ctx.rangeRows) break;
      // inlined, not a parameter: MySQL compares an integer with a string as doubles, inexact past 2^53
      const last = encoder.lastKey ?? '';
      if (!/^-?[0-9]+$/.test(last)) {
        throw new ChameleonError(ErrorCodes.ASSERTION, `range copy of ${plan.key}: key value ${JSON.stringify(last)} is not an integer`);
      }
      after = last;
      await ctx.checkCancelled();
    }
    return { ...done, discarded };
  } finally {
    clearInterval(timer);
    await recorded.catch(() => undefined);
  }
}

/** Rows PostgreSQL cannot hold go to t_discarded_rows, each with its values (as COPY text) and the reason. */
async function recordUnfit(plan: TablePlan, names: string[], lines: UnfitLine[], ctx: CopyContext): Promise<number> {
  await recordDiscardedRows(
    ctx.cat,
    lines.map((u) => {
      const fields = copyFields(u.line);
      return {
        sourceId: ctx.sourceId,
        mysqlSchema: plan.mysql.schema,
        mysqlTable: plan.mysql.name,
        origin: 'snapshot' as const,
        image: Object.fromEntries(names.map((n, i) => [n, fields[i] ?? null])),
        reason: u.reason,
      };
    }),
  );
  ctx.log.warn({ table: plan.key, rows: lines.length }, 'rows PostgreSQL cannot hold kept in t_discarded_rows');
  return lines.length;
}
