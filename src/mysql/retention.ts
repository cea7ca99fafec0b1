import type mysql from 'mysql2/promise';

/**
 * How long the server keeps binlogs, in seconds; null when it keeps them
 * until someone purges them by hand.
 */
export async function binlogRetentionSeconds(conn: mysql.Connection): Promise<number | null> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('binlog_expire_logs_seconds', 'expire_logs_days')",
  );
  const vars = new Map(rows.map((r) => [String(r.Variable_name), Number(r.Value)]));
  const seconds = vars.get('binlog_expire_logs_seconds') ?? 0;
  if (seconds > 0) return seconds;
  const days = vars.get('expire_logs_days') ?? 0;
  return days > 0 ? days * 86_400 : null;
}


/** The binlog files the server still holds, oldest first. */
export async function binlogFiles(conn: mysql.Connection): Promise<string[]> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW BINARY LOGS');
  return rows.map((r) => String(r.Log_name));
}
