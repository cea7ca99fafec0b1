import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import type { Agent } from '../../src/agent/agent.js';
import { replicaTestEnv, replicate, sql1, startInProcessAgent, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';
import { assertRefused, assertSameRows, runCommand } from '../harness/snapshot.js';

let env: ReplicaTestEnv;
let agent: Agent;

before(async () => {
  env = await replicaTestEnv('verify');
  const c = env.my.conn;
  await c.query(`CREATE TABLE items (id BIGINT PRIMARY KEY, label VARCHAR(20), price DECIMAL(10,2), at DATETIME(6), doc JSON, raw VARBINARY(8))`);
  await c.query(`INSERT INTO items
    SELECT seq, CONCAT('item ', seq), seq / 7, TIMESTAMP('2024-01-01') + INTERVAL seq SECOND + INTERVAL seq MICROSECOND,
           JSON_OBJECT('n', seq, 'tag', CONCAT('t', seq % 3)), UNHEX(LPAD(HEX(seq), 8, '0'))
      FROM seq_1_to_120`);
  await c.query('CREATE TABLE bag (v INT, w VARCHAR(5))');
  await c.query("INSERT INTO bag VALUES (1, 'a'), (1, 'a'), (2, 'b'), (NULL, NULL)");
  await c.query('CREATE TABLE named (code VARCHAR(10) PRIMARY KEY, n INT)');
  await c.query("INSERT INTO named VALUES ('a', 1), ('B', 2), ('c', 3)");
  agent = await startInProcessAgent(env.pg.url);
  // ranges of 25 rows: several chunks for 120 rows
  await replicate(env, 'ver', 'ver', { copy_range_rows: 25 });
});

after(async () => {
  await agent?.stop();
  await env?.cleanup();
});

interface VerifyRow {
  mysql_table: string;
  state: string;
  chunks: number;
  chunks_differing: number;
  mysql_rows: string;
  pg_rows: string;
  rows_differing: string;
  differing_ranges: { from: string | null; to: string | null; keys: string[]; state: string }[];
}

async function verifyRows(): Promise<Record<string, VerifyRow>> {
  const res = await env.pg.pool.query<VerifyRow>("SELECT * FROM sch_chameleon.show_verify('ver')");
  return Object.fromEntries(res.rows.map((r) => [r.mysql_table, r]));
}

test('verify, on an exact replica under writes: every chunk the same', async () => {
  const pool = env.pg.pool;
  const c = env.my.conn;
  await c.query("UPDATE items SET label = 'changed' WHERE id = 5");
  await waitCaughtUp(c, pool, 'ver');
  const cmd = await runCommand(pool, 'sch_chameleon.verify($1)', ['ver']);
  assert.equal(cmd.state, 'done', JSON.stringify(cmd));
  const rows = await verifyRows();
  assert.deepEqual(Object.keys(rows).sort(), ['bag', 'items', 'named']);
  assert.deepEqual([rows.items.state, rows.items.chunks, Number(rows.items.mysql_rows), Number(rows.items.pg_rows)], ['same', 5, 120, 120]);
  assert.deepEqual([rows.bag.state, rows.bag.chunks, Number(rows.bag.mysql_rows)], ['same', 1, 4], 'a table without a key: one chunk, compared as a multiset');
  assert.deepEqual([rows.named.state, rows.named.chunks], ['same', 1], 'a key that is not an integer: one chunk');
  assert.deepEqual(cmd.progress.differing_tables, []);
});

test('verify finds rows changed, missing and extra in PostgreSQL, not the ones MySQL changes while it runs; repair copies only those ranges again', async () => {
  const pool = env.pg.pool;
  const c = env.my.conn;
  // drift PostgreSQL behind the replica's back
  await pool.query("UPDATE ver.items SET price = 0 WHERE id = 30");
  await pool.query('DELETE FROM ver.items WHERE id = 61');
  await pool.query("INSERT INTO ver.items (id, label) VALUES (1000, 'stray')");
  await pool.query("DELETE FROM ver.bag WHERE ctid = (SELECT min(ctid) FROM ver.bag WHERE v = 1)");

  // MySQL keeps changing other rows meanwhile: changes on their way are not differences
  const writer = await mysql.createConnection(env.my.url);
  let writing = true;
  let writes = 0;
  const work = (async () => {
    while (writing) {
      await writer.query('UPDATE items SET price = price + 1 WHERE id BETWEEN 100 AND 110');
      writes++;
    }
  })();
  try {
    const cmd = await runCommand(pool, 'sch_chameleon.verify($1, $2)', ['ver', [`${env.my.name}.items`, `${env.my.name}.bag`]]);
    assert.equal(cmd.state, 'done', JSON.stringify(cmd));
    assert.deepEqual((cmd.progress.differing_tables as string[]).sort(), [`${env.my.name}.bag`, `${env.my.name}.items`]);
    const rows = await verifyRows();
    assert.equal(rows.items.state, 'differs');
    const keys = rows.items.differing_ranges.flatMap((r) => r.keys).sort();
    assert.deepEqual(keys, ['1000', '30', '61'], 'the drifted rows, and none of the rows MySQL changed during the run');
    assert.deepEqual(rows.items.differing_ranges.map((r) => [r.from, r.to]), [['25', '50'], ['50', '75'], ['100', null]]);
    assert.equal(Number(rows.items.rows_differing), 3, 'a changed, a missing and an extra row');
    assert.equal(rows.bag.state, 'differs');
    assert.equal(rows.named.state, 'same', 'a table left out of the run keeps its last result');

    const repair = await runCommand(pool, 'sch_chameleon.repair($1, $2)', ['ver', `${env.my.name}.items`]);
    assert.equal(repair.state, 'done', JSON.stringify(repair));
    assert.equal(repair.progress.chunks_repaired, 3);
    const after = await verifyRows();
    assert.equal(after.items.state, 'repaired');
    assert.deepEqual(after.items.differing_ranges.map((r) => r.state), ['repaired', 'repaired', 'repaired']);
  } finally {
    writing = false;
    await work;
    await writer.end();
  }
  assert.ok(writes > 0, 'MySQL was written during the runs');
  await waitCaughtUp(c, pool, 'ver');
  await assertSameRows(c, pool,
    "SELECT id, label, price, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f'), JSON_VALUE(doc, '$.n'), JSON_VALUE(doc, '$.tag'), HEX(raw) FROM items ORDER BY id",
    "SELECT id, label, price, to_char(at, 'YYYY-MM-DD HH24:MI:SS.US'), doc->>'n', doc->>'tag', upper(encode(raw, 'hex')) FROM ver.items ORDER BY id",
    'items after repair');
});

test('verify and repair refuse bad arguments with a clear error and queue nothing', async () => {
  const pool = env.pg.pool;
  const before = (await sql1<{ n: number }>(pool, 'SELECT count(*)::int AS n FROM sch_chameleon.t_commands')).n;
  const refuse = (text: string, params: unknown[], message: RegExp): Promise<void> => assertRefused(pool, text, params, message);
  await refuse('SELECT sch_chameleon.verify($1)', ['nope'], /unknown source "nope"/);
  await refuse('SELECT sch_chameleon.verify($1, $2)', ['ver', ['nodb.items']], /tables: 'nodb\.items' is not a replicated table of source "ver"/);
  await refuse('SELECT sch_chameleon.verify($1, $2)', ['ver', []], /tables must name at least one table/);
  await refuse('SELECT sch_chameleon.repair($1, $2)', ['ver', `${env.my.name}.bag`], /has no primary key.*/);
  await refuse('SELECT sch_chameleon.repair($1, $2)', ['ver', `${env.my.name}.named`], /has no differing range to repair/);
  await refuse('SELECT sch_chameleon.repair($1, NULL)', ['ver'], /NULL is not a replicated table/);
  await refuse('SELECT * FROM sch_chameleon.show_verify($1)', ['nope'], /unknown source "nope"/);
  assert.equal((await sql1<{ n: number }>(pool, 'SELECT count(*)::int AS n FROM sch_chameleon.t_commands')).n, before);
});
