/**
 * Shared helpers of the benchmarks: argument parsing, throwaway servers,
 * CPU and memory sampling, sysbench, printing. Not part of `npm test`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { startThrowawayPair, stopOnExit, type ThrowawayPair } from '../src/servers/index.js';

// ---------------------------------------------------------------- arguments

export type Flags = Map<string, string | true>;

/** `--name value` and `--flag`; values that start with `--` are not taken as values. */
export function parseFlags(argv: string[] = process.argv.slice(2)): Flags {
  const flags: Flags = new Map();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) {
      flags.set(a.slice(2, eq), a.slice(eq + 1));
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      flags.set(a.slice(2), argv[++i]);
    } else {
      flags.set(a.slice(2), true);
    }
  }
  return flags;
}

export function numFlag(flags: Flags, name: string, dflt: number): number {
  const v = flags.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a non-negative number, got ${String(v)}`);
  return n;
}

export function strFlag(flags: Flags, name: string, dflt: string): string {
  const v = flags.get(name);
  return typeof v === 'string' ? v : dflt;
}

// ---------------------------------------------------------------- output

export function say(text = ''): void {
  process.stdout.write(`${text}\n`);
}

export function step(text: string): void {
  say(`[${new Date().toISOString().slice(11, 19)}] ${text}`);
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmt(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return '-';
  return n.toFixed(digits);
}

/** Plain text table: first row is the header; numbers right-aligned. */
export function printTable(rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  say(line(cells[0]));
  say(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells.slice(1)) say(line(r));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

// ---------------------------------------------------------------- servers

export interface BenchServers {
  pair: ThrowawayPair;
  mysqlPort: number;
  pgPort: number;
  /** mysql://root@127.0.0.1:P */
  mysqlUrl: string;
  /** postgresql://postgres@127.0.0.1:Q/<db> */
  pgUrl(db?: string): string;
  stop(): Promise<void>;
}

/**
 * Throwaway MariaDB (binlog on, ROW/FULL) and PostgreSQL from the project's
 * own starters. Larger buffers than the test defaults so that the data set
 * lives in memory: every method measured in a run sees the same servers.
 */
export async function startServers(opts: { statements?: boolean } = {}): Promise<BenchServers> {
  // Data dirs under a private directory rather than $TMPDIR/chameleon-*:
  // other runs on the machine may sweep those while we measure.
  const base = await fsp.mkdtemp(path.join(os.tmpdir(), 'benchsrv-'));
  await fsp.chmod(base, 0o755); // the postgres OS user must traverse it when we run as root
  const pair = await startThrowawayPair({
    mariadb: { dataDir: path.join(base, 'mariadb'), keep: false, extraArgs: ['--innodb-buffer-pool-size=1G', '--innodb-log-file-size=512M', '--max-binlog-size=1G'] },
    postgres: {
      dataDir: path.join(base, 'postgres'),
      keep: false,
      settings: {
        max_wal_size: '8GB',
        // A server in service recycles its WAL segments; this one is new, and
        // would create and zero-fill a 16 MB file for every segment a run
        // writes (the WAL writer's pwrite of zeros was a tenth of PostgreSQL's
        // time in a catch-up). Not writing the zeros is what recycling gives.
        wal_init_zero: 'off',
        checkpoint_timeout: '30min',
        maintenance_work_mem: '256MB',
        work_mem: '32MB',
        // pg_stat_user_functions: time spent in the decoder's functions
        track_functions: 'all',
        ...(opts.statements
          ? {
            // pg_cron is what startPostgres preloads when it is installed; keep it
            shared_preload_libraries: fs.existsSync('/usr/lib/postgresql/15/lib/pg_cron.so') ? 'pg_cron,pg_stat_statements' : 'pg_stat_statements',
            'pg_stat_statements.track': 'all',
            'pg_stat_statements.track_planning': 'on',
          }
          : {}),
      },
    },
    log: (m) => say(`  ${m}`),
  });
  const unregister = stopOnExit([pair.mysql, pair.pg], { log: (m) => say(m) });
  let stopped = false;
  return {
    pair,
    mysqlPort: pair.mysql.port,
    pgPort: pair.pg.port,
    mysqlUrl: `mysql://root@127.0.0.1:${pair.mysql.port}`,
    pgUrl: (db = 'postgres') => `postgresql://postgres@127.0.0.1:${pair.pg.port}/${db}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pair.stop().catch((e: unknown) => say(`stopping servers: ${(e as Error).message}`));
      await fsp.rm(base, { recursive: true, force: true });
      unregister();
    },
  };
}

export async function pgClient(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, application_name: 'chameleon bench' });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

export async function createPgDatabase(servers: BenchServers, name: string): Promise<string> {
  const c = await pgClient(servers.pgUrl());
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name}`);
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  return servers.pgUrl(name);
}

export async function mysqlConn(url: string, database?: string): Promise<mysql.Connection> {
  return mysql.createConnection({
    uri: url,
    database,
    multipleStatements: false,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
}

export async function masterStatus(conn: mysql.Connection): Promise<{ file: string; pos: number; text: string }> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
  const file = String(rows[0].File);
  const pos = Number(rows[0].Position);
  return { file, pos, text: `${file}:${pos}` };
}

// ---------------------------------------------------------------- external commands

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a command to completion, keeping its output (tail if it is long). */
export function run(cmd: string, args: string[], opts: { echo?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    const keep = (s: string, d: Buffer): string => {
      const next = s + d.toString('utf8');
      return next.length > 1_000_000 ? next.slice(-500_000) : next;
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout = keep(stdout, d);
      if (opts.echo) process.stdout.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = keep(stderr, d);
      if (opts.echo) process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, seconds: (performance.now() - t0) / 1000 }));
  });
}

export async function hasCommand(cmd: string): Promise<boolean> {
  try {
    const r = await run(cmd, ['--version']);
    return r.code === 0;
  } catch {
    return false;
  }
}

export function sysbenchArgs(port: number, extra: string[]): string[] {
  return [
    '--db-driver=mysql',
    '--mysql-host=127.0.0.1',
    `--mysql-port=${port}`,
    '--mysql-user=root',
    '--mysql-password=',
    '--mysql-db=sbtest',
    ...extra,
  ];
}

/**
 * sbtest1..N as sysbench creates them (same DDL, k index built after the
 * rows), for machines without sysbench. c and pad follow sysbench's
 * `###########-...` patterns.
 */
export async function generateSbtestTables(conn: mysql.Connection, tables: number, size: number): Promise<void> {
  const digits = (groups: number): string =>
    `CONCAT_WS('-', ${Array.from({ length: groups }, () => "LPAD(FLOOR(RAND()*100000000000), 11, '0')").join(', ')})`;
  for (let t = 1; t <= tables; t++) {
    await conn.query(`CREATE TABLE sbtest${t} (
      id INTEGER NOT NULL AUTO_INCREMENT, k INTEGER DEFAULT '0' NOT NULL,
      c CHAR(120) DEFAULT '' NOT NULL, pad CHAR(60) DEFAULT '' NOT NULL, PRIMARY KEY (id)) ENGINE = innodb`);
    for (let from = 1; from <= size; from += 50_000) {
      const to = Math.min(size, from + 49_999);
      await conn.query(`INSERT INTO sbtest${t} (id, k, c, pad)
        SELECT seq, FLOOR(1 + RAND() * ${size}), ${digits(10)}, ${digits(5)} FROM seq_${from}_to_${to}`);
    }
    await conn.query(`CREATE INDEX k_${t} ON sbtest${t}(k)`);
  }
}

// ---------------------------------------------------------------- CPU accounting

const CLK_TCK = 100; // getconf CLK_TCK on Linux

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, seconds */
  self: number;
  /** cutime + cstime (reaped children), seconds */
  children: number;
}

function readStat(pid: number | string): ProcStat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // the command name is in parentheses and may contain spaces
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] = state (field 3); utime is field 14 -> rest[11]
  return {
    pid: Number(pid),
    ppid: Number(rest[1]),
    self: (Number(rest[11]) + Number(rest[12])) / CLK_TCK,
    children: (Number(rest[13]) + Number(rest[14])) / CLK_TCK,
  };
}

function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(name);
    if (s) out.push(s);
  }
  return out;
}

export interface CpuSnapshot {
  at: number;
  /** this Node process: the in-process agent plus the benchmark driver */
  node: number;
  /** children of this process that have exited (sysbench, pgloader, mysql client...) */
  nodeChildren: number;
  mariadb: number;
  /** postmaster + live backends + reaped backends */
  postgres: number;
  /** live (not yet reaped) direct children of this process that are not servers */
  liveChildren: number;
  /** whole machine (all CPUs), from /proc/stat: busy seconds */
  machineBusy: number;
}

function machineBusy(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - idle) / CLK_TCK;
}

export function cpuSnapshot(servers: BenchServers): CpuSnapshot {
  const stats = allStats();
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const self = byPid.get(process.pid);
  const myPid = servers.pair.mysql.pid;
  const pgPid = servers.pair.pg.pid;
  const my = myPid ? byPid.get(myPid) : undefined;
  const post = pgPid ? byPid.get(pgPid) : undefined;
  let postgres = post ? post.self + post.children : 0;
  let liveChildren = 0;
  for (const s of stats) {
    if (pgPid && s.ppid === pgPid) postgres += s.self;
    if (s.ppid === process.pid && s.pid !== myPid && s.pid !== pgPid) liveChildren += s.self + s.children;
  }
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    node: (usage.user + usage.system) / 1e6,
    nodeChildren: self ? self.children : 0,
    mariadb: my ? my.self : 0,
    postgres,
    liveChildren,
    machineBusy: machineBusy(),
  };
}

export interface CpuDelta {
  seconds: number;
  node: number;
  children: number;
  mariadb: number;
  postgres: number;
  machine: number;
}

export function cpuDelta(a: CpuSnapshot, b: CpuSnapshot): CpuDelta {
  return {
    seconds: (b.at - a.at) / 1000,
    node: b.node - a.node,
    // exited children show up in cutime; running ones are sampled live
    children: b.nodeChildren - a.nodeChildren + (b.liveChildren - a.liveChildren),
    mariadb: b.mariadb - a.mariadb,
    postgres: b.postgres - a.postgres,
    machine: b.machineBusy - a.machineBusy,
  };
}

/** Rows for printTable: CPU seconds and average cores of each component during a phase. */
export function cpuRows(phases: [string, CpuDelta][]): (string | number)[][] {
  const rows: (string | number)[][] = [[
    'phase', 'wall s', 'node (agent) cpu-s', 'postgres cpu-s', 'mariadb cpu-s', 'tools cpu-s', 'other (machine) cpu-s', 'machine busy %',
  ]];
  const cores = os.cpus().length;
  for (const [name, d] of phases) {
    const ours = d.node + d.postgres + d.mariadb + Math.max(0, d.children);
    rows.push([
      name,
      fmt(d.seconds, 1),
      `${fmt(d.node, 1)} (${fmt((100 * d.node) / d.seconds, 0)}%)`,
      `${fmt(d.postgres, 1)} (${fmt((100 * d.postgres) / d.seconds, 0)}%)`,
      `${fmt(d.mariadb, 1)} (${fmt((100 * d.mariadb) / d.seconds, 0)}%)`,
      `${fmt(Math.max(0, d.children), 1)}`,
      fmt(Math.max(0, d.machine - ours), 1),
      fmt((100 * d.machine) / (d.seconds * cores), 0),
    ]);
  }
  return rows;
}

/**
 * Samples the CPU split every `ms` and keeps per-interval deltas, to see
 * whether one component saturates a core (Node is single-threaded).
 */
export class CpuSampler {
  private timer: NodeJS.Timeout | null = null;
  private last: CpuSnapshot | null = null;
  readonly intervals: CpuDelta[] = [];

  constructor(private readonly servers: BenchServers, private readonly ms = 1000) {}

  start(): void {
    this.last = cpuSnapshot(this.servers);
    this.timer = setInterval(() => {
      const now = cpuSnapshot(this.servers);
      if (this.last) this.intervals.push(cpuDelta(this.last, now));
      this.last = now;
    }, this.ms);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Share of intervals in which a component used more than `threshold` of one core. */
  saturated(component: 'node' | 'postgres' | 'mariadb', threshold = 0.9): number {
    if (this.intervals.length === 0) return 0;
    const n = this.intervals.filter((d) => d[component] / d.seconds >= threshold).length;
    return n / this.intervals.length;
  }

  peak(component: 'node' | 'postgres' | 'mariadb'): number {
    return Math.max(0, ...this.intervals.map((d) => d[component] / d.seconds));
  }
}

/** In-process RSS sampler (the agent runs in this process). */
export class RssSampler {
  private timer: NodeJS.Timeout | null = null;
  peak = 0;
  baseline = 0;

  start(ms = 100): void {
    this.baseline = process.memoryUsage().rss;
    this.peak = this.baseline;
    this.timer = setInterval(() => {
      const rss = process.memoryUsage().rss;
      if (rss > this.peak) this.peak = rss;
    }, ms);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const rss = process.memoryUsage().rss;
    if (rss > this.peak) this.peak = rss;
  }
}

export const MB = 1024 * 1024;

export async function fileBytes(path: string): Promise<number> {
  return (await fsp.stat(path)).size;
}

// ---------------------------------------------------------------- in-process CPU profile

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/**
 * Profiles this process (the in-process agent) while `fn` runs, writes the
 * .cpuprofile (open it in Chrome DevTools) and returns the functions with
 * the most self time.
 */
export async function profiled<T>(file: string, fn: () => Promise<T>): Promise<{ value: T; top: [string, number][] }> {
  const inspector = await import('node:inspector');
  const session = new inspector.Session();
  session.connect();
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 500 });
  await post('Profiler.start');
  let value: T;
  let nodes: ProfileNode[] = [];
  try {
    value = await fn();
  } finally {
    const res = (await post('Profiler.stop')) as { profile: { nodes: ProfileNode[] } };
    session.disconnect();
    await fsp.writeFile(file, JSON.stringify(res.profile));
    nodes = res.profile.nodes;
  }
  const total = nodes.reduce((n, x) => n + (x.hitCount ?? 0), 0) || 1;
  const byFn = new Map<string, number>();
  for (const n of nodes) {
    const cf = n.callFrame;
    const where = cf.url ? `${cf.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/')}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + (n.hitCount ?? 0));
  }
  const top = [...byFn.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => [k, v / total] as [string, number]);
  return { value: value!, top };
}

// ---------------------------------------------------------------- pg_stat_statements

/** Top statements (nested ones included) by execution + planning time since the last reset. */
export async function topStatements(url: string, limit = 12): Promise<string[]> {
  const c = await pgClient(url);
  try {
    const r = await c.query<{ calls: string; exec: number; plan: number; rows: string; q: string }>(
      `SELECT calls::text, total_exec_time AS exec, total_plan_time AS plan, rows::text,
              left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS q
         FROM pg_stat_statements
        WHERE query NOT ILIKE '%pg_stat_statements%' AND query NOT ILIKE '%wait_for_position%' AND query NOT ILIKE '%wait_command%'
        ORDER BY total_exec_time + total_plan_time DESC LIMIT $1`, [limit]);
    return r.rows.map((x) => `${fmt((x.exec + x.plan) / 1000, 2).padStart(6)} s (plan ${fmt(x.plan / 1000, 2)} s) ${fmtInt(Number(x.calls)).padStart(7)} calls ${fmtInt(Number(x.rows)).padStart(9)} rows  ${x.q}`);
  } finally {
    await c.end();
  }
}

export async function resetStatements(url: string): Promise<void> {
  const c = await pgClient(url);
  try {
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await c.query('SELECT pg_stat_statements_reset()');
  } finally {
    await c.end();
  }
}
