import type mysql from 'mysql2/promise';
import { ChameleonError, ErrorCodes } from '../errors.js';

export interface Coordinates {
  file: string;
  pos: string;
  gtid: string | null;
}

/**
 * Opens a read-only consistent snapshot on `conn` and returns the binlog
 * coordinates it corresponds to. MariaDB reports them for the snapshot itself
 * (binlog_snapshot_file/position) without any lock; MySQL needs the table
 * briefly locked while the snapshot starts.
 */
export async function openSnapshot(conn: mysql.Connection, isMariaDB: boolean): Promise<Coordinates> {
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
  // MySQL has no snapshot coordinates: writes pause for the instant between
  // the snapshot and reading the position. A per-table FLUSH ... WITH READ
  // LOCK would not do, START TRANSACTION releases such a lock at once.
  await conn.query(`FLUSH TABLES WITH READ LOCK`);
  try {
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    if (rows.length === 0) {
      throw new ChameleonError(ErrorCodes.SOURCE_SETUP, 'SHOW MASTER STATUS is empty: is log_bin on?');
    }
    const gtid = rows[0].Executed_Gtid_Set ? String(rows[0].Executed_Gtid_Set).replace(/\s+/g, '') : null;
    return { file: String(rows[0].File), pos: String(rows[0].Position), gtid };
  } finally {
    await conn.query('UNLOCK TABLES');
  }
}

