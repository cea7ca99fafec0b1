import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Agent } from '../../src/agent/agent.js';
import { replicaTestEnv, startInProcessAgent, sql1, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';
import { addSource, assertStandardSame, fillStandardTable, pgChange, runCommand, standardTableDdl, startWriter } from '../harness/snapshot.js';

let env: ReplicaTestEnv;
let agent: Agent | null = null;
const role = `keep_reader_${randomBytes(4).toString('hex')}`;

before(async () => {
  env = await replicaTestEnv('snap_keep');
  for (const t of ['kept', 'fresh']) await env.my.conn.query(standardTableDdl(t));
  await fillStandardTable(env.my.conn, 'kept', 20_000);
  await fillStandardTable(env.my.conn, 'fresh', 3_000);
  const pool = env.pg.pool;
  await pool.query(`CREATE ROLE ${role}`);
  await pool.query('CREATE SCHEMA keep');
  // the operator's own table: other types' spelling, indexes and grants the MySQL table does not have
  await pool.query(`CREATE TABLE keep.kept (
      id integer PRIMARY KEY, k integer NOT NULL, name varchar(64) NOT NULL,
      amount numeric(12,2), at timestamp(3) without time zone, note text)`);
  await pool.query('CREATE INDEX kept_lower_name ON keep.kept (lower(name))');
  await pool.query('CREATE UNIQUE INDEX kept_k_id ON keep.kept (k, id) WHERE k >= 0');
  await pool.query(`GRANT USAGE ON SCHEMA keep TO ${role}`);
  await pool.query(`GRANT SELECT ON keep.kept TO ${role}`);
  await pool.query("COMMENT ON TABLE keep.kept IS 'the operator''s table'");
  await pool.query("INSERT INTO keep.kept SELECT g, -g, 'stale ' || g, g, now(), NULL FROM generate_series(1, 500) g");
  agent = await startInProcessAgent(env.pg.url);
});

after(async () => {
  await agent?.stop();
  await env?.pg.pool.query(`DROP OWNED BY ${role}`).catch(() => undefined);
  await env?.pg.pool.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  await env?.cleanup();
});

async function indexDefs(): Promise<string[]> {
  const res = await env.pg.pool.query("SELECT indexdef FROM pg_indexes WHERE schemaname = 'keep' AND tablename = 'kept' ORDER BY indexname");
  return res.rows.map((r) => r.indexdef);
}

test('keep_existing_schema: an existing table keeps its identity, indexes, grants and comment, and holds exactly the source rows', async () => {
  const pool = env.pg.pool;
  const oid = (await sql1<{ oid: number }>(pool, "SELECT 'keep.kept'::regclass::oid AS oid")).oid;
  const indexesBefore = await indexDefs();
  assert.equal(indexesBefore.length, 3);
  await addSource(pool, 'keep', env.my.url, { [env.my.name]: 'keep' }, { keep_existing_schema: true, copy_range_rows: 4_000 });

  // a reader during the reload sees the old rows or the new ones, never an empty table
  let stopReading = false;
  const counts: number[] = [];
  const reader = (async () => {
    while (!stopReading) {
      counts.push(Number((await sql1<{ n: string }>(pool, 'SELECT count(*) AS n FROM keep.kept')).n));
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const init = await runCommand(pool, "sch_chameleon.init_replica('keep')", []);
  stopReading = true;
  await reader;
  assert.equal(init.state, 'done');
  assert.deepEqual(init.progress.tables_failed, []);
  assert.ok(counts.length > 0 && counts.every((n) => n === 500 || n === 20_000), `counts seen: ${[...new Set(counts)].join(', ')}`);

  assert.equal((await sql1<{ oid: number }>(pool, "SELECT 'keep.kept'::regclass::oid AS oid")).oid, oid, 'the same table, not a new one');
  assert.deepEqual(await indexDefs(), indexesBefore, 'indexes dropped for the load are back, identical');
  const valid = await sql1<{ n: string }>(pool, "SELECT count(*) AS n FROM pg_index WHERE indrelid = 'keep.kept'::regclass AND indisvalid");
  assert.equal(Number(valid.n), 3);
  assert.equal((await sql1<{ ok: boolean }>(pool, 'SELECT has_table_privilege($1, $2, $3) AS ok', [role, 'keep.kept', 'SELECT'])).ok, true);
  assert.equal((await sql1<{ c: string }>(pool, "SELECT obj_description('keep.kept'::regclass, 'pg_class') AS c")).c, "the operator's table");
  const type = await sql1<{ t: string }>(pool, "SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'keep.kept'::regclass AND attname = 'at'");
  assert.equal(type.t, 'timestamp(3) without time zone', 'the operator\'s column types stay');
  const t = await pool.query("SELECT mysql_table, state, copy_ranges FROM sch_chameleon.t_tables ORDER BY 1");
  assert.deepEqual(t.rows.map((r) => [r.mysql_table, r.state]), [['fresh', 'copied'], ['kept', 'copied']]);
  assert.ok(Number(t.rows[1].copy_ranges) >= 5, 'the reload went by key ranges');
  await assertStandardSame(env.my.conn, pool, 'kept', 'keep');
  // a table that did not exist is created as usual, with its keys
  await assertStandardSame(env.my.conn, pool, 'fresh', 'keep');
  const pk = await sql1<{ n: string }>(pool, "SELECT count(*) AS n FROM pg_index WHERE indrelid = 'keep.fresh'::regclass AND indisprimary");
  assert.equal(Number(pk.n), 1);

  // and the replica applies to the kept table
  assert.equal((await runCommand(pool, "sch_chameleon.start_replica('keep')", [])).state, 'done');
  const writer = await startWriter(env.my.url, ['kept', 'fresh'], { seed: 21, pauseMs: 1 });
  await new Promise((r) => setTimeout(r, 1_000));
  assert.ok((await writer.stop()) > 20);
  await waitCaughtUp(env.my.conn, pool, 'keep');
  await assertStandardSame(env.my.conn, pool, 'kept', 'keep');
  await assertStandardSame(env.my.conn, pool, 'fresh', 'keep');
});

test('keep_existing_schema with the replica running: sync_tables reloads the table in place, exact', async () => {
  const pool = env.pg.pool;
  const oid = (await sql1<{ oid: number }>(pool, "SELECT 'keep.kept'::regclass::oid AS oid")).oid;
  const indexesBefore = await indexDefs();
  const writer = await startWriter(env.my.url, ['kept', 'fresh'], { seed: 22, pauseMs: 1 });
  await pgChange(pool, "UPDATE keep.kept SET name = 'damaged' WHERE id % 5 = 0");
  const sync = await runCommand(pool, 'sch_chameleon.sync_tables($1, $2)', ['keep', [`${env.my.name}.kept`]]);
  assert.equal(sync.state, 'done');
  await new Promise((r) => setTimeout(r, 300));
  assert.ok((await writer.stop()) > 20);
  await waitCaughtUp(env.my.conn, pool, 'keep');
  await assertStandardSame(env.my.conn, pool, 'kept', 'keep');
  await assertStandardSame(env.my.conn, pool, 'fresh', 'keep');
  assert.equal((await sql1<{ oid: number }>(pool, "SELECT 'keep.kept'::regclass::oid AS oid")).oid, oid);
  assert.deepEqual(await indexDefs(), indexesBefore);
  const state = await sql1<{ state: string }>(pool, "SELECT state FROM sch_chameleon.t_tables WHERE mysql_table = 'kept'");
  assert.equal(state.state, 'replicating');
});
