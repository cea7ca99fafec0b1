import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { replicaTestEnv, startAgentProcess, startInProcessAgent, sql1, waitCaughtUp, type AgentProcess, type ReplicaTestEnv } from '../harness/replica.js';

let env: ReplicaTestEnv;
const procs: AgentProcess[] = [];

before(async () => {
  env = await replicaTestEnv('agent_queue');
  await env.my.conn.query('CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)');
  await env.my.conn.query(`INSERT INTO t VALUES ${Array.from({ length: 100 }, (_, i) => `(${i + 1}, ${i})`).join(', ')}`);
});

after(async () => {
  for (const p of procs) if (p.child.exitCode === null) await p.kill();
  await env?.cleanup();
});

test('a command issued while no agent runs waits in the queue and runs when an agent starts', async () => {
  const pool = env.pg.pool;
  await pool.query('SELECT sch_chameleon.add_source($1, $2, $3)', [
    'q', env.my.url.replace(/\/[^/]*$/, ''), JSON.stringify({ [env.my.name]: 'q' }),
  ]);
  const init = await sql1<{ id: string }>(pool, "SELECT sch_chameleon.init_replica('q') AS id");
  const start = await sql1<{ id: string }>(pool, "SELECT sch_chameleon.start_replica('q') AS id");
  await new Promise((r) => setTimeout(r, 500));
  const pending = await pool.query('SELECT id, state FROM sch_chameleon.show_commands() WHERE id IN ($1, $2) ORDER BY id', [init.id, start.id]);
  assert.deepEqual(pending.rows.map((r) => r.state), ['pending', 'pending']);
  await assert.rejects(pool.query("SELECT * FROM sch_chameleon.wait_command($1, '300 milliseconds')", [init.id]), /still pending.*/);

  const agent = await startInProcessAgent(env.pg.url);
  try {
    const done = await sql1<{ state: string }>(pool, "SELECT * FROM sch_chameleon.wait_command($1, '1 minute')", [start.id]);
    assert.equal(done.state, 'done');
    const rows = await pool.query('SELECT id, state, started_at, finished_at FROM sch_chameleon.show_commands() WHERE id IN ($1, $2) ORDER BY id', [init.id, start.id]);
    assert.deepEqual(rows.rows.map((r) => r.state), ['done', 'done']);
    assert.ok(rows.rows[0].finished_at <= rows.rows[1].started_at, 'commands of a source run in order');
    assert.equal(Number((await sql1<{ n: string }>(pool, 'SELECT count(*) AS n FROM q.t')).n), 100);
  } finally {
    await agent.stop();
  }
});

test('two agents: one owns the source; when it dies the other takes over, exact', async () => {
  const pool = env.pg.pool;
  const c = env.my.conn;
  const a = startAgentProcess(env.pg.url, 2);
  procs.push(a);
  let owner = '';
  for (let i = 0; i < 100 && !owner; i++) {
    owner = (await sql1<{ owner: string | null }>(pool, "SELECT owner FROM sch_chameleon.show_status() WHERE source = 'q'")).owner ?? '';
    if (!owner) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(owner, 'the first agent resumed the replica and owns the source');
  const b = startAgentProcess(env.pg.url, 2);
  procs.push(b);
  await c.query('UPDATE t SET v = v + 1');
  await waitCaughtUp(c, pool, 'q');
  assert.equal((await sql1<{ owner: string }>(pool, "SELECT owner FROM sch_chameleon.show_status() WHERE source = 'q'")).owner, owner, 'one owner at a time');

  await a.kill();
  await c.query('UPDATE t SET v = v + 1');
  await c.query('DELETE FROM t WHERE id > 90');
  await waitCaughtUp(c, pool, 'q', '60 seconds');
  const now = (await sql1<{ owner: string }>(pool, "SELECT owner FROM sch_chameleon.show_status() WHERE source = 'q'")).owner;
  assert.ok(now && now !== owner, `taken over: ${owner} → ${now}`);
  const sum = await sql1<{ n: string; s: string }>(pool, 'SELECT count(*) AS n, sum(v) AS s FROM q.t');
  assert.equal(Number(sum.n), 90);
  assert.equal(Number(sum.s), Array.from({ length: 90 }, (_, i) => i + 2).reduce((x, y) => x + y, 0));
  assert.equal(await b.stop(), 0);
});

test('cancel_command stops a running init_replica; the source can be initialised again', async () => {
  const pool = env.pg.pool;
  await env.my.conn.query('CREATE TABLE big (id INT PRIMARY KEY, pad VARCHAR(200))');
  await env.my.conn.query("INSERT INTO big SELECT seq, REPEAT('x', 200) FROM seq_1_to_300000");
  const agent = await startInProcessAgent(env.pg.url);
  try {
    const stop = await sql1<{ id: string }>(pool, "SELECT sch_chameleon.stop_replica('q') AS id");
    await pool.query('SELECT * FROM sch_chameleon.wait_command($1)', [stop.id]);
    const init = await sql1<{ id: string }>(pool, "SELECT sch_chameleon.init_replica('q') AS id");
    for (let i = 0; i < 100; i++) {
      const s = await sql1<{ state: string }>(pool, 'SELECT state FROM sch_chameleon.show_commands() WHERE id = $1', [init.id]);
      if (s.state === 'running') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await sql1<{ r: string }>(pool, 'SELECT sch_chameleon.cancel_command($1) AS r', [init.id])).r, 'cancel requested');
    await assert.rejects(pool.query("SELECT * FROM sch_chameleon.wait_command($1, '1 minute')", [init.id]), /was cancelled/);
    const again = await sql1<{ id: string }>(pool, "SELECT sch_chameleon.init_replica('q') AS id");
    const done = await sql1<{ state: string }>(pool, "SELECT * FROM sch_chameleon.wait_command($1, '2 minutes')", [again.id]);
    assert.equal(done.state, 'done');
    assert.equal(Number((await sql1<{ n: string }>(pool, 'SELECT count(*) AS n FROM q.big')).n), 300000);
  } finally {
    await agent.stop();
  }
});
