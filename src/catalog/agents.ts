import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Catalog } from './db.js';
import type { CatalogDatabase } from './schema.js';

export async function registerAgent(cat: Catalog, agent: { id: string; hostname: string; pid: number; version: string }): Promise<void> {
  await cat.db
    .insertInto('sch_chameleon.t_agents')
    .values({ agent_id: agent.id, hostname: agent.hostname, pid: agent.pid, version: agent.version })
    .onConflict((oc) => oc.column('agent_id').doUpdateSet({ heartbeat_at: new Date(), stopped_at: null }))
    .execute();
}

/** Renews the agent's heartbeat and every lease it holds; returns the sources it still owns. */
export async function heartbeat(cat: Catalog, agentId: string, leaseSeconds: number): Promise<string[]> {
  await sql`UPDATE sch_chameleon.t_agents SET heartbeat_at = now() WHERE agent_id = ${agentId}`.execute(cat.db);
  const res = await sql<{ source_id: string }>`
    UPDATE sch_chameleon.t_source_leases
       SET expires_at = now() + make_interval(secs => ${leaseSeconds})
     WHERE agent_id = ${agentId}
    RETURNING source_id`.execute(cat.db);
  return res.rows.map((r) => r.source_id);
}

export async function markAgentStopped(cat: Catalog, agentId: string): Promise<void> {
  await sql`UPDATE sch_chameleon.t_agents SET stopped_at = now() WHERE agent_id = ${agentId}`.execute(cat.db);
  await sql`DELETE FROM sch_chameleon.t_source_leases WHERE agent_id = ${agentId}`.execute(cat.db);
}

/**
 * Takes or renews the agent's lease on a source, in the caller's
 * transaction when given one. Renewing is a plain UPDATE of the row: it
 * never waits for the decoder, whose call holds the lease FOR KEY SHARE
 * for as long as it runs, because the key (source, agent) stays the same;
 * an upsert setting agent_id would lock the row as a key change and wait,
 * and every command of the agent behind the claim with it. A missing lease
 * is inserted; one another agent let expire is taken over, and that change
 * of key does wait for the old owner's fence.
 */
export async function takeLease(db: Kysely<CatalogDatabase>, sourceId: string, agentId: string, leaseSeconds: number): Promise<boolean> {
  const renewed = await sql<{ agent_id: string }>`
    UPDATE sch_chameleon.t_source_leases l
       SET agent_id = ${agentId}, expires_at = now() + make_interval(secs => ${leaseSeconds}),
           acquired_at = CASE WHEN l.agent_id = ${agentId} THEN l.acquired_at ELSE now() END
     WHERE l.source_id = ${sourceId} AND (l.agent_id = ${agentId} OR l.expires_at <= now())
    RETURNING l.agent_id`.execute(db);
  if (renewed.rows.length > 0) return true;
  const inserted = await sql<{ agent_id: string }>`
    INSERT INTO sch_chameleon.t_source_leases (source_id, agent_id, expires_at)
    SELECT s.source_id, ${agentId}, now() + make_interval(secs => ${leaseSeconds})
      FROM sch_chameleon.t_sources s WHERE s.source_id = ${sourceId}
    ON CONFLICT (source_id) DO NOTHING
    RETURNING agent_id`.execute(db);
  return inserted.rows.length > 0;
}

/** Takes a source's lease if it is free, expired or already ours. */
export async function acquireLease(cat: Catalog, sourceId: string, agentId: string, leaseSeconds: number): Promise<boolean> {
  return takeLease(cat.db, sourceId, agentId, leaseSeconds);
}

/** Gives up the agent's lease on a source, unless a command of the source claimed by the agent runs. */
export async function releaseLease(cat: Catalog, sourceId: string, agentId: string): Promise<void> {
  await sql`DELETE FROM sch_chameleon.t_source_leases l WHERE l.source_id = ${sourceId} AND l.agent_id = ${agentId}
              AND NOT EXISTS (SELECT 1 FROM sch_chameleon.t_commands c
                               WHERE c.source_id = ${sourceId} AND c.state = 'running' AND c.agent_id = ${agentId})`.execute(cat.db);
}

/** Sources whose replica should run and that no live agent other than this one holds. */
export async function sourcesToReplicate(cat: Catalog, agentId: string): Promise<{ source_id: string; source_name: string }[]> {
  const res = await sql<{ source_id: string; source_name: string }>`
    SELECT s.source_id, s.source_name
      FROM sch_chameleon.t_sources s
     WHERE s.replica_enabled AND s.status NOT IN ('error', 'ready', 'initialising')
       AND NOT EXISTS (SELECT 1 FROM sch_chameleon.t_source_leases l
                        WHERE l.source_id = s.source_id AND l.agent_id <> ${agentId} AND l.expires_at > now())
       AND NOT EXISTS (SELECT 1 FROM sch_chameleon.t_commands c
                        WHERE c.source_id = s.source_id AND c.state IN ('pending', 'running')
                          AND c.command IN ('init_replica', 'copy_schema'))
     ORDER BY s.source_id`.execute(cat.db);
  return res.rows;
}
