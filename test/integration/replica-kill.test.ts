import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { replicaTestEnv, replicate, sql1, startAgentProcess, waitCaughtUp, type AgentProcess, type ReplicaTestEnv } from '../harness/replica.js';
import { assertLedgerExact, createLedger, ledgerWorkload, seededRandom, testSeed, watchLedger } from '../harness/workload.js';

/**
 * Exactly once across agent crashes (SPEC §5, ARCHITECTURE invariant 2):
 * the real agent process is SIGKILLed at a random moment of its work, each
 * time only once it owns the source and has applied batches itself, so
 * every kill lands in a working replica (reading, writing a batch,
 * replaying), never in an agent still waiting for the dead one's lease.
 * Meanwhile MySQL commits a stream of ledger transactions and a reader of
 * PostgreSQL checks that every state it sees is whole.
 */

const ROUNDS = 5;
const LEASE_SECONDS = 3;
/** Longest wait after the agent is seen applying before it is killed. */
const MAX_KILL_DELAY_MS = 1500;

let env: ReplicaTestEnv;
const procs: AgentProcess[] = [];

before(async () => {
  env = await replicaTestEnv('replica_kill');
  await createLedger(env.my.conn);
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

interface Status {
  status: string;
  owner: string | null;
  events_applied: string;
  last_error: string | null;
}

async function status(): Promise<Status> {
  return sql1<Status>(env.pg.pool, "SELECT status, owner, events_applied, last_error FROM sch_chameleon.show_status() WHERE source = 'kill'");
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; status ${JSON.stringify(await status())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('agent SIGKILLed at random moments while it owns the source and applies, restarted each time: PostgreSQL only ever shows whole transactions, and ends exact, nothing lost, nothing applied twice', async (t) => {
  const seed = testSeed();
  t.diagnostic(`seed ${seed} (CHAMELEON_TEST_SEED=${seed} replays the kill delays and the workload)`);
  // two streams: how fast MySQL commits must not shift the kill delays
  const killRandom = seededRandom(seed);
  const workRandom = seededRandom(seed ^ 0x5bd1e995);
  let proc = spawnAgent();
  try {
    await replicate(env, 'kill', 'kill', { sleep_loop: 0.2 });
    const work = ledgerWorkload(env.my.url, workRandom);
    const watch = watchLedger(env.pg.pool, 'kill');
    const owners = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      const pid = proc.child.pid!;
      const appliedBefore = Number((await status()).events_applied);
      const took = Date.now();
      const s = await until(`round ${round}: agent ${pid} owning the source and applying`, 30_000, async () => {
        const st = await status();
        return st.status === 'running' && st.owner?.includes(`:${pid}:`) && Number(st.events_applied) > appliedBefore ? st : null;
      });
      owners.add(s.owner!);
      const delay = Math.floor(killRandom() * MAX_KILL_DELAY_MS);
      await new Promise((r) => setTimeout(r, delay));
      await proc.kill();
      t.diagnostic(`round ${round}: agent ${pid} owned the source and applied after ${Date.now() - took - delay} ms; killed ${delay} ms later, ` +
        `${Number((await status()).events_applied) - appliedBefore} events applied in its time, ${work.committed()} transactions committed in MySQL`);
      proc = spawnAgent();
    }
    const committed = await work.stop();
    assert.ok(committed > 200, `MySQL transactions committed: ${committed}`);
    await waitCaughtUp(env.my.conn, env.pg.pool, 'kill', '90 seconds');
    const watched = await watch.stop();
    t.diagnostic(`${committed} transactions, ${watched.samples} PostgreSQL samples`);
    assert.deepEqual(watched.violations, [], `seed ${seed}`);
    assert.ok(watched.samples > 100, `samples: ${watched.samples}`);
    await assertLedgerExact(env.my.conn, env.pg.pool, 'kill', committed);
    assert.equal(owners.size, ROUNDS, 'each round killed a different agent that owned the source');
    const end = await status();
    assert.equal(end.status, 'running');
    assert.equal(end.last_error, null);
    assert.match(end.owner ?? '', new RegExp(`:${proc.child.pid}:`), 'the last agent owns the source');
    const code = await proc.stop();
    assert.equal(code, 0, proc.output().slice(-2000));
  } catch (err) {
    for (const p of procs) t.diagnostic(`agent ${p.child.pid} output (end):\n${p.output().slice(-1500)}`);
    throw err;
  }
});
