import type pg from 'pg';
import type mysql from 'mysql2/promise';
import type { Logger } from '../log.js';
import { BinlogStream, type BinlogTransaction } from '../binlog/stream.js';
import { LogEventsEncoder, reserveBatchIds, touchReader, writeBatch, type BatchToWrite } from '../catalog/batches.js';
import type { Source } from '../catalog/sources.js';
import { listSelects } from '../snapshot/plan.js';
import { RowImager } from './row-images.js';
import { Fifo } from './fifo.js';
import { tablesTouchedByDdl } from './ddl-tables.js';

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
}

/**
 * Binlog → batches. Transactions queue up in memory (bounded by bytes: the
 * binlog socket is paused when the queue is full) while the previous batch
 * is written; each write takes every whole transaction waiting, up to
 * replica_batch_size events, so batches grow under load and stay small when
 * the source is quiet.
 */
export class SourceReader {
  private stream: BinlogStream | null = null;
  private queue = new Fifo<BinlogTransaction>();
  private queuedBytes = 0;
  private paused = false;
  private running = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private readonly imager: RowImager;
  private readonly maxQueueBytes: number;
  private lastWrite = Date.now();
  private lastTouch = 0;
  private txSeq = 0;
  private queuedEvents = 0;
  private oldestQueuedAt = 0;
  private lastArrival = 0;
  private gapBeforeOldest = Number.POSITIVE_INFINITY;
  /** Batch ids reserved ahead, smallest first (see reserveBatchIds). */
  private batchIds: string[] = [];

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
    stream.on('transaction', (tx) => this.enqueue(tx));
    stream.on('heartbeat', () => {
      // the server has nothing more to send: caught up, whatever the age of the last event
      if (this.queue.length === 0 && Date.now() - this.lastTouch > 500) {
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

  private enqueue(tx: BinlogTransaction): void {
    const now = Date.now();
    if (this.queue.length === 0) {
      this.oldestQueuedAt = now;
      this.gapBeforeOldest = now - this.lastArrival;
    }
    this.lastArrival = now;
    this.queue.push(tx);
    this.queuedBytes += tx.bytes;
    this.queuedEvents += tx.changes.length;
    if (!this.paused && this.queuedBytes > this.maxQueueBytes) {
      this.paused = true;
      this.stream?.pause();
    }
    this.wake?.();
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
   * Takes whole transactions off the queue and writes them as batches. The
   * next batch is built while the previous one is being written; batches
   * still commit one after the other, in binlog order.
   */
  private async writeLoop(): Promise<void> {
    const o = this.opts.source.options;
    const sleepMs = Math.max(10, o.sleep_loop * 1000);
    const flushMs = Math.min(sleepMs, 50);
    let inFlight: Promise<void> | null = null;
    try {
      while (this.running) {
        if (this.queue.length === 0) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            setTimeout(resolve, Math.min(sleepMs, 1000));
          });
          this.wake = null;
          continue;
        }
        // A batch costs the decoder a fixed few milliseconds: under a steady
        // trickle, wait a moment (flushMs at most) for more transactions
        // rather than write one batch per transaction. A full batch, a full
        // queue or the wait running out writes at once; so does the first
        // transaction after a quiet spell, which has nothing to wait for.
        const waited = Date.now() - this.oldestQueuedAt;
        // a trickle: the transaction came soon after the one before it (not
        // soon after the last write, which the wait itself would keep recent)
        const trickle = this.gapBeforeOldest < flushMs;
        if (this.running && trickle && waited < flushMs && this.queuedEvents < o.replica_batch_size && !this.paused) {
          await new Promise<void>((resolve) => setTimeout(resolve, flushMs - waited));
          continue;
        }
        const take: BinlogTransaction[] = [];
        let events = 0;
        let hasRows = false;
        while (this.queue.length > 0 && (take.length === 0 || events + this.queue.peek()!.changes.length <= o.replica_batch_size)) {
          const tx = this.queue.shift()!;
          this.queuedBytes -= tx.bytes;
          this.queuedEvents -= tx.changes.length;
          take.push(tx);
          events += tx.changes.length;
          if (tx.changes.length > 0 || tx.ddl) hasRows = true;
        }
        if (!hasRows && this.running && Date.now() - this.lastWrite < sleepMs && this.queue.length === 0) {
          // only position moves (other databases' transactions): record them at most once per sleep_loop
          this.queue.unshift(take);
          for (const t of take) {
            this.queuedBytes += t.bytes;
            this.queuedEvents += t.changes.length;
          }
          await new Promise((r) => setTimeout(r, Math.min(sleepMs, 200)));
          continue;
        }
        if (this.queue.length > 0) this.oldestQueuedAt = Date.now();
        const batch = await this.toBatch(take);
        if (inFlight) await inFlight;
        inFlight = this.write(batch);
        // surface a failed write at once rather than at the next batch
        inFlight.catch(() => undefined);
      }
    } finally {
      if (inFlight) await inFlight;
    }
  }

  private async write(batch: BatchToWrite): Promise<void> {
    await writeBatch(this.opts.pool, this.opts.agentId, this.opts.source.id, batch);
    this.lastWrite = Date.now();
    this.lastTouch = this.lastWrite;
    if (this.paused && this.queuedBytes < this.maxQueueBytes / 2) {
      this.paused = false;
      this.stream?.resume();
    }
    this.opts.onBatch();
    this.opts.log.debug({ batch: batch.id, events: batch.events, transactions: batch.transactions, position: `${batch.end.file}:${batch.end.pos}` }, 'batch written');
  }

  private async nextBatchId(): Promise<string> {
    if (this.batchIds.length === 0) this.batchIds = await reserveBatchIds(this.opts.pool, 32);
    return this.batchIds.shift()!;
  }

  private async toBatch(txs: BinlogTransaction[]): Promise<BatchToWrite> {
    const discarded: BatchToWrite['discarded'] = [];
    let bytes = 0;
    let first: Date | null = null;
    const kept = txs.map((tx) => this.keep(tx));
    await this.imager.prepare(kept);
    const id = await this.nextBatchId();
    // encoded here, while the previous batch is being written, so that its COPY only streams bytes
    const log = new LogEventsEncoder(id);
    for (let i = 0; i < txs.length; i++) {
      const tx = txs[i];
      bytes += tx.bytes;
      const txSeq = ++this.txSeq;
      if (tx.ddl) {
        this.imager.invalidate();
        // until DDL is translated, a table the statement changes stops replicating at this
        // point of the stream (the decoder excludes it there), rather than take row
        // images its target no longer matches
        for (const t of tablesTouchedByDdl(tx.ddl.statement, tx.ddl.schema)) {
          if (!this.selected(t.schema, t.table)) continue;
          first ??= tx.timestamp;
          log.add(t.schema, t.table, 'ddl', null, null, tx.end.file, tx.end.pos, txSeq, tx.timestamp, tx.ddl.statement);
        }
      }
      const changes = kept[i];
      for (let j = 0; j < changes.length; j++) {
        const change = changes[j];
        const img = this.imager.image(change);
        if (!img.ok) {
          discarded.push({ schema: change.schema, table: change.table, image: img.image, reason: img.reason });
          continue;
        }
        first ??= tx.timestamp;
        log.add(change.schema, change.table, change.kind, img.after, img.before, tx.end.file, tx.end.pos, txSeq, tx.timestamp, null);
      }
    }
    const last = txs[txs.length - 1];
    return {
      id,
      payload: log.finish(),
      events: log.events,
      end: last.end,
      transactions: txs.length,
      bytes,
      firstEventAt: first,
      lastEventAt: last.timestamp,
      discarded,
    };
  }
}
