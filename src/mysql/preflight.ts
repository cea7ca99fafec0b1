import type mysql from 'mysql2/promise';

export interface PreflightProblem {
  setting: string;
  found: string;
  needed: string;
}

/**
 * Checks every server setting the replica depends on and reports all the
 * problems at once, so an operator fixes them in one round.
 */
export async function checkReplicationSettings(conn: mysql.Connection): Promise<PreflightProblem[]> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', 'binlog_row_image', 'binlog_row_metadata', 'server_id', 'log_slave_updates')",
  );
  const vars = new Map(rows.map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value)]));
  const problems: PreflightProblem[] = [];
  const want = (setting: string, needed: string, ok: (v: string) => boolean): void => {
    const found = vars.get(setting);
    if (found === undefined || !ok(found)) problems.push({ setting, found: found ?? '(not set)', needed });
  };
  want('log_bin', 'ON', (v) => v.toUpperCase() === 'ON' || v === '1');
  want('binlog_format', 'ROW', (v) => v.toUpperCase() === 'ROW');
  want('binlog_row_image', 'FULL', (v) => v.toUpperCase() === 'FULL');
  want('binlog_row_metadata', 'FULL', (v) => v.toUpperCase() === 'FULL');
  want('server_id', 'a non-zero server id', (v) => v !== '0');

  // Cascading: a server that replicates from another writes what it applies to its own
  // binlog only with log_slave_updates; without it the reader would see none of it
  if (await isReplica(conn)) {
    want('log_slave_updates', 'ON (this server replicates from another: it logs what it applies only with it)',
      (v) => v.toUpperCase() === 'ON' || v === '1');
  }

  const [grants] = await conn.query<mysql.RowDataPacket[]>('SHOW GRANTS FOR CURRENT_USER()');
  const text = grants.map((g) => String(Object.values(g)[0])).join('\n').toUpperCase();
  const hasAll = /GRANT ALL PRIVILEGES ON \*\.\*/.test(text);
  for (const priv of ['REPLICATION SLAVE', 'REPLICATION CLIENT']) {
    const alt = priv === 'REPLICATION CLIENT' ? 'BINLOG MONITOR' : 'REPLICATION REPLICA';
    if (!hasAll && !text.includes(priv) && !text.includes(alt)) {
      problems.push({ setting: `privilege ${priv}`, found: 'not granted', needed: 'granted ON *.*' });
    }
  }
  return problems;
}

export function describeProblems(problems: PreflightProblem[]): string {
  return problems.map((p) => `${p.setting} is ${p.found}, needs ${p.needed}`).join('; ');
}

/** The server has a replication source configured (SHOW REPLICA STATUS, or SHOW SLAVE STATUS before it existed). */
async function isReplica(conn: mysql.Connection): Promise<boolean> {
  for (const statement of ['SHOW REPLICA STATUS', 'SHOW SLAVE STATUS']) {
    try {
      const [rows] = await conn.query<mysql.RowDataPacket[]>(statement);
      return rows.length > 0;
    } catch (err) {
      // ER_PARSE_ERROR on a server that knows only the other form; anything else (no privilege) says nothing
      if ((err as { errno?: number }).errno !== 1064) return false;
    }
  }
  return false;
}
