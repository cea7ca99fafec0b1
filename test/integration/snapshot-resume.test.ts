import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/agent.js';
import { replicaTestEnv, startAgentProcess, startInProcessAgent, sql1, waitCaughtUp, type AgentProcess, type ReplicaTestEnv } from '../harness/replica.js';
import { addSource, assertStandardSame, fillStandardTable, runCommand, standardTableDdl, startWriter, waitFor } from '../harness/snapshot.js';

let env: ReplicaTestEnv;
let agent: Agent | null = null;
let proc: AgentProcess | null = null;

const TABLES = ['t1', 't2', 't3', 't4', 't5', 't6'];

before(async () => {
  env = await replicaTestEnv('snap_resume');
  for (const [i, t] of TABLES.entries()) {
    await env.my.conn.query(standardTableDdl(t));
    // different sizes give a fixed copy order (largest first)
    await fillStandardTable(env.my.conn, t, 90_000 - i * 8_000);
  }
});

after(async () => {
  await proc?.kill().catch(() => undefined);
  await agent?.stop();
  await env?.cleanup();
});

interface Row {
  mysql_table: string;
  state: string;
  copy_finished_at: Date | null;
  copy_command: string | null;
  copy_file: string | null;
  copy_pos: string | null;
}

async function tables(): Promise<Row[]> {
  const res = await env.pg.pool.query<Row>(
    'SELECT mysql_table, state, copy_finished_at, copy_command, copy_file, copy_pos FROM sch_chameleon.t_tables ORDER BY mysql_table',
  );
  return res.rows;
}

test('init_replica killed mid-way resumes in the next agent: copied tables kept, the rest copied, all exact', async () => {
  const pool = env.pg.pool;
  const c = env.my.conn;
  await addSource(pool, 'resume', env.my.url, { [env.my.name]: 'resume' }, { copy_jobs: 1, copy_range_rows: 20_000 });
  const writer = await startWriter(env.my.url, TABLES, { seed: 5, pauseMs: 2 });

  proc = startAgentProcess(env.pg.url, 3);
  const { id } = await sql1<{ id: string }>(pool, "SELECT sch_chameleon.init_replica('resume') AS id");
  await waitFor('two tables copied', async () => (await tables()).filter((t) => t.state === 'copied').length >= 2, 60_000, 10);
  await proc.kill();
  proc = null;
  const atKill = await tables();
  const copiedBefore = atKill.filter((t) => t.state === 'copied');
  assert.ok(copiedBefore.length < TABLES.length, `the kill came before the end (${copiedBefore.length} copied)`);
  for (const t of copiedBefore) assert.equal(t.copy_command, id, `${t.mysql_table} records the command that copied it`);
  const cmd = await sql1<{ state: string }>(pool, 'SELECT state FROM sch_chameleon.t_commands WHERE command_id = $1', [id]);
  assert.equal(cmd.state, 'running', 'the killed agent left its command running');

  // the source changes while no agent runs: the kept copies are older than these writes
  await new Promise((r) => setTimeout(r, 300));
  agent = await startInProcessAgent(env.pg.url);
  const done = await sql1<{ state: string; progress: Record<string, unknown> }>(pool, 'SELECT * FROM sch_chameleon.wait_command($1, $2)', [id, '2 minutes']);
  assert.equal(done.state, 'done');
  assert.equal(done.progress.tables_kept, copiedBefore.length);
  assert.equal(done.progress.tables_done, TABLES.length);
  assert.deepEqual(done.progress.tables_failed, []);
  const attempts = await sql1<{ attempts: number }>(pool, 'SELECT attempts FROM sch_chameleon.t_commands WHERE command_id = $1', [id]);
  assert.equal(attempts.attempts, 2, 'the same command ran a second time');

  const after = await tables();
  for (const t of after) {
    assert.equal(t.state, 'copied', `${t.mysql_table} copied`);
    assert.equal(t.copy_command, id);
    const first = copiedBefore.find((b) => b.mysql_table === t.mysql_table);
    if (first) {
      // not copied again: same finish time, same coordinates
      assert.equal(t.copy_finished_at!.getTime(), first.copy_finished_at!.getTime(), `${t.mysql_table} kept`);
      assert.deepEqual([t.copy_file, t.copy_pos], [first.copy_file, first.copy_pos]);
    } else {
      assert.ok(t.copy_finished_at! > copiedBefore[0].copy_finished_at!, `${t.mysql_table} copied by the second run`);
    }
  }

  const start = await runCommand(pool, "sch_chameleon.start_replica('resume')", []);
  assert.equal(start.state, 'done');
  await new Promise((r) => setTimeout(r, 300));
  await writer.stop();
  await waitCaughtUp(c, pool, 'resume', '90 seconds');
  for (const t of TABLES) await assertStandardSame(c, pool, t, 'resume');
  const s = await sql1<{ consistent: boolean }>(pool, 'SELECT consistent FROM sch_chameleon.show_status()');
  assert.equal(s.consistent, true);
});
