import type mysql from 'mysql2/promise';
import type { Logger } from '../log.js';
import { ChameleonError, ErrorCodes } from '../errors.js';
import { quoteMysqlIdent } from '../mysql/type-map.js';

export interface Coordinates {
  file: string;
  pos: string;
  gtid: string | null;
}

export interface SnapshotOptions {
  /** The table the snapshot is taken for: on MySQL the only one whose writes pause. */
  table: { schema: string; name: string };
  /** A new connection to the same server (MySQL holds the table's lock on it); closed here. */
  connect(): Promise<mysql.Connection>;
  log: Logger;
}

/**
 * Errors with which a server refuses `FLUSH TABLES t WITH READ LOCK` itself
 * (rather than failing to take it in time), so that the global read lock
 * may serve instead: ER_ILLEGAL_HA (1031, the engine has no such lock),
 * ER_DBACCESS_DENIED_ERROR (1044) / ER_TABLEACCESS_DENIED_ERROR (1142) /
 * ER_SPECIFIC_ACCESS_DENIED_ERROR (1227), which a user without the LOCK
 * TABLES privilege gets, ER_PARSE_ERROR (1064), ER_NOT_SUPPORTED_YET (1235),
 * ER_OPTION_PREVENTS_STATEMENT (1290), ER_WRONG_OBJECT (1347).
 */
const REFUSALS = new Set([1031, 1044, 1064, 1142, 1227, 1235, 1290, 1347]);

function refused(err: unknown): boolean {
  const e = err as { errno?: unknown; fatal?: unknown } | null;
  return typeof e?.errno === 'number' && e.fatal !== true && REFUSALS.has(e.errno);
}

/**
 * Opens a read-only consistent snapshot on `conn` and returns the binlog
 * coordinates it corresponds to. MariaDB reports them for the snapshot itself
 * (binlog_snapshot_file/position) without any lock; MySQL needs the table
 * briefly locked while the snapshot starts.
 */
export async function openSnapshot(conn: mysql.Connection, isMariaDB: boolean, opts: SnapshotOptions): Promise<Coordinates> {
  await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
  if (isMariaDB) {
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const [rows] = await conn.query<mysql.RowDataPacket[]>("SHOW STATUS LIKE 'binlog_snapshot_%'");
    const status = new Map(rows.map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value)]));
    const file = status.get('binlog_snapshot_file');
    const pos = status.get('binlog_snapshot_position');
    if (!file || !pos) {
      throw new ChameleonError(ErrorCodes.SOURCE_SETUP, 'MariaDB reports no binlog snapshot position: is log_bin on?');
    }
    // the GTID position of exactly that binlog offset, for replicas that resume by GTID
    const [g] = await conn.query<mysql.RowDataPacket[]>('SELECT BINLOG_GTID_POS(?, ?) AS gtid', [file, Number(pos)]);
    return { file, pos, gtid: g[0]?.gtid ? String(g[0].gtid) : null };
  }
  return tableLockSnapshot(conn, opts);
}

/**
 * MySQL has no snapshot coordinates: the table's writes pause for the
 * instant between starting the snapshot and reading the binlog position.
 * The lock is held by a second session because START TRANSACTION releases
 * the table locks of its own session: taken on `conn`, it would be gone
 * before the position is read, and a write to the table committed in
 * between would be neither in the copy nor after its coordinates. While
 * the lock is held no transaction that wrote the table is open, so the
 * snapshot holds every one of them up to the position and none after.
 */
async function tableLockSnapshot(conn: mysql.Connection, opts: SnapshotOptions): Promise<Coordinates> {
  const table = `${quoteMysqlIdent(opts.table.schema)}.${quoteMysqlIdent(opts.table.name)}`;
  const lock = await opts.connect();
  try {
    try {
      await lock.query(`FLUSH TABLES ${table} WITH READ LOCK`);
    } catch (err) {
      if (!refused(err)) throw err;
      opts.log.warn(
        { table: `${opts.table.schema}.${opts.table.name}`, err },
        'the server refused a read lock on the table alone (it needs the LOCK TABLES privilege): writes to every table pause while the snapshot starts',
      );
      return await globalLockSnapshot(conn);
    }
    try {
      await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      return await binlogStatus(conn);
    } finally {
      // a session that cannot unlock releases its locks when it is gone
      await lock.query('UNLOCK TABLES').catch(() => lock.destroy());
    }
  } finally {
    await lock.end().catch(() => lock.destroy());
  }
}

/** The global read lock, on `conn` itself: unlike a table lock, START TRANSACTION keeps it. */
async function globalLockSnapshot(conn: mysql.Connection): Promise<Coordinates> {
  await conn.query('FLUSH TABLES WITH READ LOCK');
  try {
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    return await binlogStatus(conn);
  } finally {
    await conn.query('UNLOCK TABLES');
  }
}

/** The binlog end as MySQL reports it: SHOW MASTER STATUS, which MySQL 8.4 renamed SHOW BINARY LOG STATUS. */
export async function binlogStatus(conn: mysql.Connection): Promise<Coordinates> {
  let rows: mysql.RowDataPacket[];
  try {
    [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
  } catch (err) {
    if ((err as { errno?: unknown }).errno !== 1064) throw err;
    [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW BINARY LOG STATUS');
  }
  if (rows.length === 0) {
    throw new ChameleonError(ErrorCodes.SOURCE_SETUP, 'the server reports no binary log status: is log_bin on?');
  }
  const gtid = rows[0].Executed_Gtid_Set ? String(rows[0].Executed_Gtid_Set).replace(/\s+/g, '') : null;
  return { file: String(rows[0].File), pos: String(rows[0].Position), gtid };
}
