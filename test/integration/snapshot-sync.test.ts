import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/agent.js';
import { createMysqlDatabase, type MysqlTestDatabase } from '../harness/db.js';
import { replicaTestEnv, startInProcessAgent, sql1, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';
import {
  addSource, assertStandardSame, fillStandardTable, pgChange, runCommand, standardTableDdl, startWriter, tableStates, waitFor, type Writer,
} from '../harness/snapshot.js';

let env: ReplicaTestEnv;
let side: MysqlTestDatabase;
let agent: Agent | null = null;
let writer: Writer | null = null;
let sideWriter: Writer | null = null;

const TABLES = ['a', 'b', 'c'];

before(async () => {
  env = await replicaTestEnv('snap_sync');
  side = await createMysqlDatabase('snap_sync_side');
  for (const t of TABLES) await env.my.conn.query(standardTableDdl(t));
  await fillStandardTable(env.my.conn, 'a', 20_000);
  await fillStandardTable(env.my.conn, 'b', 200_000);
  await fillStandardTable(env.my.conn, 'c', 20_000);
  await side.conn.query(standardTableDdl('o'));
  await fillStandardTable(side.conn, 'o', 1_000);
  agent = await startInProcessAgent(env.pg.url);
  const pool = env.pg.pool;
  await addSource(pool, 'main', env.my.url, { [env.my.name]: 'main' }, { copy_range_rows: 50_000 });
  // two readers of one MySQL server need two server ids, or each disconnects the other
  await addSource(pool, 'side', side.url, { [side.name]: 'side' }, { my_server_id: 101 });
  for (const s of ['main', 'side']) {
    assert.equal((await runCommand(pool, 'sch_chameleon.init_replica($1)', [s])).state, 'done');
    assert.equal((await runCommand(pool, 'sch_chameleon.start_replica($1)', [s])).state, 'done');
  }
});

let seed = 1;
async function startWriters(): Promise<void> {
  writer = await startWriter(env.my.url, TABLES, { seed: seed++, pauseMs: 1 });
  sideWriter = await startWriter(side.url, ['o'], { seed: seed++, pauseMs: 5 });
}

after(async () => {
  await writer?.stop().catch(() => undefined);
  await sideWriter?.stop().catch(() => undefined);
  await agent?.stop();
  await side?.drop();
  await env?.cleanup();
});

async function eventsApplied(source: string): Promise<number> {
  const r = await sql1<{ events_applied: string }>(env.pg.pool, 'SELECT events_applied FROM sch_chameleon.show_status() WHERE source = $1', [source]);
  return Number(r.events_applied);
}

async function commandState(id: string): Promise<string> {
  return (await sql1<{ state: string }>(env.pg.pool, 'SELECT state FROM sch_chameleon.t_commands WHERE command_id = $1', [id])).state;
}

/** Stops the writers (a comparison needs a still source), waits for the replicas, compares every table. */
async function assertAllExact(): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
  const written = (await writer?.stop()) ?? 0;
  await sideWriter?.stop();
  writer = null;
  sideWriter = null;
  assert.ok(written > 20, `statements written while the command ran: ${written}`);
  await waitCaughtUp(env.my.conn, env.pg.pool, 'main', '90 seconds');
  for (const t of TABLES) await assertStandardSame(env.my.conn, env.pg.pool, t, 'main');
  await waitCaughtUp(side.conn, env.pg.pool, 'side', '90 seconds');
  await assertStandardSame(side.conn, env.pg.pool, 'o', 'side');
}

test('sync_tables and refresh_schema validate their arguments at once and write nothing on error', async () => {
  const pool = env.pg.pool;
  const before = await sql1<{ n: string }>(pool, 'SELECT count(*) AS n FROM sch_chameleon.t_commands');
  const db = env.my.name;
  const bad: [string, unknown[], RegExp][] = [
    ['SELECT sch_chameleon.sync_tables($1, $2)', ['nosuch', [`${db}.a`]], /unknown source "nosuch"/],
    ['SELECT sch_chameleon.sync_tables($1, $2)', ['main', []], /at least one table/],
    ['SELECT sch_chameleon.sync_tables($1, $2)', ['main', null], /at least one table/],
    ['SELECT sch_chameleon.sync_tables($1, $2)', ['main', ['a']], /"a" is not a "db\.table" name|'a' is not a "db.table" name/],
    ['SELECT sch_chameleon.sync_tables($1, $2)', ['main', ['otherdb.a']], /database of "otherdb\.a" is not mapped by source "main"/],
    ['SELECT sch_chameleon.sync_tables($1, $2)', ['main', ['disabled', `${db}.a`]], /"disabled" must be the only element/],
    ['SELECT sch_chameleon.refresh_schema($1, $2)', ['main', 'otherdb'], /MySQL database otherdb is not mapped by source "main"/],
    ['SELECT sch_chameleon.refresh_schema($1, $2)', ['main', null], /MySQL database NULL is not mapped/],
    ['SELECT sch_chameleon.refresh_schema($1, $2)', ['nosuch', db], /unknown source "nosuch"/],
  ];
  for (const [q, params, message] of bad) {
    await assert.rejects(pool.query(q, params), message, `${q} ${JSON.stringify(params)}`);
  }
  const afterCount = await sql1<{ n: string }>(pool, 'SELECT count(*) AS n FROM sch_chameleon.t_commands');
  assert.equal(afterCount.n, before.n, 'no command row written');
  // a name the agent finds nowhere in MySQL fails the command before anything is copied
  const { id } = await sql1<{ id: string }>(pool, 'SELECT sch_chameleon.sync_tables($1, $2) AS id', ['main', [`${db}.nosuch`]]);
  await assert.rejects(pool.query('SELECT * FROM sch_chameleon.wait_command($1)', [id]), /not in MySQL.*nosuch.*nothing was copied/);
});

test('sync_tables re-copies a damaged table while writes go on; the replica of every table and source keeps running, exact', async () => {
  const pool = env.pg.pool;
  await startWriters();
  await waitCaughtUp(env.my.conn, pool, 'main');
  // someone damages the copy in PostgreSQL
  await pgChange(pool, 'DELETE FROM main.b WHERE id % 10 = 0');
  await pgChange(pool, "UPDATE main.b SET name = 'damaged' WHERE id % 7 = 0");
  const sideBefore = await eventsApplied('side');
  const { id } = await sql1<{ id: string }>(pool, 'SELECT sch_chameleon.sync_tables($1, $2) AS id', ['main', [`${env.my.name}.b`]]);
  let sideMovedDuringSync = false;
  let othersReplicating = true;
  // a and c of the same source keep being applied while b is being copied
  let appliedAtCopyStart: number | null = null;
  let othersAppliedDuringCopy = false;
  while (!['done', 'failed', 'cancelled'].includes(await commandState(id))) {
    const states = await tableStates(pool, 'main');
    if (states.a.state !== 'replicating' || states.c.state !== 'replicating') othersReplicating = false;
    if (states.b.state === 'copying') {
      const { n } = await sql1<{ n: string }>(pool, "SELECT sum(events_applied) AS n FROM sch_chameleon.t_tables WHERE mysql_table IN ('a', 'c') AND source_id = (SELECT source_id FROM sch_chameleon.t_sources WHERE source_name = 'main')");
      if (appliedAtCopyStart === null) appliedAtCopyStart = Number(n);
      else if (Number(n) > appliedAtCopyStart) othersAppliedDuringCopy = true;
    }
    if ((await commandState(id)) === 'running' && (await eventsApplied('side')) > sideBefore) sideMovedDuringSync = true;
    await new Promise((r) => setTimeout(r, 20));
  }
  const done = await sql1<{ state: string; progress: Record<string, unknown> }>(pool, 'SELECT * FROM sch_chameleon.wait_command($1)', [id]);
  assert.equal(done.state, 'done');
  assert.equal(done.progress.tables_done, 1);
  assert.ok(othersReplicating, 'a and c stayed replicating during the sync');
  assert.ok(sideMovedDuringSync, 'the other source kept applying while the sync ran');
  assert.ok(othersAppliedDuringCopy, 'the other tables of the source kept applying while b was copied');
  const states = await tableStates(pool, 'main');
  assert.deepEqual(Object.values(states).map((s) => s.state), ['replicating', 'replicating', 'replicating']);
  const status = await sql1<{ status: string }>(pool, "SELECT status FROM sch_chameleon.show_status() WHERE source = 'main'");
  assert.equal(status.status, 'running');
  const b = await sql1<{ copy_command: string }>(pool, "SELECT copy_command FROM sch_chameleon.t_tables WHERE mysql_table = 'b'");
  assert.equal(b.copy_command, id);
  await assertAllExact();
});

test('a table excluded by a replay error comes back with sync_tables(ARRAY[\'disabled\']) and replicates again', async () => {
  const pool = env.pg.pool;
  await startWriters();
  await pgChange(pool, "ALTER TABLE main.c ADD CONSTRAINT no_poison CHECK (name <> 'poison')");
  await env.my.conn.query("UPDATE c SET name = 'poison' WHERE id = 5");
  await waitFor('c excluded', async () => (await tableStates(pool, 'main')).c.state === 'excluded');
  assert.match((await tableStates(pool, 'main')).c.reason ?? '', /no_poison/);
  const sync = await runCommand(pool, 'sch_chameleon.sync_tables($1, $2)', ['main', ['disabled']]);
  assert.equal(sync.state, 'done');
  assert.equal(sync.progress.tables_total, 1);
  assert.deepEqual(sync.progress.tables_missing, []);
  assert.equal((await tableStates(pool, 'main')).c.state, 'replicating');
  await env.my.conn.query("UPDATE c SET name = 'after the sync' WHERE id BETWEEN 10 AND 20");
  await assertAllExact();
});

test('refresh_schema re-copies a whole mapped database while writes go on; exact afterwards', async () => {
  const pool = env.pg.pool;
  await startWriters();
  await pgChange(pool, 'DELETE FROM main.a WHERE id % 3 = 0');
  await pgChange(pool, 'TRUNCATE main.c');
  const refresh = await runCommand(pool, 'sch_chameleon.refresh_schema($1, $2)', ['main', env.my.name]);
  assert.equal(refresh.state, 'done');
  assert.equal(refresh.progress.tables_total, 3);
  assert.deepEqual(refresh.progress.tables_failed, []);
  const rows = await pool.query('SELECT mysql_table, state, copy_command FROM sch_chameleon.t_tables WHERE source_id = (SELECT source_id FROM sch_chameleon.t_sources WHERE source_name = $1) ORDER BY 1', ['main']);
  for (const r of rows.rows) {
    assert.equal(r.state, 'replicating', r.mysql_table);
    assert.equal(r.copy_command, refresh.id, `${r.mysql_table} re-copied by the refresh`);
  }
  await assertAllExact();
});

test('sync_tables(ARRAY[\'disabled\']) run again after its agent died mid-copy copies the table it had begun', async () => {
  const pool = env.pg.pool;
  await pgChange(pool, "ALTER TABLE main.c ADD CONSTRAINT no_poison_again CHECK (name <> 'poison again')");
  await env.my.conn.query("UPDATE c SET name = 'poison again' WHERE id = 6");
  await waitFor('c excluded', async () => (await tableStates(pool, 'main')).c.state === 'excluded');
  // the agent is gone, and the command left as a dead agent's run leaves it: the table it had
  // begun copying marked 'copying' by it, the command back in the queue for another run
  await agent!.stop();
  agent = null;
  const id = (await sql1<{ id: string }>(pool, "SELECT sch_chameleon.sync_tables('main', ARRAY['disabled'])::text AS id")).id;
  await pool.query(
    `UPDATE sch_chameleon.t_tables SET state = 'copying', copy_command = $1
      WHERE source_id = (SELECT source_id FROM sch_chameleon.t_sources WHERE source_name = 'main') AND mysql_table = 'c'`, [id]);
  agent = await startInProcessAgent(env.pg.url);
  await startWriters();
  const done = await sql1<{ state: string; progress: Record<string, unknown> }>(pool, 'SELECT * FROM sch_chameleon.wait_command($1)', [id]);
  assert.equal(done.state, 'done');
  assert.equal(done.progress.tables_total, 1, 'the table the interrupted run had begun is copied');
  assert.deepEqual(done.progress.tables_failed, [], JSON.stringify(done.progress));
  await waitFor('c replicating', async () => (await tableStates(pool, 'main')).c.state === 'replicating', 30_000, 50, async () => ({
    table: (await tableStates(pool, 'main')).c,
    source: (await pool.query("SELECT status, last_error, owner FROM sch_chameleon.show_status() WHERE source = 'main'")).rows[0],
    leases: (await pool.query('SELECT agent_id, expires_at > now() AS live FROM sch_chameleon.t_source_leases')).rows,
    me: agent?.id,
  }));
  await env.my.conn.query("UPDATE c SET name = 'after the second sync' WHERE id BETWEEN 30 AND 40");
  await assertAllExact();
});
