/**
 * Scheduling with pg_cron (the test cluster preloads it, cron.database_name
 * = postgres): jobs in another database call control functions on a
 * schedule; a run records a command the agent then runs, and a call the
 * function refuses fails the job run with its error.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Agent } from '../../src/agent/agent.js';
import { testPgUrl } from '../harness/db.js';
import { replicaTestEnv, replicate, startInProcessAgent, type ReplicaTestEnv } from '../harness/replica.js';
import { waitFor } from '../harness/snapshot.js';

let env: ReplicaTestEnv;
let agent: Agent;
let cron: pg.Client;
const jobs: string[] = [];

before(async () => {
  env = await replicaTestEnv('cron');
  await env.my.conn.query('CREATE TABLE t (id INT PRIMARY KEY)');
  cron = new pg.Client({ connectionString: testPgUrl() });
  await cron.connect();
  await cron.query('CREATE EXTENSION IF NOT EXISTS pg_cron');
  agent = await startInProcessAgent(env.pg.url);
  await replicate(env, 'cronsrc', 'cronsrc', {}, false);
});

after(async () => {
  for (const j of jobs) await cron?.query('SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = $1', [j]).catch(() => undefined);
  await cron?.end().catch(() => undefined);
  await agent?.stop();
  await env?.cleanup();
});

async function schedule(name: string, command: string): Promise<string> {
  const db = new URL(env.pg.url).pathname.slice(1);
  const job = `${name}_${db}`;
  jobs.push(job);
  await cron.query("SELECT cron.schedule_in_database($1, '* * * * *', $2, $3)", [job, command, db]);
  return job;
}

async function runs(job: string): Promise<{ status: string; return_message: string }[]> {
  return (await cron.query(`SELECT d.status, d.return_message FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                             WHERE j.jobname = $1 AND d.status IN ('succeeded', 'failed') ORDER BY d.runid`, [job])).rows;
}

// pg_cron 1.4 (Debian 12) schedules by the minute: both jobs are scheduled at once and run at the next one
test('pg_cron jobs call the control functions: a run_maintenance run queues a command the agent runs; a call the function refuses fails the run with its error and queues nothing', { timeout: 150_000 }, async () => {
  const pool = env.pg.pool;
  const before = (await pool.query("SELECT count(*)::int AS n FROM sch_chameleon.t_commands WHERE command IN ('run_maintenance', 'verify')")).rows[0].n;
  assert.equal(before, 0);
  const good = await schedule('chm_maint', "SELECT sch_chameleon.run_maintenance('cronsrc')");
  const bad = await schedule('chm_bad', "SELECT sch_chameleon.verify('no_such_source')");
  await waitFor('both jobs to run', async () => (await runs(good)).length > 0 && (await runs(bad)).length > 0, 130_000, 500);
  // read before the jobs go: their run details are joined to them by name
  const [ok] = await runs(good);
  const [failed] = await runs(bad);
  await cron.query('SELECT cron.unschedule($1)', [good]);
  await cron.query('SELECT cron.unschedule($1)', [bad]);
  assert.equal(ok.status, 'succeeded', ok.return_message);
  await waitFor('the scheduled maintenance done', async () =>
    (await pool.query("SELECT count(*)::int AS n FROM sch_chameleon.show_commands() WHERE command = 'run_maintenance' AND state = 'done'")).rows[0].n >= 1, 30_000, 200);
  assert.equal(failed.status, 'failed');
  assert.match(failed.return_message, /unknown source "no_such_source"/);
  const cmds = (await pool.query("SELECT command, source FROM sch_chameleon.show_commands() WHERE command IN ('run_maintenance', 'verify')")).rows;
  assert.deepEqual(cmds, [{ command: 'run_maintenance', source: 'cronsrc' }], 'the refused call queued nothing');
});
