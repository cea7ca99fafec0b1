import { sql } from 'kysely';
import type { Catalog } from './db.js';

export const ALERT_CHANNEL = 'chameleon_alerts';

/** Errors are announced on a PostgreSQL channel that monitoring can LISTEN to. */
export async function notifyAlert(cat: Catalog, alert: Record<string, unknown>): Promise<void> {
  await sql`SELECT pg_notify(${ALERT_CHANNEL}, ${JSON.stringify(alert)})`.execute(cat.db);
}
