import type pg from 'pg';
import type mysql from 'mysql2/promise';
import type { Logger } from '../log.js';
import { BinlogStream, type BinlogPosition, type BinlogTransaction } from '../binlog/stream.js';
import { ReplayPace } from './replay-pace.js';
import { LogEventsEncoder, reserveBatchIds, touchReader, writeBatch, type BatchToWrite } from '../catalog/batches.js';
import type { Source } from '../catalog/sources.js';
import { listSelects } from '../snapshot/plan.js';
import { RowImager } from './row-images.js';
import { Fifo } from './fifo.js';
import { translateDdl, untranslated, type DdlContext, type TableDdlEvent } from '../ddl/translate-ddl.js';

export interface ReaderOptions {
  pool: pg.Pool;
  agentId: string;
  source: Source;
  conn: mysql.Connection;
  postgis: boolean;
  flavor: 'mysql' | 'mariadb';
  log: Logger;
  /** Called after each committed batch, to wake the replayer. */
  onBatch(): void;
  /** Called when the stream fails; the supervisor decides what follows. */
  onError(err: Error): void;
  /** Bytes of decoded transactions held in memory before the binlog socket is paused. */
  maxQueueBytes?: number;
  /**
   * A replayer applies this reader's batches now and reports them with
   * replayed(): the writer may then let a batch grow while the one before
   * waits for the replay. Not while the replay is held or absent.
   */
  replayRunning?(): boolean;
}

/** A batch being filled with whole transactions, its log rows encoded as they arrive. */
interface OpenBatch {
  id: string;
  log: LogEventsEncoder;
  transactions: number;
  bytes: number;
  /** Row events and DDL events: a batch of neither only moves the position. */
  events: number;
  firstEventAt: Date | null;
  lastEventAt: Date | null;
  end: BinlogPosition | null;
  discarded: BatchToWrite['discarded'];
  /** When its first transaction arrived, and how long after the one before. */
  openedAt: number;
  gapBefore: number;
}

const IDS_AHEAD = 64;

/**
 * Binlog → batches. Each transaction is turned into log rows (COPY text)
 * the moment it arrives, into the open batch; the queue holds encoded
 * batches, bounded in bytes (the binlog socket is paused when it is full),
 * while the previous batch is written. The open batch is closed when the
 * writer takes it or when it reaches replica_batch_size events, never
 * inside a transaction; so batches grow under load and stay small when the
 * source is quiet. Holding bytes rather than decoded transactions keeps a
 * backlog of tens of thousands of transactions out of the garbage
 * collector's way.
 */
export class SourceReader {
  private stream: BinlogStream | null = null;
  private readonly queue = new Fifo<OpenBatch>();
  private open: OpenBatch | null = null;
  /** Transactions that arrived while no batch id was at hand (the stream is held meanwhile). */
  private waiting: BinlogTransaction[] = [];
  private queuedBytes = 0;
  private paused = false;
  /** Batches this reader wrote that the replayer has not applied yet, and the pace of both. */
  private readonly pace = new ReplayPace();
  private running = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private readonly imager: RowImager;
  private readonly maxQueueBytes: number;
  private lastWrite = Date.now();
  private lastTouch = 0;
  private txSeq = 0;
  private lastArrival = 0;
  /** Batch ids reserved ahead, smallest first (see reserveBatchIds). */
  private batchIds: string[] = [];
  private reserving: Promise<void> | null = null;

  constructor(private readonly opts: ReaderOptions) {
    this.maxQueueBytes = opts.maxQueueBytes ?? 64 * 1024 * 1024;
    const o = opts.source.options;
    this.imager = new RowImager(
      opts.conn,
      (table) => ({ table, postgis: opts.postgis, flavor: opts.flavor, typeOverride: o.type_override ?? {} }),
      (schema, table) => this.selected(schema, table),
    );
  }

  /** Starts reading at the source's committed read position; resolves once the stream is positioned. */
  async start(): Promise<void> {
    const s = this.opts.source;
    if (!s.readFile || s.readPos === null) throw new Error(`source ${s.name} has no read position: run init_replica first`);
    this.running = true;
    await this.reserveIds();
    const stream = new BinlogStream({
      url: s.mysqlUrl,
      // two readers presenting one server id to MySQL disconnect each other
      serverId: s.options.my_server_id ?? 1000 + Number(s.id),
      // by GTID the position survives a failover to another server of the topology
      start: s.options.gtid_enable && s.readGtid ? { gtid: s.readGtid } : { file: s.readFile, pos: Number(s.readPos) },
      schemas: Object.keys(s.schemaMappings),
      heartbeatSeconds: Math.min(1, s.options.sleep_loop),
      silenceSeconds: s.options.net_read_timeout,
      rows: this.imager,
    });
    this.stream = stream;
    stream.on('transaction', (tx) => {
      try {
        this.enqueue(tx);
      } catch (err) {
        this.opts.onError(err as Error);
      }
    });
    stream.on('heartbeat', () => {
      // the server has nothing more to send: caught up, whatever the age of the last event
      if (this.queue.length === 0 && (this.open?.transactions ?? 0) === 0 && Date.now() - this.lastTouch > 500) {
        this.lastTouch = Date.now();
        void touchReader(this.opts.pool, s.id).catch(() => undefined);
      }
    });
    stream.on('error', (err) => this.opts.onError(err));
    const ready = new Promise<void>((resolve, reject) => {
      stream.once('ready', resolve);
      stream.once('error', reject);
    });
    stream.start();
    await ready;
    this.loop = this.writeLoop().catch((err: unknown) => {
      if (this.running) this.opts.onError(err as Error);
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.stream?.stop();
    this.stream = null;
    this.wake?.();
    await this.loop?.catch(() => undefined);
  }

  /** Keeps IDS_AHEAD batch ids at hand; reserving is a query, so it runs ahead of need. */
  private reserveIds(): Promise<void> {
    if (!this.reserving) {
      this.reserving = reserveBatchIds(this.opts.pool, IDS_AHEAD)
        .then((ids) => {
          this.batchIds.push(...ids);
        })
        .finally(() => {
          this.reserving = null;
        });
    }
    return this.reserving;
  }

  private openBatch(now: number): OpenBatch | null {
    if (this.batchIds.length < IDS_AHEAD / 2) {
      this.reserveIds().catch((err: unknown) => {
        if (this.running) this.opts.onError(err as Error);
      });
    }
    const id = this.batchIds.shift();
    if (id === undefined) return null;
    return {
      id,
      log: new LogEventsEncoder(id),
      transactions: 0,
      bytes: 0,
      events: 0,
      firstEventAt: null,
      lastEventAt: null,
      end: null,
      discarded: [],
      openedAt: now,
      gapBefore: now - this.lastArrival,
    };
  }

  private closeOpen(): void {
    if (!this.open || this.open.transactions === 0) return;
    this.queue.push(this.open);
    this.open = null;
  }

  private enqueue(tx: BinlogTransaction): void {
    if (this.waiting.length > 0 || !this.add(tx)) {
      // no batch id at hand: hold the binlog until the reservation lands
      this.waiting.push(tx);
      if (this.waiting.length === 1) {
        this.stream?.pause();
        void this.reserveIds().then(
          () => {
            const waiting = this.waiting;
            this.waiting = [];
            for (const t of waiting) {
              if (!this.add(t)) throw new Error('batch ids ran out while reserving them');
            }
            if (!this.paused) this.stream?.resume();
          },
          (err: unknown) => {
            if (this.running) this.opts.onError(err as Error);
          },
        );
      }
    }
  }

  /** Adds a transaction to the open batch (opening one); false when no batch id is at hand. */
  private add(tx: BinlogTransaction): boolean {
    const now = Date.now();
    const batchSize = this.opts.source.options.replica_batch_size;
    const changes = this.keep(tx);
    if (this.open && this.open.events > 0 && this.open.events + changes.length > batchSize) this.closeOpen();
    if (!this.open) {
      this.open = this.openBatch(now);
      if (!this.open) return false;
    }
    this.lastArrival = now;
    const b = this.open;
    const log = b.log;
    const txSeq = ++this.txSeq;
    const file = tx.end.file;
    const pos = tx.end.pos;
    if (tx.ddl) {
      // translated here, applied by the decoder in the statement's place in the stream
      for (const t of this.translate(tx.ddl.statement, tx.ddl.schema, tx.timestamp)) {
        b.firstEventAt ??= tx.timestamp;
        log.add(t.schema, t.table, 'ddl', null, null, file, pos, txSeq, tx.ddl.statement, JSON.stringify(t.plan));
        b.events++;
      }
    }
    for (let j = 0; j < changes.length; j++) {
      const change = changes[j];
      const img = this.imager.image(change);
      if (!img.ok) {
        b.discarded.push({ schema: change.schema, table: change.table, image: img.image, reason: img.reason });
        continue;
      }
      b.firstEventAt ??= tx.timestamp;
      log.add(change.schema, change.table, change.kind, img.after, img.before, file, pos, txSeq, null);
      b.events++;
    }
    b.transactions++;
    b.bytes += tx.bytes;
    b.end = tx.end;
    b.lastEventAt = tx.timestamp;
    this.queuedBytes += tx.bytes;
    if (b.events >= batchSize) this.closeOpen();
    if (!this.paused && this.queuedBytes > this.maxQueueBytes) {
      this.paused = true;
      this.stream?.pause();
    }
    this.wake?.();
    return true;
  }

  /** The replayer applied batches (the oldest first; ones this reader did not write are not counted). */
  replayed(batches: number): void {
    this.pace.replayed(batches);
    this.wake?.();
  }

  /** The tables a DDL statement changes in the replica, with their translation. */
  private translate(statement: string, schema: string, at: Date): TableDdlEvent[] {
    const s = this.opts.source;
    const ctx: DdlContext = {
      pgSchemaOf: (db) => (Object.hasOwn(s.schemaMappings, db) ? s.schemaMappings[db] : null),
      selected: (db, table) => this.selected(db, table),
      postgis: this.opts.postgis,
      typeOverride: s.options.type_override ?? {},
      statementTime: at,
    };
    try {
      return translateDdl(statement, schema, ctx);
    } catch (err) {
      // a translator bug must not stop the replica: the tables the statement names are quarantined
      this.opts.log.error({ err, statement }, 'DDL translation failed');
      return untranslated(statement, schema, ctx, `the translation failed: ${(err as Error).message}`);
    }
  }

  /** The table is one this source replicates (its schema mapped, limit_tables and skip_tables). */
  private selected(schema: string, table: string): boolean {
    const o = this.opts.source.options;
    if (!Object.hasOwn(this.opts.source.schemaMappings, schema)) return false;
    if (o.limit_tables.length > 0 && !listSelects(o.limit_tables, schema, table)) return false;
    return !listSelects(o.skip_tables, schema, table);
  }

  /** Per table, whether each kind of row change is kept (selected, not in skip_events); built once per table. */
  private readonly keepRules = new Map<string, Map<string, Record<string, boolean>>>();

  private keepRule(schema: string, table: string): Record<string, boolean> {
    let tables = this.keepRules.get(schema);
    if (tables === undefined) this.keepRules.set(schema, (tables = new Map()));
    let rule = tables.get(table);
    if (rule === undefined) {
      const skip = this.opts.source.options.skip_events ?? {};
      const selected = this.selected(schema, table);
      const kept = (kind: 'insert' | 'update' | 'delete'): boolean =>
        selected && !(skip[kind] ?? []).some((e) => e === schema || e === `${schema}.${table}`);
      rule = { insert: kept('insert'), update: kept('update'), delete: kept('delete') };
      tables.set(table, rule);
    }
    return rule;
  }

  private keep(tx: BinlogTransaction): BinlogTransaction['changes'] {
    const changes = tx.changes;
    let i = 0;
    // most transactions keep every change: no copy then
    while (i < changes.length && this.keepRule(changes[i].schema, changes[i].table)[changes[i].kind]) i++;
    if (i === changes.length) return changes;
    return changes.filter((c) => this.keepRule(c.schema, c.table)[c.kind]);
  }

  /**
   * Writes the closed batches, and the open one when it is worth writing.
   * Two writes run at once (PostgreSQL parses one batch's log rows while it
   * indexes the other's), and commit in binlog order: each waits for the
   * one before it to commit first.
   */
  private async writeLoop(): Promise<void> {
    const o = this.opts.source.options;
    const sleepMs = Math.max(10, o.sleep_loop * 1000);
    const flushMs = Math.min(sleepMs, 50);
    const inFlight: { write: Promise<void>; done: boolean }[] = [];
    try {
      while (this.running) {
        // writes done: off the list (a failed one throws here)
        while (inFlight.length > 0 && inFlight[0].done) await inFlight.shift()!.write;
        if (this.queue.length === 0) {
          const open = this.open;
          if (!open || open.transactions === 0) {
            await this.nextWake(Math.min(sleepMs, 1000));
            continue;
          }
          // A batch costs the decoder a fixed few milliseconds: under a steady
          // trickle, wait a moment (flushMs at most) for more transactions
          // rather than write one batch per transaction. A full queue or the
          // wait running out writes at once; so does the first transaction
          // after a quiet spell, which has nothing to wait for.
          const waited = Date.now() - open.openedAt;
          // a trickle: the transaction came soon after the one before it (not
          // soon after the last write, which the wait itself would keep recent)
          const trickle = open.gapBefore < flushMs;
          if (trickle && waited < flushMs && !this.paused) {
            await new Promise<void>((resolve) => setTimeout(resolve, flushMs - waited));
            continue;
          }
          if (open.events === 0 && open.discarded.length === 0 && Date.now() - this.lastWrite < sleepMs) {
            // only position moves (other databases' transactions): record them at most once per sleep_loop
            await new Promise((r) => setTimeout(r, Math.min(sleepMs, 200)));
            continue;
          }
          // A written batch waits for the replay: this one would only wait behind it,
          // so let it grow meanwhile, until its write would end as the replay gets
          // to it (ReplayPace). Catching up a backlog, batches then grow with the
          // replay's pace instead of the writer's; a replay that keeps up still
          // gets each batch as soon as it is free for it.
          if (this.pace.unapplied >= 1 && !this.paused && open.events < o.replica_batch_size && this.opts.replayRunning?.()) {
            const grow = this.pace.growFor(open.events);
            if (grow > 0) {
              await this.nextWake(Math.min(grow, sleepMs, 1000));
              continue;
            }
          }
          // a write in flight will take this batch's successors with it: let the batch grow meanwhile
          if (inFlight.length > 0 && !this.paused) {
            await this.nextWake(Infinity, inFlight[inFlight.length - 1].write);
            continue;
          }
          this.closeOpen();
        }
        if (inFlight.length >= 2) {
          await inFlight.shift()!.write;
          continue;
        }
        const next = this.queue.shift()!;
        this.queuedBytes -= next.bytes;
        const previous = inFlight[inFlight.length - 1]?.write;
        const write = this.write(
          {
            id: next.id,
            payload: next.log.finish(),
            tables: next.log.tables(),
            events: next.events,
            end: next.end!,
            transactions: next.transactions,
            bytes: next.bytes,
            firstEventAt: next.firstEventAt,
            lastEventAt: next.lastEventAt,
            discarded: next.discarded,
          },
          previous,
        );
        const entry = { write, done: false };
        // a failed write surfaces at the loop's next await of it
        write.then(
          () => (entry.done = true),
          () => (entry.done = true),
        );
        inFlight.push(entry);
      }
    } finally {
      await Promise.allSettled(inFlight.map((f) => f.write));
    }
  }

  /**
   * Until something changes for the writer (a transaction added, a batch
   * applied, the reader stopping: wake()), `ms` milliseconds pass, or
   * `until` settles.
   */
  private async nextWake(ms: number, until?: Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const woken = new Promise<void>((resolve) => {
      this.wake = resolve;
      if (Number.isFinite(ms)) timer = setTimeout(resolve, ms);
    });
    try {
      await (until ? Promise.race([woken, until.then(() => undefined, () => undefined)]) : woken);
    } finally {
      clearTimeout(timer);
      this.wake = null;
    }
  }

  private async write(batch: BatchToWrite, previous: Promise<void> | undefined): Promise<void> {
    const began = Date.now();
    await writeBatch(this.opts.pool, this.opts.agentId, this.opts.source.id, batch, previous);
    this.pace.wrote(batch.events, Date.now() - began);
    this.lastWrite = Date.now();
    this.lastTouch = this.lastWrite;
    if (this.paused && this.queuedBytes < this.maxQueueBytes / 2) {
      this.paused = false;
      if (this.waiting.length === 0) this.stream?.resume();
    }
    this.opts.onBatch();
    this.opts.log.debug({ batch: batch.id, events: batch.events, transactions: batch.transactions, position: `${batch.end.file}:${batch.end.pos}` }, 'batch written');
  }
}
