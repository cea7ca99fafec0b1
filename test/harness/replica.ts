import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { installCatalog } from '../../src/catalog/installer.js';
import { Agent } from '../../src/agent/agent.js';
import { createLogger } from '../../src/log.js';
import { createMysqlDatabase, createPgDatabase, type MysqlTestDatabase, type PgTestDatabase } from './db.js';

export interface ReplicaTestEnv {
  my: MysqlTestDatabase;
  pg: PgTestDatabase;
  cleanup(): Promise<void>;
}

/** A fresh MariaDB database and a fresh PostgreSQL database holding sch_chameleon. */
export async function replicaTestEnv(prefix: string): Promise<ReplicaTestEnv> {
  const my = await createMysqlDatabase(prefix);
  const pgdb = await createPgDatabase(prefix);
  await installCatalog(pgdb.url);
  return {
    my,
    pg: pgdb,
    async cleanup() {
      await my.drop();
      await pgdb.drop();
    },
  };
}

/** An agent inside the test process, logging only errors. */
export async function startInProcessAgent(pgUrl: string, leaseSeconds = 5): Promise<Agent> {
  const agent = new Agent({ pgUrl, log: createLogger({ level: process.env.CHAMELEON_TEST_LOG ?? 'silent' }), leaseSeconds, scanIntervalMs: 500 });
  await agent.start();
  return agent;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface AgentProcess {
  child: ChildProcess;
  output(): string;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

const children = new Set<ChildProcess>();
// a failed test must not leave agents running against the next run's servers
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/** The real CLI agent as a child process, for kill and restart tests. */
export function startAgentProcess(pgUrl: string, leaseSeconds = 3): AgentProcess {
  const child = spawn(process.execPath, [join(root, 'bin', 'chameleon.js'), 'agent', '--pg', pgUrl, '--lease-seconds', String(leaseSeconds)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CHAMELEON_LOG_LEVEL: process.env.CHAMELEON_TEST_LOG ?? 'info' },
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function sql1<T = Record<string, unknown>>(pool: pg.Pool, text: string, params: unknown[] = []): Promise<T> {
  const res = await pool.query(text, params);
  return res.rows[0] as T;
}

/** Current binlog end of the test MariaDB, as file:position. */
export async function masterPosition(conn: mysql.Connection): Promise<string> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
  return `${rows[0].File}:${rows[0].Position}`;
}

/** Waits until PostgreSQL has applied everything MariaDB has written so far. */
export async function waitCaughtUp(conn: mysql.Connection, pool: pg.Pool, source: string, timeout = '60 seconds'): Promise<void> {
  const pos = await masterPosition(conn);
  await pool.query('SELECT sch_chameleon.wait_for_position($1, $2, $3)', [source, pos, timeout]);
}

/**
 * Both sides of a table as arrays of text values, ordered by the given
 * columns. MySQL values are rendered the way PostgreSQL renders the mapped
 * type, via the `mysqlExprs` select list.
 */
export async function tableRows(
  conn: mysql.Connection,
  pool: pg.Pool,
  t: { mysql: string; pg: string; mysqlExprs: string; pgExprs: string; orderBy: string },
): Promise<{ mysql: string[][]; pg: string[][] }> {
  const [m] = await conn.query<mysql.RowDataPacket[]>({ sql: `SELECT ${t.mysqlExprs} FROM ${t.mysql} ORDER BY ${t.orderBy}`, rowsAsArray: true });
  const p = await pool.query({ text: `SELECT ${t.pgExprs} FROM ${t.pg} ORDER BY ${t.orderBy}`, rowMode: 'array' });
  const norm = (rows: unknown[][]): string[][] => rows.map((r) => r.map((v) => (v === null ? 'NULL' : Buffer.isBuffer(v) ? v.toString('hex') : String(v))));
  return { mysql: norm(m as unknown as unknown[][]), pg: norm(p.rows) };
}

/** Runs a control function that queues a command, then waits for the command to finish; returns its final state. */
export async function queueAndWait(pool: pg.Pool, fn: string, source: string, timeout = '2 minutes'): Promise<string> {
  const queued = await sql1<{ id: string }>(pool, `SELECT sch_chameleon.${fn}($1) AS id`, [source]);
  const done = await sql1<{ state: string }>(pool, 'SELECT * FROM sch_chameleon.wait_command($1, $2)', [queued.id, timeout]);
  return done.state;
}

/** add_source for the test's MariaDB database into `schema`, init_replica, and (unless told not to) start_replica. */
export async function replicate(env: ReplicaTestEnv, source: string, schema: string, options: Record<string, unknown> = {}, start = true): Promise<void> {
  const pool = env.pg.pool;
  await pool.query('SELECT sch_chameleon.add_source($1, $2, $3, $4)', [
    source, env.my.url.replace(/\/[^/]*$/, ''), JSON.stringify({ [env.my.name]: schema }), JSON.stringify(options),
  ]);
  await queueAndWait(pool, 'init_replica', source);
  if (start) await queueAndWait(pool, 'start_replica', source);
}
