import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { replicaTestEnv, replicate, sql1, startAgentProcess, waitCaughtUp, type AgentProcess, type ReplicaTestEnv } from '../harness/replica.js';
import { assertSameRows } from '../harness/snapshot.js';
import { seededRandom, testSeed } from '../harness/workload.js';

/**
 * DDL and crashes (ARCHITECTURE invariants 2 and 3 for DDL events): the real
 * agent is SIGKILLed at random moments while MySQL keeps altering a table
 * between its row changes. Each statement is applied once, in its place:
 * one applied twice would fail (the column exists) and quarantine the
 * table; one lost would leave columns missing.
 */

const ROUNDS = 3;
const LEASE_SECONDS = 3;
const MAX_KILL_DELAY_MS = 1500;

let env: ReplicaTestEnv;
const procs: AgentProcess[] = [];

before(async () => {
  env = await replicaTestEnv('kill_ddl');
  await env.my.conn.query('CREATE TABLE evolving (id INT PRIMARY KEY, v INT NOT NULL)');
});

after(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) await p.kill();
  await env?.cleanup();
});

function spawnAgent(): AgentProcess {
  const p = startAgentProcess(env.pg.url, LEASE_SECONDS);
  procs.push(p);
  return p;
}

async function status(): Promise<{ status: string; owner: string | null; events_applied: string; last_error: string | null; tables_excluded: string }> {
  return sql1(env.pg.pool, "SELECT status, owner, events_applied, last_error, tables_excluded FROM sch_chameleon.show_status() WHERE source = 'kdl'");
}

test('agent SIGKILLed while MySQL alters a table between its row changes: every statement applied once, in its place; the table ends equal to MySQL', async (t) => {
  const seed = testSeed();
  t.diagnostic(`seed ${seed} (CHAMELEON_TEST_SEED=${seed} replays the kill delays)`);
  const killRandom = seededRandom(seed);
  let proc = spawnAgent();
  const writer = await mysql.createConnection(env.my.url);
  const statements: string[] = [];
  let writing = true;
  let rows = 0;
  // the statements all come after the copy: each one is the replica's to apply
  await replicate(env, 'kdl', 'kdl', { sleep_loop: 0.2 });
  const work = (async () => {
    for (let i = 1; writing; i++) {
      await writer.query('INSERT INTO evolving (id, v) VALUES (?, ?)', [i, i]);
      await writer.query('UPDATE evolving SET v = v + 1 WHERE id = ?', [Math.ceil(i / 2)]);
      rows = i;
      if (i % 300 === 0 && statements.length < 40) {
        const k = i / 300;
        const ddl = k % 3 === 0
          ? `ALTER TABLE evolving MODIFY c${k - 1} BIGINT NOT NULL DEFAULT ${k}`
          : `ALTER TABLE evolving ADD COLUMN c${k} INT NOT NULL DEFAULT ${k}`;
        await writer.query(ddl);
        statements.push(ddl);
        if (k % 3 !== 0) await writer.query(`UPDATE evolving SET c${k} = c${k} + id WHERE id % 7 = 0`);
      }
    }
  })();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const pid = proc.child.pid!;
      const before = Number((await status()).events_applied);
      const deadline = Date.now() + 30_000;
      for (;;) {
        const st = await status();
        if (st.status === 'running' && st.owner?.includes(`:${pid}:`) && Number(st.events_applied) > before) break;
        if (Date.now() > deadline) throw new Error(`round ${round}: agent ${pid} never applied; ${JSON.stringify(st)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const delay = Math.floor(killRandom() * MAX_KILL_DELAY_MS);
      await new Promise((r) => setTimeout(r, delay));
      await proc.kill();
      t.diagnostic(`round ${round}: agent ${pid} killed ${delay} ms after applying; ${statements.length} DDL statements so far`);
      proc = spawnAgent();
    }
    writing = false;
    await work;
    assert.ok(statements.length >= 3, `DDL statements run: ${statements.length}`);
    await waitCaughtUp(env.my.conn, env.pg.pool, 'kdl', '90 seconds');
    const [cols] = await env.my.conn.query<mysql.RowDataPacket[]>(
      "SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'evolving' ORDER BY ORDINAL_POSITION");
    const list = cols.map((r) => String(r.c));
    assert.equal(list.length, 2 + statements.filter((s) => s.includes('ADD COLUMN')).length);
    await assertSameRows(env.my.conn, env.pg.pool, `SELECT ${list.join(', ')} FROM evolving ORDER BY id`,
      `SELECT ${list.map((c) => `"${c}"`).join(', ')} FROM kdl.evolving ORDER BY id`, 'evolving');
    const ddl = await env.pg.pool.query<{ mysql_ddl: string; state: string }>("SELECT mysql_ddl, state FROM sch_chameleon.show_ddl('kdl') ORDER BY ddl_id");
    assert.deepEqual(ddl.rows.map((r) => [r.mysql_ddl, r.state]), statements.map((s) => [s, 'applied']), 'each statement applied once, in order');
    const end = await status();
    assert.deepEqual([end.status, end.last_error, Number(end.tables_excluded)], ['running', null, 0]);
    t.diagnostic(`${rows} rows, ${statements.length} DDL statements`);
    assert.equal(await proc.stop(), 0);
  } catch (err) {
    writing = false;
    await work.catch(() => undefined);
    for (const p of procs) t.diagnostic(`agent ${p.child.pid} output (end):\n${p.output().slice(-1500)}`);
    throw err;
  } finally {
    await writer.end().catch(() => undefined);
  }
});
