import ZongJi from '@vlasky/zongji';
import { EventEmitter } from 'node:events';
import { mysqlOptionsFromUrl } from '../mysql/connection.js';
import { keepRawBytes } from '../mysql/type-map.js';
import { DecodedRows, installRowsHook, ROWS_DECODER, type RowKind, type RowsDecoder, type ZongjiTableMapEntry } from './rows-hook.js';

export type { RowKind } from './rows-hook.js';

/** Milliseconds of binlog events parsed in one turn of the event loop before the others get theirs. */
const TURN_MS = 4;

/**
 * Row images as JSON text keyed by PostgreSQL column name (a string, or
 * its UTF-8 bytes as a rows decoder writes them), or why the row cannot
 * be stored.
 */
export type ImageResult =
  | { ok: true; after: string | Buffer | null; before: string | Buffer | null }
  | { ok: false; reason: string; image: unknown };

export interface RowChange {
  schema: string;
  table: string;
  kind: RowKind;
  /** zongji's values, when the table's rows were decoded by zongji. */
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  /** The images, when a rows decoder wrote them straight from the binlog bytes. */
  image?: ImageResult;
}

/**
 * Where the stream gets the rows decoder of a table (see rows-hook.ts).
 * Decoders need the table's metadata, read from MySQL: the stream holds
 * the binlog until it is loaded, so that no row event of the table is
 * parsed before its decoder is attached.
 */
export interface RowsDecoderSource {
  /** The decoder for a TableMap entry; null: zongji decodes the rows; 'load': call load() first. */
  decoderFor(entry: ZongjiTableMapEntry, zongji: unknown): RowsDecoder | null | 'load';
  load(schema: string, table: string): Promise<void>;
  /** A DDL statement went by: table metadata may have changed. */
  invalidate(): void;
  /** The table's engine rolls back (InnoDB); false for MyISAM and the like. Unknown tables count as transactional. */
  transactional(schema: string, table: string): boolean;
}

export interface BinlogPosition {
  file: string;
  pos: number;
  gtid: string | null;
}

/** A MySQL transaction, whole: its row changes and the position after its commit. */
export interface BinlogTransaction {
  changes: RowChange[];
  /** Statement of a DDL transaction (query event outside BEGIN/COMMIT). */
  ddl: { schema: string; statement: string } | null;
  end: BinlogPosition;
  /** Commit time on the source (binlog event timestamp). */
  timestamp: Date;
  /** Approximate size in bytes of the binlog events, for queue accounting. */
  bytes: number;
}

/**
 * The narrow interface around zongji the replica needs: whole transactions
 * with their end position, heartbeats, errors; pause/resume for back-pressure.
 */
export interface BinlogStreamEvents {
  transaction: [BinlogTransaction];
  /** The stream is connected and positioned. */
  ready: [];
  /** The server had nothing to send for a heartbeat period: the reader is at the end of the binlog. */
  heartbeat: [BinlogPosition];
  error: [Error];
}

export interface BinlogStreamOptions {
  url: string;
  serverId: number;
  start: { file: string; pos: number } | { gtid: string };
  schemas: string[];
  /** Seconds between server heartbeats on an idle stream (MySQL/MariaDB master_heartbeat_period). */
  heartbeatSeconds?: number;
  /** Seconds of silence (no event, no heartbeat) after which the connection is taken as dead. */
  silenceSeconds?: number;
  /** Rows decoders; without it zongji decodes every row. */
  rows?: RowsDecoderSource;
}

interface PausableConnection {
  pause(): void;
  resume(): void;
}

interface ZongjiEvent {
  getEventName(): string;
  timestamp: number;
  nextPosition: number;
  size: number;
  gtid?: string;
  [key: string]: unknown;
}

/** Statements logged inside a transaction that neither end it nor are DDL. */
const IN_TRANSACTION_STATEMENT = /^(SAVEPOINT\b|ROLLBACK\s+(WORK\s+)?TO\b|RELEASE\s+SAVEPOINT\b|XA\s+END\b)/i;
const SAVEPOINT = /^SAVEPOINT\s+(.+?)\s*$/i;
const ROLLBACK_TO = /^ROLLBACK\s+(?:WORK\s+)?TO\s+(?:SAVEPOINT\s+)?(.+?)\s*$/i;
const RELEASE = /^RELEASE\s+SAVEPOINT\s+(.+?)\s*$/i;

/** A savepoint name as MySQL compares them: unquoted, case-insensitive. */
function savepointName(raw: string): string {
  const m = /^`((?:[^`]|``)*)`$/.exec(raw);
  return (m ? m[1].replace(/``/g, '`') : raw).toLowerCase();
}

export class BinlogStream extends EventEmitter<BinlogStreamEvents> {
  private zongji: ZongJi | null = null;
  private current: RowChange[] = [];
  /** Savepoints of the open transaction: how many of its changes came before each. */
  private savepoints = new Map<string, number>();
  private currentBytes = 0;
  private inTransaction = false;
  private file: string;
  private gtid: string | null = null;
  private stopped = false;
  private lastData = Date.now();
  private watchdog: NodeJS.Timeout | null = null;
  /**
   * Why the binlog socket is paused: back-pressure, metadata loads, and
   * zongji's own metadata queries. It resumes only when none is left, so
   * that one party's resume never cuts short another's pause.
   */
  private readonly holds = new Set<unknown>();
  private connPause: (() => void) | null = null;
  private connResume: (() => void) | null = null;
  /** When the current turn of the event loop began reading events, and whether a yield is under way. */
  private turnStart = 0;
  private turnEvents = 0;
  private inTurn = false;
  private yielding = false;

  constructor(private readonly opts: BinlogStreamOptions) {
    super();
    this.file = 'file' in opts.start ? opts.start.file : '';
  }

  start(): void {
    const conn = mysqlOptionsFromUrl(this.opts.url);
    // timestamps as UTC strings, JSON as text: the type map converts from there
    if (this.opts.rows) installRowsHook();
    const zongji = new ZongJi({ ...conn, dateStrings: true, timezone: 'Z', jsonStrings: true, supportBigNumbers: true, bigNumberStrings: true } as never);
    this.zongji = zongji;
    zongji.on('error', (err: Error) => {
      if (!this.stopped) this.emit('error', err);
    });
    zongji.on('ready', () => this.emit('ready'));
    zongji.on('binlog', (evt: unknown) => {
      this.lastData = Date.now();
      this.onEvent(evt as ZongjiEvent);
      this.yieldWhenDue();
    });
    const includeSchema = Object.fromEntries(this.opts.schemas.map((s) => [s, true as const]));
    const startOpts =
      'gtid' in this.opts.start
        ? { gtidSet: this.opts.start.gtid }
        : { filename: this.opts.start.file, position: this.opts.start.pos };
    zongji.start({
      serverId: this.opts.serverId,
      ...startOpts,
      includeEvents: ['rotate', 'tablemap', 'writerows', 'updaterows', 'deleterows', 'xid', 'query', 'mariadbgtid', 'gtid', 'heartbeat'],
      includeSchema,
    });
    // start() creates the binlog connection at once and sends the dump request
    // only after a few queries, so this lands first: the server then sends a
    // heartbeat whenever it has had nothing to send for that long
    const heartbeat = this.opts.heartbeatSeconds ?? 1;
    const binlogConn = (zongji as unknown as { connection?: PausableConnection & { query(sql: string, cb: (err: unknown) => void): void } }).connection;
    binlogConn?.query(`SET @master_heartbeat_period = ${Math.round(heartbeat * 1e9)}`, () => undefined);
    if (binlogConn) this.shareHolds(binlogConn);
    const silence = Math.max(this.opts.silenceSeconds ?? 0, heartbeat * 5) * 1000;
    this.lastData = Date.now();
    this.watchdog = setInterval(() => {
      if (!this.stopped && Date.now() - this.lastData > silence) {
        this.lastData = Date.now();
        this.emit('error', new Error(`no binlog data nor heartbeat for ${Math.round(silence / 1000)} s: connection presumed dead`));
      }
    }, Math.min(silence, 1000));
  }

  /**
   * A backlog arrives faster than it is parsed: the socket then always has
   * data, and one turn of the event loop would parse megabytes of it while
   * the agent's PostgreSQL work (batch writes finishing, decoder calls
   * returning) waits behind, stalling the replay by a tenth of a second at
   * a time. After a few milliseconds of events, the binlog is held until
   * the next turn (mysql2 keeps the packets already read).
   */
  private yieldWhenDue(): void {
    if (!this.inTurn) {
      this.inTurn = true;
      this.turnStart = performance.now();
      this.turnEvents = 0;
      setImmediate(() => (this.inTurn = false));
    }
    if (++this.turnEvents % 64 !== 0 || this.yielding || performance.now() - this.turnStart < TURN_MS) return;
    this.yielding = true;
    this.hold('turn');
    setImmediate(() => {
      this.yielding = false;
      this.release('turn');
    });
  }

  /** Stops reading from the socket; MySQL buffers on its side until resume(). */
  pause(): void {
    this.hold('queue');
  }

  resume(): void {
    this.release('queue');
  }

  /** zongji pauses and resumes the binlog connection itself around its metadata queries: count those as holds too. */
  private shareHolds(conn: PausableConnection): void {
    const pause = conn.pause.bind(conn);
    const resume = conn.resume.bind(conn);
    this.connPause = pause;
    this.connResume = resume;
    conn.pause = () => this.hold('zongji');
    conn.resume = () => this.release('zongji');
  }

  private hold(reason: unknown): void {
    this.holds.add(reason);
    this.connPause?.();
  }

  private release(reason: unknown): void {
    this.holds.delete(reason);
    if (this.holds.size === 0 && !this.stopped) this.connResume?.();
  }

  /**
   * Attaches the table's rows decoder to its TableMap entry. Runs before
   * zongji parses the table's row events; when the metadata must be read
   * first, the binlog is held meanwhile (mysql2 queues the packets already
   * received).
   */
  private attachDecoder(entry: ZongjiTableMapEntry | undefined): void {
    const rows = this.opts.rows;
    if (!rows || !entry || !this.zongji) return;
    const zongji = this.zongji;
    const decoder = rows.decoderFor(entry, zongji);
    if (decoder !== 'load') {
      entry[ROWS_DECODER] = decoder;
      return;
    }
    const token = {};
    this.hold(token);
    rows.load(entry.parentSchema, entry.tableName).then(
      () => {
        const again = rows.decoderFor(entry, zongji);
        entry[ROWS_DECODER] = again === 'load' ? null : again;
        this.release(token);
      },
      (err: unknown) => {
        if (!this.stopped) this.emit('error', err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watchdog) clearInterval(this.watchdog);
    const z = this.zongji;
    this.zongji = null;
    if (!z) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      z.once('stopped', () => {
        clearTimeout(timer);
        resolve();
      });
      try {
        z.stop();
      } catch {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private onEvent(evt: ZongjiEvent): void {
    if (this.stopped) return;
    const name = evt.getEventName();
    switch (name) {
      case 'rotate':
        this.file = String(evt.binlogName);
        return;
      case 'mariadbgtid':
      case 'gtid':
        this.gtid = typeof evt.gtid === 'string' ? evt.gtid : null;
        this.beginTransaction();
        return;
      case 'heartbeat':
        if (!this.inTransaction) this.emit('heartbeat', { file: this.currentFile(), pos: Number(evt.nextPosition ?? 0), gtid: this.gtid });
        return;
      case 'tablemap': {
        const entry = (this.zongji as unknown as { tableMap: Record<number, ZongjiTableMapEntry | undefined> }).tableMap[evt.tableId as number];
        // text and geometry columns arrive as raw bytes; the type map decodes them with the column's charset
        keepRawBytes(entry as never);
        this.attachDecoder(entry);
        return;
      }
      case 'writerows':
      case 'updaterows':
      case 'deleterows':
        this.addRows(name, evt);
        return;
      case 'xid':
        this.commit(evt);
        return;
      case 'query': {
        const query = String(evt.query ?? '').trim();
        if (/^BEGIN$/i.test(query) || /^XA START/i.test(query)) {
          this.beginTransaction();
        } else if (this.inTransaction && IN_TRANSACTION_STATEMENT.test(query)) {
          this.savepoint(query);
          return;
        } else if (/^COMMIT$/i.test(query) || /^XA COMMIT/i.test(query) || (this.inTransaction && /^XA PREPARE/i.test(query))) {
          // an XA transaction's rows are logged at its PREPARE: applied then, as MySQL's own replicas do
          this.commit(evt);
        } else if (/^ROLLBACK$/i.test(query)) {
          // non-transactional changes rolled back are still in the binlog as their own events
          this.commit(evt);
        } else {
          // DDL and other statements are transactions of their own
          this.opts.rows?.invalidate();
          this.current = [];
          this.currentBytes = 0;
          this.inTransaction = false;
          this.emitTransaction({ schema: String(evt.schema ?? ''), statement: query }, evt);
        }
        return;
      }
      default:
        return;
    }
  }

  /**
   * Savepoints live inside the transaction. Usually the binlog holds only
   * the rows that stayed and no ROLLBACK TO at all; but when the
   * transaction also changed a non-transactional table (MyISAM), MariaDB
   * logs every row and then the ROLLBACK TO: the rows of transactional
   * tables since the savepoint are then undone here, those of the others
   * stay, as they stayed in MySQL.
   */
  private savepoint(query: string): void {
    let m = SAVEPOINT.exec(query);
    if (m) {
      this.savepoints.set(savepointName(m[1]), this.current.length);
      return;
    }
    m = ROLLBACK_TO.exec(query);
    if (m) {
      const at = this.savepoints.get(savepointName(m[1]));
      if (at === undefined) return;
      const rows = this.opts.rows;
      const kept = this.current.slice(at).filter((c) => rows !== undefined && !rows.transactional(c.schema, c.table));
      this.current = this.current.slice(0, at).concat(kept);
      // savepoints set after this one are gone; this one stays, now at the end of what is kept
      for (const [name, pos] of this.savepoints) if (pos > at) this.savepoints.delete(name);
      return;
    }
    m = RELEASE.exec(query);
    if (m) this.savepoints.delete(savepointName(m[1]));
  }

  private beginTransaction(): void {
    this.savepoints.clear();
    this.current = [];
    this.currentBytes = 0;
    this.inTransaction = true;
  }

  private addRows(name: string, evt: ZongjiEvent): void {
    const tableMap = evt.tableMap as Record<number, { parentSchema: string; tableName: string }>;
    const meta = tableMap[evt.tableId as number];
    if (!meta) return;
    const rows = evt.rows as Record<string, unknown>[];
    const kind: RowKind = name === 'writerows' ? 'insert' : name === 'updaterows' ? 'update' : 'delete';
    if (rows.length === 1 && rows[0] instanceof DecodedRows) {
      for (const image of (rows[0] as DecodedRows<ImageResult>).rows) {
        this.current.push({ schema: meta.parentSchema, table: meta.tableName, kind, before: null, after: null, image });
      }
      this.currentBytes += evt.size ?? 0;
      if (!this.inTransaction) this.commit(evt);
      return;
    }
    for (const row of rows) {
      if (kind === 'update') {
        const r = row as { before: Record<string, unknown>; after: Record<string, unknown> };
        this.current.push({ schema: meta.parentSchema, table: meta.tableName, kind, before: r.before, after: r.after });
      } else if (kind === 'insert') {
        this.current.push({ schema: meta.parentSchema, table: meta.tableName, kind, before: null, after: row });
      } else {
        this.current.push({ schema: meta.parentSchema, table: meta.tableName, kind, before: row, after: null });
      }
    }
    this.currentBytes += evt.size ?? 0;
    if (!this.inTransaction) {
      // row events outside BEGIN/COMMIT (should not happen with ROW format): commit them alone
      this.commit(evt);
    }
  }

  private commit(evt: ZongjiEvent): void {
    this.emitTransaction(null, evt);
    this.current = [];
    this.currentBytes = 0;
    this.inTransaction = false;
  }

  private currentFile(): string {
    return this.file || String((this.zongji as unknown as { options?: { filename?: string } })?.options?.filename ?? '');
  }

  private emitTransaction(ddl: BinlogTransaction['ddl'], evt: ZongjiEvent): void {
    // when started from a GTID position, zongji keeps the executed set, already
    // extended by this transaction: the exact position to resume from
    const executed = (this.zongji as unknown as { gtidSet?: string }).gtidSet;
    const tx: BinlogTransaction = {
      changes: this.current,
      ddl,
      end: { file: this.currentFile(), pos: evt.nextPosition, gtid: 'gtid' in this.opts.start && executed ? executed : this.gtid },
      timestamp: new Date(evt.timestamp),
      bytes: this.currentBytes + (evt.size ?? 0),
    };
    this.emit('transaction', tx);
  }
}
