import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/agent.js';
import { createMysqlDatabase, type MysqlTestDatabase } from '../harness/db.js';
import { masterPosition, replicaTestEnv, sql1, startInProcessAgent, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';
import { addSource, assertSameRows, runCommand } from '../harness/snapshot.js';

/**
 * detach_replica, the end of a migration: what was read is applied, the
 * sequences continue past the data and past MySQL's counters, MySQL's
 * foreign keys between replicated tables exist (validated, or NOT VALID and
 * reported when the rows break them), and the source never replicates again.
 */

let env: ReplicaTestEnv;
let agent: Agent;
let other: MysqlTestDatabase;
let cut: MysqlTestDatabase;

before(async () => {
  env = await replicaTestEnv('detach');
  other = await createMysqlDatabase('detach_other');
  cut = await createMysqlDatabase('cutover');
  agent = await startInProcessAgent(env.pg.url);
});

after(async () => {
  await agent?.stop();
  // its tables reference the other database's: dropped first
  await env?.cleanup();
  await other?.drop();
  await cut?.drop();
});

test('detach_replica applies what was read, moves sequences past MySQL\'s counters, creates the foreign keys, and the source stays detached', async () => {
  const pool = env.pg.pool;
  const c = env.my.conn;
  const db = env.my.name;
  await other.conn.query('CREATE TABLE elsewhere (id INT PRIMARY KEY)');
  await other.conn.query('INSERT INTO elsewhere VALUES (1)');
  await c.query('CREATE TABLE parent (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) NOT NULL) ENGINE=InnoDB');
  await c.query(`CREATE TABLE child (id BIGINT AUTO_INCREMENT PRIMARY KEY, parent_id INT, note VARCHAR(20),
                   CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE ON UPDATE RESTRICT) ENGINE=InnoDB`);
  await c.query(`CREATE TABLE pair (a INT, b INT, PRIMARY KEY (a, b)) ENGINE=InnoDB`);
  await c.query(`CREATE TABLE uses_pair (id INT PRIMARY KEY, a INT, b INT, e INT,
                   CONSTRAINT uses_pair_fk FOREIGN KEY (a, b) REFERENCES pair (a, b),
                   CONSTRAINT uses_elsewhere FOREIGN KEY (e) REFERENCES \`${other.name}\`.elsewhere (id)) ENGINE=InnoDB`);
  await c.query("INSERT INTO parent (name) VALUES ('one'), ('two'), ('three')");
  await c.query("INSERT INTO child (parent_id, note) VALUES (1, 'a'), (2, 'b'), (NULL, 'none')");
  await c.query('INSERT INTO pair VALUES (1, 1), (1, 2)');
  await c.query('INSERT INTO uses_pair VALUES (1, 1, 2, 1)');
  await addSource(pool, 'mig', env.my.url, { [db]: 'mig' }, { sleep_loop: 0.2 });
  assert.equal((await runCommand(pool, 'sch_chameleon.init_replica($1)', ['mig'])).state, 'done');
  assert.equal((await runCommand(pool, 'sch_chameleon.start_replica($1)', ['mig'])).state, 'done');
  // replicated: rows past the copy; MySQL's counter ends above the data (the last rows deleted)
  await c.query("INSERT INTO parent (name) VALUES ('four'), ('five'), ('six')");
  await c.query('DELETE FROM parent WHERE id IN (5, 6)');
  await c.query("INSERT INTO child (parent_id, note) VALUES (4, 'd')");
  await waitCaughtUp(c, pool, 'mig');
  // drift the operator will be told about: a child row whose parent is gone on this side only
  await pool.query("INSERT INTO mig.pair VALUES (7, 7)");
  await pool.query("INSERT INTO mig.uses_pair VALUES (9, 8, 8, NULL)");

  const detach = await runCommand(pool, 'sch_chameleon.detach_replica($1)', ['mig']);
  assert.equal(detach.state, 'done');
  const p = detach.progress as {
    sequences: number; appliedBeforeDetach: number; tablesNotInSync: string[];
    foreignKeys: { created: string[]; notValid: { name: string; error: string }[]; skipped: { name: string; reason: string }[] };
  };
  assert.equal(p.sequences, 2, 'parent.id and child.id');
  assert.deepEqual(p.tablesNotInSync, []);
  assert.deepEqual(p.foreignKeys.created, [`${db}.child.child_parent`]);
  assert.deepEqual(p.foreignKeys.notValid.map((f) => f.name), [`${db}.uses_pair.uses_pair_fk`]);
  assert.match(p.foreignKeys.notValid[0].error, /violates foreign key constraint "uses_pair_fk"/);
  assert.deepEqual(p.foreignKeys.skipped, [{ name: `${db}.uses_pair.uses_elsewhere`, reason: `${other.name}.elsewhere is not a replicated table of this source` }]);

  const fks = await pool.query<{ conname: string; convalidated: boolean; def: string }>(
    `SELECT conname, convalidated, pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE contype = 'f' AND connamespace = 'mig'::regnamespace ORDER BY conname`);
  assert.deepEqual(fks.rows, [
    { conname: 'child_parent', convalidated: true, def: 'FOREIGN KEY (parent_id) REFERENCES mig.parent(id) ON UPDATE RESTRICT ON DELETE CASCADE' },
    { conname: 'uses_pair_fk', convalidated: false, def: 'FOREIGN KEY (a, b) REFERENCES mig.pair(a, b) ON UPDATE RESTRICT ON DELETE RESTRICT NOT VALID' },
  ]);
  // the tables are the application's now: keys continue after MySQL's (7, not 5), and the foreign key acts
  const next = await sql1<{ id: number }>(pool, "INSERT INTO mig.parent (name) VALUES ('seven') RETURNING id");
  assert.equal(next.id, 7);
  const nextChild = await sql1<{ id: string }>(pool, "INSERT INTO mig.child (parent_id, note) VALUES (7, 'g') RETURNING id::text");
  assert.equal(nextChild.id, '5');
  await assert.rejects(pool.query("INSERT INTO mig.child (parent_id, note) VALUES (99, 'x')"), /violates foreign key constraint "child_parent"/);
  await pool.query('DELETE FROM mig.parent WHERE id = 1');
  assert.equal((await sql1<{ n: number }>(pool, 'SELECT count(*)::int AS n FROM mig.child WHERE parent_id = 1')).n, 0, 'ON DELETE CASCADE');

  // the source is done: detached, nothing left to apply, refused by the functions that would replicate it
  const src = await sql1<{ status: string; replica_enabled: boolean; batches: number }>(pool,
    `SELECT s.status, s.replica_enabled, (SELECT count(*)::int FROM sch_chameleon.t_batches b WHERE b.source_id = s.source_id) AS batches
       FROM sch_chameleon.t_sources s WHERE s.source_name = 'mig'`);
  assert.deepEqual(src, { status: 'detached', replica_enabled: false, batches: 0 });
  for (const call of ["start_replica('mig')", "init_replica('mig')", "sync_tables('mig', ARRAY['disabled'])", "detach_replica('mig')"]) {
    await assert.rejects(pool.query(`SELECT sch_chameleon.${call}`), /source "mig" was detached: its tables are a standalone database now/, call);
  }
  // MySQL goes on alone; the detached tables do not follow it
  await c.query("INSERT INTO parent (name) VALUES ('mysql only')");
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await sql1<{ n: number }>(pool, "SELECT count(*)::int AS n FROM mig.parent WHERE name = 'mysql only'")).n, 0);
  await assertSameRows(c, pool, "SELECT id, note FROM child WHERE id <= 4 AND parent_id <> 1 ORDER BY id",
    "SELECT id, note FROM mig.child WHERE id <= 4 AND parent_id <> 1 ORDER BY id", 'mig.child');
});

test('cutover waits until the replica has applied everything MySQL had, then detaches; when the time runs out first, the replica goes on', async () => {
  const pool = env.pg.pool;
  const c = cut.conn;
  await c.query('CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL)');
  await c.query('INSERT INTO t (v) VALUES (1), (2)');
  await addSource(pool, 'cut', env.my.url, { [cut.name]: 'cut' }, { sleep_loop: 0.2 });
  assert.equal((await runCommand(pool, 'sch_chameleon.init_replica($1)', ['cut'])).state, 'done');
  assert.equal((await runCommand(pool, 'sch_chameleon.start_replica($1)', ['cut'])).state, 'done');

  // the replay cannot apply anything while this lock is held: the cutover runs out of time
  const lock = await pool.connect();
  try {
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE cut.t IN ACCESS EXCLUSIVE MODE');
    await c.query('INSERT INTO t (v) VALUES (3)');
    await assert.rejects(runCommand(pool, 'sch_chameleon.cutover($1, $2)', ['cut', '1 second']),
      /cutover: the replica did not apply everything up to \S+:\d+ within 00:00:01 .*the source is not detached and its replica goes on/);
  } finally {
    await lock.query('ROLLBACK');
    lock.release();
  }
  const still = await sql1<{ status: string; replica_enabled: boolean }>(pool, "SELECT status, replica_enabled FROM sch_chameleon.t_sources WHERE source_name = 'cut'");
  assert.deepEqual(still, { status: 'running', replica_enabled: true });

  // the application's last writes, then the cut-over at once: nothing of them is lost
  await c.query('INSERT INTO t (v) VALUES (4)');
  await c.query('UPDATE t SET v = v * 10');
  const end = await masterPosition(c);
  const done = await runCommand(pool, 'sch_chameleon.cutover($1, $2)', ['cut', '30 seconds']);
  assert.equal(done.state, 'done');
  assert.equal(done.progress.position, end);
  await assertSameRows(c, pool, 'SELECT id, v FROM t ORDER BY id', 'SELECT id, v FROM cut.t ORDER BY id', 'cut.t');
  assert.equal((await sql1<{ status: string }>(pool, "SELECT status FROM sch_chameleon.t_sources WHERE source_name = 'cut'")).status, 'detached');
  assert.equal((await sql1<{ id: number }>(pool, 'INSERT INTO cut.t (v) VALUES (50) RETURNING id')).id, 5);
});
