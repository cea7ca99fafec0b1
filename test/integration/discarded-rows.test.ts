import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/agent.js';
import { replicaTestEnv, replicate, startInProcessAgent, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';

let env: ReplicaTestEnv;
let agent: Agent;

before(async () => {
  env = await replicaTestEnv('discarded');
  await env.my.conn.query('CREATE TABLE notes (id INT PRIMARY KEY, body TEXT NOT NULL, n INT)');
  await env.my.conn.query("INSERT INTO notes VALUES (1, 'fine', 1), (2, CONCAT('nul', CHAR(0), 'inside'), 2), (3, 'tab\\there', 3)");
  agent = await startInProcessAgent(env.pg.url);
});

after(async () => {
  await agent?.stop();
  await env?.cleanup();
});

test('rows PostgreSQL cannot hold are kept aside with the reason, by the snapshot and by the replica; the rest is exact', async () => {
  const pool = env.pg.pool;
  await replicate(env, 'dr', 'dr');
  const copied = await pool.query('SELECT id, body, n FROM dr.notes ORDER BY id');
  assert.deepEqual(copied.rows, [{ id: 1, body: 'fine', n: 1 }, { id: 3, body: 'tab\there', n: 3 }]);
  const snap = await pool.query("SELECT mysql_table, origin, row_image, reason FROM sch_chameleon.show_discarded_rows() WHERE source = 'dr'");
  assert.equal(snap.rows.length, 1);
  assert.equal(snap.rows[0].origin, 'snapshot');
  assert.equal(snap.rows[0].row_image.id, '2');
  assert.equal(snap.rows[0].row_image.body, 'nul\\u0000inside');
  assert.match(snap.rows[0].reason, /NUL.*column body/);
  const tables = await pool.query("SELECT rows_copied FROM sch_chameleon.show_tables('dr')");
  assert.equal(Number(tables.rows[0].rows_copied), 2);

  const c = env.my.conn;
  await c.query("INSERT INTO notes VALUES (4, CONCAT(CHAR(0)), 4), (5, 'ok', 5)");
  await c.query("UPDATE notes SET n = 30 WHERE id = 3");
  await waitCaughtUp(c, pool, 'dr');
  const live = await pool.query('SELECT id, n FROM dr.notes ORDER BY id');
  assert.deepEqual(live.rows, [{ id: 1, n: 1 }, { id: 3, n: 30 }, { id: 5, n: 5 }]);
  const rep = await pool.query("SELECT origin, reason FROM sch_chameleon.show_discarded_rows() WHERE source = 'dr' AND origin = 'replica'");
  assert.equal(rep.rows.length, 1);
  assert.match(rep.rows[0].reason, /NUL.*column body/);
});
