import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';

export type ServerKindForTests = 'mysql' | 'pg';

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) {
    throw new Error(
      `${name} is not set: run the tests through \`npm test\` / \`node dist/test/run.js\`, ` +
        'which starts throwaway servers, or set CHAMELEON_TEST_MYSQL_URL and CHAMELEON_TEST_PG_URL',
    );
  }
  return v;
}

export function testMysqlUrl(): string {
  return requireEnv('CHAMELEON_TEST_MYSQL_URL');
}

export function testPgUrl(): string {
  return requireEnv('CHAMELEON_TEST_PG_URL');
}

/** With CHAMELEON_TEST_KEEP=1 test databases are left behind for inspection. */
export function keepTestData(): boolean {
  return process.env.CHAMELEON_TEST_KEEP === '1';
}

/** Database name: lower-case prefix (sanitized) plus random hex, so parallel or repeated runs never collide. */
export function uniqueName(prefix: string, maxLength = 63): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^([^a-z_])/, '_$1') || 'db';
  const suffix = randomBytes(5).toString('hex');
  return `${clean.slice(0, maxLength - suffix.length - 1)}_${suffix}`;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(db)}`;
  return u.toString();
}

export interface MysqlTestDatabase {
  name: string;
  url: string;
  conn: mysql.Connection;
  drop(): Promise<void>;
}

export async function createMysqlDatabase(prefix: string): Promise<MysqlTestDatabase> {
  const base = testMysqlUrl();
  const name = uniqueName(prefix, 64);
  const admin = await mysql.createConnection(base);
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(base, name);
  const conn = await mysql.createConnection(url);
  let dropped = false;
  return {
    name,
    url,
    conn,
    async drop() {
      if (dropped) return;
      dropped = true;
      await conn.end().catch(() => undefined);
      if (keepTestData()) return;
      const c = await mysql.createConnection(base);
      try {
        await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await c.end();
      }
    },
  };
}

export interface PgTestDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

function quoteIdent(id: string): string {
  return `"${id.replace(/"/g, '""')}"`;
}

async function withPgAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testPgUrl() });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Creates a fresh PostgreSQL database. A `template` must have no other
 * connections open while this runs (PostgreSQL refuses to copy it otherwise).
 */
export async function createPgDatabase(prefix: string, opts: { template?: string } = {}): Promise<PgTestDatabase> {
  const name = uniqueName(prefix, 63);
  const template = opts.template ? ` TEMPLATE ${quoteIdent(opts.template)}` : '';
  await withPgAdmin((c) => c.query(`CREATE DATABASE ${quoteIdent(name)}${template}`));
  const url = withDatabase(testPgUrl(), name);
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // Idle clients error out when a test restarts the server; without a
  // listener that 'error' event would crash the whole test process.
  pool.on('error', () => undefined);
  let dropped = false;
  return {
    name,
    url,
    pool,
    async drop() {
      if (dropped) return;
      dropped = true;
      await pool.end().catch(() => undefined);
      if (keepTestData()) return;
      await withPgAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
    },
  };
}

/** Whether this run can restart the servers (only with throwaway servers started by test/run.ts). */
export function canRestartServers(): boolean {
  return Boolean(process.env.CHAMELEON_TEST_CONTROL_URL);
}

/** Restarts the test MariaDB ('mysql') or PostgreSQL ('pg'); resolves once it accepts connections again. */
export async function restartServer(kind: ServerKindForTests): Promise<void> {
  const control = process.env.CHAMELEON_TEST_CONTROL_URL;
  if (!control) {
    throw new Error('CHAMELEON_TEST_CONTROL_URL is not set (external servers cannot be restarted); skip when !canRestartServers()');
  }
  const res = await fetch(new URL(`restart/${kind}`, control.endsWith('/') ? control : `${control}/`), { method: 'POST' });
  const body = await res.text();
  if (!res.ok) throw new Error(`restart of ${kind} failed (${res.status}): ${body}`);
}
