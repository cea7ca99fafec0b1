import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/agent.js';
import { replicaTestEnv, replicate, startInProcessAgent, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';
import { runCommand, tableStates } from '../harness/snapshot.js';

let env: ReplicaTestEnv;
let agent: Agent;

before(async () => {
  env = await replicaTestEnv('ddl');
  await env.my.conn.query('CREATE TABLE a (id INT PRIMARY KEY, v INT)');
  await env.my.conn.query('CREATE TABLE b (id INT PRIMARY KEY, v INT)');
  await env.my.conn.query('CREATE TABLE c (id INT PRIMARY KEY, v INT)');
  agent = await startInProcessAgent(env.pg.url);
});

after(async () => {
  await agent?.stop();
  await env?.cleanup();
});

const rows = async (table: string): Promise<unknown[]> =>
  (await env.pg.pool.query(`SELECT * FROM ddl.${table} ORDER BY id`)).rows;

test('a table changed by MySQL DDL stops replicating at that point, visibly; the others go on; sync_tables brings it back', async () => {
  const c = env.my.conn;
  const pool = env.pg.pool;
  const db = env.my.name;
  await replicate(env, 'ddl', 'ddl');
  await c.query('INSERT INTO a VALUES (1, 1)');
  await c.query('INSERT INTO b VALUES (1, 1)');
  await c.query('ALTER TABLE a ADD COLUMN w INT NOT NULL DEFAULT 7');
  await c.query('INSERT INTO a VALUES (2, 2, 8)');
  await c.query('INSERT INTO b VALUES (2, 2)');
  await c.query('TRUNCATE TABLE c');
  await waitCaughtUp(c, pool, 'ddl');

  const states = await tableStates(pool, 'ddl');
  assert.equal(states.a.state, 'excluded');
  assert.match(states.a.reason ?? '', /^MySQL DDL not replicated: ALTER TABLE a ADD COLUMN w/);
  assert.equal(states.c.state, 'excluded', 'TRUNCATE is not in the row events: the table is excluded rather than left with the old rows');
  assert.equal(states.b.state, 'replicating');
  assert.deepEqual(await rows('a'), [{ id: 1, v: 1 }], 'events before the DDL are applied, none after');
  assert.deepEqual(await rows('b'), [{ id: 1, v: 1 }, { id: 2, v: 2 }]);
  const errors = await pool.query("SELECT mysql_table, statement FROM sch_chameleon.show_errors() WHERE source = 'ddl' ORDER BY mysql_table");
  assert.deepEqual(errors.rows.map((r) => [r.mysql_table, r.statement]), [
    ['a', 'ALTER TABLE a ADD COLUMN w INT NOT NULL DEFAULT 7'],
    ['c', 'TRUNCATE TABLE c'],
  ]);
  const status = await pool.query("SELECT status, tables_excluded FROM sch_chameleon.show_status() WHERE source = 'ddl'");
  assert.equal(status.rows[0].status, 'running', 'DDL never stops the replica');
  assert.equal(Number(status.rows[0].tables_excluded), 2);

  const sync = await runCommand(pool, 'sch_chameleon.sync_tables($1, $2)', ['ddl', [`${db}.a`, `${db}.c`]]);
  assert.equal(sync.state, 'done');
  await c.query('INSERT INTO a VALUES (3, 3, 9)');
  await c.query('INSERT INTO c VALUES (1, 1)');
  await waitCaughtUp(c, pool, 'ddl');
  assert.deepEqual(await rows('a'), [{ id: 1, v: 1, w: 7 }, { id: 2, v: 2, w: 8 }, { id: 3, v: 3, w: 9 }]);
  assert.deepEqual(await rows('c'), [{ id: 1, v: 1 }]);
  const after = await tableStates(pool, 'ddl');
  assert.equal(after.a.state, 'replicating');
  assert.equal(after.c.state, 'replicating');
});
