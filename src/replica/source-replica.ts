import type { Logger } from '../log.js';
import type { Catalog } from '../catalog/db.js';
import { loadSource, readLagSeconds, setSourceWarning, type Source } from '../catalog/sources.js';
import { binlogFiles, binlogRetentionSeconds } from '../mysql/retention.js';
import { hasExtension } from '../catalog/target.js';
import { pruneBatches } from '../catalog/batches.js';
import { maintenanceDue, runMaintenance } from '../catalog/maintenance.js';
import { connectMysql, serverInfo } from '../mysql/connection.js';
import { checkReplicationSettings, describeProblems } from '../mysql/preflight.js';
import { ChameleonError, ErrorCodes, errorMessage } from '../errors.js';
import { SourceReader } from './reader.js';
import { SourceReplayer } from './replayer.js';
import { Backoff } from './backoff.js';
import type mysql from 'mysql2/promise';

export interface SourceReplicaOptions {
  cat: Catalog;
  agentId: string;
  sourceId: string;
  log: Logger;
  /** The replica cannot go on: the source must be put in error (or, for a lost lease, just dropped here). */
  onFatal(err: unknown): void;
}

/**
 * A reader that has run this long without failing had a working connection:
 * its next failure is a new outage, whose backoff starts short again. An
 * idle source writes no batch to prove it, so time has to.
 */
const READER_PROVEN_MS = 15_000;

/**
 * Supervises one source's continuous replica: a reader (binlog → batches)
 * and a replayer (batches → target tables). After a read error the reader
 * restarts by itself from the last committed position when on_error_read is
 * continue; with exit the source stops in error.
 */
export class SourceReplica {
  private reader: SourceReader | null = null;
  private replayer: SourceReplayer | null = null;
  private conn: mysql.Connection | null = null;
  private source: Source | null = null;
  private stopping = false;
  private restarting = false;
  /** Until start() is through, a read error fails the start rather than the running replica. */
  private started = false;
  private earlyReadError: Error | null = null;
  private readonly backoff = new Backoff();
  private readerStartedAt = 0;
  /** Cuts a reconnect delay short when the replica stops. */
  private wakeReconnect: (() => void) | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private flavor: 'mysql' | 'mariadb' = 'mariadb';

  constructor(private readonly opts: SourceReplicaOptions) {}

  get name(): string {
    return this.source?.name ?? this.opts.sourceId;
  }

  /** Resolves once the reader is positioned on the binlog and the replayer runs. */
  async start(): Promise<void> {
    try {
      await this.startParts();
    } catch (err) {
      // a replayer or a reader left running by a failed start would go on
      // writing for a replica the agent no longer supervises
      await this.stop();
      throw err;
    }
    this.started = true;
    // the reader can fail between being positioned and start() returning
    if (this.earlyReadError) void this.readError(this.earlyReadError);
  }

  private async startParts(): Promise<void> {
    const source = await loadSource(this.opts.cat, this.opts.sourceId);
    if (!source) throw new ChameleonError(ErrorCodes.CONFIG, `source ${this.opts.sourceId} does not exist`);
    this.source = source;
    const conn = await connectMysql(source.mysqlUrl);
    this.conn = conn;
    this.flavor = (await serverInfo(conn)).isMariaDB ? 'mariadb' : 'mysql';
    const problems = await checkReplicationSettings(conn);
    if (problems.length > 0) {
      throw new ChameleonError(ErrorCodes.SOURCE_SETUP, `the MySQL server is not ready for replication: ${describeProblems(problems)}`, { source: source.name });
    }
    this.replayer = new SourceReplayer({
      pool: this.opts.cat.pool,
      sourceId: source.id,
      agentId: this.opts.agentId,
      sleepLoopSeconds: source.options.sleep_loop,
      log: this.opts.log.child({ role: 'replayer' }),
      onError: (err) => this.fail(err),
      onReplayed: (batches) => this.reader?.replayed(batches),
    });
    this.replayer.start();
    // before reading: the lag is then the time the source was not followed
    await this.checkRetention().catch((err) => this.opts.log.warn({ err }, 'binlog retention check failed'));
    await this.startReader();
    const housekeep = (): void => {
      void this.housekeep(source).catch((err: unknown) => this.opts.log.warn({ err }, 'pruning or maintenance of the log failed'));
    };
    this.pruneTimer = setInterval(() => {
      housekeep();
      void this.checkRetention().catch(() => undefined);
    }, 60_000);
    housekeep();
  }

  private async startReader(): Promise<void> {
    const source = (await loadSource(this.opts.cat, this.opts.sourceId))!;
    if (!source) throw new ChameleonError(ErrorCodes.LEASE_LOST, 'source dropped');
    await this.requireResumeFile(source);
    const postgis = await hasExtension(this.opts.cat.pool, 'postgis');
    // where it starts; each batch's log line carries the position it ends at
    const log = this.opts.log.child({ role: 'reader', start: `${source.readFile}:${source.readPos}` });
    const reader = new SourceReader({
      pool: this.opts.cat.pool,
      agentId: this.opts.agentId,
      source,
      conn: this.conn!,
      postgis,
      flavor: this.flavor,
      log,
      onBatch: () => {
        // a committed batch: the connection reads, the outage (if any) is over
        this.backoff.reset();
        this.replayer?.wake();
      },
      onError: (err) => void this.readError(err),
      replayRunning: () => this.replayer?.applying ?? false,
    });
    this.reader = reader;
    await reader.start();
    if (this.stopping) {
      // stop() ran while the stream was being positioned and could not reach it
      await reader.stop().catch(() => undefined);
      return;
    }
    this.readerStartedAt = Date.now();
    log.info('reading the binlog');
  }

  /**
   * The server answers a dump request for a purged file only after the stream
   * is up, so the file is looked for first: a purged position then fails the
   * start itself, with the way out.
   */
  private async requireResumeFile(source: Source): Promise<void> {
    if (source.options.gtid_enable && source.readGtid) return;
    if (!source.readFile) return;
    const files = await binlogFiles(this.conn!);
    if (!files.includes(source.readFile)) {
      throw purgedError(source.name, `${source.readFile} is not among the server's binlogs (oldest: ${files[0] ?? 'none'})`);
    }
  }

  private async readError(err: Error): Promise<void> {
    if (this.stopping || this.restarting) return;
    if (!this.started) {
      this.earlyReadError ??= err;
      return;
    }
    const source = this.source!;
    if (err instanceof ChameleonError && err.code === ErrorCodes.LEASE_LOST) return this.fail(err);
    if (isPurged(err)) {
      return this.fail(purgedError(source.name, errorMessage(err)));
    }
    if (source.options.on_error_read === 'exit') {
      // the reader's other errors from here on are this same failure
      this.restarting = true;
      // its writes in flight settle first, so that the position reported is the one kept
      await this.reader?.stop().catch(() => undefined);
      const stopped = await this.readStopped(source, err);
      this.restarting = false;
      return this.fail(stopped);
    }
    this.restarting = true;
    if (Date.now() - this.readerStartedAt >= READER_PROVEN_MS) this.backoff.reset();
    try {
      await this.reader?.stop();
      this.reader = null;
      let cause: unknown = err;
      while (!this.stopping) {
        const delay = this.backoff.next();
        this.opts.log.warn({ err: cause, delay, attempt: this.backoff.attempt },
          this.backoff.attempt === 1 ? 'binlog read failed; resuming from the last committed batch' : 'reconnect to MySQL failed');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wakeReconnect = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeReconnect = null;
        if (this.stopping) return;
        try {
          await this.conn?.end().catch(() => undefined);
          this.conn = await connectMysql(source.mysqlUrl);
          if (this.stopping) return;
          await this.startReader();
          return;
        } catch (e) {
          if (e instanceof ChameleonError && (e.code === ErrorCodes.POSITION_PURGED || e.code === ErrorCodes.LEASE_LOST)) return this.fail(e);
          if (isPurged(e)) return this.fail(purgedError(source.name, errorMessage(e)));
          cause = e;
          await (this.reader as SourceReader | null)?.stop().catch(() => undefined);
          this.reader = null;
        }
      }
    } finally {
      this.restarting = false;
    }
  }

  /**
   * on_error_read = exit: the error the source stops with, saying where it
   * stopped; the batches before the failure are committed and are kept.
   */
  private async readStopped(source: Source, err: unknown): Promise<ChameleonError> {
    const at = await loadSource(this.opts.cat, this.opts.sourceId).catch(() => null);
    const position = at?.readFile ? `${at.readFile}:${at.readPos}${at.readGtid ? ` (${at.readGtid})` : ''}` : 'unknown';
    return new ChameleonError(
      err instanceof ChameleonError ? err.code : ErrorCodes.NETWORK,
      `reading the binlog failed: ${errorMessage(err).replace(/\.$/, '')}; on_error_read is exit, so the replica stopped ` +
        `(read position ${position}: enable_replica then start_replica resume from there)`,
      { source: source.name, position },
      { cause: err },
    );
  }

  /**
   * Warns before the source purges binlogs the replica still needs: when the
   * replica is more than half the server's binlog retention behind.
   */
  /** Prunes the applied batches past batch_retention; when auto_maintenance is due, vacuums the log too. */
  private async housekeep(source: Source): Promise<void> {
    const pool = this.opts.cat.pool;
    if (!(await maintenanceDue(pool, source.id))) {
      await pruneBatches(pool, source.id, source.options.batch_retention);
      return;
    }
    const result = await runMaintenance(pool, source, false);
    this.opts.log.info(result, 'auto_maintenance done');
  }

  private async checkRetention(): Promise<void> {
    if (!this.conn || this.stopping) return;
    const retention = await binlogRetentionSeconds(this.conn);
    const lag = await readLagSeconds(this.opts.cat, this.opts.sourceId);
    const warning =
      retention !== null && lag !== null && lag > retention / 2
        ? `the replica is ${Math.round(lag)} s behind and the MySQL server keeps binlogs for ${retention} s: ` +
          'the position it needs may be purged; speed the replica up or raise binlog_expire_logs_seconds'
        : null;
    if (warning) this.opts.log.warn({ lag, retention }, warning);
    await setSourceWarning(this.opts.cat, this.opts.sourceId, warning);
  }

  private fail(err: unknown): void {
    if (this.stopping) return;
    void this.stop().finally(() => this.opts.onFatal(err));
  }

  /** See SourceReplayer.hold: the reader goes on, the replay waits until released. */
  async holdReplay(): Promise<() => void> {
    return this.replayer ? this.replayer.hold() : () => undefined;
  }

  /** Stops after the batch and replay in flight; nothing half-written is left. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.wakeReconnect?.();
    await this.reader?.stop().catch(() => undefined);
    await this.replayer?.stop().catch(() => undefined);
    await this.conn?.end().catch(() => undefined);
    this.reader = null;
    this.replayer = null;
    this.conn = null;
  }
}

function purgedError(source: string, detail: string): ChameleonError {
  return new ChameleonError(ErrorCodes.POSITION_PURGED,
    `the binlog position the replica needs is no longer on the MySQL server (${detail}); run init_replica again`, { source });
}

function isPurged(err: unknown): boolean {
  const e = err as { errno?: number; code?: string; message?: string };
  return e?.errno === 1236 || /could not find first log file|purged|Could not find GTID/i.test(e?.message ?? '');
}
