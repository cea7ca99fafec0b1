/**
 * Progress while a copy runs, as SQL shows it (SPEC §5: rows, bytes,
 * estimate): show_tables(source) and show_commands().progress are polled
 * during a real init_replica of a table read in key ranges, and must move
 * between nothing and everything before they settle on MySQL's count.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/agent.js';
import { replicaTestEnv, sql1, startInProcessAgent, type ReplicaTestEnv } from '../harness/replica.js';
import { addSource } from '../harness/snapshot.js';

const ROWS = 300_000;
const RANGE = 15_000;

let env: ReplicaTestEnv;
let agent: Agent;

before(async () => {
  env = await replicaTestEnv('snap_progress');
  const my = env.my.conn;
  await my.query('CREATE TABLE narrow (id INT PRIMARY KEY, v INT NOT NULL)');
  await my.query(`INSERT INTO narrow SELECT seq, seq % 97 FROM seq_1_to_${ROWS}`);
  await my.query('CREATE TABLE small (id INT PRIMARY KEY)');
  await my.query('INSERT INTO small SELECT seq FROM seq_1_to_10');
  // the key ranges and the estimate come from the statistics
  await my.query('ANALYZE TABLE narrow, small');
  agent = await startInProcessAgent(env.pg.url);
});

after(async () => {
  await agent?.stop();
  await env?.cleanup();
});

interface TableRow {
  mysql_table: string;
  state: string;
  rows_copied: number;
  rows_estimate: number | null;
  bytes_copied: number;
}

interface Seen {
  tables: Record<string, TableRow>;
  command: { state: string; progress: Record<string, unknown> | null };
}

test('show_tables and show_commands report rows, estimate, bytes and state while the copy runs, then MySQL\'s count', { timeout: 60_000 }, async () => {
  const pool = env.pg.pool;
  // one job: the small table waits, pending, while the large one (first: largest first) copies
  await addSource(pool, 'prog', env.my.url, { [env.my.name]: 'prog' }, { copy_jobs: 1, copy_range_rows: RANGE });
  const { id } = await sql1<{ id: string }>(pool, "SELECT sch_chameleon.init_replica('prog') AS id");

  const seen: Seen[] = [];
  for (const deadline = Date.now() + 45_000; ;) {
    const tables = await pool.query(
      `SELECT mysql_table, state, rows_copied::float8 AS rows_copied, rows_estimate::float8 AS rows_estimate, bytes_copied::float8 AS bytes_copied
         FROM sch_chameleon.show_tables('prog')`,
    );
    const command = await sql1<Seen['command']>(pool, 'SELECT state, progress FROM sch_chameleon.show_commands() WHERE id = $1', [id]);
    seen.push({ tables: Object.fromEntries(tables.rows.map((r: TableRow) => [r.mysql_table, r])), command });
    if (['done', 'failed', 'cancelled'].includes(command.state)) break;
    assert.ok(Date.now() < deadline, `init_replica did not end in time: ${JSON.stringify(seen.at(-1))}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.equal(seen.at(-1)!.command.state, 'done');

  // while the large table copies: some of its rows, not all, with bytes and an estimate
  const midway = seen.filter((s) => s.tables.narrow?.state === 'copying' && s.tables.narrow.rows_copied > 0 && s.tables.narrow.rows_copied < ROWS);
  assert.ok(midway.length > 0, `a poll saw narrow copying with 0 < rows_copied < ${ROWS}: ${JSON.stringify(seen.map((s) => s.tables.narrow))}`);
  for (const s of midway) {
    assert.ok(s.tables.narrow.bytes_copied > 0, 'bytes are counted with the rows');
    assert.ok(s.tables.narrow.rows_estimate !== null && s.tables.narrow.rows_estimate > 0, 'the estimate is there from the start');
    assert.equal(s.tables.small?.state, 'pending', 'with one job the other table waits');
  }
  // and the command's own progress moves the same way
  const commandMidway = seen.filter((s) => s.command.state === 'running' && Number(s.command.progress?.rows_copied ?? 0) > 0 &&
    Number(s.command.progress?.rows_copied) < ROWS);
  assert.ok(commandMidway.length > 0, `show_commands() showed rows copied mid-copy: ${JSON.stringify(seen.map((s) => s.command.progress))}`);
  for (const s of commandMidway) {
    assert.equal(s.command.progress?.tables_total, 2);
    assert.ok(Number(s.command.progress?.rows_estimate) > 0);
    assert.ok(Number(s.command.progress?.bytes_copied) > 0);
  }

  // never backwards, per table and for the command
  const series = (f: (s: Seen) => number): number[] => seen.map(f);
  for (const [what, values] of [
    ['narrow rows_copied', series((s) => s.tables.narrow?.rows_copied ?? 0)],
    ['narrow bytes_copied', series((s) => s.tables.narrow?.bytes_copied ?? 0)],
    ['command rows_copied', series((s) => Number(s.command.progress?.rows_copied ?? 0))],
  ] as const) {
    for (let i = 1; i < values.length; i++) assert.ok(values[i] >= values[i - 1], `${what} went back from ${values[i - 1]} to ${values[i]}`);
  }

  // the end: exactly MySQL's counts
  const [counts] = await env.my.conn.query<import('mysql2').RowDataPacket[]>('SELECT (SELECT count(*) FROM narrow) AS narrow, (SELECT count(*) FROM small) AS small');
  const final = seen.at(-1)!;
  for (const t of ['narrow', 'small']) {
    assert.equal(final.tables[t].state, 'copied', t);
    assert.equal(final.tables[t].rows_copied, Number(counts[0][t]), `${t}: rows_copied is MySQL's count`);
    assert.ok(final.tables[t].bytes_copied > 0, `${t}: bytes copied`);
  }
  const progress = final.command.progress!;
  assert.equal(progress.rows_copied, Number(counts[0].narrow) + Number(counts[0].small));
  assert.equal(progress.tables_done, 2);
  assert.equal(progress.bytes_copied, final.tables.narrow.bytes_copied + final.tables.small.bytes_copied);
  const ranges = await sql1<{ n: number }>(pool, "SELECT copy_ranges AS n FROM sch_chameleon.t_tables WHERE mysql_table = 'narrow'");
  assert.equal(Number(ranges.n), Math.ceil((ROWS + 1) / RANGE), 'read in key ranges');
  const pgCount = await sql1<{ n: number }>(pool, 'SELECT count(*)::int AS n FROM prog.narrow');
  assert.equal(pgCount.n, ROWS);
});
