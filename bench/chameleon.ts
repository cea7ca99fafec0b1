/**
 * Drives chameleon the way a user does: the catalogue installed in a
 * database, an in-process agent, and the SQL control functions.
 */
import pg from 'pg';
import { Agent } from '../src/agent/agent.js';
import { installCatalog } from '../src/catalog/installer.js';
import { createLogger } from '../src/log.js';
import { pgClient } from './common.js';

export interface Chameleon {
  agent: Agent;
  /** control connection (the "psql" of the benchmark) */
  sql: pg.Client;
  call(fn: string, ...args: unknown[]): Promise<string>;
  /** Issues a command and waits for it: returns its final row. */
  command(fn: string, ...args: unknown[]): Promise<CommandRow>;
  waitForPosition(position: string, timeout?: string): Promise<string>;
  status(): Promise<StatusRow>;
  close(): Promise<void>;
}

export interface CommandRow {
  id: string;
  state: string;
  progress: Record<string, unknown> | null;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface StatusRow {
  status: string;
  consistent: boolean;
  read_position: string | null;
  replay_position: string | null;
  pending_batches: string;
  events_read: string;
  events_applied: string;
  events_skipped: string;
  last_error: string | null;
  replay_lag: unknown;
}

export const SOURCE = 'bench';

export async function startChameleon(pgUrl: string): Promise<Chameleon> {
  await installCatalog(pgUrl);
  // CHAMELEON_BENCH_LOG=debug shows the agent's batches as they are written and replayed
  const agent = new Agent({ pgUrl, log: createLogger({ level: process.env.CHAMELEON_BENCH_LOG ?? 'warn' }), leaseSeconds: 10 });
  await agent.start();
  const sql = await pgClient(pgUrl);
  const call = async (fn: string, ...args: unknown[]): Promise<string> => {
    const params = args.map((_, i) => `$${i + 1}`).join(', ');
    const res = await sql.query<{ r: string }>(`SELECT sch_chameleon.${fn}(${params})::text AS r`, args);
    return res.rows[0].r;
  };
  return {
    agent,
    sql,
    call,
    async command(fn, ...args) {
      const id = await call(fn, ...args);
      const res = await sql.query<CommandRow>(
        `SELECT id::text, state, progress, started_at, finished_at FROM sch_chameleon.wait_command($1, '1 hour')`,
        [id],
      );
      return res.rows[0];
    },
    async waitForPosition(position, timeout = '1 hour') {
      const res = await sql.query<{ r: string }>('SELECT sch_chameleon.wait_for_position($1, $2, $3::interval) AS r', [SOURCE, position, timeout]);
      return res.rows[0].r;
    },
    async status() {
      const res = await sql.query<StatusRow>('SELECT * FROM sch_chameleon.show_status() WHERE source = $1', [SOURCE]);
      return res.rows[0];
    },
    async close() {
      await agent.stop().catch(() => undefined);
      await sql.end().catch(() => undefined);
    },
  };
}
