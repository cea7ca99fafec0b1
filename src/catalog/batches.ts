import type pg from 'pg';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import { ChameleonError, ErrorCodes } from '../errors.js';
import { jsonbWithoutNul } from './tables.js';
import { ChunkWriter } from '../bytes.js';

export interface LogEvent {
  schema: string;
  table: string;
  kind: 'insert' | 'update' | 'delete' | 'ddl';
  /** JSON text of the after image, keyed by PostgreSQL column name. */
  after: RowImage | null;
  before: RowImage | null;
  txFile: string;
  txPos: number;
  txSeq: number;
  ddl: string | null;
  ddlPlan?: string | null;
}

export interface BatchToWrite {
  /** Reserved with reserveBatchIds: the rows of the log carry it before the batch row exists. */
  id: string;
  /** The log rows as COPY text (encodeLogEvents), built while the previous batch is written. */
  payload: Buffer[];
  /** The tables of the log rows, by their number in the batch (LogEventsEncoder.tables). */
  tables: BatchTable[];
  events: number;
  end: { file: string; pos: number; gtid: string | null };
  transactions: number;
  bytes: number;
  firstEventAt: Date | null;
  lastEventAt: Date | null;
  discarded: { schema: string; table: string; image: unknown; reason: string }[];
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Text as a field of COPY's text format: backslash, newline, carriage return and tab escaped. */
export function copyEscape(value: string): string {
  return /[\\\n\r\t]/.test(value) ? value.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]) : value;
}

function copyField(value: string | number | null): string {
  return value === null ? '\\N' : copyEscape(String(value));
}

/**
 * Batch ids for batches not written yet, in increasing order: the reader
 * numbers a batch's log rows while it builds them, before the batch row
 * exists. Ids of batches never written are gaps, which nothing minds.
 */
export async function reserveBatchIds(pool: pg.Pool, count: number): Promise<string[]> {
  const res = await pool.query<{ id: string }>(
    "SELECT nextval(pg_get_serial_sequence('sch_chameleon.t_batches', 'batch_id'))::text AS id FROM generate_series(1, $1)",
    [count],
  );
  return res.rows.map((r) => r.id).sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
}

/**
 * One table's log rows of a batch: COPY text in chunks of about 64 KB,
 * written as bytes (ChunkWriter), never as one string: a batch's text,
 * built as strings, then flattened and encoded, took a fifth of the
 * reader's time, the garbage it left included.
 */
const CHUNK_BYTES = 64 * 1024;

const TAB = 0x09;
const NEWLINE = 0x0a;
const COPY_NULL = Buffer.from('\\N');
const KINDS: Record<LogEvent['kind'], Buffer> = {
  insert: Buffer.from('\tinsert\t'),
  update: Buffer.from('\tupdate\t'),
  delete: Buffer.from('\tdelete\t'),
  ddl: Buffer.from('\tddl\t'),
};

/**
 * A row image: JSON text as a string (the generic path), or as the bytes
 * of its COPY field (what the rows decoder writes: UTF-8, COPY's escapes
 * already applied, copied into the log rows as they are).
 */
export type RowImage = string | Buffer;

/**
 * A row image as a COPY field. Images are JSON text: only backslashes of
 * JSON escapes need doubling, except in JSON documents embedded as their
 * own text, which may hold raw newlines and tabs.
 */
function writeImage(w: ChunkWriter, image: RowImage | null): void {
  if (image === null) {
    w.bytes(COPY_NULL);
    return;
  }
  if (typeof image === 'string') {
    w.utf8(copyEscape(image));
    return;
  }
  w.bytes(image);
}

interface TableSection {
  out: ChunkWriter;
  table: BatchTable;
  /** '\tn\tschema\ttable' of the table's rows, after the event number. */
  head: Buffer;
}

/**
 * A table of a batch as t_batches.tables describes it to the decoder, which
 * then needs no pass over the batch's log rows to find its tables and count
 * their events: the element n - 1 is the table numbered n in the log.
 */
export interface BatchTable {
  schema: string;
  table: string;
  /** Row events. */
  events: number;
  /** DDL events (statements that change the table). */
  ddl: number;
}

/**
 * Builds the log rows of one batch as COPY text for t_log_events, event by
 * event, table by table: the rows of a table are written together, in
 * event order, so that the log's key (batch, table, event) grows at one
 * end of the index while a batch is copied, and a table's rows, which the
 * decoder reads together, sit on neighbouring pages.
 */
export class LogEventsEncoder {
  private readonly sections: TableSection[] = [];
  private seq = 0;
  /** 'batch\t', the start of every row. */
  private readonly batchField: Buffer;
  // binlog files repeat from row to row: escaped once
  private readonly files = new Map<string, Buffer>();
  /** The decoder reads the batch by table: each table gets its number in the batch. */
  private readonly tableNos = new Map<string, Map<string, number>>();

  constructor(batchId: string) {
    this.batchField = Buffer.from(`${batchId}\t`);
  }

  get events(): number {
    return this.seq;
  }

  private file(v: string): Buffer {
    let f = this.files.get(v);
    if (f === undefined) this.files.set(v, (f = Buffer.from(copyField(v))));
    return f;
  }

  add(
    schema: string,
    table: string,
    kind: LogEvent['kind'],
    after: RowImage | null,
    before: RowImage | null,
    txFile: string,
    txPos: number,
    txSeq: number,
    ddl: string | null,
    /** kind 'ddl': what the decoder does at the statement (a DdlPlan as JSON text). */
    ddlPlan: string | null = null,
  ): void {
    let tables = this.tableNos.get(schema);
    if (tables === undefined) this.tableNos.set(schema, (tables = new Map()));
    let tableNo = tables.get(table);
    if (tableNo === undefined) {
      tableNo = this.sections.length + 1;
      this.sections.push({
        out: new ChunkWriter(CHUNK_BYTES),
        table: { schema, table, events: 0, ddl: 0 },
        head: Buffer.from(`\t${tableNo}\t${copyField(schema)}\t${copyField(table)}`),
      });
      tables.set(table, tableNo);
    }
    const section = this.sections[tableNo - 1];
    if (kind === 'ddl') section.table.ddl++;
    else section.table.events++;
    const w = section.out;
    w.bytes(this.batchField);
    w.int(++this.seq);
    w.bytes(section.head);
    w.bytes(KINDS[kind]);
    writeImage(w, after);
    w.byte(TAB);
    writeImage(w, before);
    w.byte(TAB);
    w.bytes(this.file(txFile));
    w.byte(TAB);
    w.int(txPos);
    w.byte(TAB);
    w.int(txSeq);
    w.byte(TAB);
    if (ddl === null) w.bytes(COPY_NULL);
    else w.utf8(copyField(ddl));
    w.byte(TAB);
    if (ddlPlan === null) w.bytes(COPY_NULL);
    else w.utf8(copyField(ddlPlan));
    w.byte(NEWLINE);
  }

  /** The batch's tables, in the order of their numbers. */
  tables(): BatchTable[] {
    return this.sections.map((x) => x.table);
  }

  finish(): Buffer[] {
    return this.sections.flatMap((section) => section.out.finish());
  }
}

/** The log rows of a batch as COPY text for t_log_events, in chunks of about 64 KB. */
export function encodeLogEvents(batchId: string, events: LogEvent[]): Buffer[] {
  const enc = new LogEventsEncoder(batchId);
  for (const e of events) enc.add(e.schema, e.table, e.kind, e.after, e.before, e.txFile, e.txPos, e.txSeq, e.ddl, e.ddlPlan ?? null);
  return enc.finish();
}

/**
 * Writes one batch: its row images (COPY) and the reader position after it
 * (the batch's end position),
 * in one transaction, fenced by the agent's lease on the source. A crash at
 * any point leaves either the whole batch with its position, or neither.
 */
export async function writeBatch(
  pool: pg.Pool,
  agentId: string,
  sourceId: string,
  batch: BatchToWrite,
  /**
   * The write of the batch before this one, when both run at once: this
   * batch commits only after that one has, and rolls back if it failed, so
   * committed batches always form an unbroken prefix of the binlog.
   */
  previous?: Promise<unknown>,
): Promise<string> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const lease = await client.query(
      // KEY SHARE: the heartbeat's renewal does not wait for it, a takeover (a key change) does
      'SELECT 1 FROM sch_chameleon.t_source_leases WHERE source_id = $1 AND agent_id = $2 FOR KEY SHARE',
      [sourceId, agentId],
    );
    if (lease.rows.length === 0) {
      throw new ChameleonError(ErrorCodes.LEASE_LOST, 'the agent no longer owns the source (taken over or dropped)', { source: sourceId });
    }
    await client.query(
      `INSERT INTO sch_chameleon.t_batches (batch_id, source_id, end_file, end_pos, end_gtid, events, transactions, bytes, first_event_at, last_event_at, tables)
       OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [batch.id, sourceId, batch.end.file, batch.end.pos, batch.end.gtid, batch.events, batch.transactions, batch.bytes,
        batch.firstEventAt, batch.lastEventAt, JSON.stringify(batch.tables)],
    );
    const batchId = batch.id;
    if (batch.payload.length > 0) {
      const copy = client.query(
        copyFrom(
          'COPY sch_chameleon.t_log_events (batch_id, event_seq, table_no, mysql_schema, mysql_table, kind, row_after, row_before, tx_file, tx_pos, tx_seq, ddl, ddl_plan) FROM STDIN',
        ),
      );
      await pipeline(Readable.from(batch.payload), copy);
    }
    if (batch.discarded.length > 0) {
      await client.query(
        `INSERT INTO sch_chameleon.t_discarded_rows (source_id, mysql_schema, mysql_table, origin, row_image, reason)
         SELECT $1, d.s, d.t, 'replica', d.i, d.r
           FROM jsonb_to_recordset($2::jsonb) AS d(s text, t text, i jsonb, r text)`,
        [sourceId, jsonbWithoutNul(JSON.stringify(batch.discarded.map((d) => ({ s: d.schema, t: d.table, i: d.image, r: d.reason }))))],
      );
    }
    if (previous) await previous;
    // The position is the batch row itself: updating t_sources here would wait
    // on the replayer, which updates that row in every replay transaction.
    await client.query('COMMIT');
    return batchId;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** The reader is caught up with the source: lag is nil even though no event arrived. */
export async function touchReader(pool: pg.Pool, sourceId: string): Promise<void> {
  await pool.query('UPDATE sch_chameleon.t_sources SET last_read_at = now(), last_read_event_at = now() WHERE source_id = $1', [sourceId]);
}

export interface ReplayResult {
  batches: number;
  events: number;
  applied: number;
  skipped: number;
}

/** One decoder call in its own transaction: data and replay position commit together. */
export async function replayNext(pool: pg.Pool, sourceId: string, agentId: string): Promise<ReplayResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const res = await client.query<{ batches: number; events: string; applied: string; skipped: string }>(
      'SELECT * FROM sch_chameleon.fn_replay_next($1, $2)',
      [sourceId, agentId],
    );
    await client.query('COMMIT');
    const r = res.rows[0];
    return { batches: Number(r.batches), events: Number(r.events), applied: Number(r.applied), skipped: Number(r.skipped) };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Records a replay failure outside the failed transaction (on_error_replay =
 * exit). The decoder's message names the batch and event at fault ("replay
 * of db.t failed at batch B event E: ..."), and nothing of that batch was
 * applied, so its log row is still there: the record gets the table, the
 * binlog position and the row image from it, the statement from the detail.
 */
export async function recordReplayError(pool: pg.Pool, sourceId: string, message: string, detail: string | null, sqlstate: string | null): Promise<void> {
  const at = /failed at batch (\d+) event (\d+)/.exec(message);
  const statement = detail ? (/; statement: ([\s\S]*)$/.exec(detail)?.[1] ?? detail) : null;
  const res = at
    ? await pool.query(
        `INSERT INTO sch_chameleon.t_errors (source_id, mysql_schema, mysql_table, batch_id, event_seq,
                                             binlog_file, binlog_pos, statement, row_image, sqlstate, message)
         SELECT $1, l.mysql_schema, l.mysql_table, l.batch_id, l.event_seq, l.tx_file, l.tx_pos,
                $4, coalesce(l.row_after, l.row_before), $5, $6
           FROM sch_chameleon.t_log_events l
          WHERE l.batch_id = $2 AND l.event_seq = $3`,
        [sourceId, at[1], at[2], statement, sqlstate, message],
      )
    : null;
  if (res && res.rowCount) return;
  await pool.query(
    `INSERT INTO sch_chameleon.t_errors (source_id, statement, sqlstate, message) VALUES ($1, $2, $3, $4)`,
    [sourceId, detail, sqlstate, message],
  );
}

/** Drops applied batches older than the retention. */
export async function pruneBatches(pool: pg.Pool, sourceId: string, retention: string): Promise<number> {
  // events the decoder kept for a table whose copy then failed or was given up: nothing will
  // apply them (a quarantined table's wait for resolve_ddl)
  await pool.query(
    `DELETE FROM sch_chameleon.t_log_events l
      WHERE l.batch_id IN (SELECT b.batch_id FROM sch_chameleon.t_batches b WHERE b.source_id = $1 AND b.applied_at IS NOT NULL)
        AND NOT EXISTS (SELECT 1 FROM sch_chameleon.t_tables t
                         WHERE t.source_id = $1 AND t.state IN ('copying', 'quarantined')
                           AND t.mysql_schema = l.mysql_schema AND t.mysql_table = l.mysql_table)`,
    [sourceId],
  );
  // a batch whose events still wait for a table's copy stays: they are found through it
  const res = await pool.query(
    `DELETE FROM sch_chameleon.t_batches b
      WHERE b.source_id = $1 AND b.applied_at IS NOT NULL AND b.applied_at < now() - $2::interval
        AND NOT EXISTS (SELECT 1 FROM sch_chameleon.t_log_events l WHERE l.batch_id = b.batch_id)`,
    [sourceId, retention],
  );
  return res.rowCount ?? 0;
}
