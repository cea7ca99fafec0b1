import mysql from 'mysql2/promise';
import type { ConnectionOptions } from 'mysql2';
import { ChameleonError, ErrorCodes } from '../errors.js';

/** mysql2 connection options from a mysql:// URL; the password never leaves this object. */
export function mysqlOptionsFromUrl(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ChameleonError(ErrorCodes.CONFIG, 'the MySQL URL is not a valid URL');
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') {
    throw new ChameleonError(ErrorCodes.CONFIG, `the MySQL URL must start with mysql://, not ${u.protocol}//`);
  }
  const opts: ConnectionOptions = {
    host: decodeURIComponent(u.hostname) || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username) || 'root',
    password: decodeURIComponent(u.password),
    database: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : undefined,
    charset: 'UTF8MB4_GENERAL_CI',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    decimalNumbers: false,
    timezone: 'Z',
    connectTimeout: 20_000,
    enableKeepAlive: true,
  };
  const socket = u.searchParams.get('socket');
  if (socket) opts.socketPath = socket;
  const ssl = u.searchParams.get('ssl');
  if (ssl === 'true' || ssl === 'required') opts.ssl = { rejectUnauthorized: u.searchParams.get('ssl_verify') !== 'false' };
  return opts;
}

/** Session settings that make MySQL format values the same way every time. */
export const SESSION_SETUP = [
  "SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES,NO_ENGINE_SUBSTITUTION'",
  "SET SESSION time_zone = '+00:00'",
  'SET NAMES utf8mb4',
];

/**
 * A value as a MySQL literal that needs no backslash: the session runs with
 * NO_BACKSLASH_ESCAPES, where mysql2's own escaping (\') would end the
 * string early, so a name holding a quote broke every query that bound it.
 */
export function mysqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (Buffer.isBuffer(value)) return `X'${value.toString('hex')}'`;
  if (Array.isArray(value)) return value.length === 0 ? 'NULL' : value.map(mysqlLiteral).join(', ');
  if (value instanceof Date) return `'${value.toISOString().replace('T', ' ').replace('Z', '')}'`;
  return `'${String(value).replace(/'/g, "''")}'`;
}

/** mysql2 queryFormat: `?` placeholders filled with mysqlLiteral. */
function formatQuery(sql: string, values: unknown): string {
  if (values === undefined || values === null) return sql;
  const list = Array.isArray(values) ? values : [values];
  let i = 0;
  return sql.replace(/\?/g, (mark) => (i < list.length ? mysqlLiteral(list[i++]) : mark));
}

export async function connectMysql(url: string, extra: Partial<ConnectionOptions> = {}): Promise<mysql.Connection> {
  const conn = await mysql.createConnection({ ...mysqlOptionsFromUrl(url), queryFormat: formatQuery, ...extra });
  // a dropped idle connection must not crash the process; the next query reports it
  conn.on('error', () => undefined);
  for (const stmt of SESSION_SETUP) await conn.query(stmt);
  // MySQL 8 serves information_schema's table statistics, AUTO_INCREMENT among them, from a
  // cache a day old by default: the sequences set after a copy or at a detach need them now.
  // MariaDB has no such cache, nor the variable (unknown system variable: 1193).
  await conn.query('SET SESSION information_schema_stats_expiry = 0').catch((err: { errno?: number }) => {
    if (err.errno !== 1193) throw err;
  });
  return conn;
}

export interface ServerInfo {
  version: string;
  isMariaDB: boolean;
}

export async function serverInfo(conn: mysql.Connection): Promise<ServerInfo> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
  const version = String(rows[0].v);
  return { version, isMariaDB: /mariadb/i.test(version) };
}
