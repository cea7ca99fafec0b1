import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { installCatalog } from '../../src/catalog/installer.js';
import { LogEventsEncoder, replayNext, reserveBatchIds, writeBatch } from '../../src/catalog/batches.js';
import { createPgDatabase, type PgTestDatabase } from '../harness/db.js';

/**
 * The decoder on batches written by the reader's own encoder and writer,
 * with no MySQL server: a batch whose tables the reader described
 * (t_batches.tables) and the same batch undescribed (the decoder counts its
 * log rows itself) apply the same rows and count the same events, soft init
 * included (events at or before a table's copy coordinates are skipped).
 */

const AGENT = 'decoder-batches-agent';
let db: PgTestDatabase;
let pool: pg.Pool;
let sourceId: string;

before(async () => {
  db = await createPgDatabase('decoder_batches');
  pool = db.pool;
  await installCatalog(db.url);
  sourceId = (await pool.query<{ id: string }>(
    `SELECT sch_chameleon.add_source('s', 'mysql://u:p@db.example:3306/shop', '{"shop": "shop_pg"}')::text AS id`,
  )).rows[0].id;
  await pool.query(`INSERT INTO sch_chameleon.t_source_leases (source_id, agent_id, expires_at) VALUES ($1, $2, now() + interval '1 hour')`, [sourceId, AGENT]);
  await pool.query('CREATE SCHEMA shop_pg');
});

after(async () => {
  await db?.drop();
});

/** Fresh targets: items copied at binlog.000002:500, other copied before anything here. */
async function resetTargets(): Promise<void> {
  await pool.query('DROP TABLE IF EXISTS shop_pg.items, shop_pg.other');
  await pool.query('CREATE TABLE shop_pg.items (id integer PRIMARY KEY, v text)');
  await pool.query(`INSERT INTO shop_pg.items VALUES (1, 'copied'), (2, 'copied'), (9, 'copied')`);
  await pool.query('CREATE TABLE shop_pg.other (id integer PRIMARY KEY, n bigint)');
  await pool.query('DELETE FROM sch_chameleon.t_tables WHERE source_id = $1', [sourceId]);
  await pool.query(
    `INSERT INTO sch_chameleon.t_tables (source_id, mysql_schema, mysql_table, pg_schema, pg_table, pk_columns, state, copy_file, copy_pos)
     VALUES ($1, 'shop', 'items', 'shop_pg', 'items', '{id}', 'replicating', 'binlog.000002', 500),
            ($1, 'shop', 'other', 'shop_pg', 'other', '{id}', 'replicating', NULL, NULL)`,
    [sourceId],
  );
}

/** One batch, the tables' events interleaved; items has two events its copy already holds. */
async function writeTheBatch(described: boolean): Promise<string> {
  const [id] = await reserveBatchIds(pool, 1);
  const log = new LogEventsEncoder(id);
  const at = new Date('2026-01-02T03:04:05Z');
  // in the copy already (before, then at its coordinates): skipped
  log.add('shop', 'items', 'update', '{"id": 1, "v": "stale"}', '{"id": 1}', 'binlog.000002', 400, 1, null);
  log.add('shop', 'other', 'insert', '{"id": 1, "n": 10}', null, 'binlog.000002', 450, 2, null);
  log.add('shop', 'items', 'delete', null, '{"id": 9}', 'binlog.000002', 500, 3, null);
  // after the copy: applied
  log.add('shop', 'items', 'update', '{"id": 2, "v": "new"}', '{"id": 2}', 'binlog.000002', 600, 4, null);
  log.add('shop', 'other', 'update', '{"id": 1, "n": 11}', '{"id": 1}', 'binlog.000002', 600, 4, null);
  log.add('shop', 'items', 'insert', '{"id": 3, "v": "three"}', null, 'binlog.000003', 4, 5, null);
  const tables = log.tables();
  assert.deepEqual(tables, [
    { schema: 'shop', table: 'items', events: 4, ddl: 0 },
    { schema: 'shop', table: 'other', events: 2, ddl: 0 },
  ]);
  await writeBatch(pool, AGENT, sourceId, {
    id, payload: log.finish(), tables, events: log.events, end: { file: 'binlog.000003', pos: 4, gtid: null },
    transactions: 5, bytes: 1000, firstEventAt: at, lastEventAt: at, discarded: [],
  });
  if (!described) await pool.query('UPDATE sch_chameleon.t_batches SET tables = NULL WHERE batch_id = $1', [id]);
  return id;
}

for (const described of [true, false]) {
  test(`a batch ${described ? 'described by the reader' : 'without a description'}: rows applied, soft init, counters`, async () => {
    await resetTargets();
    const id = await writeTheBatch(described);
    const stored = (await pool.query<{ tables: unknown }>('SELECT tables FROM sch_chameleon.t_batches WHERE batch_id = $1', [id])).rows[0];
    assert.deepEqual(stored.tables, described ? [
      { schema: 'shop', table: 'items', events: 4, ddl: 0 },
      { schema: 'shop', table: 'other', events: 2, ddl: 0 },
    ] : null);
    const res = await replayNext(pool, sourceId, AGENT);
    assert.deepEqual(res, { batches: 1, events: 6, applied: 4, skipped: 2 });
    assert.deepEqual((await pool.query('SELECT id, v FROM shop_pg.items ORDER BY id')).rows,
      [{ id: 1, v: 'copied' }, { id: 2, v: 'new' }, { id: 3, v: 'three' }, { id: 9, v: 'copied' }]);
    assert.deepEqual((await pool.query('SELECT id, n::int AS n FROM shop_pg.other ORDER BY id')).rows, [{ id: 1, n: 11 }]);
    assert.deepEqual((await pool.query(
      'SELECT mysql_table, events_applied::int AS n FROM sch_chameleon.t_tables WHERE source_id = $1 ORDER BY mysql_table', [sourceId],
    )).rows, [{ mysql_table: 'items', n: 2 }, { mysql_table: 'other', n: 2 }]);
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM sch_chameleon.t_log_events WHERE batch_id = $1', [id])).rows[0].n, 0,
      'the applied batch\'s log rows are gone');
  });
}

/**
 * The net statement (one MERGE per table and batch) on shapes that test its
 * generated names and its branches: a table that is all key (nothing to
 * update), one whose columns are named like the statement's own (k1, c1,
 * gone, img, sub), one with an identity and a generated column and a
 * composite key; each with inserts, updates, key changes and deletes of the
 * same keys interleaved.
 */
test('the net statement applies each key\'s last state on tables that are all key, named like its own columns, or generated', async () => {
  await pool.query('DROP TABLE IF EXISTS shop_pg.pairs, shop_pg.names, shop_pg.gen');
  await pool.query('CREATE TABLE shop_pg.pairs (a integer, b text, PRIMARY KEY (a, b))');
  await pool.query(`INSERT INTO shop_pg.pairs VALUES (1, 'x'), (2, 'y')`);
  await pool.query('CREATE TABLE shop_pg.names (k1 integer PRIMARY KEY, c1 text, gone boolean, img jsonb, sub integer)');
  await pool.query(`INSERT INTO shop_pg.names VALUES (1, 'one', false, '{"a": 1}', 1), (2, 'two', false, null, 2)`);
  await pool.query(`CREATE TABLE shop_pg.gen (id bigint GENERATED ALWAYS AS IDENTITY, part text, qty integer,
                      doubled integer GENERATED ALWAYS AS (qty * 2) STORED, PRIMARY KEY (part, id))`);
  await pool.query(`INSERT INTO shop_pg.gen (id, part, qty) OVERRIDING SYSTEM VALUE VALUES (10, 'p', 1), (11, 'p', 2)`);
  await pool.query('DELETE FROM sch_chameleon.t_tables WHERE source_id = $1', [sourceId]);
  await pool.query(
    `INSERT INTO sch_chameleon.t_tables (source_id, mysql_schema, mysql_table, pg_schema, pg_table, pk_columns, state)
     VALUES ($1, 'shop', 'pairs', 'shop_pg', 'pairs', '{a,b}', 'replicating'),
            ($1, 'shop', 'names', 'shop_pg', 'names', '{k1}', 'replicating'),
            ($1, 'shop', 'gen', 'shop_pg', 'gen', '{part,id}', 'replicating')`,
    [sourceId],
  );
  const [id] = await reserveBatchIds(pool, 1);
  const log = new LogEventsEncoder(id);
  let tx = 0;
  const add = (table: string, kind: 'insert' | 'update' | 'delete', after: unknown, before: unknown): void => {
    tx++;
    log.add('shop', table, kind, after === null ? null : JSON.stringify(after), before === null ? null : JSON.stringify(before), 'binlog.000009', 100 * tx, tx, null);
  };
  // pairs: insert again what exists (no column to update), insert new, change a key, delete one
  add('pairs', 'insert', { a: 1, b: 'x' }, null);
  add('pairs', 'insert', { a: 3, b: 'z' }, null);
  add('pairs', 'update', { a: 4, b: 'y' }, { a: 2, b: 'y' });
  add('pairs', 'delete', null, { a: 3, b: 'z' });
  add('pairs', 'insert', { a: 5, b: 'w' }, null);
  // names: values in columns named like the statement's own names
  add('names', 'update', { k1: 1, c1: 'uno', gone: true, img: { b: [1, 2] }, sub: 0 }, { k1: 1 });
  add('names', 'delete', null, { k1: 2 });
  add('names', 'insert', { k1: 2, c1: 'dos', gone: null, img: null, sub: null }, null);
  add('names', 'insert', { k1: 3, c1: 'tres', gone: false, img: [], sub: 3 }, null);
  add('names', 'update', { k1: 4, c1: 'tres', gone: false, img: [], sub: 3 }, { k1: 3 });
  // gen: the identity value comes from MySQL, the generated column is PostgreSQL's own
  add('gen', 'update', { id: 10, part: 'p', qty: 5 }, { part: 'p', id: 10 });
  add('gen', 'insert', { id: 12, part: 'q', qty: 7 }, null);
  add('gen', 'update', { id: 13, part: 'q', qty: 7 }, { part: 'q', id: 12 });
  add('gen', 'delete', null, { part: 'p', id: 11 });
  add('gen', 'delete', null, { part: 'zz', id: 99 });
  await writeBatch(pool, AGENT, sourceId, {
    id, payload: log.finish(), tables: log.tables(), events: log.events, end: { file: 'binlog.000009', pos: 100 * tx, gtid: null },
    transactions: tx, bytes: 1000, firstEventAt: null, lastEventAt: null, discarded: [],
  });
  // each table's net statement runs as it is (had it failed, the event-by-event fallback would hide it)
  const client = await pool.connect();
  try {
    for (const [no, table, pk] of [[1, 'pairs', ['a', 'b']], [2, 'names', ['k1']], [3, 'gen', ['part', 'id']]] as const) {
      const net = (await client.query<{ s: string }>(`SELECT sch_chameleon.fn_decoder_statements('shop_pg', $1, $2) ->> 'net' AS s`, [table, pk])).rows[0].s;
      assert.match(net, /^MERGE INTO/);
      await client.query('BEGIN');
      await client.query(net, [id, 0, 2147483647, no, null, null]);
      await client.query('ROLLBACK');
    }
  } finally {
    client.release();
  }
  const res = await replayNext(pool, sourceId, AGENT);
  assert.deepEqual(res, { batches: 1, events: tx, applied: tx, skipped: 0 });
  assert.deepEqual((await pool.query('SELECT a, b FROM shop_pg.pairs ORDER BY a')).rows,
    [{ a: 1, b: 'x' }, { a: 4, b: 'y' }, { a: 5, b: 'w' }]);
  assert.deepEqual((await pool.query('SELECT k1, c1, gone, img, sub FROM shop_pg.names ORDER BY k1')).rows, [
    { k1: 1, c1: 'uno', gone: true, img: { b: [1, 2] }, sub: 0 },
    { k1: 2, c1: 'dos', gone: null, img: null, sub: null },
    { k1: 4, c1: 'tres', gone: false, img: [], sub: 3 },
  ]);
  assert.deepEqual((await pool.query('SELECT id::int, part, qty, doubled FROM shop_pg.gen ORDER BY part, id')).rows, [
    { id: 10, part: 'p', qty: 5, doubled: 10 },
    { id: 13, part: 'q', qty: 7, doubled: 14 },
  ]);
  const errors = await pool.query('SELECT count(*)::int AS n FROM sch_chameleon.t_errors WHERE source_id = $1', [sourceId]);
  assert.equal(errors.rows[0].n, 0, 'no table fell back to the event-by-event replay with an error');
  const states = await pool.query(`SELECT mysql_table, state FROM sch_chameleon.t_tables WHERE source_id = $1 ORDER BY 1`, [sourceId]);
  assert.deepEqual(states.rows.map((r) => `${r.mysql_table}:${r.state}`), ['gen:replicating', 'names:replicating', 'pairs:replicating']);
});
