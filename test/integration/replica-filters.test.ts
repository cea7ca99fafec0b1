import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/agent.js';
import { replicaTestEnv, replicate, startInProcessAgent, sql1, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';

let env: ReplicaTestEnv;
let agent: Agent;

before(async () => {
  env = await replicaTestEnv('replica_filters');
  for (const t of ['keep', 'nodel', 'skipped']) {
    await env.my.conn.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, v INT NOT NULL)`);
    await env.my.conn.query(`INSERT INTO ${t} VALUES (1, 1), (2, 2), (3, 3)`);
  }
  agent = await startInProcessAgent(env.pg.url);
});

after(async () => {
  await agent?.stop();
  await env?.cleanup();
});

test('skip_tables, skip_events and limit_tables hold for the snapshot and the replica', async () => {
  const pool = env.pg.pool;
  const db = env.my.name;
  await replicate(env, 'flt', 'flt', { skip_tables: [`${db}.skipped`], skip_events: { delete: [`${db}.nodel`], update: [], insert: [] } });
  const tables = await pool.query("SELECT mysql_table FROM sch_chameleon.show_tables('flt') ORDER BY 1");
  assert.deepEqual(tables.rows.map((r) => r.mysql_table), ['keep', 'nodel']);
  assert.equal((await sql1<{ t: string | null }>(pool, "SELECT to_regclass('flt.skipped')::text AS t")).t, null);

  const c = env.my.conn;
  for (const t of ['keep', 'nodel', 'skipped']) {
    await c.query(`DELETE FROM ${t} WHERE id = 1`);
    await c.query(`UPDATE ${t} SET v = v * 10 WHERE id = 2`);
    await c.query(`INSERT INTO ${t} VALUES (4, 4)`);
  }
  await waitCaughtUp(c, pool, 'flt');
  assert.deepEqual((await pool.query('SELECT id, v FROM flt.keep ORDER BY id')).rows, [{ id: 2, v: 20 }, { id: 3, v: 3 }, { id: 4, v: 4 }]);
  assert.deepEqual((await pool.query('SELECT id, v FROM flt.nodel ORDER BY id')).rows,
    [{ id: 1, v: 1 }, { id: 2, v: 20 }, { id: 3, v: 3 }, { id: 4, v: 4 }], 'deletes skipped, the rest applied');
  const events = await pool.query("SELECT mysql_table, events_applied FROM sch_chameleon.show_tables('flt') ORDER BY 1");
  assert.deepEqual(events.rows.map((r) => [r.mysql_table, Number(r.events_applied)]), [['keep', 3], ['nodel', 2]]);
});
