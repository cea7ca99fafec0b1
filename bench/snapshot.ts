/**
 * Snapshot benchmark: chameleon init_replica against PostgreSQL's own COPY
 * (the ceiling) and pgloader, on the same data in the same run.
 *
 *   node dist/bench/snapshot.js [--rows 250000] [--tables 4] [--wide-rows 20000]
 *                               [--jobs 2] [--no-pgloader]
 *
 * See bench/README.md for what is measured.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type mysql from 'mysql2/promise';
import {
  CpuSampler, cpuDelta, cpuRows, cpuSnapshot, createPgDatabase, fileBytes, fmt, fmtInt, generateSbtestTables, hasCommand,
  mysqlConn, numFlag, strFlag, parseFlags, pgClient, printTable, profiled, RssSampler, run, say, startServers, step, sysbenchArgs, timed,
  type BenchServers, type CpuDelta, MB,
} from './common.js';
import { SOURCE, startChameleon } from './chameleon.js';
import { connectMysql } from '../src/mysql/connection.js';

const flags = parseFlags();
const ROWS = numFlag(flags, 'rows', 250_000);
const TABLES = numFlag(flags, 'tables', 4);
const WIDE_ROWS = numFlag(flags, 'wide-rows', 20_000);
const JOBS = numFlag(flags, 'jobs', 2);
// the agent's memory bound for the copy streams (source option copy_max_memory)
const MAX_MEMORY = strFlag(flags, 'max-memory', '300M');
const PROFILE = strFlag(flags, 'profile', '');
// rounds of init_replica and of the COPY ceilings; each figure is the median
const REPEAT = Math.max(1, numFlag(flags, 'repeat', 3));
const WITH_PGLOADER = !flags.has('no-pgloader');
const BREAKDOWN = !flags.has('no-breakdown');
const DECIMAL_MB = 1e6;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

interface Measure {
  method: string;
  seconds: number;
  rows: number;
  bytes: number;
  note?: string;
}

async function buildDataset(servers: BenchServers): Promise<{ rows: number; method: string }> {
  const admin = await mysqlConn(servers.mysqlUrl);
  await admin.query('CREATE DATABASE sbtest CHARACTER SET utf8mb4');
  await admin.end();
  let method: string;
  if (await hasCommand('sysbench')) {
    const args = sysbenchArgs(servers.mysqlPort, [`--tables=${TABLES}`, `--table-size=${ROWS}`, `--threads=${Math.min(TABLES, 2)}`]);
    step(`sysbench oltp_read_write ${args.join(' ')} prepare`);
    const r = await run('sysbench', ['oltp_read_write', ...args, 'prepare']);
    if (r.code !== 0) throw new Error(`sysbench prepare failed:\n${r.stdout}\n${r.stderr}`);
    method = `sysbench prepare (${fmt(r.seconds, 1)} s)`;
  } else {
    step('sysbench not found: generating the equivalent sbtest tables with SQL');
    const conn = await mysqlConn(servers.mysqlUrl, 'sbtest');
    const t = await timed(() => generateSbtestTables(conn, TABLES, ROWS));
    await conn.end();
    method = `generated sbtest tables (${fmt(t.seconds, 1)} s)`;
  }
  const conn = await mysqlConn(servers.mysqlUrl, 'sbtest');
  try {
    if (WIDE_ROWS > 0) {
      const t = await timed(() => buildWideTable(conn));
      step(`wide table: ${fmtInt(WIDE_ROWS)} rows in ${fmt(t.seconds, 1)} s`);
    }
    const [counts] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT SUM(n) AS n FROM (${[...Array.from({ length: TABLES }, (_, i) => `SELECT COUNT(*) AS n FROM sbtest${i + 1}`),
        ...(WIDE_ROWS > 0 ? ['SELECT COUNT(*) FROM wide'] : [])].join(' UNION ALL ')}) x`,
    );
    return { rows: Number(counts[0].n), method };
  } finally {
    await conn.end();
  }
}

/** 20,000 rows of ~4 KB as COPY text: a 2 KB text with characters COPY must escape, 1 KB of random bytes (2 KB as hex). */
async function buildWideTable(conn: mysql.Connection): Promise<void> {
  await conn.query(`CREATE TABLE wide (
      id INT NOT NULL PRIMARY KEY,
      title VARCHAR(200) NOT NULL,
      body MEDIUMTEXT NOT NULL,
      payload BLOB NOT NULL,
      created_at DATETIME(6) NOT NULL,
      amount DECIMAL(12,2) NOT NULL,
      note TEXT NULL,
      KEY wide_created (created_at)
    ) ENGINE=InnoDB`);
  let randomBytes = 'RANDOM_BYTES(1024)';
  try {
    await conn.query('SELECT RANDOM_BYTES(4)');
  } catch {
    randomBytes = 'UNHEX(REPEAT(SHA2(CONCAT(seq, RAND()), 256), 32))';
  }
  const piece = ' ünïcødé "quoted" back\\slash\ttab\nnewline; ';
  for (let from = 1; from <= WIDE_ROWS; from += 2000) {
    const to = Math.min(WIDE_ROWS, from + 1999);
    await conn.query(
      `INSERT INTO wide (id, title, body, payload, created_at, amount, note)
       SELECT seq, CONCAT('title ', seq, ' ', MD5(seq)), REPEAT(CONCAT(MD5(seq), ?), 28), ${randomBytes},
              TIMESTAMP('2020-01-01 00:00:00') + INTERVAL seq * 37 SECOND + INTERVAL seq MICROSECOND,
              ROUND(RAND() * 100000, 2), IF(seq % 2 = 0, NULL, CONCAT('note ', seq))
       FROM seq_${from}_to_${to}`,
      [piece],
    );
  }
}

/** Rows of the migrated schema in a PostgreSQL database. */
async function countPgRows(url: string, schema: string): Promise<number> {
  const c = await pgClient(url);
  try {
    const tables = await c.query<{ t: string }>(
      `SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname = $1`, [schema]);
    let n = 0;
    for (const { t } of tables.rows) {
      const r = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${t}`);
      n += Number(r.rows[0].n);
    }
    return n;
  } finally {
    await c.end();
  }
}

interface TableInfo {
  name: string;
  rows: number;
  file: string;
  bytes: number;
  /** statements that rebuild its keys and indexes in schema `__SCHEMA__` */
  indexes: string[];
}

/** Exports every table of the chameleon target as COPY text files (server side), with its index definitions. */
async function exportTables(servers: BenchServers, url: string, schema: string): Promise<TableInfo[]> {
  const c = await pgClient(url);
  try {
    const tables = await c.query<{ t: string; n: string }>(
      `SELECT c.relname AS t, c.reltuples::bigint::text AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.relname`, [schema]);
    const out: TableInfo[] = [];
    for (const { t } of tables.rows) {
      const file = path.join(servers.pair.pg.dataDir, `bench_export_${t}.copy`);
      const res = await c.query(`COPY ${schema}.${t} TO '${file}'`);
      const idx = await c.query<{ stmt: string }>(
        `SELECT CASE WHEN con.oid IS NOT NULL
                     THEN format('ALTER TABLE __SCHEMA__.%I ADD CONSTRAINT %I %s', $2::text, con.conname, pg_get_constraintdef(con.oid))
                     ELSE regexp_replace(pg_get_indexdef(i.indexrelid), ' ON ${schema}\\.', ' ON __SCHEMA__.') END AS stmt
           FROM pg_index i
           LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype IN ('p', 'u') AND con.conrelid = i.indrelid
          WHERE i.indrelid = format('%I.%I', $1::text, $2::text)::regclass
          ORDER BY i.indisprimary DESC`, [schema, t]);
      out.push({ name: t, rows: res.rowCount ?? 0, file, bytes: await fileBytes(file), indexes: idx.rows.map((r) => r.stmt) });
    }
    return out;
  } finally {
    await c.end();
  }
}

/**
 * The ceiling: PostgreSQL loading the same rows from COPY text files into
 * fresh tables (same columns), keys and indexes built after the data,
 * `jobs` tables at a time (largest first, like init_replica).
 */
async function copyCeiling(url: string, source: string, target: string, tables: TableInfo[], jobs: number): Promise<number> {
  const admin = await pgClient(url);
  await admin.query(`DROP SCHEMA IF EXISTS ${target} CASCADE`);
  await admin.query(`CREATE SCHEMA ${target}`);
  await admin.query('CHECKPOINT');
  await admin.end();
  const queue = [...tables].sort((a, b) => b.bytes - a.bytes);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: jobs }, async () => {
    const c = await pgClient(url);
    try {
      for (let t = queue.shift(); t; t = queue.shift()) {
        await c.query(`CREATE TABLE ${target}.${t.name} (LIKE ${source}.${t.name} INCLUDING DEFAULTS)`);
        await c.query(`COPY ${target}.${t.name} FROM '${t.file}'`);
        for (const stmt of t.indexes) await c.query(stmt.split('__SCHEMA__').join(target));
      }
    } finally {
      await c.end();
    }
  }));
  return (performance.now() - t0) / 1000;
}

/** Streams each query's rows into Node and drops them, `jobs` queries at a time. */
async function readOnly(servers: BenchServers, queries: string[], jobs: number, asBuffers = true): Promise<number> {
  const queue = [...queries];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: jobs }, async () => {
    // the agent's own connection setup (sql_mode, time zone, utf8mb4)
    const conn = await connectMysql(servers.mysqlUrl);
    try {
      for (let q = queue.shift(); q; q = queue.shift()) {
        const raw = (conn as unknown as { connection: import('mysql2').Connection }).connection;
        const opts = asBuffers
          ? { sql: q, rowsAsArray: true, typeCast: (field: { buffer(): Buffer | null }) => field.buffer() }
          : { sql: q, rowsAsArray: true };
        await new Promise<void>((resolve, reject) => {
          const stream = raw.query(opts as never).stream({ highWaterMark: 256 });
          stream.on('data', () => undefined);
          stream.on('end', () => resolve());
          stream.on('error', reject);
        });
      }
    } finally {
      await conn.end();
    }
  }));
  return (performance.now() - t0) / 1000;
}

/** The exported files sent by Node through COPY FROM STDIN into fresh tables, indexes after the data. */
async function copyFromNode(url: string, source: string, target: string, tables: TableInfo[], jobs: number): Promise<number> {
  const admin = await pgClient(url);
  await admin.query(`DROP SCHEMA IF EXISTS ${target} CASCADE`);
  await admin.query(`CREATE SCHEMA ${target}`);
  await admin.query('CHECKPOINT');
  await admin.end();
  const queue = [...tables].sort((a, b) => b.bytes - a.bytes);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: jobs }, async () => {
    const c = await pgClient(url);
    try {
      for (let t = queue.shift(); t; t = queue.shift()) {
        await c.query(`CREATE TABLE ${target}.${t.name} (LIKE ${source}.${t.name} INCLUDING DEFAULTS)`);
        await pipeline(fs.createReadStream(t.file, { highWaterMark: 1024 * 1024 }), c.query(copyFrom(`COPY ${target}.${t.name} FROM STDIN`)));
        for (const stmt of t.indexes) await c.query(stmt.split('__SCHEMA__').join(target));
      }
    } finally {
      await c.end();
    }
  }));
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const wallStart = Date.now();
  step(`snapshot benchmark: ${TABLES} sysbench tables x ${fmtInt(ROWS)} rows + wide table ${fmtInt(WIDE_ROWS)} rows, copy_jobs ${JOBS}, copy_max_memory ${MAX_MEMORY}`);
  const servers = await startServers();
  const phases: [string, CpuDelta][] = [];
  const results: Measure[] = [];
  const stages: Measure[] = [];
  try {
    const dataset = await buildDataset(servers);
    step(`dataset ready: ${fmtInt(dataset.rows)} rows (${dataset.method})`);

    // (a) chameleon init_replica
    const pgUrl = await createPgDatabase(servers, 'chameleon');
    const cham = await startChameleon(pgUrl);
    let rssPeak = 0;
    let agentSelects: string[] = [];
    let rssBase = 0;
    try {
      await cham.call('add_source', SOURCE, servers.mysqlUrl, '{"sbtest":"sbtest"}', JSON.stringify({ copy_jobs: JOBS, copy_max_memory: MAX_MEMORY }));
      await cham.sql.query('CHECKPOINT');
      // the general log records the SELECTs the agent sends, for the stage breakdown below
      const myAdmin = await mysqlConn(servers.mysqlUrl);
      await myAdmin.query("SET GLOBAL log_output = 'TABLE'");
      await myAdmin.query('SET GLOBAL general_log = 1');
      const rss = new RssSampler();
      const sampler = new CpuSampler(servers, 1000);
      step('chameleon init_replica...');
      const c0 = cpuSnapshot(servers);
      rss.start(100);
      sampler.start();
      const init = (): ReturnType<typeof cham.command> => cham.command('init_replica', SOURCE);
      const u0 = process.cpuUsage();
      let t: Awaited<ReturnType<typeof timed<Awaited<ReturnType<typeof init>>>>>;
      if (PROFILE) {
        const p = await profiled(`${PROFILE}-snapshot.cpuprofile`, () => timed(init));
        t = p.value;
        say(`  CPU profile of this process during init_replica written to ${PROFILE}-snapshot.cpuprofile; top self time:`);
        for (const [fn, share] of p.top.slice(0, 20)) say(`    ${(100 * share).toFixed(1).padStart(5)}%  ${fn}`);
      } else {
        t = await timed(init);
      }
      sampler.stop();
      rss.stop();
      const u = process.cpuUsage(u0);
      say(`  agent process CPU during init_replica: user ${fmt(u.user / 1e6, 2)} s, system ${fmt(u.system / 1e6, 2)} s`);
      phases.push(['chameleon init_replica', cpuDelta(c0, cpuSnapshot(servers))]);
      await myAdmin.query('SET GLOBAL general_log = 0');
      const [logged] = await myAdmin.query<mysql.RowDataPacket[]>(
        "SELECT CONVERT(argument USING utf8mb4) AS q FROM mysql.general_log WHERE command_type = 'Query' AND argument LIKE 'SELECT %' AND argument LIKE '%FROM `sbtest`.%'");
      agentSelects = logged.map((r) => String(r.q));
      await myAdmin.end();
      rssPeak = rss.peak;
      rssBase = rss.baseline;
      const progress = t.value.progress ?? {};
      const copied = Number(progress.rows_copied ?? 0);
      const pgRows = await countPgRows(pgUrl, 'sbtest');
      results.push({ method: `chameleon init_replica (copy_jobs ${JOBS})`, seconds: t.seconds, rows: pgRows, bytes: 0 });
      step(`init_replica: ${fmt(t.seconds, 2)} s, rows copied ${fmtInt(copied)} (in PostgreSQL: ${fmtInt(pgRows)}), ` +
        `agent-reported bytes ${fmt(Number(progress.bytes_copied ?? 0) / DECIMAL_MB, 1)} MB; RSS baseline ${fmt(rssBase / MB, 0)} MiB, peak ${fmt(rssPeak / MB, 0)} MiB`);
      say(`  CPU during init: node >= 90% of a core in ${fmt(100 * sampler.saturated('node'), 0)}% of seconds (peak ${fmt(100 * sampler.peak('node'), 0)}%), ` +
        `postgres peak ${fmt(100 * sampler.peak('postgres'), 0)}%, mariadb peak ${fmt(100 * sampler.peak('mariadb'), 0)}%`);
      const per = await cham.sql.query<{ mysql_table: string; rows_copied: string; bytes_copied: string; secs: string }>(
        `SELECT mysql_table, rows_copied::text, bytes_copied::text,
                round(extract(epoch FROM copy_finished_at - copy_started_at)::numeric, 2)::text AS secs
           FROM sch_chameleon.show_tables($1) ORDER BY copy_started_at`, [SOURCE]);
      const span = await cham.sql.query<{ claim: string; before: string; tables: string; after: string }>(
        `SELECT round(extract(epoch FROM c.started_at - c.created_at)::numeric, 3)::text AS claim,
                round(extract(epoch FROM min(t.copy_started_at) - c.started_at)::numeric, 3)::text AS before,
                round(extract(epoch FROM max(t.copy_finished_at) - min(t.copy_started_at))::numeric, 3)::text AS tables,
                round(extract(epoch FROM c.finished_at - max(t.copy_finished_at))::numeric, 3)::text AS after
           FROM sch_chameleon.show_commands() c, sch_chameleon.show_tables($1) t
          WHERE c.id = $2::bigint GROUP BY c.created_at, c.started_at, c.finished_at`, [SOURCE, t.value.id]);
      const sp = span.rows[0];
      if (sp) say(`  init_replica command: claimed after ${sp.claim} s; ${sp.before} s before the first table; tables ${sp.tables} s; ${sp.after} s after the last`);
      for (const r of per.rows) {
        say(`    ${r.mysql_table.padEnd(10)} ${fmtInt(Number(r.rows_copied)).padStart(9)} rows  ${fmt(Number(r.bytes_copied) / DECIMAL_MB, 1).padStart(7)} MB  ${r.secs.padStart(6)} s`);
      }
      if (pgRows !== dataset.rows) throw new Error(`chameleon copied ${pgRows} rows, MySQL has ${dataset.rows}`);
    } catch (err) {
      await cham.close();
      throw err;
    }

    // (b) the COPY ceiling on the same rows
    step('exporting the copied tables as COPY text (server side)...');
    const exp = await timed(() => exportTables(servers, pgUrl, 'sbtest'));
    const tables = exp.value;
    const bytes = tables.reduce((n, t) => n + t.bytes, 0);
    const rows = tables.reduce((n, t) => n + t.rows, 0);
    step(`export: ${fmtInt(rows)} rows, ${fmt(bytes / DECIMAL_MB, 1)} MB of COPY text in ${fmt(exp.seconds, 1)} s`);
    for (const r of results) r.bytes = bytes;
    // rounds of init_replica and of the ceilings, interleaved: this machine's speed drifts by tens of
    // percent from minute to minute, so each method's figure is its median over the rounds
    const initRuns = [results[0].seconds];
    const ceilingRuns = new Map<number, number[]>();
    const sessions = [1, JOBS].filter((j, i, a) => a.indexOf(j) === i);
    try {
      for (let round = 1; round <= REPEAT; round++) {
        if (round > 1) {
          step(`init_replica again (round ${round} of ${REPEAT})...`);
          const again = await timed(() => cham.command('init_replica', SOURCE));
          initRuns.push(again.seconds);
          step(`  ${fmt(again.seconds, 2)} s`);
        }
        for (const jobs of sessions) {
          step(`COPY FROM file, ${jobs} session(s), indexes after data (round ${round} of ${REPEAT})...`);
          const c0 = cpuSnapshot(servers);
          const secs = await copyCeiling(pgUrl, 'sbtest', `ceiling_${jobs}`, tables, jobs);
          if (round === 1) phases.push([`COPY ceiling (${jobs} session${jobs > 1 ? 's' : ''})`, cpuDelta(c0, cpuSnapshot(servers))]);
          ceilingRuns.set(jobs, [...(ceilingRuns.get(jobs) ?? []), secs]);
          step(`  ${fmt(secs, 2)} s`);
        }
      }
    } finally {
      await cham.close();
    }
    const runsNote = (runs: number[]): string | undefined => (runs.length > 1 ? `median of ${runs.map((x) => fmt(x, 2)).join(', ')} s` : undefined);
    results[0].seconds = median(initRuns);
    results[0].note = runsNote(initRuns);
    for (const jobs of sessions) {
      const runs = ceilingRuns.get(jobs)!;
      results.push({ method: `PostgreSQL COPY FROM file, ${jobs} session${jobs > 1 ? 's' : ''} (ceiling)`, seconds: median(runs), rows, bytes, note: runsNote(runs) });
    }

    // stage breakdown of init_replica: each side of its pipeline alone, same concurrency
    if (BREAKDOWN && agentSelects.length > 0) {
      step(`stage breakdown: the agent's ${agentSelects.length} SELECTs read into Node and discarded, ${JOBS} at a time...`);
      let c0 = cpuSnapshot(servers);
      const readSecs = await readOnly(servers, agentSelects, JOBS);
      phases.push([`stage: the agent's SELECTs -> node (${JOBS} streams)`, cpuDelta(c0, cpuSnapshot(servers))]);
      stages.push({ method: `stage: agent's SELECTs read and discarded (${JOBS} streams)`, seconds: readSecs, rows, bytes });
      step(`  ${fmt(readSecs, 2)} s`);
      step(`stage breakdown: SELECT * of the same tables read into Node (mysql2 default decoding) and discarded...`);
      c0 = cpuSnapshot(servers);
      const rawSecs = await readOnly(servers, tables.map((t) => `SELECT * FROM sbtest.\`${t.name}\``), JOBS, false);
      phases.push([`stage: SELECT * -> node (${JOBS} streams)`, cpuDelta(c0, cpuSnapshot(servers))]);
      stages.push({ method: `stage: plain SELECT * read and discarded (${JOBS} streams)`, seconds: rawSecs, rows, bytes });
      step(`  ${fmt(rawSecs, 2)} s`);
      step(`stage breakdown: the exported COPY files sent from Node with COPY FROM STDIN (pg-copy-streams), ${JOBS} sessions, indexes after...`);
      c0 = cpuSnapshot(servers);
      const writeSecs = await copyFromNode(pgUrl, 'sbtest', 'stdin_copy', tables, JOBS);
      phases.push([`stage: node -> COPY FROM STDIN (${JOBS} sessions)`, cpuDelta(c0, cpuSnapshot(servers))]);
      stages.push({ method: `stage: COPY FROM STDIN from Node, indexes after (${JOBS} sessions)`, seconds: writeSecs, rows, bytes });
      step(`  ${fmt(writeSecs, 2)} s`);
    }

    // (c) pgloader
    if (WITH_PGLOADER && (await hasCommand('pgloader'))) {
      const target = await createPgDatabase(servers, 'pgl');
      const args = ['--dynamic-space-size', '4096', `${servers.mysqlUrl}/sbtest`, target];
      step(`pgloader ${args.join(' ')}`);
      const c0 = cpuSnapshot(servers);
      let r = await run('pgloader', args);
      if (r.code !== 0 && /dynamic-space-size/i.test(r.stderr + r.stdout)) {
        say('  pgloader refused --dynamic-space-size; running it without');
        r = await run('pgloader', args.slice(2));
      }
      phases.push(['pgloader', cpuDelta(c0, cpuSnapshot(servers))]);
      const summary = (r.stdout + r.stderr).trim().split('\n');
      say(summary.slice(-16).map((l) => `  | ${l}`).join('\n'));
      if (r.code !== 0) throw new Error(`pgloader exited with ${r.code}`);
      const pglRows = await countPgRows(target, 'sbtest');
      results.push({ method: 'pgloader (defaults)', seconds: r.seconds, rows: pglRows, bytes, note: pglRows !== rows ? `${pglRows} rows!` : undefined });
      step(`  ${fmt(r.seconds, 2)} s, ${fmtInt(pglRows)} rows in PostgreSQL`);
    } else {
      say('pgloader skipped');
    }

    // report
    const ceilings = results.filter((r) => r.method.includes('ceiling'));
    const ceiling = ceilings.reduce((a, b) => (a.seconds <= b.seconds ? a : b));
    const pgl = results.find((r) => r.method.startsWith('pgloader'));
    say();
    say(`Snapshot of ${fmtInt(rows)} rows / ${fmt(bytes / DECIMAL_MB, 1)} MB (COPY text, MB = 10^6 bytes); ` +
      `${TABLES} x ${fmtInt(ROWS)} sysbench rows + ${fmtInt(WIDE_ROWS)} wide rows; ratios are rows/s over the reference's rows/s`);
    printTable([
      ['method', 'seconds', 'rows/s', 'MB/s', 'x COPY ceiling', 'x pgloader'],
      ...results.map((r) => [
        r.method + (r.note ? ` (${r.note})` : ''),
        fmt(r.seconds, 2),
        fmtInt(r.rows / r.seconds),
        fmt(r.bytes / DECIMAL_MB / r.seconds, 1),
        fmt(ceiling.seconds / r.seconds, 2),
        pgl ? fmt(pgl.seconds / r.seconds, 2) : '-',
      ]),
    ]);
    if (stages.length > 0) {
      say();
      say('Stage breakdown of init_replica (each side of its MySQL -> Node -> PostgreSQL pipeline alone, same data and concurrency):');
      printTable([
        ['stage', 'seconds', 'rows/s', 'MB/s', 'x chameleon time'],
        ...stages.map((r) => [r.method, fmt(r.seconds, 2), fmtInt(r.rows / r.seconds), fmt(r.bytes / DECIMAL_MB / r.seconds, 1), fmt(r.seconds / results[0].seconds, 2)]),
      ]);
    }
    say();
    say(`chameleon agent process RSS: baseline ${fmt(rssBase / MB, 0)} MiB, peak ${fmt(rssPeak / MB, 0)} MiB (+${fmt((rssPeak - rssBase) / MB, 0)} MiB during init_replica)`);
    say();
    say('CPU by component (cpu-seconds, and % of one core averaged over the phase; 2 cores = 200%):');
    printTable(cpuRows(phases));
    say();
    say(`targets: chameleon >= 50% of the COPY ceiling (issue figures: ceiling 600-730k rows/s, pgloader 167k rows/s, pg_chameleon 170k rows/s)`);
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
