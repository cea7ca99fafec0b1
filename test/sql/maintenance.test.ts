import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { installCatalog } from '../../src/catalog/installer.js';
import { runMaintenance } from '../../src/catalog/maintenance.js';
import { createPgDatabase, type PgTestDatabase } from '../harness/db.js';

/**
 * run_maintenance's VACUUM needs the catalogue's owner: PostgreSQL skips a
 * table another role asks to vacuum with a mere warning, so the agent says
 * so instead, and touches nothing.
 */

let db: PgTestDatabase;
let other: pg.Pool | null = null;
const ROLE = `maint_agent_${process.pid}`;

before(async () => {
  db = await createPgDatabase('maintenance');
  await installCatalog(db.url);
  await db.pool.query(`SELECT sch_chameleon.add_source('m', 'mysql://u:p@db.example:3306/shop', '{"shop": "shop_pg"}')`);
  await db.pool.query(`CREATE ROLE ${ROLE} LOGIN IN ROLE chameleon_admin`);
  // what an agent's role would need to prune: it is not the owner
  await db.pool.query(`GRANT SELECT, DELETE ON sch_chameleon.t_batches, sch_chameleon.t_log_events, sch_chameleon.t_tables TO ${ROLE}`);
});

after(async () => {
  await other?.end();
  await db?.drop();
  const admin = new pg.Client(db.url.replace(/\/[^/]*$/, '/postgres'));
  await admin.connect().then(() => admin.query(`DROP ROLE IF EXISTS ${ROLE}`)).catch(() => undefined);
  await admin.end().catch(() => undefined);
});

test('an agent whose role does not own the log gets an error naming the tables and their owner, and nothing is pruned', async () => {
  const id = (await db.pool.query<{ id: string }>("SELECT source_id::text AS id FROM sch_chameleon.t_sources WHERE source_name = 'm'")).rows[0].id;
  await db.pool.query(
    `INSERT INTO sch_chameleon.t_batches (source_id, end_file, end_pos, events, transactions, bytes, applied_at)
     VALUES ($1, 'binlog.000001', 100, 0, 1, 10, now() - interval '2 days')`, [id]);
  const url = new URL(db.url);
  url.username = ROLE;
  other = new pg.Pool({ connectionString: url.toString(), max: 2 });
  const owner = (await db.pool.query<{ o: string }>("SELECT pg_get_userbyid(relowner) AS o FROM pg_class WHERE oid = 'sch_chameleon.t_log_events'::regclass")).rows[0].o;
  await assert.rejects(
    runMaintenance(other, { id, name: 'm', options: { batch_retention: '1 day', lock_timeout: '1s' } }, false),
    (err: Error) => {
      assert.match(err.message, new RegExp(`run_maintenance: the agent's role ${ROLE} may not vacuum sch_chameleon\\.t_batches \\(owned by ${owner}\\), sch_chameleon\\.t_log_events \\(owned by ${owner}\\)`));
      assert.match(err.message, /run the agent as the catalogue's owner/);
      return true;
    },
  );
  const left = await db.pool.query('SELECT count(*)::int AS n FROM sch_chameleon.t_batches WHERE source_id = $1', [id]);
  assert.equal(left.rows[0].n, 1, 'the old applied batch is still there');
  const stamp = await db.pool.query('SELECT last_maintenance_at FROM sch_chameleon.t_sources WHERE source_id = $1', [id]);
  assert.equal(stamp.rows[0].last_maintenance_at, null);

  // the owner's run prunes it and records the maintenance
  const done = await runMaintenance(db.pool, { id, name: 'm', options: { batch_retention: '1 day', lock_timeout: '1s' } }, false);
  assert.equal(done.prunedBatches, 1);
  assert.equal(done.full, false);
  assert.ok(done.tables.t_log_events.before >= 0 && done.tables.t_batches.before > 0);
  const after = await db.pool.query('SELECT last_maintenance_at IS NOT NULL AS set FROM sch_chameleon.t_sources WHERE source_id = $1', [id]);
  assert.equal(after.rows[0].set, true);
});
