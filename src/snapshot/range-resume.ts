import { createHash } from 'node:crypto';
import type pg from 'pg';
import { dropIndexes, integerExtent, tableComment } from '../catalog/target.js';
import { ChameleonError, ErrorCodes } from '../errors.js';
import { integerKey, type TablePlan } from './plan.js';
import type { Coordinates } from './snapshot-point.js';

/**
 * A ranged copy interrupted after some of its ranges landed goes on past
 * them, at a new snapshot, and the table records the first snapshot's
 * coordinates. That is exact for a table with a primary key: the decoder
 * replays the events after those coordinates as full after images upserted
 * by key and deletes by key, so each key with later events ends as its last
 * event left it, and a key without any holds the same row at every snapshot
 * since. See docs/snapshot.md, "Resuming an interrupted command".
 */

/** What the catalogue row of an interrupted copy holds (a t_tables row). */
export interface InterruptedRow {
  state: string;
  copy_command: string | null;
  copy_file: string | null;
  copy_pos: string | null;
  copy_gtid: string | null;
  rows_copied: string;
  bytes_copied: string;
}

/** Where a resumed copy starts: the rows already loaded, and the coordinates the table will record. */
export interface RangeResume {
  /** The first snapshot's coordinates. */
  coordinates: Coordinates;
  /** The MySQL key column the ranges go by. */
  key: string;
  /** The largest key loaded, as an integer literal; null when no range landed. */
  after: string | null;
  rows: number;
  /** Estimated from the interrupted attempt's bytes per row: the COPY text of rows already loaded is not kept. */
  bytes: number;
  ranges: number;
}

/**
 * The key a table's ranged copy can resume by, or null when it must start
 * again from scratch. A unique secondary key rules it out: while the
 * decoder replays the events between the first snapshot and a later one,
 * a key read at the later snapshot already holds a value that, at that
 * point of the replay, another key still holds, and the unique index would
 * refuse the replay (the table would be excluded). The primary key cannot
 * collide: the ranges of two snapshots cover disjoint keys.
 */
export function resumableKey(plan: TablePlan): string | null {
  if (plan.mysql.indexes.some((i) => i.unique && !i.primary)) return null;
  return integerKey(plan);
}

/**
 * The comment a ranged copy's loading table carries until its swap: which
 * table, definition and key its rows were loaded for. A re-run planned
 * differently (a column or the key changed in MySQL, another mapping) finds
 * another mark and copies from scratch.
 */
export function resumeMark(plan: TablePlan, loadingSchema: string): string {
  const definition = JSON.stringify([plan.key, plan.pgSchema, plan.pgTable, resumableKey(plan), plan.ddl.inSchema(loadingSchema).createTable]);
  return `pg_chameleon ranged copy of ${plan.key}, resumable: ${createHash('sha256').update(definition).digest('hex')}`;
}

/**
 * The first snapshot's coordinates when the table's loading table holds
 * ranges that a copy by the same command loaded and can resume from; null
 * otherwise. Only a copy still marked 'copying' qualifies: anything else
 * (failed, cancelled, swapped in) ended its loading table.
 */
export async function interruptedCopy(
  pool: pg.Pool,
  loadingSchema: string,
  plan: TablePlan,
  row: InterruptedRow | undefined,
  commandId: string | null,
): Promise<Coordinates | null> {
  if (commandId === null || row === undefined || row.state !== 'copying' || String(row.copy_command) !== commandId) return null;
  if (row.copy_file === null || row.copy_pos === null || resumableKey(plan) === null) return null;
  if ((await tableComment(pool, loadingSchema, plan.pgTable)) !== resumeMark(plan, loadingSchema)) return null;
  return { file: row.copy_file, pos: String(row.copy_pos), gtid: row.copy_gtid };
}

/**
 * The rows already in the loading table and the key past which the copy
 * goes on. Each range landed by a COPY of its own, committed before the
 * next range was read, so the table holds whole ranges from the first key
 * on: every key up to its largest, as one of the earlier snapshots saw it.
 * Indexes an interrupted index build left are dropped; they are built
 * again after the data.
 */
export async function resumePoint(
  pool: pg.Pool,
  loadingSchema: string,
  plan: TablePlan,
  row: InterruptedRow,
  coordinates: Coordinates,
  rangeRows: number,
): Promise<RangeResume> {
  const key = resumableKey(plan)!;
  const pgKey = plan.columns.find((c) => c.col.name === key)!.pgName;
  await dropIndexes(pool, loadingSchema, plan.pgTable);
  const { rows, max } = await integerExtent(pool, loadingSchema, plan.pgTable, pgKey);
  if (max !== null && !/^-?[0-9]+$/.test(max)) {
    throw new ChameleonError(ErrorCodes.ASSERTION, `resumed copy of ${plan.key}: key value ${JSON.stringify(max)} is not an integer`);
  }
  const recordedRows = Number(row.rows_copied);
  return {
    coordinates,
    key,
    after: max,
    rows,
    bytes: recordedRows > 0 ? Math.round((Number(row.bytes_copied) * rows) / recordedRows) : 0,
    // every range but the last holds copy_range_rows rows (fewer only by rows set aside as unfit)
    ranges: Math.ceil(rows / rangeRows),
  };
}
