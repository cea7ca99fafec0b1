import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { installCatalog } from '../../src/catalog/installer.js';
import { openCatalog, type Catalog } from '../../src/catalog/db.js';
import { acquireLease, releaseLease } from '../../src/catalog/agents.js';
import { claimCommand, sweepOrphanedCommands } from '../../src/catalog/commands.js';
import { createPgDatabase, type PgTestDatabase } from '../harness/db.js';

/**
 * An agent gives up its lease on a source when the source's command ends.
 * The next command of the source may have been claimed on that lease while
 * the release was on its way: the release then keeps the lease, or that
 * command's replica would start fenced out (a lease the agent no longer has).
 */

let db: PgTestDatabase;
let cat: Catalog;
let sourceId: string;

before(async () => {
  db = await createPgDatabase('lease_release');
  await installCatalog(db.url);
  cat = openCatalog(db.url, { max: 2 });
  sourceId = (await db.pool.query<{ id: string }>(
    `SELECT sch_chameleon.add_source('l', 'mysql://u:p@db.example:3306/shop', '{"shop": "shop_pg"}')::text AS id`,
  )).rows[0].id;
});

after(async () => {
  await cat?.close();
  await db?.drop();
});

async function holder(): Promise<string | null> {
  const res = await db.pool.query<{ agent_id: string }>('SELECT agent_id FROM sch_chameleon.t_source_leases WHERE source_id = $1', [sourceId]);
  return res.rows[0]?.agent_id ?? null;
}

async function command(state: string, agent: string): Promise<string> {
  const res = await db.pool.query<{ id: string }>(
    `INSERT INTO sch_chameleon.t_commands (source_id, source_name, command, state, agent_id, started_at)
     VALUES ($1, 'l', 'start_replica', $2, $3, now()) RETURNING command_id::text AS id`,
    [sourceId, state, agent],
  );
  return res.rows[0].id;
}

test('a release keeps the lease while a command of the source claimed by the same agent runs, and gives it up once none does', async () => {
  assert.equal(await acquireLease(cat, sourceId, 'agent-a', 30), true);
  // the next command, claimed by agent-a on the lease while the last one's release was on its way
  const next = await command('running', 'agent-a');
  await releaseLease(cat, sourceId, 'agent-a');
  assert.equal(await holder(), 'agent-a', 'the lease stays with the running command');

  // another agent's running command (a takeover's leftover) does not hold agent-a's lease
  await db.pool.query("UPDATE sch_chameleon.t_commands SET state = 'done', finished_at = now() WHERE command_id = $1", [next]);
  const foreign = await command('running', 'agent-b');
  await releaseLease(cat, sourceId, 'agent-a');
  assert.equal(await holder(), null, 'no command of agent-a runs: released');
  await db.pool.query("UPDATE sch_chameleon.t_commands SET state = 'done', finished_at = now() WHERE command_id = $1", [foreign]);

  // a release by an agent that does not hold the lease leaves the holder's alone
  assert.equal(await acquireLease(cat, sourceId, 'agent-b', 30), true);
  await releaseLease(cat, sourceId, 'agent-a');
  assert.equal(await holder(), 'agent-b');
  // and the holder cannot be taken over while its lease is valid
  assert.equal(await acquireLease(cat, sourceId, 'agent-a', 30), false);
  await releaseLease(cat, sourceId, 'agent-b');
  assert.equal(await holder(), null);
});

test('a command is claimed on the lease while a decoder call of the same agent holds it (KEY SHARE); a takeover still waits for that fence', async () => {
  assert.equal(await acquireLease(cat, sourceId, 'agent-a', 30), true);
  const fence = await db.pool.connect();
  const other = openCatalog(db.url, { max: 1 });
  try {
    await fence.query('BEGIN');
    await fence.query('SELECT 1 FROM sch_chameleon.t_source_leases WHERE source_id = $1 AND agent_id = $2 FOR KEY SHARE', [sourceId, 'agent-a']);
    const id = (await db.pool.query<{ id: string }>(`SELECT sch_chameleon.run_maintenance('l')::text AS id`)).rows[0].id;
    const claimed = await Promise.race([
      claimCommand(cat, 'agent-a', 30),
      new Promise<'waited'>((r) => setTimeout(() => r('waited'), 5000)),
    ]);
    assert.notEqual(claimed, 'waited', 'the claim did not wait for the decoder call');
    assert.equal((claimed as { command_id: string }).command_id, id);
    assert.equal(await holder(), 'agent-a');
    await db.pool.query("UPDATE sch_chameleon.t_commands SET state = 'done', finished_at = now() WHERE command_id = $1", [id]);

    // the lease expired: another agent's takeover waits until the fence is gone
    await db.pool.query("UPDATE sch_chameleon.t_source_leases SET expires_at = now() - interval '1 second' WHERE source_id = $1", [sourceId]);
    let taken = false;
    const takeover = acquireLease(other, sourceId, 'agent-b', 30).then((ok) => (taken = ok));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(taken, false, 'the takeover waits for the KEY SHARE fence');
    await fence.query('COMMIT');
    await takeover;
    assert.equal(taken, true);
    assert.equal(await holder(), 'agent-b');
  } finally {
    await fence.query('ROLLBACK').catch(() => undefined);
    fence.release();
    await other.close();
  }
});

test('the sweep returns to the queue the commands of agents whose heartbeat stopped, never the sweeping agent\'s own', async () => {
  await db.pool.query(`INSERT INTO sch_chameleon.t_agents (agent_id, hostname, pid, version, heartbeat_at)
                       VALUES ('agent-late', 'h', 1, 'test', now() - interval '1 minute'), ('agent-dead', 'h', 2, 'test', now() - interval '1 minute')`);
  const own = await command('running', 'agent-late');
  const dead = await command('running', 'agent-dead');
  // agent-late sweeps: its heartbeat is as stale as the dead one's, but it is plainly alive
  assert.equal(await sweepOrphanedCommands(cat, 5, 'agent-late'), 1);
  const states = await db.pool.query<{ id: string; state: string }>(
    'SELECT command_id::text AS id, state FROM sch_chameleon.t_commands WHERE command_id IN ($1, $2) ORDER BY command_id', [own, dead]);
  assert.deepEqual(states.rows, [{ id: own, state: 'running' }, { id: dead, state: 'pending' }]);
  // another agent's sweep takes the late one's too
  assert.equal(await sweepOrphanedCommands(cat, 5, 'agent-other'), 1);
  await db.pool.query("UPDATE sch_chameleon.t_commands SET state = 'done', finished_at = now() WHERE command_id IN ($1, $2)", [own, dead]);
});
