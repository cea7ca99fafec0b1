import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import { openCatalog, type Catalog } from '../catalog/db.js';
import { listenForCommands, type CommandListener } from '../catalog/listener.js';
import { claimCommand, finishCommand, requeueCommand, reportProgress, sweepOrphanedCommands, type ClaimedCommand } from '../catalog/commands.js';
import { acquireLease, heartbeat, markAgentStopped, registerAgent, releaseLease, sourcesToReplicate } from '../catalog/agents.js';
import { loadSource, setSourceEnabled, setSourceStatus, waitForPosition, type Source } from '../catalog/sources.js';
import { markTablesReplicating } from '../catalog/tables.js';
import { alertPoster, notifyAlert } from '../catalog/alerts.js';
import { runMaintenance } from '../catalog/maintenance.js';
import { replayNext } from '../catalog/batches.js';
import { showStatus } from '../catalog/control.js';
import type { Server } from 'node:http';
import { AlertWebhook } from './webhook.js';
import { serveMetrics } from './metrics.js';
import { statusMetrics } from './status-metrics.js';
import { repairTable, verifyTables, type VerifyProgress } from '../snapshot/verify.js';
import { detachSource } from '../snapshot/detach.js';
import { binlogStatus } from '../snapshot/snapshot-point.js';
import { connectMysql } from '../mysql/connection.js';
import { catalogVersion } from '../catalog/sql-bundle.js';
import { ChameleonError, ErrorCodes, errorMessage } from '../errors.js';
import { redactText } from '../log.js';
import { runSnapshot, withReplayHeld } from '../snapshot/init-replica.js';
import { SourceReplica } from '../replica/source-replica.js';

export interface AgentOptions {
  pgUrl: string;
  log: Logger;
  /** How long a lease (and a command claim) outlives a silent agent. */
  leaseSeconds?: number;
  /** Backstop scan of the queue, in case a notification was missed. */
  scanIntervalMs?: number;
  /** Every alert (chameleon_alerts) POSTed here as JSON, once whatever the number of agents. */
  webhookUrl?: string;
  /** Prometheus metrics on GET /metrics at this port (0: any free one). */
  metricsPort?: number;
}

/**
 * The agent: claims commands from the queue, runs them, and runs the
 * continuous replica of every source it owns.
 */
export class Agent {
  readonly id: string;
  private readonly cat: Catalog;
  private readonly log: Logger;
  private readonly leaseSeconds: number;
  private listener: CommandListener | null = null;
  private timers: NodeJS.Timeout[] = [];
  private scanning = false;
  private rescan = false;
  private stopping = false;
  /** Commands in flight, by command id. */
  private readonly running = new Map<string, { cmd: ClaimedCommand; promise: Promise<void> }>();
  /** Replicas running here, by source id. */
  private readonly replicas = new Map<string, SourceReplica>();
  /** Sources whose replica is starting, with the start in flight. */
  private readonly starting = new Map<string, Promise<void>>();
  /** Per source, the lease work in flight here (see leaseTurn). */
  private readonly leaseTurns = new Map<string, Promise<void>>();
  private webhook: AlertWebhook | null = null;
  private metrics: Server | null = null;

  constructor(private readonly opts: AgentOptions) {
    this.id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.cat = openCatalog(opts.pgUrl, { max: 20, applicationName: `chameleon agent ${this.id}` });
    this.log = opts.log.child({ agent: this.id });
    this.leaseSeconds = opts.leaseSeconds ?? 30;
  }

  async start(): Promise<void> {
    await registerAgent(this.cat, { id: this.id, hostname: hostname(), pid: process.pid, version: catalogVersion() });
    if (this.opts.webhookUrl) this.webhook = new AlertWebhook(this.opts.webhookUrl, this.log.child({ role: 'webhook' }));
    this.listener = await listenForCommands(this.opts.pgUrl, this.log, (reason) => this.requestScan(reason),
      this.webhook ? (alert) => void this.forwardAlert(alert) : undefined);
    if (this.opts.metricsPort !== undefined) {
      this.metrics = await serveMetrics(this.opts.metricsPort, async () => statusMetrics(this.id, catalogVersion(), await showStatus(this.cat)), this.log);
    }
    const beat = Math.max(1000, (this.leaseSeconds * 1000) / 3);
    this.timers.push(setInterval(() => void this.beat(), beat));
    this.timers.push(setInterval(() => this.requestScan('timer'), this.opts.scanIntervalMs ?? 2000));
    this.log.info({ version: catalogVersion() }, 'agent started');
    this.requestScan('start');
  }

  /** Stops cleanly: replicas finish their batch in flight, running commands go back to the queue. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    await this.listener?.close();
    await new Promise<void>((resolve) => (this.metrics ? this.metrics.close(() => resolve()) : resolve()));
    await this.webhook?.drain();
    await Promise.all([...this.replicas.values()].map((r) => r.stop()));
    this.replicas.clear();
    for (const { cmd } of this.running.values()) await requeueCommand(this.cat, cmd.command_id).catch(() => undefined);
    await markAgentStopped(this.cat, this.id).catch(() => undefined);
    await this.cat.close();
    this.log.info('agent stopped');
  }

  /** Where GET /metrics is served, once started with metricsPort. */
  get metricsPort(): number | null {
    const a = this.metrics?.address();
    return a && typeof a === 'object' ? a.port : null;
  }

  private async forwardAlert(alert: Record<string, unknown>): Promise<void> {
    try {
      const source = typeof alert.source === 'string' ? alert.source : null;
      if ((await alertPoster(this.cat, source, this.leaseSeconds)) === this.id) this.webhook?.post(alert);
    } catch (err) {
      this.log.warn({ err }, 'alert not forwarded to the webhook');
    }
  }

  private requestScan(reason: string): void {
    if (this.stopping) return;
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = true;
    void this.scan(reason).finally(() => {
      this.scanning = false;
      if (this.rescan) {
        this.rescan = false;
        this.requestScan('again');
      }
    });
  }

  private async scan(reason: string): Promise<void> {
    try {
      await sweepOrphanedCommands(this.cat, this.leaseSeconds, this.id);
      for (;;) {
        if (this.stopping) return;
        const cmd = await claimCommand(this.cat, this.id, this.leaseSeconds);
        if (!cmd) break;
        const log = this.log.child({ command_id: cmd.command_id, source: cmd.source_name, command: cmd.command });
        log.info({ reason }, 'command claimed');
        const promise = this.execute(cmd, log).finally(() => {
          this.running.delete(cmd.command_id);
          void this.releaseIfIdle(cmd.source_id);
          this.requestScan('command finished');
        });
        this.running.set(cmd.command_id, { cmd, promise });
      }
      await this.resumeReplicas();
    } catch (err) {
      this.log.error({ err }, 'queue scan failed');
    }
  }

  private async execute(cmd: ClaimedCommand, log: Logger): Promise<void> {
    try {
      const progress = await this.dispatch(cmd, log);
      await finishCommand(this.cat, cmd.command_id, { state: 'done', progress });
      log.info('command done');
    } catch (err) {
      if (this.stopping) return;
      if (err instanceof ChameleonError && err.code === ErrorCodes.CANCELLED) {
        await finishCommand(this.cat, cmd.command_id, { state: 'cancelled', error: 'cancelled' }).catch(() => undefined);
        log.info('command cancelled');
        return;
      }
      const message = redactText(errorMessage(err));
      log.error({ err }, 'command failed');
      await finishCommand(this.cat, cmd.command_id, { state: 'failed', error: message }).catch(() => undefined);
      if (cmd.source_id && ['init_replica', 'start_replica'].includes(cmd.command)) {
        await setSourceStatus(this.cat, cmd.source_id, 'error', { lastError: message, replicaEnabled: false }).catch(() => undefined);
        await notifyAlert(this.cat, { source: cmd.source_name, command: cmd.command, error: message }).catch(() => undefined);
      }
    }
  }

  private async dispatch(cmd: ClaimedCommand, log: Logger): Promise<unknown> {
    const sourceId = cmd.source_id;
    if (sourceId === null) return null;
    const source = await loadSource(this.cat, sourceId);
    if (!source) throw new ChameleonError(ErrorCodes.CONFIG, 'the source was dropped');
    switch (cmd.command) {
      case 'init_replica':
      case 'copy_schema': {
        await this.stopReplica(sourceId);
        return runSnapshot({
          cat: this.cat,
          source,
          log: log.child({ source: source.name }),
          withData: cmd.command === 'init_replica',
          commandId: cmd.command_id,
          progress: (p) => reportProgress(this.cat, cmd.command_id, p),
        });
      }
      case 'refresh_schema':
      case 'sync_tables': {
        // the replica goes on; only its replay waits while a table is between its snapshot and its swap
        const online = { holdReplay: () => this.holdReplayOf(sourceId) };
        const progress = await runSnapshot({
          cat: this.cat,
          source,
          log: log.child({ source: source.name }),
          withData: true,
          commandId: cmd.command_id,
          scope: cmd.command === 'refresh_schema'
            ? { kind: 'schema', schema: String(cmd.args.mysql_schema) }
            : { kind: 'tables', tables: (cmd.args.tables as string[]) ?? [] },
          ...online,
          progress: (p) => reportProgress(this.cat, cmd.command_id, p),
        });
        if (this.replicas.has(sourceId)) await withReplayHeld(online, () => markTablesReplicating(this.cat, sourceId));
        return progress;
      }
      case 'start_replica': {
        if (!source.replicaEnabled) return { skipped: 'stop_replica was called after this start' };
        if (!['initialised', 'stopped', 'running', 'starting'].includes(source.status)) {
          throw new ChameleonError(ErrorCodes.CONFIG, `source ${source.name} cannot start from status ${source.status}`);
        }
        await this.startReplica(sourceId, source.name);
        return { running: true };
      }
      case 'stop_replica': {
        await this.stopReplica(sourceId);
        await setSourceStatus(this.cat, sourceId, 'stopped');
        return { stopped: true };
      }
      case 'cutover': {
        // everything MySQL has now: the application is expected to have stopped writing to it
        const target = await this.binlogEnd(source.mysqlUrl);
        const position = `${target.file}:${target.pos}`;
        if (!this.replicas.has(sourceId)) {
          await setSourceEnabled(this.cat, sourceId, true);
          await this.startReplica(sourceId, source.name);
        }
        const t0 = Date.now();
        try {
          await waitForPosition(this.cat, source.name, position, String(cmd.args.timeout));
        } catch (err) {
          throw new ChameleonError(ErrorCodes.CONFIG,
            `cutover: the replica did not apply everything up to ${position} within ${String(cmd.args.timeout)} (${errorMessage(err)}); ` +
              'the source is not detached and its replica goes on', { source: source.name });
        }
        const waited = (Date.now() - t0) / 1000;
        return { position, waitedSeconds: waited, ...(await this.detach(sourceId, source, log)) };
      }
      case 'detach_replica':
        return this.detach(sourceId, source, log);
      case 'verify':
      case 'repair': {
        // the replica goes on; its replay waits only while a chunk is read and compared
        const run = {
          cat: this.cat,
          source,
          log: log.child({ source: source.name }),
          commandId: cmd.command_id,
          tables: cmd.command === 'verify' ? ((cmd.args.tables as string[]) ?? []) : [String(cmd.args.table)],
          holdReplay: () => this.holdReplayOf(sourceId),
          replicating: () => this.replicas.has(sourceId),
          progress: (p: VerifyProgress) => reportProgress(this.cat, cmd.command_id, p),
        };
        return cmd.command === 'verify' ? verifyTables(run) : repairTable(run);
      }
      case 'run_maintenance': {
        // the replica goes on: a plain VACUUM takes no lock it would wait for
        const result = await runMaintenance(this.cat.pool, source, cmd.args.full === true);
        log.info({ source: source.name, ...result }, 'maintenance done');
        return result;
      }
      default:
        throw new ChameleonError(ErrorCodes.CONFIG, `unknown command ${cmd.command}`);
    }
  }

  /** detach_replica: the replica stopped once what it read is applied, then the tables made standalone. */
  private async detach(sourceId: string, source: Source, log: Logger): Promise<Record<string, unknown>> {
    await setSourceEnabled(this.cat, sourceId, false);
    await this.stopReplica(sourceId);
    // what was read is applied first: the tables are left as of the last batch read
    let applied = 0;
    for (;;) {
      const r = await replayNext(this.cat.pool, sourceId, this.id);
      if (r.batches === 0) break;
      applied += r.applied;
    }
    await setSourceStatus(this.cat, sourceId, 'stopped');
    return { ...(await detachSource({ cat: this.cat, source, log })), appliedBeforeDetach: applied };
  }

  private async binlogEnd(url: string): Promise<{ file: string; pos: string }> {
    const conn = await connectMysql(url);
    try {
      return await binlogStatus(conn);
    } finally {
      await conn.end().catch(() => undefined);
    }
  }

  private async startReplica(sourceId: string, name: string): Promise<void> {
    if (this.replicas.has(sourceId) || this.starting.has(sourceId)) return;
    const start = this.startReplicaNow(sourceId, name);
    this.starting.set(sourceId, start);
    try {
      await start;
    } finally {
      this.starting.delete(sourceId);
    }
  }

  private async startReplicaNow(sourceId: string, name: string): Promise<void> {
    await setSourceStatus(this.cat, sourceId, 'starting');
    const replica = new SourceReplica({
      cat: this.cat,
      agentId: this.id,
      sourceId,
      log: this.log.child({ source: name }),
      onFatal: (err) => void this.replicaFailed(sourceId, name, replica, err),
    });
    await replica.start();
    this.replicas.set(sourceId, replica);
    await markTablesReplicating(this.cat, sourceId);
    await setSourceStatus(this.cat, sourceId, 'running', { lastError: null });
  }

  private async stopReplica(sourceId: string): Promise<void> {
    const replica = this.replicas.get(sourceId);
    if (!replica) return;
    this.replicas.delete(sourceId);
    await replica.stop();
  }

  private async replicaFailed(sourceId: string, name: string, replica: SourceReplica, err: unknown): Promise<void> {
    // a reader can fail just after it is positioned, while its start still
    // writes 'running': the error must be written after that, never under it
    await this.starting.get(sourceId)?.catch(() => undefined);
    if (this.stopping || (err instanceof ChameleonError && err.code === ErrorCodes.LEASE_LOST)) {
      this.forget(sourceId, replica);
      if (!this.stopping) this.log.warn({ source: name }, 'lost the source to another agent');
      return;
    }
    const message = redactText(errorMessage(err));
    this.log.error({ source: name, err }, 'replica stopped on error');
    // the failed replica stays registered until the source says 'error': a
    // queue scan in between would see an enabled source without a replica,
    // start it again and make it fail a second time on the same batch
    await setSourceStatus(this.cat, sourceId, 'error', { lastError: message, replicaEnabled: false }).catch(() => undefined);
    this.forget(sourceId, replica);
    await notifyAlert(this.cat, { source: name, error: message }).catch(() => undefined);
    await this.releaseIfIdle(sourceId);
  }

  /** Holds the replay of the source's replica running here (nothing to hold when none runs); resolves with the release. */
  private holdReplayOf(sourceId: string): Promise<() => void> {
    return this.replicas.get(sourceId)?.holdReplay() ?? Promise.resolve(() => undefined);
  }

  /** Drops a replica from the running ones unless another has taken its place. */
  private forget(sourceId: string, replica: SourceReplica): void {
    if (this.replicas.get(sourceId) === replica) this.replicas.delete(sourceId);
  }

  /** Sources whose replica should run (after an agent restart or a takeover) are started here. */
  private async resumeReplicas(): Promise<void> {
    for (const s of await sourcesToReplicate(this.cat, this.id)) {
      if (this.stopping) return;
      if (this.replicas.has(s.source_id) || this.starting.has(s.source_id)) continue;
      if ([...this.running.values()].some((r) => r.cmd.source_id === s.source_id)) continue;
      await this.leaseTurn(s.source_id, async () => {
        if (this.busyWith(s.source_id)) return;
        if (!(await acquireLease(this.cat, s.source_id, this.id, this.leaseSeconds))) return;
        try {
          await this.startReplica(s.source_id, s.source_name);
          this.log.info({ source: s.source_name }, 'replica resumed');
        } catch (err) {
          this.log.error({ source: s.source_name, err }, 'replica could not start; will retry');
          await setSourceStatus(this.cat, s.source_id, 'stopped', { lastError: redactText(errorMessage(err)) }).catch(() => undefined);
          await releaseLease(this.cat, s.source_id, this.id).catch(() => undefined);
        }
      });
    }
  }

  /**
   * Runs `fn` after the source's lease work in flight here: a release after
   * a command and a resumed replica's lease must not interleave (the release
   * would delete the lease the replica was just started on, and its replay
   * would find itself fenced out).
   */
  private async leaseTurn(sourceId: string, fn: () => Promise<void>): Promise<void> {
    const before = this.leaseTurns.get(sourceId) ?? Promise.resolve();
    const mine = before.then(fn, fn);
    const settled = mine.catch(() => undefined);
    this.leaseTurns.set(sourceId, settled);
    try {
      await mine;
    } finally {
      if (this.leaseTurns.get(sourceId) === settled) this.leaseTurns.delete(sourceId);
    }
  }

  private busyWith(sourceId: string): boolean {
    return this.replicas.has(sourceId) || this.starting.has(sourceId) || [...this.running.values()].some((r) => r.cmd.source_id === sourceId);
  }

  private async releaseIfIdle(sourceId: string | null): Promise<void> {
    if (!sourceId) return;
    await this.leaseTurn(sourceId, async () => {
      if (this.stopping || this.busyWith(sourceId)) return;
      await releaseLease(this.cat, sourceId, this.id).catch(() => undefined);
      // the next command of the source may have been claimed, on the lease, while it was being
      // released: take it back, or that command's replica would find itself fenced out
      if (!this.stopping && this.busyWith(sourceId)) await acquireLease(this.cat, sourceId, this.id, this.leaseSeconds).catch(() => false);
    });
  }

  private async beat(): Promise<void> {
    try {
      const owned = new Set(await heartbeat(this.cat, this.id, this.leaseSeconds));
      for (const [sourceId, replica] of this.replicas) {
        if (!owned.has(sourceId)) {
          // dropped, or taken over after we were silent too long
          this.log.warn({ source: replica.name }, 'source no longer owned; stopping its replica here');
          this.replicas.delete(sourceId);
          await replica.stop();
        }
      }
    } catch (err) {
      this.log.warn({ err }, 'heartbeat failed');
    }
  }
}
