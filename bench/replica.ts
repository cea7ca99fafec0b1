/**
 * Continuous replica benchmark: catch-up of a binlog backlog and lag under
 * a sustained load, next to zongji's own decode rate and a direct set-based
 * apply of the same changes, measured in the same run.
 *
 *   node dist/bench/replica.js [--changes 200000] [--mode oltp|bulk|all]
 *                              [--sustained RATE] [--sustained-seconds 30]
 *                              [--tables 4] [--table-size 50000] [--timeline]
 *
 * See bench/README.md for what is measured.
 */
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  CpuSampler, cpuDelta, cpuRows, cpuSnapshot, createPgDatabase, fmt, fmtInt, generateSbtestTables, hasCommand, masterStatus,
  mysqlConn, numFlag, parseFlags, percentile, pgClient, profiled, resetStatements, topStatements, printTable, run, say, sleep, startServers, step, strFlag, sysbenchArgs,
  timed, type BenchServers, type CpuDelta,
} from './common.js';
import { zongjiPass, type ZongjiResult } from './zongji-pass.js';
import { SOURCE, startChameleon, type Chameleon } from './chameleon.js';
import { openCatalog } from '../src/catalog/db.js';
import { acquireLease, markAgentStopped, registerAgent, releaseLease } from '../src/catalog/agents.js';
import { replayNext } from '../src/catalog/batches.js';
import { loadSource } from '../src/catalog/sources.js';
import { catalogVersion } from '../src/catalog/sql-bundle.js';
import { connectMysql } from '../src/mysql/connection.js';
import { SourceReader } from '../src/replica/reader.js';
import { createLogger } from '../src/log.js';

const flags = parseFlags();
const CHANGES = numFlag(flags, 'changes', 200_000);
const MODE = strFlag(flags, 'mode', 'oltp');
const SUSTAINED = numFlag(flags, 'sustained', 0);
const SUSTAINED_SECONDS = numFlag(flags, 'sustained-seconds', 30);
const TABLES = numFlag(flags, 'tables', 4);
const TABLE_SIZE = numFlag(flags, 'table-size', 50_000);
const THREADS = numFlag(flags, 'threads', 2);
const BREAKDOWN = !flags.has('no-breakdown');
const WARM_UP = !flags.has('no-warm-up');
const PROFILE = strFlag(flags, 'profile', '');
const STATEMENTS = flags.has('statements');
const TIMELINE = flags.has('timeline');
if (!['oltp', 'bulk', 'all'].includes(MODE)) throw new Error('--mode is oltp, bulk or all');

interface Position {
  file: string;
  pos: number;
  text: string;
}

const SBTEST = Array.from({ length: TABLES }, (_, i) => `sbtest${i + 1}`);

// ---------------------------------------------------------------- data set and load

async function prepare(servers: BenchServers): Promise<void> {
  const admin = await mysqlConn(servers.mysqlUrl);
  await admin.query('CREATE DATABASE sbtest CHARACTER SET utf8mb4');
  await admin.end();
  if (await hasCommand('sysbench')) {
    const args = sysbenchArgs(servers.mysqlPort, [`--tables=${TABLES}`, `--table-size=${TABLE_SIZE}`, `--threads=${Math.min(TABLES, 2)}`]);
    step(`sysbench oltp_write_only ${args.join(' ')} prepare`);
    const r = await run('sysbench', ['oltp_write_only', ...args, 'prepare']);
    if (r.code !== 0) throw new Error(`sysbench prepare failed:\n${r.stdout}\n${r.stderr}`);
  } else {
    step('sysbench not found: generating the equivalent sbtest tables with SQL');
    const conn = await mysqlConn(servers.mysqlUrl, 'sbtest');
    await generateSbtestTables(conn, TABLES, TABLE_SIZE);
    await conn.end();
  }
  const conn = await mysqlConn(servers.mysqlUrl, 'sbtest');
  await conn.query('CREATE TABLE bench_heartbeat (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, ts DATETIME(6) NOT NULL)');
  await conn.end();
}

/** The backlog of one mode; returns a description of what was run. */
async function makeBacklog(servers: BenchServers, mode: 'oltp' | 'bulk', changes: number, round: number): Promise<string> {
  if (mode === 'oltp') {
    const events = Math.ceil(changes / 4);
    const args = sysbenchArgs(servers.mysqlPort, [
      `--tables=${TABLES}`, `--table-size=${TABLE_SIZE}`, `--events=${events}`, `--threads=${THREADS}`, '--time=0', '--rand-seed=' + (42 + round),
    ]);
    if (!(await hasCommand('sysbench'))) return fallbackOltp(servers, events);
    const r = await run('sysbench', ['oltp_write_only', ...args, 'run']);
    if (r.code !== 0) throw new Error(`sysbench run failed:\n${r.stdout}\n${r.stderr}`);
    const tps = /transactions:\s+(\d+)\s+\(([\d.]+) per sec/.exec(r.stdout);
    const errors = /ignored errors:\s+(\d+)/.exec(r.stdout);
    return `sysbench oltp_write_only ${args.filter((a) => !a.startsWith('--mysql')).join(' ')} run: ` +
      `${tps ? `${fmtInt(Number(tps[1]))} transactions at ${fmtInt(Number(tps[2]))}/s` : '?'}, ignored errors ${errors?.[1] ?? '?'}, ${fmt(r.seconds, 1)} s`;
  }
  // bulk: half the changes as 1000-row INSERTs, half as 10,000-row UPDATEs, one statement per transaction
  const conn = await mysqlConn(servers.mysqlUrl, 'sbtest');
  try {
    const inserts = Math.max(1, Math.round(changes / 2 / 1000));
    const updates = Math.max(1, Math.round(changes / 2 / 10_000));
    const base = 10_000_000 * (round + 1);
    const t0 = performance.now();
    for (let i = 0; i < inserts; i++) {
      const table = SBTEST[i % TABLES];
      const from = base + i * 1000 + 1;
      await conn.query(
        `INSERT INTO ${table} (id, k, c, pad) SELECT seq, FLOOR(1 + RAND() * ${TABLE_SIZE}), CONCAT('bulk-', seq, '-', MD5(seq)), 'bulk pad'
         FROM seq_${from}_to_${from + 999}`);
      if (i % Math.max(1, Math.floor(inserts / updates)) === 0) {
        const u = Math.floor(i / Math.max(1, Math.floor(inserts / updates)));
        if (u < updates) {
          const ut = SBTEST[u % TABLES];
          const start = ((u * 10_000) % Math.max(1, TABLE_SIZE - 10_000)) + 1;
          await conn.query(`UPDATE ${ut} SET k = k + 1, c = CONCAT('bulk-update-', id) WHERE id BETWEEN ${start} AND ${start + 9999}`);
        }
      }
    }
    return `bulk: ${inserts} INSERT ... SELECT of 1000 rows + ${updates} UPDATE of 10,000 rows (autocommit), ${fmt((performance.now() - t0) / 1000, 1)} s`;
  } finally {
    await conn.end();
  }
}

/** Same statements as oltp_write_only, for machines without sysbench (one connection). */
async function fallbackOltp(servers: BenchServers, events: number): Promise<string> {
  const conn = await mysqlConn(servers.mysqlUrl, 'sbtest');
  const rnd = (): number => 1 + Math.floor(Math.random() * TABLE_SIZE);
  for (let i = 0; i < events; i++) {
    const t = SBTEST[i % TABLES];
    await conn.query('BEGIN');
    await conn.query(`UPDATE ${t} SET k=k+1 WHERE id=?`, [rnd()]);
    await conn.query(`UPDATE ${t} SET c=? WHERE id=?`, [`c-${i}-${Math.random()}`, rnd()]);
    const id = rnd();
    await conn.query(`DELETE FROM ${t} WHERE id=?`, [id]);
    await conn.query(`INSERT INTO ${t} (id, k, c, pad) VALUES (?, ?, ?, ?)`, [id, rnd(), `c-${i}`, `pad-${i}`]);
    await conn.query('COMMIT');
  }
  await conn.end();
  return `generated oltp_write_only-like load: ${events} transactions`;
}

// ---------------------------------------------------------------- reference (i): zongji alone

const ZONGJI_ROUNDS = 3;

const ZONGJI_SCRIPT = fileURLToPath(new URL('./zongji-alone.js', import.meta.url));

/** ZONGJI_ROUNDS + 1 passes of stock zongji (or with the agent's parser patch) over [start, end), in a new process. */
async function zongjiAlone(servers: BenchServers, start: Position, end: Position, serverId: number, patched: boolean): Promise<ZongjiResult[]> {
  const r = await run(process.execPath, [
    ZONGJI_SCRIPT, '--port', String(servers.mysqlPort), '--file', start.file, '--start', String(start.pos),
    '--end-file', end.file, '--end', String(end.pos), '--rounds', String(ZONGJI_ROUNDS + 1), '--server-id', String(serverId),
    ...(patched ? ['--patched'] : []),
  ]);
  if (r.code !== 0) throw new Error(`bench/zongji-alone failed (exit ${r.code}):\n${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as ZongjiResult);
}

// ---------------------------------------------------------------- reference (ii): direct set-based apply

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (Buffer.isBuffer(v)) return `\\\\x${v.toString('hex')}`;
  const s = String(v);
  return /[\\\n\r\t]/.test(s) ? s.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]) : s;
}

interface Captured {
  /** per table: COPY lines "seq, kind, before key, columns..." */
  lines: Map<string, string[]>;
  count: number;
}

async function tableShape(c: pg.Client, schema: string, table: string): Promise<{ columns: string[]; pk: string }> {
  const cols = await c.query<{ attname: string }>(
    `SELECT attname FROM pg_attribute WHERE attrelid = format('%I.%I', $1::text, $2::text)::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [schema, table]);
  const pk = await c.query<{ attname: string }>(
    `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE i.indrelid = format('%I.%I', $1::text, $2::text)::regclass AND i.indisprimary`, [schema, table]);
  if (pk.rows.length !== 1) throw new Error(`${schema}.${table}: the direct apply reference needs a one-column primary key`);
  return { columns: cols.rows.map((r) => r.attname), pk: pk.rows[0].attname };
}

/** Second zongji pass (not timed): the same changes as typed COPY lines for the direct apply. */
async function capture(servers: BenchServers, c: pg.Client, start: Position, end: Position): Promise<Captured> {
  const shapes = new Map<string, { columns: string[]; pk: string }>();
  for (const t of SBTEST) shapes.set(t, await tableShape(c, 'direct', t));
  const lines = new Map<string, string[]>(SBTEST.map((t) => [t, []]));
  let seq = 0;
  await zongjiPass(servers.mysqlPort, start, end, 302, 'sbtest', (table, kind, before, after) => {
    const shape = shapes.get(table);
    if (!shape) return;
    const row = after ?? before!;
    const values = shape.columns.map((col) => (after ? copyValue(row[col]) : '\\N'));
    lines.get(table)!.push(`${++seq}\t${kind}\t${before ? copyValue(before[shape.pk]) : '\\N'}\t${values.join('\t')}\n`);
  });
  return { lines, count: seq };
}

/**
 * The same changes applied by plain set-based SQL in one transaction, on a
 * clone of the target tables taken when the replica stopped: per table,
 * COPY the typed row images into a staging table, reduce them to the last
 * image per key (DISTINCT ON), one DELETE ... USING and one
 * INSERT ... ON CONFLICT DO UPDATE.
 */
async function directApply(c: pg.Client, cap: Captured): Promise<{ seconds: number; copySeconds: number }> {
  const t0 = performance.now();
  let copySeconds = 0;
  await c.query('BEGIN');
  for (const table of SBTEST) {
    const lines = cap.lines.get(table)!;
    if (lines.length === 0) continue;
    const { columns, pk } = await tableShape(c, 'direct', table);
    const cols = columns.map((x) => `"${x}"`).join(', ');
    await c.query(`CREATE TEMP TABLE s_${table} ON COMMIT DROP AS
      SELECT NULL::bigint AS seq, NULL::text AS kind, t."${pk}" AS b_key, t.* FROM direct.${table} t WITH NO DATA`);
    const tc = performance.now();
    const copy = c.query(copyFrom(`COPY s_${table} FROM STDIN`));
    await pipeline(Readable.from((function* () {
      for (let i = 0; i < lines.length; i += 2000) yield lines.slice(i, i + 2000).join('');
    })()), copy);
    copySeconds += (performance.now() - tc) / 1000;
    await c.query(`CREATE TEMP TABLE n_${table} ON COMMIT DROP AS
      SELECT DISTINCT ON (key) key, kind, ${cols} FROM (
        SELECT seq, CASE WHEN kind = 'delete' THEN b_key ELSE "${pk}" END AS key, kind, ${cols} FROM s_${table}
        UNION ALL
        SELECT seq, b_key, 'delete', ${columns.map(() => 'NULL').join(', ')} FROM s_${table}
         WHERE kind = 'update' AND b_key IS DISTINCT FROM "${pk}") e
      ORDER BY key, seq DESC`);
    await c.query(`DELETE FROM direct.${table} d USING n_${table} n WHERE d."${pk}" = n.key AND n.kind = 'delete'`);
    await c.query(`INSERT INTO direct.${table} (${cols}) SELECT ${cols} FROM n_${table} WHERE kind <> 'delete'
      ON CONFLICT ("${pk}") DO UPDATE SET ${columns.filter((x) => x !== pk).map((x) => `"${x}" = EXCLUDED."${x}"`).join(', ')}`);
  }
  await c.query('COMMIT');
  return { seconds: (performance.now() - t0) / 1000, copySeconds };
}

async function cloneTargets(c: pg.Client): Promise<void> {
  await c.query('DROP SCHEMA IF EXISTS direct CASCADE');
  await c.query('CREATE SCHEMA direct');
  for (const t of SBTEST) {
    await c.query(`CREATE TABLE direct.${t} (LIKE sbtest.${t} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)`);
    await c.query(`INSERT INTO direct.${t} SELECT * FROM sbtest.${t}`);
  }
  await c.query('ANALYZE');
}

/** md5 of every row of a table in key order, and the same for MySQL's count and sum(k). */
async function compareTargets(c: pg.Client, my: mysql.Connection): Promise<string[]> {
  const problems: string[] = [];
  for (const t of SBTEST) {
    const a = await c.query<{ h: string; n: string }>(`SELECT md5(string_agg(x::text, E'\\n' ORDER BY x.id)) AS h, count(*)::text AS n FROM sbtest.${t} x`);
    const b = await c.query<{ h: string; n: string }>(`SELECT md5(string_agg(x::text, E'\\n' ORDER BY x.id)) AS h, count(*)::text AS n FROM direct.${t} x`);
    const s = await c.query<{ k: string }>(`SELECT coalesce(sum(k), 0)::text AS k FROM sbtest.${t}`);
    const [m] = await my.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n, COALESCE(SUM(k), 0) AS k FROM ${t}`);
    if (a.rows[0].h !== b.rows[0].h) problems.push(`${t}: chameleon target and direct apply differ (rows ${a.rows[0].n} vs ${b.rows[0].n})`);
    if (String(m[0].n) !== a.rows[0].n || String(m[0].k) !== s.rows[0].k) {
      problems.push(`${t}: MySQL has ${m[0].n} rows / sum(k) ${m[0].k}, chameleon ${a.rows[0].n} / ${s.rows[0].k}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------- catch-up measurement

type FnStats = Map<string, { calls: number; total: number; self: number }>;

/** pg_stat_user_functions of the catalogue (track_functions = all): calls, total and self ms. */
async function fnStats(c: pg.Client): Promise<FnStats> {
  const r = await c.query<{ f: string; calls: string; total: number; self: number }>(
    `SELECT funcname AS f, calls::text, total_time AS total, self_time AS self FROM pg_stat_user_functions WHERE schemaname = 'sch_chameleon'`);
  return new Map(r.rows.map((x) => [x.f, { calls: Number(x.calls), total: x.total, self: x.self }]));
}

/**
 * The decoder's functions only. Backends publish their statistics when
 * idle, at most every 10 s (PostgreSQL 15): wait until fn_replay_next shows
 * `expect` more calls, or 12 s.
 */
async function fnStatsAfter(c: pg.Client, before: FnStats, expect = 1): Promise<string> {
  let after = before;
  for (const deadline = Date.now() + 12_000; Date.now() < deadline;) {
    await sleep(500);
    await c.query('SELECT pg_stat_clear_snapshot()');
    after = await fnStats(c);
    if ((after.get('fn_replay_next')?.calls ?? 0) - (before.get('fn_replay_next')?.calls ?? 0) >= expect) break;
  }
  const rows: string[] = [];
  for (const [f, a] of after) {
    if (!/^fn_(replay|decoder)/.test(f)) continue;
    const b = before.get(f) ?? { calls: 0, total: 0, self: 0 };
    const calls = a.calls - b.calls;
    if (calls === 0) continue;
    rows.push(`${f} ${fmtInt(calls)} calls, ${fmt((a.total - b.total) / 1000, 2)} s total (${fmt((a.total - b.total) / calls, 2)} ms/call), self ${fmt((a.self - b.self) / 1000, 2)} s`);
  }
  return rows.sort().join('; ');
}

async function maxBatch(c: pg.Client): Promise<string> {
  return (await c.query<{ m: string }>('SELECT coalesce(max(batch_id), 0)::text AS m FROM sch_chameleon.t_batches')).rows[0].m;
}

async function batchesSince(c: pg.Client, after: string): Promise<{ n: number; avgEvents: number }> {
  const r = (await c.query<{ n: string; ev: string }>(
    'SELECT count(*)::text AS n, coalesce(sum(events), 0)::text AS ev FROM sch_chameleon.t_batches WHERE batch_id > $1', [after])).rows[0];
  if (TIMELINE) {
    const tl = await c.query<{ batch_id: string; events: number; started: string; applied: string }>(
      `SELECT batch_id::text, events, to_char(extract(epoch FROM created_at - min(created_at) OVER ()), 'FM990.000') AS started,
              to_char(extract(epoch FROM applied_at - min(created_at) OVER ()), 'FM990.000') AS applied
         FROM sch_chameleon.t_batches WHERE batch_id > $1 ORDER BY batch_id`, [after]);
    say('  batches (seconds from the first batch\'s write; a write starts before its COPY and commits after it):');
    for (const x of tl.rows) say(`    batch ${x.batch_id}: ${fmtInt(x.events)} events, write started ${x.started} s, applied ${x.applied} s`);
  }
  return { n: Number(r.n), avgEvents: Number(r.ev) / Math.max(1, Number(r.n)) };
}

interface ActivitySample {
  t: number;
  read: number;
  applied: number;
  pending: number;
  active: string[];
}

/** Every 250 ms: replica counters and what the PostgreSQL backends of the agent are doing. */
class ProgressSampler {
  readonly samples: ActivitySample[] = [];
  private running = false;
  private loop: Promise<void> | null = null;
  private probe: NodeJS.Timeout | null = null;

  /** Largest backlog of encoded batches the agent's reader held in memory (its private queue, read-only). */
  peakQueue = { batches: 0, mb: 0 };

  constructor(private readonly client: pg.Client, private readonly t0: number, private readonly agent?: unknown) {}

  private probeQueue(): void {
    const replicas = (this.agent as { replicas?: Map<string, { reader?: { queue?: { length: number }; queuedBytes?: number } | null }> })?.replicas;
    if (!(replicas instanceof Map)) return;
    for (const r of replicas.values()) {
      const q = r.reader?.queue;
      if (q && typeof q.length === 'number' && q.length > this.peakQueue.batches) {
        this.peakQueue = { batches: q.length, mb: (r.reader?.queuedBytes ?? 0) / 1e6 };
      }
    }
  }

  start(): void {
    this.probe = setInterval(() => this.probeQueue(), 50);
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const s = await this.client.query<{ events_read: string; events_applied: string; pending_batches: string }>(
          'SELECT events_read::text, events_applied::text, pending_batches::text FROM sch_chameleon.show_status() WHERE source = $1', [SOURCE]);
        const a = await this.client.query<{ q: string }>(
          `SELECT CASE
                    WHEN query ILIKE '%fn_replay_next%' THEN 'replay (fn_replay_next)'
                    WHEN query ILIKE 'COPY sch_chameleon.t_log_events%' THEN 'reader COPY t_log_events'
                    WHEN query ILIKE '%t_batches%' OR query ILIKE '%t_source_leases%' OR query ILIKE '%t_sources%' THEN 'reader batch bookkeeping'
                    ELSE left(regexp_replace(query, '\\s+', ' ', 'g'), 50) END
                  || CASE WHEN wait_event_type = 'Lock' THEN format(' [waiting Lock:%s]', wait_event) ELSE '' END AS q
             FROM pg_stat_activity
            WHERE state = 'active' AND pid <> pg_backend_pid() AND datname = current_database()
              AND query NOT ILIKE '%wait_for_position%' AND query NOT ILIKE '%wait_command%'`);
        const r = s.rows[0];
        this.samples.push({
          t: (performance.now() - this.t0) / 1000,
          read: Number(r?.events_read ?? 0),
          applied: Number(r?.events_applied ?? 0),
          pending: Number(r?.pending_batches ?? 0),
          active: a.rows.map((x) => x.q),
        });
        await sleep(250);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.probe) clearInterval(this.probe);
    await this.loop;
    await this.client.end().catch(() => undefined);
  }

  /** First sample time at which `field` reached `value`. */
  reached(field: 'read' | 'applied', value: number): number {
    return this.samples.find((s) => s[field] >= value)?.t ?? NaN;
  }

  activity(): [string, number][] {
    const counts = new Map<string, number>();
    for (const s of this.samples) for (const q of new Set(s.active)) counts.set(q, (counts.get(q) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([q, n]) => [q, n / Math.max(1, this.samples.length)]);
  }
}

interface Round {
  mode: string;
  backlog: string;
  changes: number;
  zongji: ZongjiResult;
  zongjiPatched: ZongjiResult;
  catchup: { seconds: number; startSeconds: number; applied: number; read: number; readDoneAt: number };
  direct: { seconds: number; copySeconds: number; rows: number };
  exact: string[];
  cpu: [string, CpuDelta][];
  activity: [string, number][];
  peakQueue: { batches: number; mb: number };
  batches: { n: number; avgEvents: number };
  functions: string;
  saturation: { node: number; postgres: number; mariadb: number; nodePeak: number; pgPeak: number };
}

/**
 * A first catch-up of half the backlog, not measured: the zongji reference
 * is taken after a warm-up pass, and so is the catch-up. On a cluster this
 * new, the first catch-up also pays for what a server in service has long
 * paid: shared buffers touched for the first time, the log table's first
 * pages; and the agent's code is not optimised yet. Its rate is printed.
 */
async function warmUpRound(servers: BenchServers, cham: Chameleon, my: mysql.Connection, mode: 'oltp' | 'bulk', round: number): Promise<void> {
  await cham.command('stop_replica', SOURCE);
  await makeBacklog(servers, mode, Math.ceil(CHANGES / 2), round);
  const end = await masterStatus(my);
  const before = await cham.status();
  const t0 = performance.now();
  await cham.command('start_replica', SOURCE);
  await cham.waitForPosition(end.text);
  const seconds = (performance.now() - t0) / 1000;
  const applied = Number((await cham.status()).events_applied) - Number(before.events_applied);
  step(`[${mode}] warm-up catch-up (not measured): ${fmtInt(applied)} changes in ${fmt(seconds, 2)} s, ${fmtInt(applied / seconds)} changes/s`);
}

async function backlogRound(servers: BenchServers, cham: Chameleon, my: mysql.Connection, mode: 'oltp' | 'bulk', round: number): Promise<Round> {
  step(`[${mode}] stop_replica`);
  await cham.command('stop_replica', SOURCE);
  const direct = await pgClient(servers.pgUrl('chameleon'));
  try {
    await cloneTargets(direct);
    const start = await masterStatus(my);
    step(`[${mode}] building a backlog of ~${fmtInt(CHANGES)} row changes from ${start.text}...`);
    const backlog = await makeBacklog(servers, mode, CHANGES, round);
    const end = await masterStatus(my);
    step(`[${mode}] ${backlog}; binlog ${start.text} -> ${end.text} (${fmt((end.pos - start.pos) / 1e6, 1)} MB)`);

    const cpu: [string, CpuDelta][] = [];
    let c0 = cpuSnapshot(servers);
    // zongji's own rate drifts by tens of percent from one run to the next on
    // these machines, more than the catch-up does: the reference is the median of a few runs
    // zongji alone runs in processes of its own: the agent's replica, started
    // in this process, patched zongji's parser (src/binlog/rows-hook.ts), and
    // the reference is zongji's own rate. One warm-up pass, then the median of
    // ZONGJI_ROUNDS; the patched parser's rate is shown for comparison.
    const zjRuns = (await zongjiAlone(servers, start, end, 301, false)).slice(1);
    const zj = [...zjRuns].sort((a, b) => a.seconds - b.seconds)[Math.floor(zjRuns.length / 2)];
    const zjPatched = (await zongjiAlone(servers, start, end, 311, true)).slice(1);
    const zjp = [...zjPatched].sort((a, b) => a.seconds - b.seconds)[Math.floor(zjPatched.length / 2)];
    cpu.push([`${mode}: zongji decode (2 processes, ${2 * (ZONGJI_ROUNDS + 1)} passes)`, cpuDelta(c0, cpuSnapshot(servers))]);
    step(`[${mode}] zongji alone (stock, own process): ${fmtInt(zj.changes)} row changes (${JSON.stringify(zj.byKind)}) in ${fmt(zj.seconds, 2)} s ` +
      `(median of ${zjRuns.map((z) => fmt(z.seconds, 2)).join(', ')} s after a warm-up pass; ${fmt(zj.cpuSeconds, 2)} cpu-s); ` +
      `with the agent's parser patch: ${fmt(zjp.seconds, 2)} s (median of ${zjPatched.map((z) => fmt(z.seconds, 2)).join(', ')} s)`);
    const cap = await capture(servers, direct, start, end);

    const before = await cham.status();
    const firstBatch = await maxBatch(direct);
    const fnBefore = await fnStats(direct);
    if (STATEMENTS) await resetStatements(servers.pgUrl('chameleon'));
    const sampler = new CpuSampler(servers, 1000);
    const t0 = performance.now();
    const progress = new ProgressSampler(await pgClient(servers.pgUrl('chameleon')), t0, cham.agent);
    step(`[${mode}] start_replica and wait_for_position('${end.text}')...`);
    c0 = cpuSnapshot(servers);
    sampler.start();
    progress.start();
    let startSeconds = 0;
    const catchUp = async (): Promise<void> => {
      await cham.command('start_replica', SOURCE);
      startSeconds = (performance.now() - t0) / 1000;
      await cham.waitForPosition(end.text);
    };
    if (PROFILE) {
      const file = `${PROFILE}-${mode}.cpuprofile`;
      const p = await profiled(file, catchUp);
      say(`  CPU profile of this process during the ${mode} catch-up written to ${file}; top self time:`);
      for (const [fn, share] of p.top.slice(0, 20)) say(`    ${fmt(100 * share, 1).padStart(5)}%  ${fn}`);
    } else {
      // the agent runs in this process: how long its event loop went without a turn
      const loopDelay = monitorEventLoopDelay({ resolution: 5 });
      loopDelay.enable();
      await catchUp();
      loopDelay.disable();
      const ms = (ns: number): string => fmt(ns / 1e6, 1);
      say(`  [${mode}] agent event loop delay during the catch-up: p50 ${ms(loopDelay.percentile(50))} ms, p99 ${ms(loopDelay.percentile(99))} ms, max ${ms(loopDelay.max)} ms`);
    }
    const seconds = (performance.now() - t0) / 1000;
    sampler.stop();
    await progress.stop();
    cpu.push([`${mode}: chameleon catch-up`, cpuDelta(c0, cpuSnapshot(servers))]);
    const after = await cham.status();
    const applied = Number(after.events_applied) - Number(before.events_applied);
    const read = Number(after.events_read) - Number(before.events_read);
    const readDoneAt = progress.reached('read', Number(before.events_read) + read);
    const batches = await batchesSince(direct, firstBatch);
    const functions = await fnStatsAfter(direct, fnBefore);
    if (STATEMENTS) {
      say(`  [${mode}] top statements during the catch-up (pg_stat_statements, nested included):`);
      for (const l of await topStatements(servers.pgUrl('chameleon'))) say(`    ${l}`);
    }
    step(`[${mode}] caught up in ${fmt(seconds, 2)} s (start_replica done after ${fmt(startSeconds, 2)} s): ${fmtInt(applied)} events applied, ` +
      `${fmtInt(read)} read; the reader had read everything after ~${fmt(readDoneAt, 1)} s`);

    c0 = cpuSnapshot(servers);
    const d = await directApply(direct, cap);
    cpu.push([`${mode}: direct set-based apply`, cpuDelta(c0, cpuSnapshot(servers))]);
    step(`[${mode}] direct set-based apply of ${fmtInt(cap.count)} changes: ${fmt(d.seconds, 2)} s (of which COPY ${fmt(d.copySeconds, 2)} s)`);
    const exact = await compareTargets(direct, my);
    step(`[${mode}] exactness: ${exact.length === 0 ? 'chameleon target = direct apply (md5 of every row) and = MySQL (count, sum(k))' : exact.join('; ')}`);
    return {
      mode, backlog, changes: zj.changes, zongji: zj, zongjiPatched: zjp,
      catchup: { seconds, startSeconds, applied, read, readDoneAt },
      direct: { ...d, rows: cap.count },
      exact, cpu, activity: progress.activity(), peakQueue: progress.peakQueue, batches, functions,
      saturation: {
        node: sampler.saturated('node'), postgres: sampler.saturated('postgres'), mariadb: sampler.saturated('mariadb'),
        nodePeak: sampler.peak('node'), pgPeak: sampler.peak('postgres'),
      },
    };
  } finally {
    await direct.end();
  }
}

// ---------------------------------------------------------------- stage breakdown: reader alone, replayer alone

interface Breakdown {
  mode: string;
  changes: number;
  read: { seconds: number; events: number; batches: number; avgEvents: number; cpu: CpuDelta };
  replay: { seconds: number; events: number; calls: number; cpu: CpuDelta };
}

/**
 * A second backlog of the same kind, consumed in two separate steps with
 * the agent's own classes: first the reader alone (zongji -> row images ->
 * COPY into t_log_events, committing batches and positions) until the read
 * position reaches the end, then the replayer alone (fn_replay_next until
 * nothing is pending). The agent's replica is stopped meanwhile and holds
 * no lease; the benchmark takes the lease under its own agent id.
 */
async function breakdownRound(servers: BenchServers, cham: Chameleon, my: mysql.Connection, mode: 'oltp' | 'bulk', round: number): Promise<Breakdown> {
  step(`[${mode} breakdown] stop_replica, new backlog`);
  await cham.command('stop_replica', SOURCE);
  const start = await masterStatus(my);
  const backlog = await makeBacklog(servers, mode, CHANGES, round);
  const end = await masterStatus(my);
  step(`[${mode} breakdown] ${backlog}; binlog ${start.text} -> ${end.text}`);
  const cat = openCatalog(servers.pgUrl('chameleon'), { max: 6, applicationName: 'bench breakdown' });
  const agentId = `bench-breakdown-${process.pid}`;
  try {
    await registerAgent(cat, { id: agentId, hostname: 'bench', pid: process.pid, version: catalogVersion() });
    const sid = (await cat.pool.query<{ id: string }>('SELECT source_id::text AS id FROM sch_chameleon.t_sources WHERE source_name = $1', [SOURCE])).rows[0].id;
    for (let i = 0; !(await acquireLease(cat, sid, agentId, 3600)); i++) {
      if (i > 200) throw new Error('the agent did not release the source lease after stop_replica');
      await sleep(100);
    }
    const source = (await loadSource(cat, sid))!;
    const firstBatch = (await cat.pool.query<{ m: string }>('SELECT coalesce(max(batch_id), 0)::text AS m FROM sch_chameleon.t_batches')).rows[0].m;
    const conn = await connectMysql(source.mysqlUrl);
    let failure: Error | null = null;
    const reader = new SourceReader({
      pool: cat.pool, agentId, source, conn, postgis: false, flavor: 'mariadb',
      log: createLogger({ level: 'warn' }), onBatch: () => undefined, onError: (e) => { failure = e; },
    });
    step(`[${mode} breakdown] reader alone...`);
    let c0 = cpuSnapshot(servers);
    let t0 = performance.now();
    await reader.start();
    for (;;) {
      if (failure) throw failure;
      // the reader's position is its newest batch (fn_read_position), not a column it updates
      const r = await cat.pool.query<{ f: string; p: string }>('SELECT file AS f, pos::text AS p FROM sch_chameleon.fn_read_position($1)', [sid]);
      if (r.rows[0].f === end.file && Number(r.rows[0].p) >= end.pos) break;
      await sleep(10);
    }
    const readSeconds = (performance.now() - t0) / 1000;
    const readCpu = cpuDelta(c0, cpuSnapshot(servers));
    await reader.stop();
    await conn.end().catch(() => undefined);
    const b = (await cat.pool.query<{ n: string; ev: string }>(
      'SELECT count(*)::text AS n, coalesce(sum(events), 0)::text AS ev FROM sch_chameleon.t_batches WHERE batch_id > $1 AND source_id = $2', [firstBatch, sid])).rows[0];
    step(`[${mode} breakdown] reader alone: ${fmtInt(Number(b.ev))} events in ${b.n} batches, ${fmt(readSeconds, 2)} s; replayer alone...`);
    c0 = cpuSnapshot(servers);
    t0 = performance.now();
    let events = 0;
    let calls = 0;
    for (;;) {
      const r = await replayNext(cat.pool, sid, agentId);
      if (r.batches === 0) break;
      events += r.applied;
      calls++;
    }
    const replaySeconds = (performance.now() - t0) / 1000;
    const replayCpu = cpuDelta(c0, cpuSnapshot(servers));
    step(`[${mode} breakdown] replayer alone: ${fmtInt(events)} events in ${calls} fn_replay_next calls, ${fmt(replaySeconds, 2)} s`);
    await releaseLease(cat, sid, agentId);
    await markAgentStopped(cat, agentId);
    return {
      mode, changes: Number(b.ev),
      read: { seconds: readSeconds, events: Number(b.ev), batches: Number(b.n), avgEvents: Number(b.ev) / Math.max(1, Number(b.n)), cpu: readCpu },
      replay: { seconds: replaySeconds, events, calls, cpu: replayCpu },
    };
  } finally {
    await cat.close();
    await cham.command('start_replica', SOURCE);
    await cham.waitForPosition(end.text);
  }
}

// ---------------------------------------------------------------- sustained load and lag

interface LagResult {
  idle: number[];
  loaded: number[];
  unseen: number;
  sysbench: string;
  appliedPerSecond: number;
  applied: number;
  batches: { n: number; avgEvents: number };
  functions: string;
  activity: [string, number][];
  cpu: CpuDelta;
}

/**
 * Heartbeat probes: every 100 ms a row is inserted (autocommit) into
 * sbtest.bench_heartbeat; a poller asks PostgreSQL for max(id) every ~5 ms.
 * Lag of a probe = first time PostgreSQL shows it - time its COMMIT returned.
 */
async function lagProbe(servers: BenchServers, seconds: number, during?: Promise<unknown>): Promise<{ lags: number[]; unseen: number }> {
  const my = await mysqlConn(servers.mysqlUrl, 'sbtest');
  const pgc = await pgClient(servers.pgUrl('chameleon'));
  const pending = new Map<number, number>();
  const lags: number[] = [];
  let probing = true;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const r = await pgc.query<{ m: string | null }>('SELECT max(id)::text AS m FROM sbtest.bench_heartbeat');
      const now = performance.now();
      const max = Number(r.rows[0].m ?? 0);
      for (const [id, at] of pending) {
        if (id <= max) {
          lags.push(now - at);
          pending.delete(id);
        }
      }
      await sleep(5);
    }
  })();
  const deadline = performance.now() + seconds * 1000;
  let finished = false;
  void during?.then(() => {
    finished = true;
  });
  while (probing) {
    const next = performance.now() + 100;
    const [res] = await my.query<mysql.ResultSetHeader>('INSERT INTO bench_heartbeat (ts) VALUES (NOW(6))');
    pending.set(Number(res.insertId), performance.now());
    if (process.env.CHAMELEON_BENCH_LOG === 'debug') console.error(JSON.stringify({ probe: res.insertId, committed: Date.now() }));
    if (finished || (!during && performance.now() >= deadline)) probing = false;
    await sleep(Math.max(0, next - performance.now()));
  }
  // let the last probes arrive (at most 10 s)
  const waitUntil = performance.now() + 10_000;
  while (pending.size > 0 && performance.now() < waitUntil) await sleep(20);
  polling = false;
  await poller;
  const unseen = pending.size;
  for (const at of pending.values()) lags.push(performance.now() - at);
  await my.end();
  await pgc.end();
  return { lags: lags.sort((a, b) => a - b), unseen };
}

async function sustained(servers: BenchServers, cham: Chameleon, my: mysql.Connection): Promise<LagResult> {
  const status = await cham.status();
  if (status.status !== 'running') {
    await cham.command('start_replica', SOURCE);
  }
  await cham.waitForPosition((await masterStatus(my)).text);
  step('lag with an idle source (5 s of heartbeats)...');
  const idle = await lagProbe(servers, 5);
  const before = await cham.status();
  const firstBatch = await maxBatch(cham.sql);
  const fnBefore = await fnStats(cham.sql);
  if (STATEMENTS) await resetStatements(servers.pgUrl('chameleon'));
  const activityClient = await pgClient(servers.pgUrl('chameleon'));
  const activity = new ProgressSampler(activityClient, performance.now());
  activity.start();
  const args = sysbenchArgs(servers.mysqlPort, [
    `--tables=${TABLES}`, `--table-size=${TABLE_SIZE}`, `--rate=${SUSTAINED}`, `--time=${SUSTAINED_SECONDS}`, '--events=0', `--threads=${THREADS}`,
  ]);
  step(`sustained: sysbench oltp_write_only --rate=${SUSTAINED} (~${fmtInt(SUSTAINED * 4)} row changes/s) for ${SUSTAINED_SECONDS} s, heartbeats every 100 ms...`);
  const c0 = cpuSnapshot(servers);
  const t0 = performance.now();
  const load = run('sysbench', ['oltp_write_only', ...args, 'run']);
  const loaded = await lagProbe(servers, SUSTAINED_SECONDS, load);
  const r = await load;
  await cham.waitForPosition((await masterStatus(my)).text);
  const secs = (performance.now() - t0) / 1000;
  const cpu = cpuDelta(c0, cpuSnapshot(servers));
  const after = await cham.status();
  await activity.stop();
  const batches = await batchesSince(cham.sql, firstBatch);
  const functions = await fnStatsAfter(cham.sql, fnBefore);
  if (STATEMENTS) {
    say('  top statements during the sustained load (pg_stat_statements, nested included):');
    for (const l of await topStatements(servers.pgUrl('chameleon'))) say(`    ${l}`);
  }
  const tps = /transactions:\s+(\d+)\s+\(([\d.]+) per sec/.exec(r.stdout);
  const lat = /95th percentile:\s+([\d.]+)/.exec(r.stdout);
  return {
    idle: idle.lags,
    loaded: loaded.lags,
    unseen: loaded.unseen,
    sysbench: `${tps ? `${fmtInt(Number(tps[1]))} transactions, ${fmt(Number(tps[2]), 0)}/s` : `exit ${r.code}`}` +
      `${lat ? `, sysbench p95 latency ${lat[1]} ms` : ''}`,
    appliedPerSecond: (Number(after.events_applied) - Number(before.events_applied)) / secs,
    applied: Number(after.events_applied) - Number(before.events_applied),
    batches,
    functions,
    activity: activity.activity(),
    cpu,
  };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const wallStart = Date.now();
  step(`replica benchmark: ${TABLES} x ${fmtInt(TABLE_SIZE)} rows, backlog ${fmtInt(CHANGES)} changes (${MODE}), sustained ${SUSTAINED || 'off'}`);
  const servers = await startServers({ statements: STATEMENTS });
  const rounds: Round[] = [];
  const breakdowns: Breakdown[] = [];
  let lag: LagResult | null = null;
  try {
    await prepare(servers);
    const pgUrl = await createPgDatabase(servers, 'chameleon');
    const cham = await startChameleon(pgUrl);
    const my = await mysqlConn(servers.mysqlUrl, 'sbtest');
    try {
      await cham.call('add_source', SOURCE, servers.mysqlUrl, '{"sbtest":"sbtest"}', '{"copy_jobs": 2}');
      const init = await timed(() => cham.command('init_replica', SOURCE));
      step(`init_replica: ${fmt(init.seconds, 1)} s`);
      await cham.command('start_replica', SOURCE);
      await cham.waitForPosition((await masterStatus(my)).text);
      step('replica running and caught up');

      const modes: ('oltp' | 'bulk')[] = MODE === 'all' ? ['oltp', 'bulk'] : [MODE as 'oltp' | 'bulk'];
      if (CHANGES > 0) {
        for (const [i, mode] of modes.entries()) {
          if (WARM_UP) await warmUpRound(servers, cham, my, mode, 20 + i);
          rounds.push(await backlogRound(servers, cham, my, mode, i));
          if (BREAKDOWN) breakdowns.push(await breakdownRound(servers, cham, my, mode, 10 + i));
        }
      }
      if (SUSTAINED > 0) lag = await sustained(servers, cham, my);
    } finally {
      await my.end().catch(() => undefined);
      await cham.close();
    }

    // report
    say();
    for (const r of rounds) {
      say(`Catch-up, ${r.mode}: ${r.backlog}`);
      printTable([
        ['method', 'row changes', 'seconds', 'changes/s', 'x zongji', 'x direct apply'],
        [`zongji decode only, stock, own process (reference i, median of ${ZONGJI_ROUNDS})`, fmtInt(r.zongji.changes), fmt(r.zongji.seconds, 2), fmtInt(r.zongji.changes / r.zongji.seconds), '1.00',
          fmt((r.zongji.changes / r.zongji.seconds) / (r.direct.rows / r.direct.seconds), 2)],
        [`  zongji with the agent's parser patch (for comparison)`, fmtInt(r.zongjiPatched.changes), fmt(r.zongjiPatched.seconds, 2),
          fmtInt(r.zongjiPatched.changes / r.zongjiPatched.seconds), fmt((r.zongjiPatched.changes / r.zongjiPatched.seconds) / (r.zongji.changes / r.zongji.seconds), 2),
          fmt((r.zongjiPatched.changes / r.zongjiPatched.seconds) / (r.direct.rows / r.direct.seconds), 2)],
        ['direct set-based apply (reference ii)', fmtInt(r.direct.rows), fmt(r.direct.seconds, 2), fmtInt(r.direct.rows / r.direct.seconds),
          fmt((r.direct.rows / r.direct.seconds) / (r.zongji.changes / r.zongji.seconds), 2), '1.00'],
        ['chameleon catch-up (start_replica -> wait_for_position)', fmtInt(r.catchup.applied), fmt(r.catchup.seconds, 2), fmtInt(r.catchup.applied / r.catchup.seconds),
          fmt((r.catchup.applied / r.catchup.seconds) / (r.zongji.changes / r.zongji.seconds), 2),
          fmt((r.catchup.applied / r.catchup.seconds) / (r.direct.rows / r.direct.seconds), 2)],
      ]);
      say(`  reader had read all ${fmtInt(r.catchup.read)} events after ~${fmt(r.catchup.readDoneAt, 1)} s of ${fmt(r.catchup.seconds, 1)} s; start_replica command took ${fmt(r.catchup.startSeconds, 2)} s`);
      say(`  seconds with a component >= 90% of one core: node ${fmt(100 * r.saturation.node, 0)}% (peak ${fmt(100 * r.saturation.nodePeak, 0)}%), ` +
        `postgres ${fmt(100 * r.saturation.postgres, 0)}% (peak ${fmt(100 * r.saturation.pgPeak, 0)}%), mariadb ${fmt(100 * r.saturation.mariadb, 0)}%`);
      say(`  PostgreSQL activity of the agent (share of 250 ms samples): ${r.activity.map(([q, f]) => `${q} ${fmt(100 * f, 0)}%`).join(', ') || '-'}`);
      say(`  ${r.batches.n} batches of ${fmtInt(r.batches.avgEvents)} events on average; the reader's in-memory queue peaked at ${fmtInt(r.peakQueue.batches)} batches (${fmt(r.peakQueue.mb, 1)} MB of binlog)`);
      say(`  decoder functions (pg_stat_user_functions): ${r.functions || '-'}`);
      say(`  exactness: ${r.exact.length === 0 ? 'target = direct apply = MySQL' : r.exact.join('; ')}`);
      say();
    }
    if (breakdowns.length > 0) {
      say('Stage breakdown (a second backlog of the same kind, each stage of the agent run alone with its own classes):');
      printTable([
        ['stage', 'events', 'seconds', 'changes/s', 'node cpu-s', 'postgres cpu-s', 'mariadb cpu-s', 'detail'],
        ...breakdowns.flatMap((b) => [
          [`${b.mode}: reader alone (zongji -> images -> COPY t_log_events)`, fmtInt(b.read.events), fmt(b.read.seconds, 2), fmtInt(b.read.events / b.read.seconds),
            fmt(b.read.cpu.node, 1), fmt(b.read.cpu.postgres, 1), fmt(b.read.cpu.mariadb, 1), `${b.read.batches} batches, ${fmtInt(b.read.avgEvents)} events each`],
          [`${b.mode}: replayer alone (fn_replay_next)`, fmtInt(b.replay.events), fmt(b.replay.seconds, 2), fmtInt(b.replay.events / b.replay.seconds),
            fmt(b.replay.cpu.node, 1), fmt(b.replay.cpu.postgres, 1), fmt(b.replay.cpu.mariadb, 1), `${b.replay.calls} calls`],
        ]),
      ]);
      say();
    }
    if (lag) {
      const row = (name: string, l: number[]): (string | number)[] => [
        name, l.length, fmt(percentile(l, 50), 0), fmt(percentile(l, 90), 0), fmt(percentile(l, 99), 0), fmt(l[l.length - 1] ?? NaN, 0)];
      say(`Lag (MySQL commit -> visible in PostgreSQL), heartbeat every 100 ms; load: ${lag.sysbench}; chameleon applied ${fmtInt(lag.appliedPerSecond)} changes/s`);
      printTable([
        ['condition', 'probes', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
        row('idle source', lag.idle),
        row(`oltp_write_only --rate=${SUSTAINED} (~${fmtInt(SUSTAINED * 4)} changes/s)`, lag.loaded),
      ]);
      say(`  ${fmtInt(lag.batches.n)} batches of ${fmt(lag.batches.avgEvents, 1)} events on average; CPU per applied change: ` +
        `agent (node) ${fmtInt((1e6 * lag.cpu.node) / Math.max(1, lag.applied))} us, postgres ${fmtInt((1e6 * lag.cpu.postgres) / Math.max(1, lag.applied))} us ` +
        `(both include the heartbeat prober/poller)`);
      say(`  PostgreSQL activity of the agent (share of 250 ms samples): ${lag.activity.map(([q, f]) => `${q} ${fmt(100 * f, 0)}%`).join(', ') || '-'}`);
      say(`  decoder functions (pg_stat_user_functions): ${lag.functions || '-'}`);
      if (lag.unseen > 0) say(`  ${lag.unseen} probes not visible 10 s after the load ended (counted with their age)`);
      say();
    }
    const cpu = rounds.flatMap((r) => r.cpu);
    if (lag) cpu.push([`sustained ${SUSTAINED} tps`, lag.cpu]);
    if (cpu.length > 0) {
      say('CPU by component (cpu-seconds, and % of one core averaged over the phase; 2 cores = 200%):');
      printTable(cpuRows(cpu));
      say();
    }
    say('issue figures: zongji 96,000 changes/s, pg_chameleon catch-up 5,600 changes/s; targets: catch-up >= 48,000 changes/s, lag p99 < 1 s at 4,500 changes/s');
    say(`total benchmark wall time ${fmt((Date.now() - wallStart) / 1000, 0)} s`);
  } finally {
    step('stopping servers');
    await servers.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
