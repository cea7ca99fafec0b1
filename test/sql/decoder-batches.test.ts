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
  log.add('shop', 'items', 'update', '{"id": 1, "v": "stale"}', '{"id": 1}', 'binlog.000002', 400, 1, at, null);
  log.add('shop', 'other', 'insert', '{"id": 1, "n": 10}', null, 'binlog.000002', 450, 2, at, null);
  log.add('shop', 'items', 'delete', null, '{"id": 9}', 'binlog.000002', 500, 3, at, null);
  // after the copy: applied
  log.add('shop', 'items', 'update', '{"id": 2, "v": "new"}', '{"id": 2}', 'binlog.000002', 600, 4, at, null);
  log.add('shop', 'other', 'update', '{"id": 1, "n": 11}', '{"id": 1}', 'binlog.000002', 600, 4, at, null);
  log.add('shop', 'items', 'insert', '{"id": 3, "v": "three"}', null, 'binlog.000003', 4, 5, at, null);
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
