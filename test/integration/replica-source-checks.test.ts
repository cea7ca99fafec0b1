import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import type { Agent } from '../../src/agent/agent.js';
import { replicaTestEnv, replicate, startInProcessAgent, sql1, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';

let env: ReplicaTestEnv;
let agent: Agent | null;

async function addAndInit(name: string): Promise<void> {
  await replicate(env, name, name, {}, false);
}

async function startCommand(name: string): Promise<{ state: string; error: string | null }> {
  const pool = env.pg.pool;
  const start = await sql1<{ id: string }>(pool, 'SELECT sch_chameleon.start_replica($1) AS id', [name]);
  for (;;) {
    const c = await sql1<{ state: string; error: string | null }>(pool, 'SELECT state, error FROM sch_chameleon.show_commands() WHERE id = $1', [start.id]);
    if (!['pending', 'running'].includes(c.state)) return c;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function globals(c: mysql.Connection, names: string[]): Promise<Record<string, string>> {
  const [rows] = await c.query<mysql.RowDataPacket[]>(`SHOW GLOBAL VARIABLES WHERE Variable_name IN (${names.map(() => '?').join(', ')})`, names);
  return Object.fromEntries(rows.map((r) => [r.Variable_name, r.Value]));
}

before(async () => {
  env = await replicaTestEnv('source_checks');
  await env.my.conn.query('CREATE TABLE t (id INT PRIMARY KEY, v INT)');
  await env.my.conn.query('INSERT INTO t VALUES (1, 1)');
  agent = await startInProcessAgent(env.pg.url);
});

after(async () => {
  await agent?.stop();
  await env?.cleanup();
});

test('start_replica names every missing server setting at once', async () => {
  const c = env.my.conn;
  await addAndInit('pre');
  const saved = await globals(c, ['binlog_row_image', 'binlog_row_metadata']);
  await c.query("SET GLOBAL binlog_row_image = 'MINIMAL', binlog_row_metadata = 'MINIMAL'");
  try {
    const res = await startCommand('pre');
    assert.equal(res.state, 'failed');
    assert.match(res.error ?? '', /binlog_row_image is MINIMAL, needs FULL/);
    assert.match(res.error ?? '', /binlog_row_metadata is MINIMAL, needs FULL/);
    const s = await sql1<{ status: string; last_error: string }>(env.pg.pool, "SELECT status, last_error FROM sch_chameleon.show_status() WHERE source = 'pre'");
    assert.equal(s.status, 'error');
    assert.match(s.last_error, /binlog_row_image/);
  } finally {
    await c.query(`SET GLOBAL binlog_row_image = '${saved.binlog_row_image}', binlog_row_metadata = '${saved.binlog_row_metadata}'`);
  }
  // fixed on the server: the operator clears the error and the replica starts
  await env.pg.pool.query("SELECT sch_chameleon.enable_replica('pre')");
  assert.equal((await startCommand('pre')).state, 'done');
  await c.query('UPDATE t SET v = 2');
  await waitCaughtUp(c, env.pg.pool, 'pre');
  assert.equal((await sql1<{ v: number }>(env.pg.pool, 'SELECT v FROM pre.t')).v, 2);
  const stop = await sql1<{ id: string }>(env.pg.pool, "SELECT sch_chameleon.stop_replica('pre') AS id");
  await env.pg.pool.query('SELECT * FROM sch_chameleon.wait_command($1)', [stop.id]);
});

test('a replica more than half the binlog retention behind carries a warning', async () => {
  const c = env.my.conn;
  const pool = env.pg.pool;
  await addAndInit('ret');
  assert.equal((await startCommand('ret')).state, 'done');
  await c.query('UPDATE t SET v = 30');
  await waitCaughtUp(c, pool, 'ret');
  await agent!.stop();
  agent = null;
  await c.query('UPDATE t SET v = 3');
  await new Promise((r) => setTimeout(r, 5500));
  const saved = await globals(c, ['binlog_expire_logs_seconds']);
  await c.query('SET GLOBAL binlog_expire_logs_seconds = 8');
  try {
    agent = await startInProcessAgent(env.pg.url);
    let warning: string | null = null;
    for (let i = 0; i < 50 && !warning; i++) {
      warning = (await sql1<{ warning: string | null }>(pool, "SELECT warning FROM sch_chameleon.show_status() WHERE source = 'ret'")).warning;
      if (!warning) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(warning ?? '', /keeps binlogs for 8 s/);
  } finally {
    await c.query(`SET GLOBAL binlog_expire_logs_seconds = ${Number(saved.binlog_expire_logs_seconds ?? 0)}`);
  }
  await waitCaughtUp(c, pool, 'ret');
  const stop = await sql1<{ id: string }>(pool, "SELECT sch_chameleon.stop_replica('ret') AS id");
  await pool.query('SELECT * FROM sch_chameleon.wait_command($1)', [stop.id]);
});

test('a resume position purged from the server: a clear error and the hint to re-snapshot', async () => {
  const c = env.my.conn;
  const pool = env.pg.pool;
  await addAndInit('gone');
  await c.query('FLUSH BINARY LOGS');
  await c.query('UPDATE t SET v = 4');
  const [[master]] = await c.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
  // MariaDB keeps a binlog until its crash-recovery checkpoint has passed it: purge until it is gone
  let first = '';
  for (let i = 0; i < 50 && first !== master.File; i++) {
    await c.query(`PURGE BINARY LOGS TO '${master.File}'`);
    const [logs] = await c.query<mysql.RowDataPacket[]>('SHOW BINARY LOGS');
    first = String(logs[0].Log_name);
    if (first !== master.File) await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(first, master.File, 'the binlogs before the current one are purged');
  const res = await startCommand('gone');
  assert.equal(res.state, 'failed');
  assert.match(res.error ?? '', /no longer on the MySQL server.*init_replica/);
  let s = { status: '', last_error: '' };
  for (let i = 0; i < 100; i++) {
    s = await sql1(pool, "SELECT status, last_error FROM sch_chameleon.show_status() WHERE source = 'gone'");
    if (s.status === 'error') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(s.status, 'error', `start command ${res.state}: ${res.error}`);
  assert.match(s.last_error, /no longer on the MySQL server.*init_replica/);
  // a new snapshot brings it back
  await pool.query("SELECT sch_chameleon.enable_replica('gone')");
  const init = await sql1<{ id: string }>(pool, "SELECT sch_chameleon.init_replica('gone') AS id");
  await pool.query('SELECT * FROM sch_chameleon.wait_command($1, $2)', [init.id, '1 minute']);
  assert.equal((await startCommand('gone')).state, 'done');
  await c.query('UPDATE t SET v = 5');
  await waitCaughtUp(c, pool, 'gone');
  assert.equal((await sql1<{ v: number }>(pool, 'SELECT v FROM gone.t')).v, 5);
});
