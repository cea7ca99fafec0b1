import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import type pg from 'pg';
import type { Agent } from '../../src/agent/agent.js';
import { pruneBatches } from '../../src/catalog/batches.js';
import { createMysqlDatabase, type MysqlTestDatabase } from '../harness/db.js';
import { masterPosition, replicaTestEnv, sql1, startInProcessAgent, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';
import { addSource, assertSameRows, runCommand, tableStates, waitFor } from '../harness/snapshot.js';

let env: ReplicaTestEnv;
let agent: Agent;
const databases: MysqlTestDatabase[] = [];
const holds = new Set<pg.PoolClient>();

before(async () => {
  env = await replicaTestEnv('replica_options');
  agent = await startInProcessAgent(env.pg.url);
});

after(async () => {
  // a replay blocked on a test's lock would keep the agent from stopping
  for (const c of holds) await c.query('ROLLBACK').catch(() => undefined);
  for (const c of holds) c.release();
  await agent?.stop();
  for (const d of databases) await d.drop();
  await env?.cleanup();
});

/** A MariaDB database of its own per test: a source maps whole databases, so tests do not copy each other's tables. */
async function mysqlDb(prefix: string, statements: string[]): Promise<MysqlTestDatabase> {
  const d = await createMysqlDatabase(prefix);
  databases.push(d);
  for (const s of statements) await d.conn.query(s);
  return d;
}

async function initSource(name: string, mappings: Record<string, string>, options: Record<string, unknown> = {}): Promise<string> {
  const pool = env.pg.pool;
  await addSource(pool, name, env.my.url, mappings, { sleep_loop: 0.2, ...options });
  const init = await runCommand(pool, 'sch_chameleon.init_replica($1)', [name]);
  assert.equal(init.state, 'done');
  // a table whose copy fails leaves the command done: the failure is in its progress
  assert.deepEqual(init.progress.tables_failed, [], 'every table copied');
  return (await sql1<{ id: string }>(pool, 'SELECT source_id::text AS id FROM sch_chameleon.show_sources() WHERE source = $1', [name])).id;
}

async function startReplica(name: string): Promise<void> {
  assert.equal((await runCommand(env.pg.pool, 'sch_chameleon.start_replica($1)', [name])).state, 'done');
}

async function stopReplica(name: string): Promise<void> {
  assert.equal((await runCommand(env.pg.pool, 'sch_chameleon.stop_replica($1)', [name])).state, 'done');
}

interface Status {
  status: string;
  consistent: boolean;
  replay_position: string | null;
  read_position: string | null;
  events_read: string;
  events_applied: string;
  events_skipped: string;
  tables_replicated: string;
  tables_excluded: string;
  last_error: string | null;
}

async function status(name: string): Promise<Status> {
  return sql1<Status>(env.pg.pool, 'SELECT * FROM sch_chameleon.show_status() WHERE source = $1', [name]);
}

/**
 * Holds the replay of a source without touching the agent: the decoder
 * waits on the lock of a target table while the reader goes on storing
 * batches, so a backlog builds up exactly as it would behind a slow target.
 */
async function holdReplay(tables: string[]): Promise<() => Promise<void>> {
  const client = await env.pg.pool.connect();
  holds.add(client);
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${tables.join(', ')} IN ACCESS EXCLUSIVE MODE`);
  return async () => {
    holds.delete(client);
    await client.query('COMMIT');
    client.release();
  };
}

/** Waits until the reader has stored everything MariaDB has written so far (not necessarily applied it). */
async function waitRead(sourceId: string, conn: mysql.Connection): Promise<void> {
  const [file, pos] = (await masterPosition(conn)).split(':');
  await waitFor('the reader to store the binlog', async () =>
    (await sql1<{ ok: boolean }>(env.pg.pool,
      'SELECT sch_chameleon.fn_position_reached(file, pos, $2, $3) AS ok FROM sch_chameleon.fn_read_position($1)',
      [sourceId, file, pos])).ok === true);
}

async function pendingBatches(sourceId: string): Promise<{ batches: number; events: number; logRows: number }> {
  return sql1(env.pg.pool,
    `SELECT count(*)::int AS batches, coalesce(sum(b.events), 0)::int AS events,
            (SELECT count(*)::int FROM sch_chameleon.t_log_events l
              WHERE l.batch_id IN (SELECT x.batch_id FROM sch_chameleon.t_batches x WHERE x.source_id = $1)) AS "logRows"
       FROM sch_chameleon.t_batches b WHERE b.source_id = $1 AND b.applied_at IS NULL`, [sourceId]);
}

/** file:position of a position as the status functions show it (a GTID, when recorded, follows in parentheses). */
const filePos = (p: string | null): string | null => p?.replace(/ \(.*\)$/, '') ?? null;

const counters = (s: Status): { read: number; applied: number; skipped: number } =>
  ({ read: Number(s.events_read), applied: Number(s.events_applied), skipped: Number(s.events_skipped) });

test('limit_tables: only the listed tables replicate; changes to unlisted tables of the same databases never appear', async () => {
  const pool = env.pg.pool;
  const one = await mysqlDb('lim_one', [
    'CREATE TABLE a (id INT PRIMARY KEY, v INT NOT NULL)',
    'CREATE TABLE b (id INT PRIMARY KEY, v VARCHAR(20))',
    'CREATE TABLE c (id INT PRIMARY KEY, v INT NOT NULL)',
    'INSERT INTO a VALUES (1, 1), (2, 2)',
    "INSERT INTO b VALUES (1, 'one')",
    'INSERT INTO c VALUES (1, 1)',
  ]);
  const two = await mysqlDb('lim_two', [
    'CREATE TABLE z1 (id INT PRIMARY KEY, v INT)',
    'CREATE TABLE z2 (id INT PRIMARY KEY, v INT)',
    'INSERT INTO z1 VALUES (1, 1)',
    'INSERT INTO z2 VALUES (1, 1)',
  ]);
  // a table of the unlisted name already in the target schema must be left exactly as it is
  await pool.query('CREATE SCHEMA lim');
  await pool.query('CREATE TABLE lim.c (id int PRIMARY KEY, v int NOT NULL)');
  await pool.query('INSERT INTO lim.c VALUES (42, 42)');
  await initSource('lim', { [one.name]: 'lim', [two.name]: 'lim2' }, { limit_tables: [`${one.name}.a`, `${one.name}.b`, `${two.name}.*`] });
  const tables = await pool.query("SELECT mysql_schema, mysql_table FROM sch_chameleon.show_tables('lim') ORDER BY 1, 2");
  assert.deepEqual(tables.rows.map((r) => `${r.mysql_schema === one.name ? 'one' : 'two'}.${r.mysql_table}`), ['one.a', 'one.b', 'two.z1', 'two.z2']);
  await startReplica('lim');
  const before = counters(await status('lim'));

  const c = one.conn;
  await c.query('START TRANSACTION');
  await c.query('INSERT INTO a VALUES (3, 3)');
  await c.query('INSERT INTO c VALUES (2, 2)');
  await c.query('UPDATE c SET v = 100 WHERE id = 1');
  await c.query("UPDATE b SET v = 'uno' WHERE id = 1");
  await c.query('COMMIT');
  await c.query('INSERT INTO c VALUES (3, 3), (42, 0)');
  await c.query('DELETE FROM c WHERE id = 1');
  // DDL on an unlisted table is none of the replica's business: nothing is excluded
  await c.query('ALTER TABLE c ADD COLUMN w INT');
  await c.query('INSERT INTO c VALUES (4, 4, 4)');
  await c.query('UPDATE a SET v = v * 10');
  await c.query('DELETE FROM a WHERE id = 2');
  await c.query("INSERT INTO b VALUES (2, NULL), (3, 'three')");
  await c.query(`INSERT INTO \`${two.name}\`.z1 VALUES (2, 2)`);
  await c.query(`UPDATE \`${two.name}\`.z2 SET v = 20`);
  await waitCaughtUp(c, pool, 'lim');

  await assertSameRows(c, pool, 'SELECT id, v FROM a ORDER BY id', 'SELECT id, v FROM lim.a ORDER BY id', 'lim.a');
  await assertSameRows(c, pool, 'SELECT id, v FROM b ORDER BY id', 'SELECT id, v FROM lim.b ORDER BY id', 'lim.b');
  await assertSameRows(c, pool, `SELECT id, v FROM \`${two.name}\`.z1 ORDER BY id`, 'SELECT id, v FROM lim2.z1 ORDER BY id', 'lim2.z1');
  await assertSameRows(c, pool, `SELECT id, v FROM \`${two.name}\`.z2 ORDER BY id`, 'SELECT id, v FROM lim2.z2 ORDER BY id', 'lim2.z2');
  assert.deepEqual((await pool.query('SELECT * FROM lim.c')).rows, [{ id: 42, v: 42 }], 'the unlisted table is untouched');
  assert.deepEqual((await pool.query('SELECT id, v FROM lim.a ORDER BY id')).rows, [{ id: 1, v: 10 }, { id: 3, v: 30 }]);
  const states = await tableStates(pool, 'lim');
  assert.deepEqual(Object.values(states).map((s) => s.state), ['replicating', 'replicating', 'replicating', 'replicating']);
  // a: an insert, 3 updates and a delete; b: an update and 2 inserts; z1: an insert; z2: an update
  const st = await status('lim');
  assert.deepEqual([Number(st.tables_replicated), Number(st.tables_excluded)], [4, 0]);
  const now = counters(st);
  assert.deepEqual({ read: now.read - before.read, applied: now.applied - before.applied, skipped: now.skipped - before.skipped },
    { read: 10, applied: 10, skipped: 0 }, 'the unlisted table\'s changes are not even stored');
  const errors = await sql1<{ n: number }>(pool, "SELECT count(*)::int AS n FROM sch_chameleon.show_errors() WHERE source = 'lim'");
  assert.equal(errors.n, 0);
  await stopReplica('lim');
});

test('replay_max_rows: a backlog is applied in whole batches of whole transactions, exact, counters equal to the row changes', async () => {
  const pool = env.pg.pool;
  const TXS = 10;
  const my = await mysqlDb('maxrows', [
    'CREATE TABLE ledger (id INT PRIMARY KEY, tx INT NOT NULL, v INT NOT NULL)',
    `INSERT INTO ledger SELECT seq, 0, seq FROM seq_1_to_30`,
  ]);
  // each transaction: 30 inserts, 6 updates and 4 deletes (of the rows of the one before): 40 row changes;
  // a batch takes one transaction (never split, although larger than replica_batch_size), a replay call two
  const id = await initSource('maxrows', { [my.name]: 'maxrows' }, { replica_batch_size: 30, replay_max_rows: 50 });
  await startReplica('maxrows');
  const before = counters(await status('maxrows'));
  const last = await sql1<{ m: string }>(pool, "SELECT coalesce(max(batch_id), 0)::text AS m FROM sch_chameleon.t_batches WHERE source_id = $1", [id]);

  // the state after each number of transactions, as one statement of PostgreSQL sees it
  const rows = new Map<number, { tx: number; v: number }>();
  for (let k = 1; k <= 30; k++) rows.set(k, { tx: 0, v: k });
  const print = (): string => {
    let n = 0, sv = 0, si = 0;
    for (const [k, r] of rows) {
      n++;
      sv += r.v;
      si += k;
    }
    return `${n}/${sv}/${si}`;
  };
  const states = [print()];
  const release = await holdReplay(['maxrows.ledger']);
  const c = my.conn;
  for (let i = 1; i <= TXS; i++) {
    const prev = (i - 1) * 100;
    await c.query('START TRANSACTION');
    await c.query(`INSERT INTO ledger SELECT ${i * 100} + seq, ${i}, seq FROM seq_1_to_30`);
    await c.query(`UPDATE ledger SET v = v + 1000 WHERE id BETWEEN ${prev + 1} AND ${prev + 6}`);
    await c.query(`DELETE FROM ledger WHERE id BETWEEN ${prev + 7} AND ${prev + 10}`);
    await c.query('COMMIT');
    for (let k = 1; k <= 30; k++) rows.set(i * 100 + k, { tx: i, v: k });
    for (let k = prev + 1; k <= prev + 6; k++) rows.get(k)!.v += 1000;
    for (let k = prev + 7; k <= prev + 10; k++) rows.delete(k);
    states.push(print());
  }
  await waitRead(id, c);
  const backlog = await pendingBatches(id);
  assert.deepEqual(backlog, { batches: TXS, events: TXS * 40, logRows: TXS * 40 }, 'one batch per transaction, waiting');

  const seen = new Set<string>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const r = await sql1<{ f: string }>(pool, "SELECT count(*) || '/' || coalesce(sum(v), 0) || '/' || coalesce(sum(id), 0) AS f FROM maxrows.ledger");
      seen.add(r.f);
    }
  })();
  await release();
  await waitCaughtUp(c, pool, 'maxrows');
  sampling = false;
  await sampler;
  // a replay call applies whole batches until it holds replay_max_rows events: two transactions at a time here
  const visible = [...seen].map((f) => states.indexOf(f));
  assert.ok(!visible.includes(-1), `PostgreSQL showed a state no prefix of whole transactions gives: ${[...seen].join(', ')}`);
  assert.deepEqual(visible.filter((k) => k % 2 === 1), [], `only pairs of transactions become visible: ${visible.join(', ')}`);
  await assertSameRows(c, pool, 'SELECT id, tx, v FROM ledger ORDER BY id', 'SELECT id, tx, v FROM maxrows.ledger ORDER BY id', 'maxrows.ledger');
  assert.equal(seen.has(states[TXS]), true);

  // the batches one replay call marked applied share its transaction id
  const calls = await pool.query(
    `SELECT array_agg(events ORDER BY batch_id) AS events, array_agg(transactions ORDER BY batch_id) AS txs
       FROM sch_chameleon.t_batches WHERE source_id = $1 AND batch_id > $2 AND events > 0
      GROUP BY xmin::text::bigint ORDER BY min(batch_id)`, [id, last.m]);
  assert.deepEqual(calls.rows.map((r) => r.events), Array.from({ length: TXS / 2 }, () => [40, 40]));
  assert.deepEqual(calls.rows.map((r) => r.txs), Array.from({ length: TXS / 2 }, () => [1, 1]));

  const now = counters(await status('maxrows'));
  assert.deepEqual({ read: now.read - before.read, applied: now.applied - before.applied, skipped: now.skipped - before.skipped },
    { read: TXS * 40, applied: TXS * 40, skipped: 0 });
  const t = await sql1<{ events_applied: string }>(pool, "SELECT events_applied FROM sch_chameleon.show_tables('maxrows')");
  assert.equal(Number(t.events_applied), TXS * 40);
  await stopReplica('maxrows');
});

test('batch_retention: applied batch records older than the retention are pruned, unapplied ones never; the replica resumes exactly after', async () => {
  const pool = env.pg.pool;
  const my = await mysqlDb('retention', ['CREATE TABLE r (id INT PRIMARY KEY, v INT NOT NULL)', 'INSERT INTO r VALUES (1, 1)']);
  const id = await initSource('ret', { [my.name]: 'ret' }, { batch_retention: '1 second' });
  await startReplica('ret');
  const c = my.conn;
  const before = counters(await status('ret'));
  for (let i = 2; i <= 4; i++) await c.query(`INSERT INTO r VALUES (${i}, ${i})`);
  await waitCaughtUp(c, pool, 'ret');
  const batches = async (): Promise<{ applied: number; pending: number }> => sql1(pool,
    `SELECT count(*) FILTER (WHERE applied_at IS NOT NULL)::int AS applied, count(*) FILTER (WHERE applied_at IS NULL)::int AS pending
       FROM sch_chameleon.t_batches WHERE source_id = $1`, [id]);
  const applied = (await batches()).applied;
  assert.ok(applied >= 1, 'applied batches are kept for a while');

  const release = await holdReplay(['ret.r']);
  await c.query('START TRANSACTION');
  await c.query('INSERT INTO r VALUES (5, 5)');
  await c.query('UPDATE r SET v = 10 WHERE id = 1');
  await c.query('COMMIT');
  await waitRead(id, c);
  assert.deepEqual(await pendingBatches(id), { batches: 1, events: 2, logRows: 2 });
  // the agent prunes on a 60 s timer and no SQL function prunes yet: the test calls what that timer calls,
  // with the source's own retention, once every batch is older than it
  await new Promise((r) => setTimeout(r, 1200));
  const retention = (await sql1<{ r: string }>(pool, "SELECT options ->> 'batch_retention' AS r FROM sch_chameleon.show_sources() WHERE source = 'ret'")).r;
  assert.equal(retention, '1 second');
  assert.equal(await pruneBatches(pool, id, retention), applied);
  assert.deepEqual(await batches(), { applied: 0, pending: 1 });
  assert.deepEqual(await pendingBatches(id), { batches: 1, events: 2, logRows: 2 }, 'the unapplied batch and its row images stay, however old');

  await release();
  await waitCaughtUp(c, pool, 'ret');
  await assertSameRows(c, pool, 'SELECT id, v FROM r ORDER BY id', 'SELECT id, v FROM ret.r ORDER BY id', 'ret.r');

  // with every batch record gone, the positions carried on the source are where the reader resumes
  await new Promise((r) => setTimeout(r, 1200));
  await pruneBatches(pool, id, retention);
  assert.deepEqual(await batches(), { applied: 0, pending: 0 });
  const caught = await status('ret');
  assert.equal(filePos(caught.read_position), await masterPosition(c));
  assert.equal(filePos(caught.replay_position), await masterPosition(c));
  await stopReplica('ret');
  await c.query('UPDATE r SET v = v + 1');
  await c.query('DELETE FROM r WHERE id = 2');
  await startReplica('ret');
  await waitCaughtUp(c, pool, 'ret');
  await assertSameRows(c, pool, 'SELECT id, v FROM r ORDER BY id', 'SELECT id, v FROM ret.r ORDER BY id', 'ret.r');
  // nothing read twice: 3 + 2 row changes, then 5 updates and a delete
  const now = counters(await status('ret'));
  assert.deepEqual({ read: now.read - before.read, applied: now.applied - before.applied }, { read: 11, applied: 11 });
  await stopReplica('ret');
});

test('a table without a primary key: LIMIT 1 changes one of identical rows, a full update changes them all; the multiset equals MySQL', async () => {
  const pool = env.pg.pool;
  const my = await mysqlDb('nopk', [
    'CREATE TABLE dup (a INT, b VARCHAR(10), f FLOAT, d DATETIME(3) NULL, t TEXT NULL)',
    "INSERT INTO dup VALUES (1, 'x', 0.1, '2024-01-01 00:00:00.123', 'tab\\there'), (1, 'x', 0.1, '2024-01-01 00:00:00.123', 'tab\\there'), " +
      "(1, 'x', 0.1, '2024-01-01 00:00:00.123', 'tab\\there'), (2, 'y', NULL, NULL, NULL), (2, 'y', NULL, NULL, NULL), (3, 'z', 1.5, NULL, '')",
  ]);
  await initSource('nopk', { [my.name]: 'nopk' });
  await startReplica('nopk');
  const c = my.conn;
  const sorted = async (): Promise<{ mysql: string[]; pg: string[] }> => {
    const [m] = await c.query<mysql.RowDataPacket[]>({
      sql: "SELECT a, b, CAST(f * 1e0 AS CHAR), DATE_FORMAT(d, '%Y-%m-%d %H:%i:%s.%f'), t FROM dup", rowsAsArray: true });
    const p = await pool.query({ text: "SELECT a, b, f::float8::text, to_char(d, 'YYYY-MM-DD HH24:MI:SS.US'), t FROM nopk.dup", rowMode: 'array' });
    const norm = (rows: unknown[][]): string[] => rows.map((r) => JSON.stringify(r.map((v) => (v === null ? null : String(v))))).sort();
    return { mysql: norm(m as unknown as unknown[][]), pg: norm(p.rows) };
  };
  const step = async (what: string, statements: string[], changed: number): Promise<void> => {
    if (statements.length > 1) await c.query('START TRANSACTION');
    let affected = 0;
    for (const s of statements) affected += (await c.query<mysql.ResultSetHeader>(s))[0].affectedRows;
    if (statements.length > 1) await c.query('COMMIT');
    assert.equal(affected, changed, `${what}: MySQL changed ${affected} rows`);
    await waitCaughtUp(c, pool, 'nopk');
    const rows = await sorted();
    assert.deepEqual(rows.pg, rows.mysql, what);
  };
  assert.equal((await sorted()).pg.length, 6);
  await step('update limit 1', ["UPDATE dup SET a = 10 WHERE b = 'x' LIMIT 1"], 1);
  assert.deepEqual((await pool.query("SELECT a, count(*)::int AS n FROM nopk.dup WHERE b = 'x' GROUP BY a ORDER BY a")).rows,
    [{ a: 1, n: 2 }, { a: 10, n: 1 }]);
  await step('delete limit 1 of rows holding nulls', ["DELETE FROM dup WHERE b = 'y' LIMIT 1"], 1);
  assert.equal((await sql1<{ n: number }>(pool, "SELECT count(*)::int AS n FROM nopk.dup WHERE b = 'y'")).n, 1);
  await step('update of every duplicate', ["UPDATE dup SET f = f * 2, t = CONCAT(t, '!') WHERE b = 'x'"], 3);
  await step('one transaction: a new duplicate, then limit 1 changes of it and of others', [
    "INSERT INTO dup VALUES (2, 'y', NULL, NULL, NULL), (2, 'y', NULL, NULL, NULL)",
    "UPDATE dup SET t = 'changed' WHERE b = 'y' LIMIT 1",
    "DELETE FROM dup WHERE b = 'x' AND a = 1 LIMIT 1",
    "UPDATE dup SET a = 4, d = '1999-12-31 23:59:59.999' WHERE b = 'z'",
    "UPDATE dup SET a = 20 WHERE b = 'y' AND t IS NULL LIMIT 1",
  ], 6);
  assert.deepEqual((await pool.query("SELECT a, t, count(*)::int AS n FROM nopk.dup WHERE b = 'y' GROUP BY a, t ORDER BY a, t")).rows,
    [{ a: 2, t: 'changed', n: 1 }, { a: 2, t: null, n: 1 }, { a: 20, t: null, n: 1 }]);
  await step('delete of every duplicate', ["DELETE FROM dup WHERE b = 'x'"], 2);
  assert.equal((await sorted()).pg.length, 4);
  const errors = await sql1<{ n: number }>(pool, "SELECT count(*)::int AS n FROM sch_chameleon.show_errors() WHERE source = 'nopk'");
  assert.equal(errors.n, 0);
  await stopReplica('nopk');
});

test('show_status consistent: false while the replay is behind a table\'s copy coordinates, true from the moment it passes them', async () => {
  const pool = env.pg.pool;
  const my = await mysqlDb('consistent', [
    'CREATE TABLE a (id INT PRIMARY KEY, v INT NOT NULL)',
    'CREATE TABLE b (id INT PRIMARY KEY, v INT NOT NULL)',
    'INSERT INTO a VALUES (1, 1)',
    'INSERT INTO b VALUES (1, 1)',
  ]);
  await initSource('cons', { [my.name]: 'cons' });
  const c = my.conn;
  // Nothing else writes the binlog here, so both tables were copied at the same coordinates, where the
  // replay starts: the target is one point in time of MySQL, consistent before the replica ever runs...
  const copies = await pool.query("SELECT DISTINCT copy_position FROM sch_chameleon.show_tables('cons')");
  assert.equal(copies.rows.length, 1);
  assert.equal((await status('cons')).replay_position, copies.rows[0].copy_position);
  assert.equal((await status('cons')).consistent, true);
  // ...and being behind MySQL does not change that: consistent is not "caught up"
  await c.query('INSERT INTO a VALUES (2, 2)');
  await c.query('UPDATE b SET v = 10');
  assert.equal((await status('cons')).consistent, true);

  // b copied again now: its copy holds changes the replay has not reached, a has not got them yet
  const sync = await runCommand(pool, 'sch_chameleon.sync_tables($1, $2)', ['cons', [`${my.name}.b`]]);
  assert.equal(sync.state, 'done');
  const s = await status('cons');
  assert.equal(s.consistent, false);
  assert.deepEqual((await pool.query('SELECT id, v FROM cons.b ORDER BY id')).rows, [{ id: 1, v: 10 }]);
  assert.deepEqual((await pool.query('SELECT id, v FROM cons.a ORDER BY id')).rows, [{ id: 1, v: 1 }]);
  const bCopy = (await sql1<{ p: string }>(pool, "SELECT copy_position AS p FROM sch_chameleon.show_tables('cons') WHERE mysql_table = 'b'")).p;
  assert.equal(filePos(bCopy), await masterPosition(c));

  // read is not enough: the flag turns when the replay passes b's coordinates, with a's change
  // (b's own change is in its copy and skipped)
  const release = await holdReplay(['cons.a']);
  await startReplica('cons');
  const id = (await sql1<{ id: string }>(pool, "SELECT source_id::text AS id FROM sch_chameleon.show_sources() WHERE source = 'cons'")).id;
  await waitRead(id, c);
  assert.equal((await status('cons')).consistent, false);
  await release();
  await waitCaughtUp(c, pool, 'cons');
  const after = await status('cons');
  assert.equal(after.consistent, true);
  assert.deepEqual(counters(after), { read: 2, applied: 1, skipped: 1 });
  await assertSameRows(c, pool, 'SELECT id, v FROM a ORDER BY id', 'SELECT id, v FROM cons.a ORDER BY id', 'cons.a');
  await assertSameRows(c, pool, 'SELECT id, v FROM b ORDER BY id', 'SELECT id, v FROM cons.b ORDER BY id', 'cons.b');
  await stopReplica('cons');
});

test('show_status consistent after an init_replica under writes: false until the replay passes the last table\'s copy', async () => {
  const pool = env.pg.pool;
  const my = await mysqlDb('consistent_busy', [
    'CREATE TABLE a (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL)',
    'CREATE TABLE b (id INT PRIMARY KEY, v INT NOT NULL)',
    'INSERT INTO b VALUES (1, 1)',
  ]);
  const writer = await mysql.createConnection(my.url);
  let writing = true;
  let written = 0;
  const work = (async () => {
    try {
      while (writing) {
        await writer.query('INSERT INTO a (v) VALUES (?)', [written]);
        await writer.query('UPDATE b SET v = v + 1');
        written++;
      }
    } finally {
      await writer.end();
    }
  })();
  // one table after the other while MySQL commits every few milliseconds: two different copy points
  let init: Promise<string> | null = null;
  try {
    await waitFor('the writer to run', async () => written > 5);
    init = initSource('busy', { [my.name]: 'busy' }, { copy_jobs: 1 });
    await init;
  } finally {
    writing = false;
    await work;
    await init?.catch(() => undefined);
  }
  // positions in binlog order, not text order
  const copies = await pool.query(`SELECT copy_position AS p FROM sch_chameleon.show_tables('busy')
                                    ORDER BY split_part(copy_position, ':', 1), split_part(split_part(copy_position, ':', 2), ' ', 1)::bigint`);
  assert.equal(new Set(copies.rows.map((r) => r.p)).size, 2, 'the tables were copied at different points');
  const s = await status('busy');
  assert.equal(s.replay_position, copies.rows[0].p, 'the replay starts at the earliest copy');
  assert.equal(s.consistent, false);
  await startReplica('busy');
  await waitCaughtUp(my.conn, pool, 'busy');
  assert.equal((await status('busy')).consistent, true);
  await assertSameRows(my.conn, pool, 'SELECT id, v FROM a ORDER BY id', 'SELECT id, v FROM busy.a ORDER BY id', 'busy.a');
  await assertSameRows(my.conn, pool, 'SELECT id, v FROM b ORDER BY id', 'SELECT id, v FROM busy.b ORDER BY id', 'busy.b');
  await stopReplica('busy');
});

test('on_error_replay exit: the failing transaction and every later one stay unapplied; enable_replica after the fix brings all of them, exact', async () => {
  const pool = env.pg.pool;
  const my = await mysqlDb('exit', [
    'CREATE TABLE good (id INT PRIMARY KEY, v INT NOT NULL)',
    'CREATE TABLE bad (id INT PRIMARY KEY, v INT NOT NULL)',
    'INSERT INTO good VALUES (1, 1), (2, 2)',
    'INSERT INTO bad VALUES (1, 1)',
  ]);
  const id = await initSource('ex', { [my.name]: 'ex' }, { on_error_replay: 'exit', replica_batch_size: 1 });
  // PostgreSQL refuses what MySQL accepts
  await pool.query('ALTER TABLE ex.bad ADD CONSTRAINT small_v CHECK (v < 100)');
  await startReplica('ex');
  const c = my.conn;
  await c.query('INSERT INTO good VALUES (3, 3)');
  await waitCaughtUp(c, pool, 'ex');
  const replayedBefore = (await status('ex')).replay_position;

  // T and the transactions after it are all stored before the replay reaches T
  const release = await holdReplay(['ex.good', 'ex.bad']);
  await c.query('START TRANSACTION');
  await c.query('UPDATE good SET v = 77 WHERE id = 1');
  await c.query('INSERT INTO bad VALUES (3, 500)');
  await c.query('COMMIT');
  await c.query('START TRANSACTION');
  await c.query('INSERT INTO good VALUES (20, 20)');
  await c.query('INSERT INTO bad VALUES (20, 5)');
  await c.query('COMMIT');
  await c.query('UPDATE good SET v = v + 1 WHERE id = 2');
  await waitRead(id, c);
  assert.deepEqual(await pendingBatches(id), { batches: 3, events: 5, logRows: 5 });
  await release();
  await waitFor('the source to stop in error', async () => (await status('ex')).status === 'error');

  const s = await status('ex');
  assert.match(s.last_error ?? '', /small_v/);
  assert.equal(s.replay_position, replayedBefore, 'the replay position did not move');
  assert.deepEqual((await pool.query('SELECT id, v FROM ex.good ORDER BY id')).rows, [{ id: 1, v: 1 }, { id: 2, v: 2 }, { id: 3, v: 3 }],
    'nothing of T (v = 77) and nothing after it (id 20, v = 3 of id 2)');
  assert.deepEqual((await pool.query('SELECT id, v FROM ex.bad ORDER BY id')).rows, [{ id: 1, v: 1 }]);
  assert.deepEqual(await pendingBatches(id), { batches: 3, events: 5, logRows: 5 }, 'the three batches wait, whole');
  const errors = await pool.query(
    "SELECT sqlstate, message, statement, mysql_schema, mysql_table, binlog_position, row_image FROM sch_chameleon.show_errors() WHERE source = 'ex'");
  assert.equal(errors.rows.length, 1, JSON.stringify(errors.rows));
  assert.equal(errors.rows[0].sqlstate, '23514');
  assert.match(errors.rows[0].message, /replay of .*\.bad failed/);
  assert.match(errors.rows[0].statement, /^(?!row:).*INSERT INTO "?ex"?\."?bad"?/);
  assert.equal(errors.rows[0].mysql_table, 'bad');
  assert.ok(errors.rows[0].mysql_schema, 'the error names the MySQL database');
  assert.match(errors.rows[0].binlog_position ?? '', /^[^:]+:\d+$/);
  assert.deepEqual(errors.rows[0].row_image, { v: 500, id: 3 });
  assert.deepEqual(Object.values(await tableStates(pool, 'ex')).map((t) => t.state), ['replicating', 'replicating'], 'exit excludes no table');

  await pool.query('ALTER TABLE ex.bad DROP CONSTRAINT small_v');
  await pool.query("SELECT sch_chameleon.enable_replica('ex')");
  await startReplica('ex');
  await waitCaughtUp(c, pool, 'ex');
  await assertSameRows(c, pool, 'SELECT id, v FROM good ORDER BY id', 'SELECT id, v FROM ex.good ORDER BY id', 'ex.good');
  await assertSameRows(c, pool, 'SELECT id, v FROM bad ORDER BY id', 'SELECT id, v FROM ex.bad ORDER BY id', 'ex.bad');
  assert.deepEqual((await pool.query('SELECT id, v FROM ex.good ORDER BY id')).rows,
    [{ id: 1, v: 77 }, { id: 2, v: 3 }, { id: 3, v: 3 }, { id: 20, v: 20 }]);
  assert.equal((await status('ex')).status, 'running');
  await stopReplica('ex');
});

test('on_error_replay exit: the agent does not start the failed replica again while it writes the error; one error row, the source stays in error', async () => {
  const pool = env.pg.pool;
  const my = await mysqlDb('exit_once', ['CREATE TABLE bad (id INT PRIMARY KEY, v INT NOT NULL)']);
  const id = await initSource('ex_once', { [my.name]: 'ex_once' }, { on_error_replay: 'exit', replica_batch_size: 1 });
  await pool.query('ALTER TABLE ex_once.bad ADD CONSTRAINT small_v CHECK (v < 100)');
  await startReplica('ex_once');
  const c = my.conn;
  const release = await holdReplay(['ex_once.bad']);
  await c.query('INSERT INTO bad VALUES (1, 500)');
  await waitRead(id, c);
  // the agent's write of the error status waits on this row lock, for longer than several queue scans
  const statusLock = await pool.connect();
  holds.add(statusLock);
  await statusLock.query('BEGIN');
  await statusLock.query('SELECT 1 FROM sch_chameleon.t_sources WHERE source_id = $1 FOR NO KEY UPDATE', [id]);
  const errorRows = async (): Promise<number> =>
    (await sql1<{ n: number }>(pool, "SELECT count(*)::int AS n FROM sch_chameleon.show_errors() WHERE source = 'ex_once'")).n;
  try {
    await release();
    await waitFor('the replay error to be recorded', async () => (await errorRows()) > 0);
    await new Promise((r) => setTimeout(r, 1600));
  } finally {
    holds.delete(statusLock);
    await statusLock.query('COMMIT');
    statusLock.release();
  }
  await waitFor('the source to stop in error', async () => (await status('ex_once')).status === 'error');
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(await errorRows(), 1, 'the failing batch was replayed once');
  const s = await status('ex_once');
  assert.equal(s.status, 'error');
  assert.match(s.last_error ?? '', /small_v/);
  const enabled = await sql1<{ e: boolean }>(pool, 'SELECT replica_enabled AS e FROM sch_chameleon.t_sources WHERE source_id = $1', [id]);
  assert.equal(enabled.e, false);
  assert.deepEqual(await pendingBatches(id), { batches: 1, events: 1, logRows: 1 }, 'the failing batch waits, whole');
});

test('SAVEPOINT and ROLLBACK TO SAVEPOINT: rolled-back rows never appear, the rest of the transaction arrives as one', async () => {
  const pool = env.pg.pool;
  const my = await mysqlDb('savepoint', ['CREATE TABLE sp (id INT PRIMARY KEY, v INT NOT NULL)', 'INSERT INTO sp VALUES (100, 100), (101, 101)']);
  const id = await initSource('sp', { [my.name]: 'sp' });
  await startReplica('sp');
  const c = my.conn;
  const release = await holdReplay(['sp.sp']);
  await c.query('START TRANSACTION');
  await c.query('INSERT INTO sp VALUES (1, 1)');
  await c.query('SAVEPOINT s1');
  await c.query('INSERT INTO sp VALUES (2, 2)');
  await c.query('UPDATE sp SET v = -1 WHERE id = 1');
  await c.query('DELETE FROM sp WHERE id = 100');
  await c.query('ROLLBACK TO SAVEPOINT s1');
  await c.query('INSERT INTO sp VALUES (3, 3)');
  await c.query('SAVEPOINT s2');
  await c.query('UPDATE sp SET v = 1010 WHERE id = 101');
  await c.query('SAVEPOINT s3');
  await c.query('INSERT INTO sp VALUES (4, 4)');
  await c.query('ROLLBACK TO SAVEPOINT s3');
  await c.query('RELEASE SAVEPOINT s2');
  await c.query('INSERT INTO sp VALUES (5, 5)');
  await c.query('COMMIT');
  await waitRead(id, c);
  // stored as one transaction of one batch, with only the changes that survived
  const log = await pool.query(
    `SELECT l.batch_id, l.tx_seq, l.tx_pos, l.kind, coalesce(l.row_after, l.row_before) ->> 'id' AS id
       FROM sch_chameleon.t_log_events l JOIN sch_chameleon.t_batches b USING (batch_id)
      WHERE b.source_id = $1 ORDER BY l.batch_id, l.event_seq`, [id]);
  assert.deepEqual(log.rows.map((r) => `${r.kind} ${r.id}`), ['insert 1', 'insert 3', 'update 101', 'insert 5']);
  assert.equal(new Set(log.rows.map((r) => `${r.batch_id}/${r.tx_seq}/${r.tx_pos}`)).size, 1);
  await release();
  await waitCaughtUp(c, pool, 'sp');
  await assertSameRows(c, pool, 'SELECT id, v FROM sp ORDER BY id', 'SELECT id, v FROM sp.sp ORDER BY id', 'sp.sp');
  assert.deepEqual((await pool.query('SELECT id, v FROM sp.sp ORDER BY id')).rows,
    [{ id: 1, v: 1 }, { id: 3, v: 3 }, { id: 5, v: 5 }, { id: 100, v: 100 }, { id: 101, v: 1010 }]);
  await stopReplica('sp');
});

test('a transaction across two mapped databases is visible in both schemas at once', async () => {
  const pool = env.pg.pool;
  const ACCOUNTS = 10;
  const one = await mysqlDb('two_dbs_a', [
    'CREATE TABLE acct (id INT PRIMARY KEY, balance BIGINT NOT NULL)',
    'CREATE TABLE moves (n INT PRIMARY KEY, amount INT NOT NULL)',
    `INSERT INTO acct SELECT seq, 1000 FROM seq_1_to_${ACCOUNTS}`,
  ]);
  const two = await mysqlDb('two_dbs_b', [
    'CREATE TABLE acct (id INT PRIMARY KEY, balance BIGINT NOT NULL)',
    'CREATE TABLE counter (id INT PRIMARY KEY, moves INT NOT NULL)',
    `INSERT INTO acct SELECT seq, 1000 FROM seq_1_to_${ACCOUNTS}`,
    'INSERT INTO counter VALUES (1, 0)',
  ]);
  // one copy at a time: same-named tables copied in parallel collide (the test below)
  await initSource('two', { [one.name]: 'two_a', [two.name]: 'two_b' }, { copy_jobs: 1 });
  await startReplica('two');
  const b = `\`${two.name}\``;
  // what no single MySQL transaction changes, whatever PostgreSQL has applied of them
  const invariant = `SELECT (SELECT sum(balance) FROM two_a.acct) + (SELECT sum(balance) FROM two_b.acct) AS total,
                            (SELECT count(*) FROM two_a.moves) - (SELECT moves FROM two_b.counter) AS unmatched,
                            (SELECT count(*) FROM two_a.moves) AS moves`;
  const writer = await mysql.createConnection(one.url);
  let running = true;
  let txs = 0;
  const work = (async () => {
    try {
      while (running) {
        const from = (txs % ACCOUNTS) + 1;
        const to = ((txs * 3 + 1) % ACCOUNTS) + 1;
        await writer.query('START TRANSACTION');
        await writer.query('UPDATE acct SET balance = balance - ? WHERE id = ?', [txs % 7 + 1, from]);
        await writer.query('INSERT INTO moves VALUES (?, ?)', [txs, txs % 7 + 1]);
        await writer.query(`UPDATE ${b}.acct SET balance = balance + ? WHERE id = ?`, [txs % 7 + 1, to]);
        await writer.query(`UPDATE ${b}.counter SET moves = moves + 1`);
        if (txs % 5 === 4) await writer.query('DELETE FROM moves WHERE n = ?', [txs - 2]);
        if (txs % 5 === 4) await writer.query(`UPDATE ${b}.counter SET moves = moves - 1`);
        await writer.query('COMMIT');
        txs++;
      }
    } finally {
      await writer.end();
    }
  })();
  const totals = new Set<string>();
  const unmatched = new Set<string>();
  let progressed = 0;
  const until = Date.now() + 2500;
  while (Date.now() < until) {
    const r = await sql1<{ total: string; unmatched: string; moves: string }>(pool, invariant);
    totals.add(String(r.total));
    unmatched.add(String(r.unmatched));
    progressed = Math.max(progressed, Number(r.moves));
  }
  running = false;
  await work;
  assert.ok(txs > 30, `transactions written: ${txs}`);
  assert.ok(progressed > 0, 'the samples saw the replica apply transactions');
  assert.deepEqual([...totals], [String(2 * ACCOUNTS * 1000)]);
  assert.deepEqual([...unmatched], ['0']);
  await waitCaughtUp(one.conn, pool, 'two');
  for (const [db, schema] of [[one.name, 'two_a'], [two.name, 'two_b']]) {
    await assertSameRows(one.conn, pool, `SELECT id, balance FROM \`${db}\`.acct ORDER BY id`, `SELECT id, balance FROM ${schema}.acct ORDER BY id`, `${schema}.acct`);
  }
  await assertSameRows(one.conn, pool, 'SELECT n, amount FROM moves ORDER BY n', 'SELECT n, amount FROM two_a.moves ORDER BY n', 'two_a.moves');
  await assertSameRows(one.conn, pool, `SELECT id, moves FROM ${b}.counter`, 'SELECT id, moves FROM two_b.counter', 'two_b.counter');
  await stopReplica('two');
});

test('same-named tables of two mapped databases copied in parallel', async () => {
  const pool = env.pg.pool;
  const statements = ['CREATE TABLE same (id INT PRIMARY KEY, v INT NOT NULL)', 'INSERT INTO same SELECT seq, seq FROM seq_1_to_100'];
  const one = await mysqlDb('same_a', statements);
  const two = await mysqlDb('same_b', statements);
  await initSource('same', { [one.name]: 'same_a', [two.name]: 'same_b' }, { copy_jobs: 2 });
  for (const schema of ['same_a', 'same_b']) {
    assert.equal((await sql1<{ n: number }>(pool, `SELECT count(*)::int AS n FROM ${schema}.same`)).n, 100);
  }
});

test('SAVEPOINT rolled back in a transaction that also changed a non-transactional table', async () => {
  const pool = env.pg.pool;
  const my = await mysqlDb('sp_myisam', [
    'CREATE TABLE ti (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB',
    'CREATE TABLE tm (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=MyISAM',
  ]);
  await initSource('spm', { [my.name]: 'spm' });
  await startReplica('spm');
  const c = my.conn;
  await c.query('START TRANSACTION');
  await c.query('INSERT INTO ti VALUES (1, 1)');
  await c.query('SAVEPOINT s1');
  await c.query('INSERT INTO ti VALUES (2, 2)');
  await c.query('INSERT INTO tm VALUES (1, 1)');
  await c.query('ROLLBACK TO SAVEPOINT s1');
  await c.query('INSERT INTO ti VALUES (3, 3)');
  await c.query('COMMIT');
  await waitCaughtUp(c, pool, 'spm');
  try {
    await assertSameRows(c, pool, 'SELECT id, v FROM tm ORDER BY id', 'SELECT id, v FROM spm.tm ORDER BY id', 'spm.tm');
    await assertSameRows(c, pool, 'SELECT id, v FROM ti ORDER BY id', 'SELECT id, v FROM spm.ti ORDER BY id', 'spm.ti');
  } finally {
    await stopReplica('spm');
  }
});

test('run_maintenance prunes applied batches past batch_retention and vacuums the log while the replica goes on; full rewrites it; auto_maintenance runs when due', async () => {
  const pool = env.pg.pool;
  const my = await mysqlDb('maint', ['CREATE TABLE m (id INT PRIMARY KEY, v INT NOT NULL)', 'INSERT INTO m VALUES (1, 1)']);
  const id = await initSource('maint', { [my.name]: 'maint' }, { batch_retention: '1 second' });
  await startReplica('maint');
  const c = my.conn;
  for (let i = 2; i <= 5; i++) await c.query(`INSERT INTO m VALUES (${i}, ${i})`);
  await waitCaughtUp(c, pool, 'maint');
  const applied = async (): Promise<number> => (await sql1<{ n: number }>(pool,
    'SELECT count(*)::int AS n FROM sch_chameleon.t_batches WHERE source_id = $1 AND applied_at IS NOT NULL', [id])).n;
  const lastVacuum = async (): Promise<Date | null> => (await sql1<{ t: Date | null }>(pool,
    "SELECT greatest(last_vacuum, last_autovacuum) AS t FROM pg_stat_all_tables WHERE relid = 'sch_chameleon.t_log_events'::regclass")).t;
  // as show_status() shows it
  const lastMaintenance = async (): Promise<Date | null> => (await sql1<{ t: Date | null }>(pool,
    "SELECT last_maintenance AS t FROM sch_chameleon.show_status() WHERE source = 'maint'")).t;
  assert.equal(await lastMaintenance(), null, 'auto_maintenance disabled: nothing maintained by itself');
  const toPrune = await applied();
  assert.ok(toPrune >= 1);
  await new Promise((r) => setTimeout(r, 1200));

  const t0 = new Date();
  const plain = await runCommand(pool, 'sch_chameleon.run_maintenance($1)', ['maint']);
  assert.equal(plain.state, 'done');
  assert.equal(plain.progress.full, false);
  assert.equal(plain.progress.prunedBatches, toPrune, 'every applied batch older than the retention');
  assert.equal(await applied(), 0);
  const tables = plain.progress.tables as Record<string, { before: number; after: number }>;
  assert.deepEqual(Object.keys(tables).sort(), ['t_batches', 't_log_events']);
  assert.ok((await lastVacuum())! >= new Date(t0.getTime() - 1000), 'the log was vacuumed');
  assert.ok((await lastMaintenance())! >= new Date(t0.getTime() - 1000), 'the source records its maintenance');

  // the replica went on through it
  await c.query('UPDATE m SET v = v * 10');
  await waitCaughtUp(c, pool, 'maint');
  await assertSameRows(c, pool, 'SELECT id, v FROM m ORDER BY id', 'SELECT id, v FROM maint.m ORDER BY id', 'maint.m');

  // full: the log is rewritten (a new file), and the replica still goes on
  const file = async (): Promise<string> => (await sql1<{ f: string }>(pool, "SELECT pg_relation_filenode('sch_chameleon.t_log_events')::text AS f")).f;
  const before = await file();
  const full = await runCommand(pool, 'sch_chameleon.run_maintenance(source => $1, full => true)', ['maint']);
  assert.equal(full.state, 'done');
  assert.equal(full.progress.full, true);
  assert.notEqual(await file(), before, 'VACUUM FULL rewrote the log');
  await c.query('DELETE FROM m WHERE id = 3');
  await waitCaughtUp(c, pool, 'maint');
  await assertSameRows(c, pool, 'SELECT id, v FROM m ORDER BY id', 'SELECT id, v FROM maint.m ORDER BY id', 'maint.m');

  // auto_maintenance: due at the replica's start when its interval has passed since the last one
  await stopReplica('maint');
  await pool.query('SELECT sch_chameleon.alter_source($1, $2)', ['maint', JSON.stringify({ auto_maintenance: '1 hour' })]);
  await pool.query("UPDATE sch_chameleon.t_sources SET last_maintenance_at = now() - interval '2 hours' WHERE source_id = $1", [id]);
  const t1 = new Date();
  await startReplica('maint');
  await waitFor('auto_maintenance to run', async () => ((await lastMaintenance()) ?? new Date(0)) >= new Date(t1.getTime() - 1000), 20_000);
  assert.ok((await lastVacuum())! >= new Date(t1.getTime() - 1000), 'auto_maintenance vacuumed the log');
  // not due again for an hour: a restart leaves it alone
  const stamp = await lastMaintenance();
  await stopReplica('maint');
  await startReplica('maint');
  await c.query('INSERT INTO m VALUES (6, 6)');
  await waitCaughtUp(c, pool, 'maint');
  assert.deepEqual(await lastMaintenance(), stamp);
  await stopReplica('maint');
});
