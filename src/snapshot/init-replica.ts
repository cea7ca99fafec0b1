import type mysql from 'mysql2/promise';
import type { Logger } from '../log.js';
import type { Catalog } from '../catalog/db.js';
import type { Source } from '../catalog/sources.js';
import { resetPositions, setSourceStatus } from '../catalog/sources.js';
import { earliestCopyPosition, forgetTablesExcept, listTables, registerTables, updateTable, type TableEntry } from '../catalog/tables.js';
import { clearLoadingSchema, dropSchemaIfExists, dropSchemasLike, ensureSchema, hasExtension, tableExists } from '../catalog/target.js';
import { connectMysql, serverInfo } from '../mysql/connection.js';
import { readTables } from '../mysql/metadata.js';
import { checkReplicationSettings, describeProblems } from '../mysql/preflight.js';
import { ChameleonError, ErrorCodes, errorMessage, isTransient } from '../errors.js';
import { copyTable } from './copy-table.js';
import { copyJobs, loadingSchemaName, loadingSchemaPrefix, planTables, selectTables, splitTableName, type TablePlan } from './plan.js';
import { interruptedCopy } from './range-resume.js';
import { binlogStatus, type Coordinates } from './snapshot-point.js';
import { parseSize } from './copy-text.js';

/**
 * Which tables a run copies. `all`: init_replica and copy_schema, every
 * selected table of every mapped database, and the replica starts again
 * from the copies. `schema` (refresh_schema) and `tables` (sync_tables,
 * where `disabled` stands for every excluded or failed table) re-copy some
 * tables into a replica that keeps its position.
 */
export type SnapshotScope = { kind: 'all' } | { kind: 'schema'; schema: string } | { kind: 'tables'; tables: string[] };

export interface SnapshotRun {
  cat: Catalog;
  source: Source;
  log: Logger;
  /** Called with a progress object as tables finish; resolves false to go on, true if cancelled. */
  progress(p: SnapshotProgress): Promise<boolean>;
  /** copy_schema creates the tables without data. */
  withData: boolean;
  /** The command being run: tables an interrupted earlier run of it copied are kept. */
  commandId: string | null;
  scope?: SnapshotScope;
  /** See CopyContext.holdReplay; absent when no replica of the source runs here. */
  holdReplay?(): Promise<() => void>;
}

export interface SnapshotProgress {
  tables_total: number;
  tables_done: number;
  /** Copied by an earlier run of the same command, before its agent died; not copied again. */
  tables_kept: number;
  tables_failed: string[];
  /** sync_tables('disabled'): excluded or failed tables no longer in MySQL (or no longer selected). */
  tables_missing?: string[];
  rows_copied: number;
  rows_estimate: number;
  bytes_copied: number;
}

/** Attempts per table when the failure is transient (a lost connection, a deadlock). */
const TABLE_ATTEMPTS = 3;

/**
 * init_replica, copy_schema, refresh_schema and sync_tables: copies the
 * tables of the scope, in parallel up to copy_jobs, each at its own
 * consistent snapshot and swapped in with its coordinates. Resumable at
 * table granularity: a re-run of the same command keeps the tables it
 * already copied. For init_replica the replica then starts from the
 * earliest table coordinates.
 */
export async function runSnapshot(run: SnapshotRun): Promise<SnapshotProgress> {
  const { cat, source, log } = run;
  const scope = run.scope ?? { kind: 'all' };
  const full = scope.kind === 'all';
  const statusBefore = source.status;
  if (full) await setSourceStatus(cat, source.id, 'initialising', { lastError: null });

  const control = await connectMysql(source.mysqlUrl);
  let isMariaDB: boolean;
  let plans: TablePlan[];
  let missing: string[] = [];
  try {
    isMariaDB = (await serverInfo(control)).isMariaDB;
    const problems = await checkReplicationSettings(control);
    if (problems.length > 0) {
      throw new ChameleonError(ErrorCodes.SOURCE_SETUP, `the MySQL server is not ready for replication: ${describeProblems(problems)}`, { source: source.name });
    }
    ({ plans, missing } = await planScope(run, control, scope, isMariaDB));
  } finally {
    await control.end().catch(() => undefined);
  }

  const known = new Map((await listTables(cat, source.id)).map((t) => [`${t.mysql_schema}\u0000${t.mysql_table}`, t]));
  const kept: TablePlan[] = [];
  const toCopy: TablePlan[] = [];
  for (const plan of plans) {
    const row = known.get(`${plan.mysql.schema}\u0000${plan.mysql.name}`);
    const copiedByThisCommand = run.commandId !== null && row !== undefined && String(row.copy_command) === run.commandId
      && (row.state === 'copied' || row.state === 'replicating');
    if (copiedByThisCommand && (await tableExists(cat.pool, row.pg_schema, row.pg_table))) kept.push(plan);
    else toCopy.push(plan);
  }
  if (kept.length > 0) log.info({ kept: kept.map((p) => p.key) }, 'resuming: tables copied by the interrupted run are kept');
  // ranged copies the interrupted run left midway: their loaded ranges and
  // their first snapshot's coordinates stay for the copy to resume
  const resumed = new Set<TablePlan>();
  if (run.withData) {
    for (const plan of toCopy) {
      const row = known.get(`${plan.mysql.schema}\u0000${plan.mysql.name}`);
      if (await interruptedCopy(cat.pool, loadingSchemaName(source.id, plan.pgSchema), plan, row, run.commandId)) resumed.add(plan);
    }
  }
  if (resumed.size > 0) log.info({ tables: [...resumed].map((p) => p.key) }, 'resuming: ranged copies interrupted midway go on past their loaded ranges');
  const entry = (p: TablePlan): TableEntry => ({
    mysqlSchema: p.mysql.schema,
    mysqlTable: p.mysql.name,
    pgSchema: p.pgSchema,
    pgTable: p.pgTable,
    pkColumns: p.mysql.primaryKey.map((k) => p.columns.find((c) => c.col.name === k)!.pgName),
    rowsEstimate: p.mysql.rowsEstimate,
  });
  await withReplayHeld(run, async () => {
    await registerTables(cat, source.id, toCopy.filter((p) => !resumed.has(p)).map(entry), { reset: full });
    await registerTables(cat, source.id, [...resumed].map(entry), { reset: false });
  });
  const targetSchemas = new Set(plans.map((p) => p.pgSchema));
  if (full) for (const s of Object.values(source.schemaMappings)) targetSchemas.add(s);
  for (const schema of targetSchemas) await ensureSchema(cat.pool, schema);

  const keptRows = kept.map((p) => known.get(`${p.mysql.schema}\u0000${p.mysql.name}`)!);
  const progress: SnapshotProgress = {
    tables_total: plans.length,
    tables_done: kept.length,
    tables_kept: kept.length,
    tables_failed: [],
    ...(scope.kind === 'tables' ? { tables_missing: missing } : {}),
    rows_copied: keptRows.reduce((n, r) => n + Number(r.rows_copied), 0),
    rows_estimate: plans.reduce((n, p) => n + p.mysql.rowsEstimate, 0),
    bytes_copied: keptRows.reduce((n, r) => n + Number(r.bytes_copied), 0),
  };
  await run.progress(progress);
  await copyTables(run, toCopy, progress, isMariaDB, resumed);

  if (!run.withData) {
    // copy_schema leaves the replica where it was
    await setSourceStatus(cat, source.id, statusBefore === 'initialising' ? 'ready' : statusBefore);
    return progress;
  }
  if (full) {
    await resetPositions(cat, source.id, (await earliestCopyPosition(cat, source.id)) ?? (await currentPosition(source.mysqlUrl)));
    await setSourceStatus(cat, source.id, 'initialised');
  }
  return progress;
}

/**
 * Runs a change of several t_tables rows with the replay held: the decoder
 * updates the rows of the tables it applies to in its own order, and two
 * multi-row writers of one table can deadlock.
 */
export async function withReplayHeld<T>(run: Pick<SnapshotRun, 'holdReplay'>, fn: () => Promise<T>): Promise<T> {
  const release = run.holdReplay ? await run.holdReplay() : () => undefined;
  try {
    return await fn();
  } finally {
    release();
  }
}

/** The tables of the scope, planned with every table of their databases so target names come out as init_replica chose them. */
async function planScope(
  run: SnapshotRun,
  control: mysql.Connection,
  scope: SnapshotScope,
  isMariaDB: boolean,
): Promise<{ plans: TablePlan[]; missing: string[] }> {
  const { cat, source } = run;
  const mapped = Object.keys(source.schemaMappings);
  let wanted: { schema: string; table: string }[] | null = null;
  let disabled = false;
  if (scope.kind === 'tables') {
    disabled = scope.tables.length === 1 && scope.tables[0] === 'disabled';
    if (disabled) {
      // and those an interrupted run of this same command had begun copying: no longer excluded, still its own
      wanted = (await listTables(cat, source.id))
        .filter((t) => t.state === 'excluded' || t.state === 'failed' || t.state === 'quarantined'
          || (t.state === 'copying' && run.commandId !== null && String(t.copy_command) === run.commandId))
        .map((t) => ({ schema: t.mysql_schema, table: t.mysql_table }));
    } else {
      wanted = scope.tables.map((name) => {
        const split = splitTableName(name, mapped);
        if (!split) throw new ChameleonError(ErrorCodes.CONFIG, `"${name}" is not a table of a mapped database`, { source: source.name });
        return split;
      });
    }
  }
  const schemas = scope.kind === 'schema' ? [scope.schema] : wanted ? [...new Set(wanted.map((w) => w.schema))] : mapped;
  const postgis = await hasExtension(cat.pool, 'postgis');
  const all = planTables(selectTables(await readTables(control, schemas), source), source, postgis, isMariaDB ? 'mariadb' : 'mysql');
  if (scope.kind !== 'tables') {
    // tables gone from MySQL (or no longer selected) leave the catalogue; their PostgreSQL tables stay
    await withReplayHeld(run, () =>
      forgetTablesExcept(cat, source.id, all.map((p) => ({ mysqlSchema: p.mysql.schema, mysqlTable: p.mysql.name })), schemas));
    return { plans: all, missing: [] };
  }
  const byName = new Map(all.map((p) => [`${p.mysql.schema}\u0000${p.mysql.name}`, p]));
  const plans: TablePlan[] = [];
  const missing: string[] = [];
  for (const w of wanted!) {
    const plan = byName.get(`${w.schema}\u0000${w.table}`);
    if (plan) {
      if (!plans.includes(plan)) plans.push(plan);
    } else missing.push(`${w.schema}.${w.table}`);
  }
  if (missing.length > 0 && !disabled) {
    throw new ChameleonError(
      ErrorCodes.CONFIG,
      `not in MySQL, or excluded by limit_tables / skip_tables: ${missing.join(', ')}; nothing was copied`,
      { source: source.name },
    );
  }
  return { plans, missing };
}

async function copyTables(run: SnapshotRun, plans: TablePlan[], progress: SnapshotProgress, isMariaDB: boolean, resumed: Set<TablePlan>): Promise<void> {
  const { cat, source, log } = run;
  if (plans.length === 0) return;
  const loadingSchemas = [...new Set(plans.map((p) => loadingSchemaName(source.id, p.pgSchema)))];
  // loading schemas of earlier runs for target schemas no longer mapped go; the others start empty
  // but for the ranged copies that resume
  await dropSchemasLike(cat.pool, loadingSchemaPrefix(source.id), loadingSchemas);
  for (const schema of loadingSchemas) {
    const keep = [...resumed].filter((p) => loadingSchemaName(source.id, p.pgSchema) === schema).map((p) => p.pgTable);
    await clearLoadingSchema(cat.pool, schema, keep);
  }
  const memory = parseSize(source.options.copy_max_memory);
  const jobs = Math.max(1, Math.min(copyJobs(source.options.copy_jobs), plans.length));
  log.info({ copy_jobs: source.options.copy_jobs, jobs, tables: plans.length }, 'copying tables');
  // each job holds about two chunks in flight (one being filled, one in COPY)
  const chunkBytes = Math.max(64 * 1024, Math.min(4 * 1024 * 1024, Math.floor(memory / (jobs * 4))));
  let cancelled = false;
  const checkCancelled = async (): Promise<void> => {
    if (cancelled || (await run.progress(progress))) {
      cancelled = true;
      throw new ChameleonError(ErrorCodes.CANCELLED, 'cancelled', { source: source.name });
    }
  };
  const queue = [...plans].sort((a, b) => b.mysql.rowsEstimate - a.mysql.rowsEstimate);

  const worker = async (): Promise<void> => {
    let conn: mysql.Connection | null = null;
    try {
      for (let plan = queue.shift(); plan; plan = queue.shift()) {
        await checkCancelled();
        const counted = { rows: 0, bytes: 0 };
        for (let attempt = 1; ; attempt++) {
          conn ??= await connectMysql(source.mysqlUrl);
          try {
            await copyTable(conn, plan, {
              cat, pool: cat.pool, sourceId: source.id, loadingSchema: loadingSchemaName(source.id, plan.pgSchema), lockTimeout: source.options.lock_timeout,
              grantSelectTo: source.options.grant_select_to ?? [], isMariaDB, chunkBytes, withData: run.withData, log,
              commandId: run.commandId, rangeRows: source.options.copy_range_rows ?? 500_000,
              keepExisting: source.options.keep_existing_schema === true,
              holdReplay: run.holdReplay ?? (async () => () => undefined),
              onRows: (rows, bytes) => {
                counted.rows += rows;
                counted.bytes += bytes;
                progress.rows_copied += rows;
                progress.bytes_copied += bytes;
              },
              checkCancelled,
              connect: () => connectMysql(source.mysqlUrl),
            });
            break;
          } catch (err) {
            progress.rows_copied -= counted.rows;
            progress.bytes_copied -= counted.bytes;
            counted.rows = 0;
            counted.bytes = 0;
            // whatever state the failure left the connection in, the next copy starts on a fresh one
            conn.destroy();
            conn = null;
            const reason = errorMessage(err);
            if (err instanceof ChameleonError && err.code === ErrorCodes.CANCELLED) {
              await updateTable(cat, source.id, plan.mysql.schema, plan.mysql.name, { state: 'failed', reason: 'copy cancelled' });
              throw err;
            }
            if (isTransient(err) && attempt < TABLE_ATTEMPTS) {
              log.warn({ table: plan.key, err, attempt }, 'table copy failed; copying it again');
              continue;
            }
            // one table failing does not stop the others: it is marked and reported
            log.error({ table: plan.key, err }, 'table copy failed');
            progress.tables_failed.push(plan.key);
            await updateTable(cat, source.id, plan.mysql.schema, plan.mysql.name, { state: 'failed', reason: `copy failed: ${reason}` });
            break;
          }
        }
        progress.tables_done++;
        await run.progress(progress);
      }
    } finally {
      await conn?.end().catch(() => undefined);
    }
  };
  // every worker ends (a cancelled one stops the others at their next step)
  // before the loading schema goes
  const results = await Promise.allSettled(Array.from({ length: jobs }, () => worker()));
  for (const schema of loadingSchemas) await dropSchemaIfExists(cat.pool, schema).catch(() => undefined);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

/** The server's current binlog end: where a replica of a source without tables starts. */
async function currentPosition(url: string): Promise<Coordinates> {
  const conn = await connectMysql(url);
  try {
    return await binlogStatus(conn);
  } finally {
    await conn.end().catch(() => undefined);
  }
}
