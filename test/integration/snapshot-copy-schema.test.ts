import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Agent } from '../../src/agent/agent.js';
import { createMysqlDatabase, type MysqlTestDatabase } from '../harness/db.js';
import { replicaTestEnv, startInProcessAgent, sql1, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';
import { addSource, assertStandardSame, fillStandardTable, runCommand, standardTableDdl, tableStates } from '../harness/snapshot.js';

let env: ReplicaTestEnv;
let locked: MysqlTestDatabase;
let agent: Agent | null = null;
let blocker: pg.Client | null = null;

before(async () => {
  env = await replicaTestEnv('snap_cschema');
  locked = await createMysqlDatabase('snap_cschema_lock');
  await env.my.conn.query(standardTableDdl('a'));
  await fillStandardTable(env.my.conn, 'a', 2_000);
  // a composite unique key and a descending index, besides the standard table's plain one
  await env.my.conn.query(`CREATE TABLE u (
      tenant INT NOT NULL, code VARCHAR(20) NOT NULL, label VARCHAR(40) NULL, seen DATETIME NULL,
      PRIMARY KEY (tenant, code), UNIQUE KEY u_label (label), KEY u_seen (seen DESC, tenant))`);
  await env.my.conn.query("INSERT INTO u SELECT seq % 7, CONCAT('c', seq), CONCAT('l', seq), NOW() FROM seq_1_to_300");
  await locked.conn.query(standardTableDdl('t'));
  await fillStandardTable(locked.conn, 't', 2_000);
  agent = await startInProcessAgent(env.pg.url);
});

after(async () => {
  await blocker?.end().catch(() => undefined);
  await agent?.stop();
  await locked?.drop();
  await env?.cleanup();
});

async function sourceStatus(source: string): Promise<string> {
  return (await sql1<{ status: string }>(env.pg.pool, 'SELECT status FROM sch_chameleon.show_status() WHERE source = $1', [source])).status;
}

async function count(table: string): Promise<number> {
  return Number((await sql1<{ n: string }>(env.pg.pool, `SELECT count(*) AS n FROM ${table}`)).n);
}

async function columns(schema: string, table: string): Promise<string[]> {
  const res = await env.pg.pool.query(
    `SELECT column_name || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END AS c
       FROM information_schema.columns ic
       JOIN pg_attribute a ON a.attrelid = format('%I.%I', ic.table_schema, ic.table_name)::regclass AND a.attname = ic.column_name
      WHERE ic.table_schema = $1 AND ic.table_name = $2 ORDER BY ic.ordinal_position`,
    [schema, table],
  );
  return res.rows.map((r) => r.c);
}

async function primaryKey(schema: string, table: string): Promise<string | null> {
  const res = await env.pg.pool.query(
    "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = format('%I.%I', $1::text, $2::text)::regclass AND contype = 'p'",
    [schema, table],
  );
  return res.rows[0]?.def ?? null;
}

async function indexes(schema: string, table: string): Promise<string[]> {
  const res = await env.pg.pool.query('SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY indexname', [schema, table]);
  return res.rows.map((r) => r.indexdef);
}

const A_COLUMNS = [
  'id integer not null', 'k integer not null', 'name character varying(64) not null',
  'amount numeric(12,2)', 'at timestamp(3) without time zone', 'note text',
];
const U_COLUMNS = ['tenant integer not null', 'code character varying(20) not null', 'label character varying(40)', 'seen timestamp(0) without time zone'];

async function assertSchemaShape(schema: string): Promise<void> {
  assert.deepEqual(await columns(schema, 'a'), A_COLUMNS);
  assert.equal(await primaryKey(schema, 'a'), 'PRIMARY KEY (id)');
  assert.deepEqual(await indexes(schema, 'a'), [
    `CREATE INDEX a_a_k ON ${schema}.a USING btree (k)`,
    `CREATE UNIQUE INDEX a_pkey ON ${schema}.a USING btree (id)`,
  ]);
  assert.deepEqual(await columns(schema, 'u'), U_COLUMNS);
  assert.equal(await primaryKey(schema, 'u'), 'PRIMARY KEY (tenant, code)');
  assert.deepEqual(await indexes(schema, 'u'), [
    `CREATE UNIQUE INDEX u_pkey ON ${schema}.u USING btree (tenant, code)`,
    `CREATE UNIQUE INDEX u_u_label ON ${schema}.u USING btree (label)`,
    `CREATE INDEX u_u_seen ON ${schema}.u USING btree (seen DESC, tenant)`,
  ]);
}

test('copy_schema on a fresh source creates every table with its columns, key and indexes, empty; the source is not initialised', async () => {
  const pool = env.pg.pool;
  await addSource(pool, 'cs', env.my.url, { [env.my.name]: 'cs' });
  const copy = await runCommand(pool, "sch_chameleon.copy_schema('cs')", []);
  assert.equal(copy.state, 'done');
  assert.equal(copy.progress.tables_total, 2);
  assert.equal(copy.progress.tables_done, 2);
  assert.deepEqual(copy.progress.tables_failed, []);
  assert.equal(copy.progress.rows_copied, 0);

  await assertSchemaShape('cs');
  assert.equal(await count('cs.a'), 0);
  assert.equal(await count('cs.u'), 0);
  const shown = await pool.query("SELECT mysql_table, state, rows_copied, copy_position, reason FROM sch_chameleon.show_tables('cs')");
  assert.deepEqual(shown.rows.map((r) => [r.mysql_table, r.state, Number(r.rows_copied), r.reason]), [['a', 'copied', 0, null], ['u', 'copied', 0, null]]);
  // the swap records the empty copy's snapshot like any other copy
  for (const r of shown.rows) assert.ok(r.copy_position, `${r.mysql_table} has a copy position`);

  // without data there is nothing to replicate from: the source stays 'ready', and start_replica says so
  assert.equal(await sourceStatus('cs'), 'ready');
  await assert.rejects(pool.query("SELECT sch_chameleon.start_replica('cs')"), /source "cs" has not been initialised/);

  // init_replica afterwards fills the same tables and makes the source startable
  const init = await runCommand(pool, "sch_chameleon.init_replica('cs')", []);
  assert.equal(init.state, 'done');
  assert.equal(await sourceStatus('cs'), 'initialised');
  await assertSchemaShape('cs');
  await assertStandardSame(env.my.conn, pool, 'a', 'cs');
  assert.equal(await count('cs.u'), 300);
});

/**
 * copy_schema creates empty tables: on a source whose tables already hold
 * copied rows, at a replica position that matches them, it would leave the
 * replica short of data. It is refused at once, and nothing changes.
 */
test('copy_schema on an initialised source is refused with the reason; its tables and position stay as they are', async () => {
  const pool = env.pg.pool;
  assert.equal((await runCommand(pool, "sch_chameleon.start_replica('cs')", [])).state, 'done');
  await env.my.conn.query("UPDATE a SET name = 'before copy_schema' WHERE id <= 10");
  await waitCaughtUp(env.my.conn, pool, 'cs');
  await assertStandardSame(env.my.conn, pool, 'a', 'cs');
  await assert.rejects(pool.query("SELECT sch_chameleon.copy_schema('cs')"), /cannot copy_schema source "cs" while its replica is running/);
  assert.equal((await runCommand(pool, "sch_chameleon.stop_replica('cs')", [])).state, 'done');
  const positionBefore = await sql1<{ p: string }>(pool, "SELECT read_file || ':' || read_pos AS p FROM sch_chameleon.t_sources WHERE source_name = 'cs'");
  const oid = (await sql1<{ oid: number }>(pool, "SELECT 'cs.a'::regclass::oid AS oid")).oid;
  const commandsBefore = await sql1<{ n: number }>(pool, 'SELECT count(*)::int AS n FROM sch_chameleon.t_commands');

  await assert.rejects(pool.query("SELECT sch_chameleon.copy_schema('cs')"), (err: Error & { hint?: string }) => {
    assert.match(err.message, /cannot copy_schema source "cs": its tables hold copied data \(status stopped\)/);
    assert.match(err.hint ?? '', /init_replica\('cs'\)/);
    return true;
  });
  assert.equal((await sql1<{ n: number }>(pool, 'SELECT count(*)::int AS n FROM sch_chameleon.t_commands')).n, commandsBefore.n, 'no command queued');
  assert.equal((await sql1<{ oid: number }>(pool, "SELECT 'cs.a'::regclass::oid AS oid")).oid, oid, 'the same table');
  assert.equal(await count('cs.a'), 2000);
  assert.equal(await count('cs.u'), 300);
  const positionAfter = await sql1<{ p: string }>(pool, "SELECT read_file || ':' || read_pos AS p FROM sch_chameleon.t_sources WHERE source_name = 'cs'");
  assert.equal(positionAfter.p, positionBefore.p);

  // the replica resumes where it was, exact
  await env.my.conn.query("UPDATE a SET name = 'after the refusal' WHERE id <= 10");
  assert.equal((await runCommand(pool, "sch_chameleon.start_replica('cs')", [])).state, 'done');
  await waitCaughtUp(env.my.conn, pool, 'cs');
  await assertStandardSame(env.my.conn, pool, 'a', 'cs');
  assert.equal(await count('cs.u'), 300);
  assert.equal((await runCommand(pool, "sch_chameleon.stop_replica('cs')", [])).state, 'done');
});

test('lock_timeout bounds the swap: a table a reader holds fails fast with the old rows intact, and sync_tables(disabled) copies it once the reader is gone', async () => {
  const pool = env.pg.pool;
  // two readers of one MySQL server need two server ids
  await addSource(pool, 'lt', locked.url, { [locked.name]: 'lt' }, { lock_timeout: '1s', my_server_id: 102 });
  assert.equal((await runCommand(pool, "sch_chameleon.init_replica('lt')", [])).state, 'done');
  assert.equal((await runCommand(pool, "sch_chameleon.start_replica('lt')", [])).state, 'done');
  await assertStandardSame(locked.conn, pool, 't', 'lt');
  const oid = (await sql1<{ oid: number }>(pool, "SELECT 'lt.t'::regclass::oid AS oid")).oid;

  blocker = new pg.Client({ connectionString: env.pg.url });
  blocker.on('error', () => undefined);
  await blocker.connect();
  // ACCESS SHARE until the transaction ends: the swap's DROP TABLE waits on it
  await blocker.query('BEGIN');
  await blocker.query('SELECT * FROM lt.t LIMIT 1');

  const started = Date.now();
  const sync = await runCommand(pool, 'sch_chameleon.sync_tables($1, $2)', ['lt', [`${locked.name}.t`]]);
  const ms = Date.now() - started;
  assert.equal(sync.state, 'done');
  assert.deepEqual(sync.progress.tables_failed, [`${locked.name}.t`]);
  assert.ok(ms >= 1_000 && ms < 15_000, `the sync gave up after ${ms} ms: after the 1 s lock_timeout, not the default 120 s`);
  const t = (await tableStates(pool, 'lt')).t;
  assert.equal(t.state, 'failed');
  assert.match(t.reason ?? '', /^copy failed: .*lock timeout/i);
  // the old table was never dropped: same table, same rows
  assert.equal((await sql1<{ oid: number }>(pool, "SELECT 'lt.t'::regclass::oid AS oid")).oid, oid);
  await assertStandardSame(locked.conn, pool, 't', 'lt');
  const loading = await sql1<{ n: string }>(pool, "SELECT count(*) AS n FROM pg_namespace WHERE nspname LIKE '\\_chameleon\\_load\\_%'");
  assert.equal(Number(loading.n), 0, 'no loading schema left behind');

  // changes made while the table is failed reach it through the next copy
  await locked.conn.query("UPDATE t SET name = 'while failed' WHERE id % 50 = 0");
  await locked.conn.query('DELETE FROM t WHERE id % 97 = 0');
  await blocker.query('COMMIT');
  await blocker.end();
  blocker = null;

  const again = await runCommand(pool, 'sch_chameleon.sync_tables($1, $2)', ['lt', ['disabled']]);
  assert.equal(again.state, 'done');
  assert.equal(again.progress.tables_total, 1);
  assert.deepEqual(again.progress.tables_failed, []);
  assert.equal((await tableStates(pool, 'lt')).t.state, 'replicating');
  await locked.conn.query("UPDATE t SET note = 'after the sync' WHERE id BETWEEN 100 AND 120");
  await waitCaughtUp(locked.conn, pool, 'lt');
  const rows = await assertStandardSame(locked.conn, pool, 't', 'lt');
  assert.equal(rows, 2_000 - Math.floor(2_000 / 97));
});
