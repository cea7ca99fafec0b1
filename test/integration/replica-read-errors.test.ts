import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type mysql from 'mysql2/promise';
import { Agent } from '../../src/agent/agent.js';
import { createLogger } from '../../src/log.js';
import { createMysqlDatabase, testMysqlUrl, uniqueName, type MysqlTestDatabase } from '../harness/db.js';
import { masterPosition, queueAndWait, replicaTestEnv, sql1, type ReplicaTestEnv } from '../harness/replica.js';
import { assertLedgerExact, createLedger, ledgerWorkload, seededRandom, testSeed, watchLedger } from '../harness/workload.js';

/**
 * on_error_read (SPEC §3): what the replica does when its binlog connection
 * fails. The failure is real: MySQL kills the replica's Binlog Dump thread.
 * continue: the reader reconnects with growing delays and resumes from the
 * committed position, exact; exit: the source stops in error, saying why.
 */

let env: ReplicaTestEnv;
let agent: Agent;
const logLines: Array<Record<string, unknown>> = [];
const sources: Array<{ my: MysqlTestDatabase; user: string }> = [];
const PASSWORD = 'Rd-err0r-pw';

before(async () => {
  env = await replicaTestEnv('read_errors');
  // the agent's own log, to see the reconnect delays it chose
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  agent = new Agent({ pgUrl: env.pg.url, log: createLogger({ level: 'warn', destination: sink }), leaseSeconds: 5, scanIntervalMs: 500 });
  await agent.start();
});

after(async () => {
  await agent?.stop();
  for (const s of sources) {
    await env.my.conn.query("DROP USER IF EXISTS ?@'%'", [s.user]).catch(() => undefined);
    await s.my.drop();
  }
  await env?.cleanup();
});

/** A source with a MySQL user of its own (so that its Binlog Dump thread is told apart), initialised and started. */
async function ledgerSource(name: string, options: Record<string, unknown>): Promise<{ my: MysqlTestDatabase; user: string; url: string }> {
  const my = await createMysqlDatabase(`re_${name}`);
  const user = uniqueName(`u_${name}`, 32);
  sources.push({ my, user });
  await env.my.conn.query("CREATE USER ?@'%' IDENTIFIED BY ?", [user, PASSWORD]);
  await env.my.conn.query("GRANT ALL PRIVILEGES ON *.* TO ?@'%'", [user]);
  await createLedger(my.conn);
  const u = new URL(testMysqlUrl());
  u.username = user;
  u.password = PASSWORD;
  u.pathname = '';
  const url = u.toString().replace(/\/$/, '');
  await env.pg.pool.query('SELECT sch_chameleon.add_source($1, $2, $3, $4)', [name, url, JSON.stringify({ [my.name]: name }), JSON.stringify({ sleep_loop: 0.2, ...options })]);
  assert.equal(await queueAndWait(env.pg.pool, 'init_replica', name), 'done');
  assert.equal(await queueAndWait(env.pg.pool, 'start_replica', name), 'done');
  return { my, user, url };
}

async function dumpThreads(user: string): Promise<number[]> {
  const [rows] = await env.my.conn.query<mysql.RowDataPacket[]>(
    "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%' AND USER = ? ORDER BY ID", [user]);
  return rows.map((r) => Number(r.ID));
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Kills the source's Binlog Dump thread from MySQL; returns its id. */
async function killDump(user: string): Promise<number> {
  const [id] = await until(`a Binlog Dump thread of ${user}`, 20_000, async () => {
    const ids = await dumpThreads(user);
    return ids.length > 0 ? ids : null;
  });
  await env.my.conn.query(`KILL ${id}`);
  return id;
}

async function status(source: string): Promise<{ status: string; last_error: string | null; owner: string | null }> {
  return sql1(env.pg.pool, 'SELECT status, last_error, owner FROM sch_chameleon.show_status() WHERE source = $1', [source]);
}

async function caughtUp(my: MysqlTestDatabase, source: string): Promise<void> {
  await env.pg.pool.query('SELECT sch_chameleon.wait_for_position($1, $2, $3)', [source, await masterPosition(my.conn), '60 seconds']);
}

test('on_error_read = exit: the binlog connection killed by MySQL stops the source in error, with the reason and where it stopped', async (t) => {
  const seed = testSeed();
  t.diagnostic(`seed ${seed} (CHAMELEON_TEST_SEED=${seed} replays it)`);
  const src = await ledgerSource('rx', { on_error_read: 'exit' });
  const work = ledgerWorkload(src.my.url, seededRandom(seed));
  await until('transactions applied', 20_000, async () => work.committed() > 50 && (await sql1<{ n: string }>(env.pg.pool, 'SELECT count(*) AS n FROM rx.audit')).n !== '0');
  const killed = await killDump(src.user);
  const s = await until('the source in error', 20_000, async () => {
    const st = await status('rx');
    return st.status === 'error' ? st : null;
  });
  t.diagnostic(`last_error: ${s.last_error}`);
  assert.match(s.last_error ?? '', /^reading the binlog failed: .+; on_error_read is exit, so the replica stopped \(read position .+\.\d+:\d+.*: enable_replica then start_replica resume from there\)$/);
  const committed = await work.stop();
  // it stays stopped: no new dump thread, nothing more applied, and a wait says why
  const applied = await sql1<{ n: string }>(env.pg.pool, 'SELECT count(*) AS n FROM rx.audit');
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(await dumpThreads(src.user), [], `the dump thread ${killed} is not replaced`);
  assert.equal((await sql1<{ n: string }>(env.pg.pool, 'SELECT count(*) AS n FROM rx.audit')).n, applied.n);
  assert.ok(Number(applied.n) < committed, `${applied.n} of ${committed} transactions applied before the stop`);
  const sources = await sql1<{ replica_enabled: boolean }>(env.pg.pool, 'SELECT replica_enabled FROM sch_chameleon.t_sources WHERE source_name = $1', ['rx']);
  assert.equal(sources.replica_enabled, false);
  await assert.rejects(
    env.pg.pool.query('SELECT sch_chameleon.wait_for_position($1, $2, $3)', ['rx', await masterPosition(src.my.conn), '10 seconds']),
    /source "rx" is in error: reading the binlog failed/,
  );
  // the way out the message gives: nothing lost, nothing doubled
  await env.pg.pool.query("SELECT sch_chameleon.enable_replica('rx')");
  assert.equal(await queueAndWait(env.pg.pool, 'start_replica', 'rx'), 'done');
  await caughtUp(src.my, 'rx');
  await assertLedgerExact(src.my.conn, env.pg.pool, 'rx', committed);
  assert.equal((await status('rx')).status, 'running');
});

test('on_error_read = continue: the binlog connection killed again and again, the replica resumes by itself each time, exact', async (t) => {
  const seed = testSeed();
  t.diagnostic(`seed ${seed} (CHAMELEON_TEST_SEED=${seed} replays it)`);
  const random = seededRandom(seed);
  const src = await ledgerSource('rc', { on_error_read: 'continue' });
  const owner = (await status('rc')).owner;
  const work = ledgerWorkload(src.my.url, random);
  const watch = watchLedger(env.pg.pool, 'rc');
  let killed: number[] = [];
  for (let round = 0; round < 3; round++) {
    // the reader of this round has written a batch: its connection reads
    const since = (await sql1<{ now: string }>(env.pg.pool, 'SELECT now()::text AS now')).now;
    await until(`round ${round}: a batch written`, 20_000, async () => Number((await sql1<{ n: string }>(env.pg.pool,
      `SELECT count(*) AS n FROM sch_chameleon.t_batches b JOIN sch_chameleon.t_sources s USING (source_id)
        WHERE s.source_name = 'rc' AND b.created_at > $1::timestamptz AND b.events > 0`, [since])).n) > 0);
    await new Promise((r) => setTimeout(r, Math.floor(random() * 800)));
    const id = await killDump(src.user);
    killed = [...killed, id];
    // a new dump thread, by itself
    await until(`round ${round}: a Binlog Dump thread other than ${killed.join(', ')}`, 20_000, async () => (await dumpThreads(src.user)).some((d) => !killed.includes(d)));
  }
  const committed = await work.stop();
  await caughtUp(src.my, 'rc');
  const watched = await watch.stop();
  assert.deepEqual(watched.violations, [], `seed ${seed}`);
  assert.ok(watched.samples > 20, `samples: ${watched.samples}`);
  await assertLedgerExact(src.my.conn, env.pg.pool, 'rc', committed);
  const s = await status('rc');
  assert.equal(s.status, 'running');
  assert.equal(s.last_error, null);
  assert.equal(s.owner, owner, 'the same agent kept the source');
  const resumed = logLines.filter((l) => l.source === 'rc' && l.msg === 'binlog read failed; resuming from the last committed batch');
  assert.equal(resumed.length, 3, 'one outage per kill');
  // a batch written after each reconnect ends the outage: each starts again from the first step
  assert.ok(resumed.every((l) => l.attempt === 1 && Number(l.delay) <= 500), JSON.stringify(resumed.map((l) => [l.attempt, l.delay])));
});

test('on_error_read = continue: while MySQL refuses the replica, the reconnect delays grow; it resumes once MySQL accepts again', async (t) => {
  const seed = testSeed();
  t.diagnostic(`seed ${seed} (CHAMELEON_TEST_SEED=${seed} replays it)`);
  const src = await ledgerSource('rl', {});
  const work = ledgerWorkload(src.my.url, seededRandom(seed));
  await until('transactions applied', 20_000, async () => (await sql1<{ n: string }>(env.pg.pool, 'SELECT count(*) AS n FROM rl.audit')).n !== '0');
  await env.my.conn.query("ALTER USER ?@'%' ACCOUNT LOCK", [src.user]);
  const attempts = (): Array<Record<string, unknown>> => logLines.filter((l) => l.source === 'rl' && typeof l.delay === 'number');
  try {
    await killDump(src.user);
    await until('four reconnect attempts refused', 20_000, async () => attempts().length >= 4);
  } finally {
    await env.my.conn.query("ALTER USER ?@'%' ACCOUNT UNLOCK", [src.user]);
  }
  const seen = attempts();
  const delays = seen.map((l) => Number(l.delay));
  t.diagnostic(`reconnect delays: ${delays.join(', ')} ms`);
  assert.deepEqual(seen.map((l) => l.attempt).slice(0, 4), [1, 2, 3, 4], JSON.stringify(seen));
  for (let i = 1; i < delays.length; i++) assert.ok(delays[i] >= delays[i - 1], `delays grow: ${delays.join(', ')}`);
  assert.ok(delays[3] >= 2 * delays[0], `delays grow: ${delays.join(', ')}`);
  assert.match(String((seen[1].err as { message?: string } | undefined)?.message), /locked/i, 'the refusal is logged');
  assert.equal((await status('rl')).status, 'running', 'a refused reconnect is no error of the source');
  await until('a Binlog Dump thread again', 30_000, async () => (await dumpThreads(src.user)).length > 0);
  const committed = await work.stop();
  await caughtUp(src.my, 'rl');
  await assertLedgerExact(src.my.conn, env.pg.pool, 'rl', committed);
});
