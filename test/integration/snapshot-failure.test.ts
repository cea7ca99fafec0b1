import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/agent.js';
import { replicaTestEnv, startInProcessAgent, sql1, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';
import { connectMysql } from '../../src/mysql/connection.js';
import { addSource, assertSameRows, assertStandardSame, fillStandardTable, runCommand, standardTableDdl, tableStates } from '../harness/snapshot.js';

let env: ReplicaTestEnv;
let agent: Agent | null = null;

before(async () => {
  env = await replicaTestEnv('snap_fail');
  const c = env.my.conn;
  await c.query(standardTableDdl('ok1'));
  await c.query(standardTableDdl('ok2'));
  await fillStandardTable(c, 'ok1', 3_000);
  await fillStandardTable(c, 'ok2', 2_000);
  // the largest table, so the only copy job takes it first and must go on with the others after its failure
  await c.query('CREATE TABLE t_bad (id INT PRIMARY KEY, code VARCHAR(10) NOT NULL, filler TEXT)');
  await c.query("INSERT INTO t_bad SELECT seq, IF(seq % 100 = 0, CONCAT('x', seq), seq), REPEAT('f', 200) FROM seq_1_to_20000");
  await c.query('ANALYZE TABLE t_bad');
  agent = await startInProcessAgent(env.pg.url);
});

after(async () => {
  await agent?.stop();
  await env?.cleanup();
});

test('a table whose copy fails is marked failed with the reason; the others complete; the command reports it', async () => {
  const pool = env.pg.pool;
  const db = env.my.name;
  await addSource(pool, 'failing', env.my.url, { [db]: 'failing' }, {
    copy_jobs: 1,
    type_override: { 'varchar(10)': { override_to: 'integer', override_tables: [`${db}.t_bad`] } },
  });
  const init = await runCommand(pool, "sch_chameleon.init_replica('failing')", []);
  assert.equal(init.state, 'done', 'one failed table does not fail the command');
  assert.deepEqual(init.progress.tables_failed, [`${db}.t_bad`]);
  assert.equal(init.progress.tables_done, 3);
  const states = await tableStates(pool, 'failing');
  assert.equal(states.t_bad.state, 'failed');
  assert.match(states.t_bad.reason ?? '', /^copy failed: .*invalid input syntax for type integer: "x100"/);
  assert.equal(states.ok1.state, 'copied');
  assert.equal(states.ok2.state, 'copied');
  await assertStandardSame(env.my.conn, pool, 'ok1', 'failing');
  await assertStandardSame(env.my.conn, pool, 'ok2', 'failing');
  const bad = await sql1<{ t: string | null }>(pool, "SELECT to_regclass('failing.t_bad')::text AS t");
  assert.equal(bad.t, null, 'nothing of the failed copy is left in the target schema');
  const status = await sql1<{ status: string; tables_excluded: string }>(pool, 'SELECT status, tables_excluded FROM sch_chameleon.show_status()');
  assert.equal(status.status, 'initialised');
  assert.equal(Number(status.tables_excluded), 1);
});

test('after the cause is fixed, sync_tables(ARRAY[\'disabled\']) copies the failed table and it replicates', async () => {
  const pool = env.pg.pool;
  await pool.query("SELECT sch_chameleon.alter_source('failing', '{\"type_override\": {}}')");
  assert.equal((await runCommand(pool, "sch_chameleon.start_replica('failing')", [])).state, 'done');
  await env.my.conn.query("UPDATE t_bad SET code = 'changed' WHERE id < 50");
  const sync = await runCommand(pool, 'sch_chameleon.sync_tables($1, $2)', ['failing', ['disabled']]);
  assert.equal(sync.state, 'done');
  assert.deepEqual(sync.progress.tables_failed, []);
  assert.equal(sync.progress.tables_total, 1);
  await env.my.conn.query("UPDATE t_bad SET code = 'again' WHERE id BETWEEN 100 AND 120");
  await env.my.conn.query('DELETE FROM t_bad WHERE id BETWEEN 200 AND 210');
  await waitCaughtUp(env.my.conn, pool, 'failing');
  await assertSameRows(env.my.conn, pool, 'SELECT id, code, filler FROM t_bad ORDER BY id', 'SELECT id, code, filler FROM failing.t_bad ORDER BY id', 'failing.t_bad');
  assert.equal((await tableStates(pool, 'failing')).t_bad.state, 'replicating');
  const status = await sql1<{ tables_excluded: string; consistent: boolean }>(pool, 'SELECT tables_excluded, consistent FROM sch_chameleon.show_status()');
  assert.equal(Number(status.tables_excluded), 0);
  assert.equal(status.consistent, true);
});

test('a value that outgrows max_allowed_packet once formatted fails its table loudly; values up to the limit copy exactly', async () => {
  const c = env.my.conn;
  const pool = env.pg.pool;
  const db = env.my.name;
  await c.query('CREATE TABLE pk_geo (id INT PRIMARY KEY, g LINESTRING)');
  // 640 KB stored, 1.3 MB once the server writes it as hex
  const points = Array.from({ length: 40_000 }, (_, i) => `${i} ${i % 7}`).join(', ');
  await c.query(`INSERT INTO pk_geo VALUES (1, ST_GeomFromText('LINESTRING(${points})')), (2, ST_GeomFromText('LINESTRING(0 0, 1 1)'))`);
  await c.query('CREATE TABLE pk_raw (id INT PRIMARY KEY, b LONGBLOB, t LONGTEXT, j JSON)');
  // 900 KB of bytes (1.8 MB as hex) and 300 KB of text to escape (500 KB escaped), formatted by the agent; a
  // JSON document of 600 KB (1.2 MB escaped), escaped by the server's JSON_QUOTE, which has no such limit
  await c.query(`INSERT INTO pk_raw VALUES
    (1, REPEAT(X'00FF5C0A', 225000), REPEAT(CONCAT('a', CHAR(9), CHAR(92)), 100000), JSON_ARRAY(REPEAT(CHAR(92), 300000))),
    (2, X'', '', JSON_ARRAY(1))`);
  const [[saved]] = await c.query<import('mysql2/promise').RowDataPacket[]>('SELECT @@global.max_allowed_packet AS v');
  await c.query('SET GLOBAL max_allowed_packet = 1048576');
  try {
    await addSource(pool, 'packet', env.my.url, { [db]: 'packet' }, { limit_tables: [`${db}.pk_geo`, `${db}.pk_raw`] });
    const init = await runCommand(pool, "sch_chameleon.init_replica('packet')", []);
    assert.equal(init.state, 'done');
    assert.deepEqual(init.progress.tables_failed, [`${db}.pk_geo`]);
    const states = await tableStates(pool, 'packet');
    assert.equal(states.pk_geo.state, 'failed');
    assert.match(states.pk_geo.reason ?? '', /larger than the MySQL server's max_allowed_packet/);
    assert.equal(states.pk_raw.state, 'copied');
    const n = await assertSameRows(c, pool,
      'SELECT id, MD5(b), LENGTH(b), MD5(t), LENGTH(t), MD5(JSON_EXTRACT(j, \'$[0]\')) FROM pk_raw ORDER BY id',
      "SELECT id, md5(b), length(b), md5(t), octet_length(t), md5((j -> 0)::text) FROM packet.pk_raw ORDER BY id", 'packet.pk_raw');
    assert.equal(n, 2);
  } finally {
    await c.query(`SET GLOBAL max_allowed_packet = ${Number(saved.v)}`);
  }
});

test('a row larger than 16 MB, which the protocol splits into several packets, copies exactly', async () => {
  const c = env.my.conn;
  const pool = env.pg.pool;
  const db = env.my.name;
  const [[saved]] = await c.query<import('mysql2/promise').RowDataPacket[]>('SELECT @@global.max_allowed_packet AS v');
  await c.query('SET GLOBAL max_allowed_packet = 67108864');
  try {
    // a session takes max_allowed_packet from the global value when it connects
    const big = await connectMysql(env.my.url);
    try {
      await big.query('CREATE TABLE pk_huge (id INT PRIMARY KEY, b LONGBLOB, t LONGTEXT)');
      await big.query("INSERT INTO pk_huge VALUES (1, REPEAT(X'00AB5C', 6000000), REPEAT('a\\\\b', 1000)), (2, X'01', REPEAT(CONCAT(CHAR(9), 'x'), 9000000))");
    } finally {
      await big.end();
    }
    await addSource(pool, 'huge', env.my.url, { [db]: 'huge' }, { limit_tables: [`${db}.pk_huge`] });
    const init = await runCommand(pool, "sch_chameleon.init_replica('huge')", []);
    assert.equal(init.state, 'done');
    const why = {
      tables: (await pool.query("SELECT mysql_table, state, reason FROM sch_chameleon.show_tables('huge')")).rows,
      attempts: (await pool.query('SELECT attempts FROM sch_chameleon.t_commands WHERE command_id = $1', [init.id])).rows[0]?.attempts,
    };
    assert.deepEqual(init.progress.tables_failed, [], `the copy failed: ${JSON.stringify(why)}`);
    const n = await assertSameRows(c, pool,
      'SELECT id, MD5(b), LENGTH(b), MD5(t), LENGTH(t) FROM pk_huge ORDER BY id',
      'SELECT id, md5(b), length(b), md5(t), octet_length(t) FROM huge.pk_huge ORDER BY id', 'huge.pk_huge');
    assert.equal(n, 2);
  } finally {
    await c.query(`SET GLOBAL max_allowed_packet = ${Number(saved.v)}`);
  }
});
