import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import mysql from 'mysql2/promise';
import pg from 'pg';
import {
  canRestartServers,
  createMysqlDatabase,
  createPgDatabase,
  restartServer,
  testMysqlUrl,
  testPgUrl,
} from '../harness/db.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('MariaDB has the binlog settings replication depends on', async () => {
  const conn = await mysql.createConnection(testMysqlUrl());
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      `SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', 'binlog_row_image', 'binlog_row_metadata')`,
    );
    const vars = Object.fromEntries(rows.map((r) => [String(r.Variable_name), String(r.Value)]));
    assert.deepEqual(vars, {
      log_bin: 'ON',
      binlog_format: 'ROW',
      binlog_row_image: 'FULL',
      binlog_row_metadata: 'FULL',
    });
  } finally {
    await conn.end();
  }
});

test('PostgreSQL answers queries', async () => {
  const client = new pg.Client({ connectionString: testPgUrl() });
  await client.connect();
  try {
    const res = await client.query<{ one: number }>('SELECT 1 AS one');
    assert.equal(res.rows[0].one, 1);
  } finally {
    await client.end();
  }
});

test('createMysqlDatabase gives distinct, usable databases', async () => {
  const a = await createMysqlDatabase('servers_test');
  cleanups.push(() => a.drop());
  const b = await createMysqlDatabase('servers_test');
  cleanups.push(() => b.drop());
  assert.notEqual(a.name, b.name);

  await a.conn.query('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))');
  await a.conn.query(`INSERT INTO t VALUES (1, 'a')`);
  const [cur] = await a.conn.query<mysql.RowDataPacket[]>('SELECT DATABASE() AS db');
  assert.equal(cur[0].db, a.name);
  const [rows] = await a.conn.query<mysql.RowDataPacket[]>('SELECT v FROM t');
  assert.deepEqual(rows.map((r) => r.v), ['a']);
  const [other] = await b.conn.query<mysql.RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE()',
  );
  assert.equal(Number(other[0].n), 0);
});

test('createPgDatabase gives distinct, usable databases', async () => {
  const a = await createPgDatabase('servers_test');
  cleanups.push(() => a.drop());
  const b = await createPgDatabase('servers_test');
  cleanups.push(() => b.drop());
  assert.notEqual(a.name, b.name);

  await a.pool.query('CREATE TABLE t (id int PRIMARY KEY, v text)');
  await a.pool.query(`INSERT INTO t VALUES (1, 'a')`);
  const cur = await a.pool.query<{ db: string }>('SELECT current_database() AS db');
  assert.equal(cur.rows[0].db, a.name);
  const exists = await b.pool.query<{ t: string | null }>(`SELECT to_regclass('public.t')::text AS t`);
  assert.equal(exists.rows[0].t, null);

  // PostgreSQL copies a template only while nobody is connected to it.
  await a.pool.end();
  const c = await createPgDatabase('servers_test_tpl', { template: a.name });
  cleanups.push(() => c.drop());
  const copied = await c.pool.query<{ v: string }>('SELECT v FROM t');
  assert.deepEqual(copied.rows.map((r) => r.v), ['a']);
});

test('servers can be restarted through the control URL', { skip: !canRestartServers() && 'external servers' }, async () => {
  await restartServer('mysql');
  await restartServer('pg');
  const conn = await mysql.createConnection(testMysqlUrl());
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT 1 AS one');
  assert.equal(Number(rows[0].one), 1);
  await conn.end();
  const client = new pg.Client({ connectionString: testPgUrl() });
  await client.connect();
  assert.equal((await client.query('SELECT 1 AS one')).rows[0].one, 1);
  await client.end();
});
