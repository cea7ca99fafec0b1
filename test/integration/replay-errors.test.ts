import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/agent.js';
import { replicaTestEnv, startInProcessAgent, sql1, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';

let env: ReplicaTestEnv;
let agent: Agent;

before(async () => {
  env = await replicaTestEnv('replay_errors');
  await env.my.conn.query('CREATE TABLE good (id INT PRIMARY KEY, v INT NOT NULL)');
  await env.my.conn.query('CREATE TABLE bad (id INT PRIMARY KEY, v INT NOT NULL)');
  await env.my.conn.query('INSERT INTO good VALUES (1, 1), (2, 2)');
  await env.my.conn.query('INSERT INTO bad VALUES (1, 1), (2, 2)');
  agent = await startInProcessAgent(env.pg.url);
});

after(async () => {
  await agent?.stop();
  await env?.cleanup();
});

async function startSource(name: string, schema: string, options: Record<string, unknown>): Promise<void> {
  const pool = env.pg.pool;
  await pool.query('SELECT sch_chameleon.add_source($1, $2, $3, $4)', [
    name, env.my.url.replace(/\/[^/]*$/, ''), JSON.stringify({ [env.my.name]: schema }), JSON.stringify(options),
  ]);
  const init = await sql1<{ id: string }>(pool, 'SELECT sch_chameleon.init_replica($1) AS id', [name]);
  await pool.query('SELECT * FROM sch_chameleon.wait_command($1, $2)', [init.id, '1 minute']);
  // PostgreSQL will refuse what MySQL accepts: the replay of that row must fail
  await pool.query(`ALTER TABLE ${schema}.bad ADD CONSTRAINT small_v CHECK (v < 100)`);
  const start = await sql1<{ id: string }>(pool, 'SELECT sch_chameleon.start_replica($1) AS id', [name]);
  await pool.query('SELECT * FROM sch_chameleon.wait_command($1, $2)', [start.id, '1 minute']);
}

test('on_error_replay continue: the failing table is excluded with its statement and row; the others go on', async () => {
  const pool = env.pg.pool;
  const c = env.my.conn;
  await startSource('cont', 'cont', { on_error_replay: 'continue' });
  await c.query('INSERT INTO good VALUES (3, 3)');
  await c.query('START TRANSACTION');
  await c.query('INSERT INTO bad VALUES (3, 500)');
  await c.query('UPDATE good SET v = 30 WHERE id = 3');
  await c.query('COMMIT');
  await c.query('INSERT INTO good VALUES (4, 4)');
  await c.query('INSERT INTO bad VALUES (4, 4)');
  await waitCaughtUp(c, pool, 'cont');
  const good = await pool.query('SELECT id, v FROM cont.good ORDER BY id');
  assert.deepEqual(good.rows, [{ id: 1, v: 1 }, { id: 2, v: 2 }, { id: 3, v: 30 }, { id: 4, v: 4 }]);
  const bad = await pool.query('SELECT id, v FROM cont.bad ORDER BY id');
  assert.deepEqual(bad.rows, [{ id: 1, v: 1 }, { id: 2, v: 2 }], 'nothing applied to the excluded table after the error');
  const tables = await pool.query("SELECT mysql_table, state, reason FROM sch_chameleon.show_tables('cont') ORDER BY 1");
  assert.equal(tables.rows[0].state, 'excluded');
  assert.match(tables.rows[0].reason, /small_v/);
  assert.equal(tables.rows[1].state, 'replicating');
  const errors = await pool.query("SELECT * FROM sch_chameleon.show_errors() WHERE source = 'cont'");
  assert.equal(errors.rows.length, 1);
  assert.equal(errors.rows[0].mysql_table, 'bad');
  assert.equal(errors.rows[0].sqlstate, '23514');
  assert.deepEqual(errors.rows[0].row_image, { id: 3, v: 500 });
  assert.match(errors.rows[0].statement, /INSERT INTO "?cont"?\."?bad"?/);
  const status = await sql1<{ status: string; tables_excluded: string }>(pool, "SELECT * FROM sch_chameleon.show_status() WHERE source = 'cont'");
  assert.equal(status.status, 'running');
  assert.equal(Number(status.tables_excluded), 1);
  const stop = await sql1<{ id: string }>(pool, "SELECT sch_chameleon.stop_replica('cont') AS id");
  await pool.query('SELECT * FROM sch_chameleon.wait_command($1)', [stop.id]);
});

test('on_error_replay exit: the source stops in error, nothing of the failing batch applied', async () => {
  const pool = env.pg.pool;
  const c = env.my.conn;
  await c.query('DELETE FROM bad WHERE v >= 100');
  await startSource('stop', 'stop', { on_error_replay: 'exit' });
  await c.query('START TRANSACTION');
  await c.query('UPDATE good SET v = 99 WHERE id = 1');
  await c.query('UPDATE bad SET v = 1000 WHERE id = 2');
  await c.query('COMMIT');
  let status: { status: string; last_error: string } = { status: '', last_error: '' };
  for (let i = 0; i < 100; i++) {
    status = await sql1(pool, "SELECT status, last_error FROM sch_chameleon.show_status() WHERE source = 'stop'");
    if (status.status === 'error') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(status.status, 'error');
  assert.match(status.last_error, /small_v/);
  const errors = await pool.query("SELECT sqlstate, message, statement, mysql_table, row_image FROM sch_chameleon.show_errors() WHERE source = 'stop'");
  assert.equal(errors.rows.length, 1);
  assert.equal(errors.rows[0].sqlstate, '23514');
  assert.match(errors.rows[0].message, /replay of .*bad failed/);
  assert.match(errors.rows[0].statement, /INSERT INTO "?stop"?\."?bad"?/);
  assert.equal(errors.rows[0].mysql_table, 'bad');
  assert.deepEqual(errors.rows[0].row_image, { v: 1000, id: 2 });
  const good = await sql1<{ v: number }>(pool, 'SELECT v FROM stop.good WHERE id = 1');
  assert.notEqual(good.v, 99, 'the failing transaction is not half applied');
  await assert.rejects(pool.query("SELECT sch_chameleon.start_replica('stop')"), /is in error/);
  // the operator fixes the cause and resumes: the transaction then applies whole
  await pool.query('ALTER TABLE stop.bad DROP CONSTRAINT small_v');
  await pool.query("SELECT sch_chameleon.enable_replica('stop')");
  const start = await sql1<{ id: string }>(pool, "SELECT sch_chameleon.start_replica('stop') AS id");
  await pool.query('SELECT * FROM sch_chameleon.wait_command($1)', [start.id]);
  await waitCaughtUp(c, pool, 'stop');
  assert.equal((await sql1<{ v: number }>(pool, 'SELECT v FROM stop.good WHERE id = 1')).v, 99);
  assert.equal((await sql1<{ v: number }>(pool, 'SELECT v FROM stop.bad WHERE id = 2')).v, 1000);
});
