import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { Agent } from '../../src/agent/agent.js';
import { testMysqlUrl } from '../harness/db.js';
import { replicaTestEnv, startInProcessAgent, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';
import { addSource, assertSameRows, mysqlIdent, pgIdent, runCommand } from '../harness/snapshot.js';

let env: ReplicaTestEnv;
let agent: Agent | null = null;
let my: mysql.Connection;

// every kind of name MySQL accepts and PostgreSQL must quote, cut or tell apart
const DB = `chm "q" 'a' \`b\` é日本 ${randomBytes(4).toString('hex')}`;
const SCHEMA = 'Weird "Schema" é';
const LONG_A = `c${'x'.repeat(62)}1`;
const LONG_B = `c${'x'.repeat(62)}2`;

interface Spec {
  name: string;
  /** [name, MySQL type]; the first column is the primary key (an integer). */
  cols: [string, string][];
}

const TABLES: Spec[] = [
  { name: 'select', cols: [['order', 'INT'], ['user', 'VARCHAR(20)'], ['from', 'TEXT'], ['group', 'INT']] },
  { name: 'user', cols: [['id', 'INT'], ['user', 'VARCHAR(40)'], ['table', 'TEXT']] },
  { name: 'order', cols: [['limit', 'BIGINT'], ['where', 'VARCHAR(40)']] },
  { name: `it's "quoted" \`tab\``, cols: [['a"b', 'INT'], ["c'd", 'VARCHAR(30)'], ['e`f', 'INT'], ['g h', 'TEXT']] },
  { name: 'é 日本', cols: [['ключ', 'INT'], ['é', 'VARCHAR(20)'], ['日本語', 'TEXT']] },
  { name: 'with.dot', cols: [['k.1', 'INT'], ['v', 'VARCHAR(10)']] },
  { name: `long_${'t'.repeat(59)}`, cols: [[`k${'y'.repeat(63)}`, 'INT'], [LONG_A, 'VARCHAR(20)'], [LONG_B, 'VARCHAR(20)']] },
  { name: 'é'.repeat(64), cols: [['id', 'INT'], ['ü'.repeat(64), 'TEXT']] },
];

function value(type: string, n: number): string | number {
  if (/INT/.test(type)) return n * 7;
  return `v${n} 'quote' "dq" \\ tab\t é 日本`.slice(0, /VARCHAR\((\d+)\)/.exec(type) ? Number(/VARCHAR\((\d+)\)/.exec(type)![1]) : 100);
}

async function insertRow(t: Spec, id: number): Promise<void> {
  const cols = t.cols.map(([c]) => mysqlIdent(c)).join(', ');
  const vals = t.cols.map(([, type], i) => (i === 0 ? id : value(type, id + i)));
  await my.query(`INSERT INTO ${mysqlIdent(t.name)} (${cols}) VALUES (${vals.map(() => '?').join(', ')})`, vals);
}

before(async () => {
  env = await replicaTestEnv('snap_ident');
  const admin = await mysql.createConnection(testMysqlUrl());
  await admin.query(`CREATE DATABASE ${mysqlIdent(DB)} CHARACTER SET utf8mb4`);
  await admin.end();
  my = await mysql.createConnection({ uri: testMysqlUrl(), database: DB, charset: 'utf8mb4' });
  for (const t of TABLES) {
    const cols = t.cols.map(([c, type], i) => `${mysqlIdent(c)} ${type}${i === 0 ? ' NOT NULL PRIMARY KEY' : ' NULL'}`);
    await my.query(`CREATE TABLE ${mysqlIdent(t.name)} (${cols.join(', ')})`);
    for (let id = 1; id <= 30; id++) await insertRow(t, id);
  }
  agent = await startInProcessAgent(env.pg.url);
});

after(async () => {
  await agent?.stop();
  await my?.query(`DROP DATABASE IF EXISTS ${mysqlIdent(DB)}`).catch(() => undefined);
  await my?.end().catch(() => undefined);
  await env?.cleanup();
});

async function pgTableOf(t: Spec): Promise<string> {
  const r = await env.pg.pool.query('SELECT pg_schema, pg_table FROM sch_chameleon.t_tables WHERE mysql_schema = $1 AND mysql_table = $2', [DB, t.name]);
  assert.equal(r.rows.length, 1, `${t.name} is in the catalogue`);
  return `${pgIdent(r.rows[0].pg_schema)}.${pgIdent(r.rows[0].pg_table)}`;
}

async function assertAllSame(): Promise<void> {
  for (const t of TABLES) {
    const target = await pgTableOf(t);
    const cols = await env.pg.pool.query(
      'SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum', [target]);
    assert.equal(cols.rows.length, t.cols.length, `${target} has every column`);
    await assertSameRows(
      my,
      env.pg.pool,
      `SELECT ${t.cols.map(([c]) => mysqlIdent(c)).join(', ')} FROM ${mysqlIdent(t.name)} ORDER BY 1`,
      `SELECT ${cols.rows.map((r) => pgIdent(r.attname)).join(', ')} FROM ${target} ORDER BY 1`,
      `${DB}.${t.name}`,
    );
  }
}

test('quotes, backticks, spaces, dots, reserved words, non-ASCII and 64-character names: copied and replicated exact', async () => {
  const pool = env.pg.pool;
  await addSource(pool, 'hostile', env.my.url, { [DB]: SCHEMA });
  const init = await runCommand(pool, "sch_chameleon.init_replica('hostile')", []);
  assert.equal(init.state, 'done');
  assert.deepEqual(init.progress.tables_failed, []);
  assert.equal(init.progress.tables_done, TABLES.length);
  await assertAllSame();
  // the two long column names that share their first 63 bytes stay two columns
  const long = TABLES[6];
  const cols = await pool.query('SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 ORDER BY attnum', [await pgTableOf(long)]);
  assert.equal(new Set(cols.rows.map((r) => r.attname)).size, 3);

  assert.equal((await runCommand(pool, "sch_chameleon.start_replica('hostile')", [])).state, 'done');
  for (const t of TABLES) {
    const [pk, second] = t.cols;
    await insertRow(t, 1001);
    await insertRow(t, 1002);
    await my.query(`UPDATE ${mysqlIdent(t.name)} SET ${mysqlIdent(second[0])} = ? WHERE ${mysqlIdent(pk[0])} = 3`, [value(second[1], 99)]);
    await my.query(`UPDATE ${mysqlIdent(t.name)} SET ${mysqlIdent(pk[0])} = 2000 WHERE ${mysqlIdent(pk[0])} = 4`);
    await my.query(`DELETE FROM ${mysqlIdent(t.name)} WHERE ${mysqlIdent(pk[0])} = 5`);
  }
  await waitCaughtUp(my, pool, 'hostile');
  await assertAllSame();
  const status = await pool.query("SELECT consistent, tables_excluded FROM sch_chameleon.show_status() WHERE source = 'hostile'");
  assert.equal(status.rows[0].consistent, true);
  assert.equal(Number(status.rows[0].tables_excluded), 0);
});

test('sync_tables with hostile names while the replica runs', async () => {
  const pool = env.pg.pool;
  const quoted = TABLES[3];
  const dotted = TABLES[5];
  await pool.query(`DELETE FROM ${await pgTableOf(quoted)}`);
  await pool.query(`DELETE FROM ${await pgTableOf(dotted)}`);
  const sync = await runCommand(pool, 'sch_chameleon.sync_tables($1, $2)', ['hostile', [`${DB}.${quoted.name}`, `${DB}.${dotted.name}`]]);
  assert.equal(sync.state, 'done');
  assert.equal(sync.progress.tables_done, 2);
  await insertRow(quoted, 3000);
  await insertRow(dotted, 3000);
  await waitCaughtUp(my, pool, 'hostile');
  await assertAllSame();
});
