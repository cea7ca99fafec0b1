import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/agent.js';
import { replicaTestEnv, startInProcessAgent, sql1, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';
import { addSource, assertSameRows, assertStandardSame, fillStandardTable, runCommand, standardTableDdl, startWriter } from '../harness/snapshot.js';

let env: ReplicaTestEnv;
let agent: Agent | null = null;

const TABLES = ['big1', 'big2', 'mid', 'small'];

before(async () => {
  env = await replicaTestEnv('snap_concurrent');
  const c = env.my.conn;
  for (const t of TABLES) await c.query(standardTableDdl(t));
  await fillStandardTable(c, 'big1', 150_000);
  await fillStandardTable(c, 'big2', 120_000);
  await fillStandardTable(c, 'mid', 30_000);
  await fillStandardTable(c, 'small', 2_000);
  await c.query('CREATE TABLE nokey (a INT NOT NULL, b VARCHAR(20) NULL)');
  await c.query("INSERT INTO nokey SELECT seq, CONCAT('b', seq % 50) FROM seq_1_to_3000");
  agent = await startInProcessAgent(env.pg.url);
});

after(async () => {
  await agent?.stop();
  await env?.cleanup();
});

test('writes during init_replica (copy_jobs 2, key ranges): after the replica catches up every table is exact', async () => {
  const pool = env.pg.pool;
  const c = env.my.conn;
  await addSource(pool, 'busy', env.my.url, { [env.my.name]: 'busy' }, { copy_jobs: 2, copy_range_rows: 25_000 });
  const writer = await startWriter(env.my.url, TABLES, { seed: 11 });
  const nokeyWriter = (async () => {
    // a table without a key gets inserts only: whole-row identity cannot tell duplicate rows apart
    for (let i = 0; i < 200; i++) await c.query('INSERT INTO nokey VALUES (?, ?)', [100_000 + i, `w${i}`]);
  })();
  await new Promise((r) => setTimeout(r, 200));
  const before = writer.count;
  const init = await runCommand(pool, "sch_chameleon.init_replica('busy')", []);
  const during = writer.count - before;
  await nokeyWriter;
  assert.equal(init.state, 'done');
  assert.ok(during > 20, `the writer committed ${during} statements while init_replica ran`);
  assert.deepEqual(init.progress.tables_failed, []);
  assert.equal(init.progress.tables_done, 5);

  // the large tables went by key ranges, each range recorded; the small ones in one read
  const ranges = await pool.query(`SELECT mysql_table, copy_ranges, rows_copied FROM sch_chameleon.t_tables ORDER BY mysql_table`);
  const byTable = Object.fromEntries(ranges.rows.map((r) => [r.mysql_table, { ranges: Number(r.copy_ranges), rows: Number(r.rows_copied) }]));
  assert.ok(byTable.big1.ranges >= 6, `big1 ranges: ${byTable.big1.ranges}`);
  assert.ok(byTable.big2.ranges >= 5, `big2 ranges: ${byTable.big2.ranges}`);
  assert.ok(byTable.mid.ranges >= 2, `mid ranges: ${byTable.mid.ranges}`);
  assert.equal(byTable.small.ranges, 0);
  assert.ok(byTable.big1.rows >= 150_000 - 2_000, `big1 rows copied: ${byTable.big1.rows}`);

  // every table has its own coordinates: the writer kept moving the binlog between the copies
  const coords = await pool.query('SELECT DISTINCT copy_file, copy_pos FROM sch_chameleon.t_tables');
  assert.ok(coords.rows.length >= 2, 'tables copied at different binlog positions');

  const start = await runCommand(pool, "sch_chameleon.start_replica('busy')", []);
  assert.equal(start.state, 'done');
  await new Promise((r) => setTimeout(r, 500));
  const total = await writer.stop();
  assert.ok(total > during);
  await waitCaughtUp(c, pool, 'busy', '90 seconds');
  for (const t of TABLES) await assertStandardSame(c, pool, t, 'busy');
  await assertSameRows(c, pool, 'SELECT a, b FROM nokey ORDER BY a, b', 'SELECT a, b FROM busy.nokey ORDER BY a, b', 'busy.nokey');
  const s = await sql1<{ consistent: boolean; status: string; tables_excluded: string }>(pool, 'SELECT * FROM sch_chameleon.show_status()');
  assert.equal(s.status, 'running');
  assert.equal(s.consistent, true);
  assert.equal(Number(s.tables_excluded), 0);
});
