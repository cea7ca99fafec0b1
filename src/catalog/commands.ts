import { sql } from 'kysely';
import type { Catalog } from './db.js';
import { takeLease } from './agents.js';

export interface ClaimedCommand {
  command_id: string;
  source_id: string | null;
  source_name: string | null;
  command: string;
  args: Record<string, unknown>;
  attempts: number;
}

/**
 * Claims the oldest runnable command in one statement. A command runs only
 * when every older command of its source has finished (per-source order) and
 * no other live agent holds the source; the claim takes the source's lease
 * in the same transaction.
 */
export async function claimCommand(cat: Catalog, agentId: string, leaseSeconds: number): Promise<ClaimedCommand | null> {
  return cat.db.transaction().execute(async (trx) => {
    const claimed = await sql<ClaimedCommand>`
      UPDATE sch_chameleon.t_commands c
         SET state = 'running', agent_id = ${agentId}, started_at = now(), attempts = c.attempts + 1
       WHERE c.command_id = (
             SELECT p.command_id
               FROM sch_chameleon.t_commands p
              WHERE p.state = 'pending'
                AND NOT EXISTS (SELECT 1 FROM sch_chameleon.t_commands o
                                 WHERE o.source_id = p.source_id AND o.command_id < p.command_id
                                   AND o.state IN ('pending', 'running'))
                AND NOT EXISTS (SELECT 1 FROM sch_chameleon.t_source_leases l
                                 WHERE l.source_id = p.source_id AND l.agent_id <> ${agentId}
                                   AND l.expires_at > now())
              ORDER BY p.command_id
              LIMIT 1
              FOR UPDATE SKIP LOCKED)
      RETURNING c.command_id, c.source_id, c.source_name, c.command, c.args, c.attempts`.execute(trx);
    const cmd = claimed.rows[0];
    if (!cmd) return null;
    if (cmd.source_id !== null) {
      const leased = await takeLease(trx, cmd.source_id, agentId, leaseSeconds);
      if (!leased) {
        // another agent took the source between the scan and now: leave the command to it
        await sql`UPDATE sch_chameleon.t_commands SET state = 'pending', agent_id = NULL, started_at = NULL,
                         attempts = attempts - 1 WHERE command_id = ${cmd.command_id}`.execute(trx);
        return null;
      }
    }
    return cmd;
  });
}

export async function finishCommand(
  cat: Catalog,
  commandId: string,
  outcome: { state: 'done' | 'failed' | 'cancelled'; error?: string; progress?: unknown },
): Promise<void> {
  await cat.db
    .updateTable('sch_chameleon.t_commands')
    .set({
      state: outcome.state,
      error: outcome.error ?? null,
      finished_at: new Date(),
      ...(outcome.progress !== undefined ? { progress: JSON.stringify(outcome.progress) } : {}),
    })
    .where('command_id', '=', commandId)
    .where('state', '=', 'running')
    .execute();
}

/** A running command goes back to the queue (the agent is stopping); the next agent resumes it. */
export async function requeueCommand(cat: Catalog, commandId: string): Promise<void> {
  await cat.db
    .updateTable('sch_chameleon.t_commands')
    .set({ state: 'pending', agent_id: null, started_at: null })
    .where('command_id', '=', commandId)
    .where('state', '=', 'running')
    .execute();
}

export async function reportProgress(cat: Catalog, commandId: string, progress: unknown): Promise<boolean> {
  const res = await cat.db
    .updateTable('sch_chameleon.t_commands')
    .set({ progress: JSON.stringify(progress) })
    .where('command_id', '=', commandId)
    .returning('cancel_requested')
    .executeTakeFirst();
  return res?.cancel_requested ?? true;
}

/**
 * Returns to the queue the commands claimed by agents whose heartbeat
 * stopped: they died mid-command. After three attempts a command fails.
 */
export async function sweepOrphanedCommands(cat: Catalog, staleSeconds: number, sweeper: string): Promise<number> {
  const res = await sql`
    UPDATE sch_chameleon.t_commands c
       SET state = CASE WHEN c.attempts >= 3 THEN 'failed' ELSE 'pending' END,
           error = CASE WHEN c.attempts >= 3 THEN 'agent ' || c.agent_id || ' died while running it, 3 times' END,
           finished_at = CASE WHEN c.attempts >= 3 THEN now() END,
           agent_id = CASE WHEN c.attempts >= 3 THEN c.agent_id END,
           started_at = CASE WHEN c.attempts >= 3 THEN c.started_at END
     WHERE c.state = 'running'
       -- the sweeper runs, so its own commands do too, however late its last heartbeat
       -- (an event loop busy with one huge row for longer than the lease): run twice,
       -- the second run would drop the loading schema the first one is copying into
       AND c.agent_id IS DISTINCT FROM ${sweeper}
       AND NOT EXISTS (SELECT 1 FROM sch_chameleon.t_agents a
                        WHERE a.agent_id = c.agent_id AND a.stopped_at IS NULL
                          AND a.heartbeat_at > now() - make_interval(secs => ${staleSeconds}))`.execute(cat.db);
  return Number(res.numAffectedRows ?? 0);
}
