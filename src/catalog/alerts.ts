import { sql } from 'kysely';
import type { Catalog } from './db.js';

export const ALERT_CHANNEL = 'chameleon_alerts';

/** Errors are announced on a PostgreSQL channel that monitoring can LISTEN to. */
export async function notifyAlert(cat: Catalog, alert: Record<string, unknown>): Promise<void> {
  await sql`SELECT pg_notify(${ALERT_CHANNEL}, ${JSON.stringify(alert)})`.execute(cat.db);
}

/**
 * The agent that posts an alert about a source to the webhook, so that
 * several agents post it once: the source's owner, else (no live lease: the
 * source failed and was let go) the live agent with the smallest id.
 */
export async function alertPoster(cat: Catalog, source: string | null, leaseSeconds: number): Promise<string | null> {
  const res = await sql<{ poster: string | null }>`
    SELECT coalesce(
             (SELECT l.agent_id FROM sch_chameleon.t_source_leases l JOIN sch_chameleon.t_sources s ON s.source_id = l.source_id
               WHERE s.source_name = ${source} AND l.expires_at > now()),
             (SELECT min(a.agent_id) FROM sch_chameleon.t_agents a
               WHERE a.stopped_at IS NULL AND a.heartbeat_at > now() - make_interval(secs => ${leaseSeconds}))) AS poster`.execute(cat.db);
  return res.rows[0]?.poster ?? null;
}
