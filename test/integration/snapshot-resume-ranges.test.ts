/**
 * A ranged copy interrupted after some of its ranges landed goes on past
 * them, at a new snapshot, and the table records the first snapshot's
 * coordinates (docs/snapshot.md, "Resuming an interrupted command"). A
 * writer changes rows all over the key space meanwhile, so the replay from
 * the older coordinates really runs over rows copied later. What MariaDB
 * was asked is read back from its general log: the range queries of each
 * attempt, each with its lower bound.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import type { Agent } from '../../src/agent/agent.js';
import { replicaTestEnv, sql1, startAgentProcess, startInProcessAgent, waitCaughtUp, type AgentProcess, type ReplicaTestEnv } from '../harness/replica.js';
import { loadingSchemaName } from '../../src/snapshot/plan.js';
import { addSource, assertStandardSame, fillStandardTable, pgIdent, runCommand, standardTableDdl, startWriter, waitFor, type Writer } from '../harness/snapshot.js';

const ROWS = 200_000;
const RANGE = 20_000;

const envs: ReplicaTestEnv[] = [];
const agents: Agent[] = [];
let proc: AgentProcess | null = null;
let writer: Writer | null = null;
let logSettings: { output: string; on: string } | null = null;

before(async () => {
  envs.push(await replicaTestEnv('snap_ranges_kill'), await replicaTestEnv('snap_ranges_retry'), await replicaTestEnv('snap_ranges_changed'));
  for (const [i, env] of envs.entries()) {
    await env.my.conn.query(standardTableDdl('big'));
    await fillStandardTable(env.my.conn, 'big', i < 2 ? ROWS : ROWS / 2);
  }
  const c = envs[0].my.conn;
  const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT @@GLOBAL.log_output AS output, @@GLOBAL.general_log AS `on`');
  logSettings = { output: String(rows[0].output), on: String(rows[0].on) };
  await c.query("SET GLOBAL log_output = 'TABLE'");
  await c.query('SET GLOBAL general_log = 1');
});

after(async () => {
  await writer?.stop().catch(() => undefined);
  await proc?.kill().catch(() => undefined);
  for (const a of agents) await a.stop();
  if (logSettings) {
    await envs[0].my.conn.query(`SET GLOBAL general_log = ${logSettings.on === '1' ? 1 : 0}`).catch(() => undefined);
    await envs[0].my.conn.query('SET GLOBAL log_output = ?', [logSettings.output]).catch(() => undefined);
  }
  for (const env of envs) await env.cleanup();
});

interface TableRow {
  state: string;
  copy_file: string | null;
  copy_pos: string | null;
  copy_command: string | null;
  copy_ranges: number;
  rows_copied: string;
}

async function tableRow(env: ReplicaTestEnv): Promise<TableRow> {
  return sql1<TableRow>(env.pg.pool, "SELECT state, copy_file, copy_pos, copy_command, copy_ranges, rows_copied FROM sch_chameleon.t_tables WHERE mysql_table = 'big'");
}

/** The rows the loading table holds and its largest key: what the interrupted attempt left. */
async function loaded(env: ReplicaTestEnv, source: string): Promise<{ rows: number; max: string }> {
  const { id } = await sql1<{ id: string }>(env.pg.pool, 'SELECT source_id AS id FROM sch_chameleon.t_sources WHERE source_name = $1', [source]);
  const r = await sql1<{ rows: string; max: string }>(env.pg.pool, `SELECT count(*) AS rows, max(id)::text AS max FROM ${pgIdent(loadingSchemaName(id, source))}.big`);
  return { rows: Number(r.rows), max: r.max };
}

interface RangeQuery {
  thread: string;
  /** null for the first range, read from the first key */
  after: string | null;
}

/** The range queries MariaDB received for the test database's `big`, in order. */
async function rangeQueries(env: ReplicaTestEnv): Promise<RangeQuery[]> {
  const [rows] = await env.my.conn.query<mysql.RowDataPacket[]>(
    "SELECT thread_id, argument FROM mysql.general_log WHERE command_type = 'Query' ORDER BY event_time, thread_id",
  );
  const from = `FROM \`${env.my.name}\`.\`big\``;
  const out: RangeQuery[] = [];
  for (const r of rows) {
    const text = Buffer.isBuffer(r.argument) ? r.argument.toString('utf8') : String(r.argument);
    if (!text.includes(from) || !text.includes(`ORDER BY \`id\` LIMIT ${RANGE}`)) continue;
    const m = /WHERE `id` > (-?[0-9]+) ORDER BY/.exec(text);
    out.push({ thread: String(r.thread_id), after: m ? m[1] : null });
  }
  return out;
}

/** Replica on, writer stopped, caught up: PostgreSQL's table equals MySQL's row by row. */
async function assertExactAfterCatchUp(env: ReplicaTestEnv, source: string): Promise<void> {
  const start = await runCommand(env.pg.pool, `sch_chameleon.start_replica('${source}')`, []);
  assert.equal(start.state, 'done');
  await new Promise((r) => setTimeout(r, 300));
  await writer!.stop();
  writer = null;
  await waitCaughtUp(env.my.conn, env.pg.pool, source, '60 seconds');
  await assertStandardSame(env.my.conn, env.pg.pool, 'big', source);
  const s = await sql1<{ consistent: boolean }>(env.pg.pool, 'SELECT consistent FROM sch_chameleon.show_status() WHERE source = $1', [source]);
  assert.equal(s.consistent, true);
}

test('an agent killed during a ranged copy: the next agent reads only past the loaded ranges, records the first snapshot, exact after catch-up', { timeout: 60_000 }, async () => {
  const env = envs[0];
  const pool = env.pg.pool;
  await addSource(pool, 'rk', env.my.url, { [env.my.name]: 'rk' }, { copy_jobs: 1, copy_range_rows: RANGE });
  writer = await startWriter(env.my.url, ['big'], { seed: 11, pauseMs: 1 });

  proc = startAgentProcess(env.pg.url, 3);
  const { id } = await sql1<{ id: string }>(pool, "SELECT sch_chameleon.init_replica('rk') AS id");
  await waitFor('three ranges landed', async () => ((await tableRow(env))?.copy_ranges ?? 0) >= 3, 40_000, 10);
  await proc.kill();
  proc = null;

  const atKill = await tableRow(env);
  assert.equal(atKill.state, 'copying');
  assert.equal(atKill.copy_command, String(id), 'the copy names its command');
  assert.ok(atKill.copy_file !== null && atKill.copy_pos !== null, 'the first snapshot\'s coordinates are kept while the table copies');
  const left = await loaded(env, 'rk');
  assert.equal(left.rows % RANGE, 0, `whole ranges only: the COPY cut short by the kill left nothing (${left.rows} rows)`);
  assert.ok(left.rows / RANGE >= 3 && left.rows < ROWS, `the kill came after some ranges and before the end (${left.rows} rows)`);
  const firstRun = await rangeQueries(env);
  assert.equal(firstRun[0].after, null, 'the first attempt read from the first key');

  // the source changes while no agent runs
  await new Promise((r) => setTimeout(r, 300));
  agents.push(await startInProcessAgent(env.pg.url));
  const done = await sql1<{ state: string; progress: Record<string, unknown> }>(pool, 'SELECT * FROM sch_chameleon.wait_command($1, $2)', [id, '2 minutes']);
  assert.equal(done.state, 'done');
  assert.deepEqual(done.progress.tables_failed, []);

  const resumed = (await rangeQueries(env)).slice(firstRun.length);
  assert.ok(resumed.length > 0);
  assert.equal(new Set(resumed.map((q) => q.thread)).size, 1);
  assert.ok(!firstRun.some((q) => q.thread === resumed[0].thread), 'the resumed ranges come from the new agent');
  assert.equal(resumed[0].after, left.max, 'the resumed copy starts right past the largest key loaded');
  const bounds = resumed.map((q) => BigInt(q.after ?? 'x'));
  for (let i = 1; i < bounds.length; i++) assert.ok(bounds[i] > bounds[i - 1], 'each range past the one before');
  assert.ok(resumed.length <= Math.ceil((ROWS - left.rows) / RANGE) + 2, `${resumed.length} ranges read again: only the rest of the table`);

  const final = await tableRow(env);
  assert.equal(final.state, 'copied');
  assert.deepEqual([final.copy_file, final.copy_pos], [atKill.copy_file, atKill.copy_pos], 'the table records the first snapshot\'s coordinates');
  assert.equal(final.copy_ranges, left.rows / RANGE + resumed.length, 'ranges counted across both attempts');
  const { n } = await sql1<{ n: string }>(pool, 'SELECT count(*) AS n FROM rk.big');
  assert.equal(Number(final.rows_copied), Number(n), 'rows counted across both attempts');
  assert.equal(Number(done.progress.rows_copied), Number(n));
  const comment = await sql1<{ c: string | null }>(pool, "SELECT obj_description('rk.big'::regclass, 'pg_class') AS c");
  assert.equal(comment.c, null, 'the resume mark does not reach the target table');

  await assertExactAfterCatchUp(env, 'rk');
});

test('a COPY that fails midway is retried in the same command: only the failed range is read again, the first snapshot recorded, exact after catch-up', { timeout: 60_000 }, async () => {
  const env = envs[1];
  const pool = env.pg.pool;
  agents.push(await startInProcessAgent(env.pg.url));
  await addSource(pool, 'rr', env.my.url, { [env.my.name]: 'rr' }, { copy_jobs: 1, copy_range_rows: RANGE });
  writer = await startWriter(env.my.url, ['big'], { seed: 13, pauseMs: 1 });
  const { id } = await sql1<{ id: string }>(pool, "SELECT sch_chameleon.init_replica('rr') AS id");
  await waitFor('three ranges landed', async () => ((await tableRow(env))?.copy_ranges ?? 0) >= 3, 40_000, 10);
  // a PostgreSQL session ended under a running COPY: a transient failure, retried on new connections
  let terminated = false;
  await waitFor('a COPY terminated', async () => {
    const r = await pool.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
        WHERE datname = current_database() AND state = 'active' AND query LIKE 'COPY %_chameleon_load_%big%'`,
    );
    terminated = r.rows.some((x) => x.ok);
    return terminated;
  }, 20_000, 5);
  const atFailure = await tableRow(env);
  assert.ok(atFailure.copy_file !== null, 'the first snapshot\'s coordinates are kept while the table copies');

  const done = await sql1<{ state: string; progress: Record<string, unknown> }>(pool, 'SELECT * FROM sch_chameleon.wait_command($1, $2)', [id, '2 minutes']);
  assert.equal(done.state, 'done');
  assert.deepEqual(done.progress.tables_failed, []);

  const queries = await rangeQueries(env);
  const threads = [...new Set(queries.map((q) => q.thread))];
  assert.equal(threads.length, 2, 'two attempts, each on its own MySQL connection');
  const first = queries.filter((q) => q.thread === threads[0]);
  const retry = queries.filter((q) => q.thread === threads[1]);
  assert.equal(first[0].after, null);
  assert.ok(first.length >= 4, `the failure came after some ranges (${first.length} read)`);
  assert.ok(retry.every((q) => q.after !== null), 'the retry never reads from the first key');
  assert.equal(retry[0].after, first[first.length - 1].after, 'the retry starts at the range whose COPY failed, the landed ones are not read again');

  const final = await tableRow(env);
  assert.equal(final.state, 'copied');
  assert.deepEqual([final.copy_file, final.copy_pos], [atFailure.copy_file, atFailure.copy_pos], 'the table records the first snapshot\'s coordinates');
  assert.equal(final.copy_ranges, queries.length - 1, 'every range counted once');
  const { n } = await sql1<{ n: string }>(pool, 'SELECT count(*) AS n FROM rr.big');
  assert.equal(Number(final.rows_copied), Number(n));
  assert.equal(Number(done.progress.rows_copied), Number(n), 'the command\'s progress counts the kept rows once');

  await assertExactAfterCatchUp(env, 'rr');
});

test('a table changed in MySQL while no agent ran is copied again from scratch, at a new snapshot', { timeout: 60_000 }, async () => {
  const env = envs[2];
  const pool = env.pg.pool;
  await addSource(pool, 'rc', env.my.url, { [env.my.name]: 'rc' }, { copy_jobs: 1, copy_range_rows: RANGE });
  proc = startAgentProcess(env.pg.url, 3);
  const { id } = await sql1<{ id: string }>(pool, "SELECT sch_chameleon.init_replica('rc') AS id");
  await waitFor('two ranges landed', async () => ((await tableRow(env))?.copy_ranges ?? 0) >= 2, 40_000, 10);
  await proc.kill();
  proc = null;
  const atKill = await tableRow(env);
  assert.equal(atKill.state, 'copying');
  assert.ok((await loaded(env, 'rc')).rows >= 2 * RANGE);
  const firstRun = await rangeQueries(env);

  // the loaded rows lack the new column: they cannot be kept
  await env.my.conn.query('ALTER TABLE big ADD COLUMN extra INT NOT NULL DEFAULT 7');
  agents.push(await startInProcessAgent(env.pg.url));
  const done = await sql1<{ state: string }>(pool, 'SELECT * FROM sch_chameleon.wait_command($1, $2)', [id, '2 minutes']);
  assert.equal(done.state, 'done');

  const again = (await rangeQueries(env)).slice(firstRun.length);
  assert.equal(again[0].after, null, 'the copy starts again from the first key');
  assert.equal(again.length, ROWS / 2 / RANGE + 1, 'every range read again');
  const final = await tableRow(env);
  assert.equal(final.state, 'copied');
  assert.notDeepEqual([final.copy_file, final.copy_pos], [atKill.copy_file, atKill.copy_pos], 'the new snapshot\'s coordinates, not the first');
  assert.equal(final.copy_ranges, again.length);
  await assertStandardSame(env.my.conn, pool, 'big', 'rc');
  const extra = await sql1<{ n: string }>(pool, 'SELECT count(*) AS n FROM rc.big WHERE extra = 7');
  assert.equal(Number(extra.n), ROWS / 2, 'the table has the column added in MySQL');
});
