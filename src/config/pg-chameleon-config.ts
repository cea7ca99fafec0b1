import { parseDocument } from 'yaml';
import { ChameleonError, ErrorCodes } from '../errors.js';

/** One add_source call made from a pg_chameleon source. */
export interface ImportedSource {
  source: string;
  mysqlUrl: string;
  schemaMappings: Record<string, string>;
  options: Record<string, unknown>;
}

export interface ImportedConfig {
  /** pg_conn as a URL, for when no connection is given otherwise. */
  pgUrl: string | null;
  sources: ImportedSource[];
  /** Settings of the file that have no counterpart here, said once each. */
  notes: string[];
}

/** Source settings of pg_chameleon 2.x that are source options here under the same name. */
const OPTION_KEYS = [
  'limit_tables', 'skip_tables', 'grant_select_to', 'lock_timeout', 'my_server_id', 'replica_batch_size', 'replay_max_rows',
  'batch_retention', 'copy_max_memory', 'sleep_loop', 'on_error_replay', 'on_error_read', 'auto_maintenance', 'gtid_enable',
  'skip_events', 'keep_existing_schema', 'net_read_timeout', 'fillfactor',
];
/** Options that hold lists: pg_chameleon leaves an empty one as a bare key (null). */
const LIST_KEYS = new Set(['limit_tables', 'skip_tables', 'grant_select_to']);
/** pg_chameleon settings this replica has no use for: how it ran, not what it replicates. */
const UNUSED_SOURCE_KEYS = new Set(['copy_mode', 'out_dir', 'readers', 'writers', 'type']);
const GLOBAL_KEYS = new Set(['pg_conn', 'sources', 'type_override']);

function configError(file: string, message: string): ChameleonError {
  return new ChameleonError(ErrorCodes.CONFIG, `${file}: ${message}`, { file });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function text(v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null;
  return typeof v === 'string' || typeof v === 'number' ? String(v) : null;
}

/**
 * Reads a pg_chameleon 2.x configuration file (YAML, read as PyYAML reads
 * it: `No` is false) into add_source calls: one per entry of `sources`, its
 * db_conn as the MySQL URL, its schema_mappings, its options under their
 * pg_chameleon names (and the file's type_override). Throws an error naming
 * the file, the source and the setting for anything it cannot take.
 */
export function readPgChameleonConfig(yamlText: string, file: string): ImportedConfig {
  const doc = parseDocument(yamlText, { version: '1.1', prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) throw configError(file, `not valid YAML: ${doc.errors[0].message}`);
  const root: unknown = doc.toJS();
  if (!isObject(root)) throw configError(file, 'expected a pg_chameleon configuration (a YAML mapping with "sources")');
  if (!isObject(root.sources) || Object.keys(root.sources).length === 0) {
    throw configError(file, '"sources" must map each source name to its settings (db_conn, schema_mappings, ...)');
  }
  const notes: string[] = [];
  const ignoredGlobal = Object.keys(root).filter((k) => !GLOBAL_KEYS.has(k));
  if (ignoredGlobal.length > 0) notes.push(`not imported (how pg_chameleon itself ran): ${ignoredGlobal.join(', ')}`);
  let typeOverride: Record<string, unknown> | null = null;
  if (root.type_override !== undefined && root.type_override !== null) {
    if (!isObject(root.type_override)) throw configError(file, 'type_override must map MySQL types to {override_to, override_tables}');
    if (Object.keys(root.type_override).length > 0) typeOverride = root.type_override;
  }
  const sources = Object.entries(root.sources).map(([name, settings]) => importSource(file, name, settings, typeOverride, notes));
  return { pgUrl: pgUrlOf(file, root.pg_conn), sources, notes };
}

function importSource(file: string, name: string, settings: unknown, typeOverride: Record<string, unknown> | null, notes: string[]): ImportedSource {
  const where = `source "${name}"`;
  if (!isObject(settings)) throw configError(file, `${where}: expected its settings (db_conn, schema_mappings, ...)`);
  const type = settings.type ?? 'mysql';
  if (type !== 'mysql') throw configError(file, `${where}: type ${JSON.stringify(type)} is not a MySQL source; only type mysql is replicated`);
  if (!isObject(settings.db_conn)) throw configError(file, `${where}: db_conn must give host, port, user and password`);
  if (!isObject(settings.schema_mappings) || Object.keys(settings.schema_mappings).length === 0) {
    throw configError(file, `${where}: schema_mappings must map MySQL databases to PostgreSQL schemas`);
  }
  const mappings: Record<string, string> = {};
  for (const [db, schema] of Object.entries(settings.schema_mappings)) {
    const s = text(schema);
    if (s === null) throw configError(file, `${where}: schema_mappings: ${db} must name a PostgreSQL schema`);
    mappings[db] = s;
  }
  const options: Record<string, unknown> = {};
  for (const key of OPTION_KEYS) {
    if (!(key in settings)) continue;
    let value = settings[key];
    if (LIST_KEYS.has(key) && value === null) value = [];
    if (key === 'skip_events' && isObject(value)) {
      value = Object.fromEntries(Object.entries(value).map(([kind, list]) => [kind, list ?? []]));
    }
    if (key === 'fillfactor' && value === null) continue;
    options[key] = value;
  }
  if (typeOverride) options.type_override = typeOverride;
  const unused = Object.keys(settings).filter((k) => UNUSED_SOURCE_KEYS.has(k) && k !== 'type');
  const unknown = Object.keys(settings).filter((k) => !OPTION_KEYS.includes(k) && !UNUSED_SOURCE_KEYS.has(k) && k !== 'db_conn' && k !== 'schema_mappings');
  if (unknown.length > 0) throw configError(file, `${where}: unknown setting ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
  if (unused.length > 0) notes.push(`${where}: not imported (the agent streams every copy and sizes its own parallelism): ${unused.join(', ')}`);
  const connExtra = Object.keys(settings.db_conn as Record<string, unknown>).filter((k) => !['host', 'port', 'user', 'password'].includes(k));
  if (connExtra.length > 0) notes.push(`${where}: db_conn ${connExtra.join(', ')} not imported (the agent's MySQL sessions use utf8mb4 and their own timeouts)`);
  return { source: name, mysqlUrl: mysqlUrlOf(file, where, settings.db_conn), schemaMappings: mappings, options };
}

function mysqlUrlOf(file: string, where: string, conn: Record<string, unknown>): string {
  const host = text(conn.host);
  const user = text(conn.user);
  if (host === null || user === null) throw configError(file, `${where}: db_conn needs host and user`);
  const port = text(conn.port) ?? '3306';
  if (!/^[0-9]+$/.test(port)) throw configError(file, `${where}: db_conn.port must be a number, got ${JSON.stringify(conn.port)}`);
  const password = text(conn.password);
  const auth = encodeURIComponent(user) + (password !== null ? `:${encodeURIComponent(password)}` : '');
  return `mysql://${auth}@${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function pgUrlOf(file: string, conn: unknown): string | null {
  if (conn === undefined || conn === null) return null;
  if (!isObject(conn)) throw configError(file, 'pg_conn must give host, port, user, password and database');
  const host = text(conn.host) ?? 'localhost';
  const port = text(conn.port) ?? '5432';
  const user = text(conn.user);
  const database = text(conn.database);
  if (user === null || database === null) throw configError(file, 'pg_conn needs user and database');
  const password = text(conn.password);
  const auth = encodeURIComponent(user) + (password !== null ? `:${encodeURIComponent(password)}` : '');
  return `postgres://${auth}@${host.includes(':') ? `[${host}]` : host}:${port}/${encodeURIComponent(database)}`;
}
