import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import type { Agent } from '../../src/agent/agent.js';
import { replicaTestEnv, replicate, startInProcessAgent, sql1, tableRows, type ReplicaTestEnv } from '../harness/replica.js';

let env: ReplicaTestEnv;
let agent: Agent | null;
const T = { mysql: 'kv', pg: 'gt.kv', mysqlExprs: 'k, v', pgExprs: 'k, v', orderBy: 'k' };

before(async () => {
  env = await replicaTestEnv('replica_gtid');
  await env.my.conn.query('CREATE TABLE kv (k VARCHAR(20) PRIMARY KEY, v INT NOT NULL)');
  await env.my.conn.query("INSERT INTO kv VALUES ('a', 1), ('b', 2)");
  agent = await startInProcessAgent(env.pg.url);
  await replicate(env, 'gt', 'gt', { gtid_enable: true });
});

after(async () => {
  await agent?.stop();
  await env?.cleanup();
});

async function gtidPos(c: mysql.Connection): Promise<string> {
  const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT @@gtid_binlog_pos AS p');
  return String(rows[0].p);
}

test('gtid_enable: the replica resumes by GTID after a restart; wait_for_position takes a MariaDB GTID', async () => {
  const c = env.my.conn;
  const pool = env.pg.pool;
  await c.query("INSERT INTO kv VALUES ('c', 3)");
  const pos1 = await gtidPos(c);
  const applied = await sql1<{ p: string }>(pool, "SELECT sch_chameleon.wait_for_position('gt', $1, '30 seconds') AS p", [pos1]);
  assert.match(applied.p, new RegExp(pos1.replace(/-/g, '\\-')), 'the replay position carries the GTID position');
  assert.equal((await sql1<{ v: number }>(pool, "SELECT v FROM gt.kv WHERE k = 'c'")).v, 3);

  await agent!.stop();
  agent = null;
  await c.query("UPDATE kv SET v = v * 10");
  await c.query("DELETE FROM kv WHERE k = 'a'");
  await c.query("INSERT INTO kv VALUES ('d', 4)");
  const pos2 = await gtidPos(c);
  const status = await sql1<{ read_position: string }>(pool, "SELECT read_position FROM sch_chameleon.show_status() WHERE source = 'gt'");
  assert.match(status.read_position, /\(\d+-\d+-\d+\)$/);
  agent = await startInProcessAgent(env.pg.url);
  await pool.query("SELECT sch_chameleon.wait_for_position('gt', $1, '60 seconds')", [pos2]);
  const rows = await tableRows(c, pool, T);
  assert.deepEqual(rows.pg, rows.mysql);
  assert.deepEqual(rows.pg, [['b', '20'], ['c', '30'], ['d', '4']]);
  await assert.rejects(pool.query("SELECT sch_chameleon.wait_for_position('gt', '0-1-999999999', '200 milliseconds')"), /not applied after/);
});

test('lag stays right on an idle source (heartbeats), and shows a backlog', async () => {
  const pool = env.pg.pool;
  await new Promise((r) => setTimeout(r, 4000));
  const idle = await sql1<{ r: number; p: number; pending_batches: string }>(pool,
    "SELECT extract(epoch FROM read_lag) AS r, extract(epoch FROM replay_lag) AS p, pending_batches FROM sch_chameleon.show_status() WHERE source = 'gt'");
  assert.ok(Number(idle.r) < 1.5, `idle read lag ${idle.r}s, the last event is 4 s old`);
  assert.ok(Number(idle.p) < 1.5, `idle replay lag ${idle.p}s`);
  assert.equal(Number(idle.pending_batches), 0);

  // with the agent gone the stamp ages: the lag grows instead of claiming to be current
  await agent!.stop();
  agent = null;
  await env.my.conn.query("INSERT INTO kv VALUES ('late', 1)");
  await new Promise((r) => setTimeout(r, 6000));
  const behind = await sql1<{ r: number }>(pool, "SELECT extract(epoch FROM read_lag) AS r FROM sch_chameleon.show_status() WHERE source = 'gt'");
  assert.ok(Number(behind.r) >= 5, `read lag with no agent: ${behind.r}s`);
  agent = await startInProcessAgent(env.pg.url);
});
