import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import type pg from 'pg';
import { sql1 } from './replica.js';

/** The test MariaDB server URL without a database: what add_source takes. */
export function serverUrl(dbUrl: string): string {
  return dbUrl.replace(/\/[^/]*$/, '');
}

export function mysqlIdent(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

export function pgIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function addSource(pool: pg.Pool, name: string, url: string, mappings: Record<string, string>, options: Record<string, unknown> = {}): Promise<void> {
  await pool.query('SELECT sch_chameleon.add_source($1, $2, $3, $4)', [name, serverUrl(url), JSON.stringify(mappings), JSON.stringify(options)]);
}

/** Calls a control function returning a command id, then waits for the command in a later transaction. */
export async function runCommand(pool: pg.Pool, call: string, params: unknown[], timeout = '2 minutes'): Promise<{ id: string; state: string; progress: Record<string, unknown> }> {
  const { id } = await sql1<{ id: string }>(pool, `SELECT ${call} AS id`, params);
  const done = await sql1<{ state: string; progress: Record<string, unknown> }>(pool, 'SELECT * FROM sch_chameleon.wait_command($1, $2)', [id, timeout]);
  return { id: String(id), ...done };
}

/**
 * The table every snapshot test uses: an integer key, an indexed integer,
 * text, a decimal, a fractional datetime and a nullable text, so values of
 * several conversions are compared.
 */
export function standardTableDdl(name: string): string {
  return `CREATE TABLE ${mysqlIdent(name)} (
      id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      k INT NOT NULL,
      name VARCHAR(64) NOT NULL,
      amount DECIMAL(12,2) NULL,
      at DATETIME(3) NULL,
      note TEXT NULL,
      KEY ${mysqlIdent(`${name}_k`)} (k))`;
}

/** Fills a standard table with `rows` rows from MariaDB's sequence engine (fast, no round trips). */
export async function fillStandardTable(conn: mysql.Connection, name: string, rows: number): Promise<void> {
  await conn.query(
    `INSERT INTO ${mysqlIdent(name)} (k, name, amount, at, note)
     SELECT seq % 1000, CONCAT('row ', seq), IF(seq % 13 = 0, NULL, seq / 100),
            TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL (seq % 1000) * 1000 MICROSECOND,
            IF(seq % 3 = 0, NULL, CONCAT(REPEAT('x', seq % 40), '\\t', seq))
       FROM seq_1_to_${rows}`,
  );
  // the copy decides on key ranges from the statistics' row estimate
  await conn.query(`ANALYZE TABLE ${mysqlIdent(name)}`);
}

/** Compares a standard table on both sides, value by value. */
export async function assertStandardSame(conn: mysql.Connection, pool: pg.Pool, mysqlTable: string, pgSchema: string, pgTable = mysqlTable): Promise<number> {
  return assertSameRows(
    conn,
    pool,
    `SELECT id, k, name, CAST(amount AS CHAR), DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f'), note FROM ${mysqlIdent(mysqlTable)} ORDER BY id`,
    `SELECT id, k, name, amount::text, to_char(at, 'YYYY-MM-DD HH24:MI:SS.US'), note FROM ${pgIdent(pgSchema)}.${pgIdent(pgTable)} ORDER BY id`,
    `${pgSchema}.${pgTable}`,
  );
}

/** Runs both selects and asserts the same rows in the same order, value by value as text. Returns the row count. */
export async function assertSameRows(conn: mysql.Connection, pool: pg.Pool, mysqlSelect: string, pgSelect: string, what: string): Promise<number> {
  const [m] = await conn.query<mysql.RowDataPacket[]>({ sql: mysqlSelect, rowsAsArray: true });
  const p = await pool.query({ text: pgSelect, rowMode: 'array' });
  const norm = (rows: unknown[][]): string[][] =>
    rows.map((r) => r.map((v) => (v === null ? 'NULL' : Buffer.isBuffer(v) ? v.toString('hex') : String(v))));
  const my = norm(m as unknown as unknown[][]);
  const pgRows = norm(p.rows as unknown[][]);
  const diff: string[] = [];
  for (let i = 0; i < Math.max(my.length, pgRows.length) && diff.length < 5; i++) {
    if (JSON.stringify(my[i]) !== JSON.stringify(pgRows[i])) diff.push(`row ${i}: mysql ${JSON.stringify(my[i])} pg ${JSON.stringify(pgRows[i])}`);
  }
  assert.equal(pgRows.length, my.length, `${what}: PostgreSQL has ${pgRows.length} rows, MySQL ${my.length}\n${diff.join('\n')}`);
  assert.deepEqual(diff, [], `${what} equals MySQL`);
  return my.length;
}

/** The statement fails with an error whose message matches. */
export async function assertRefused(pool: pg.Pool, text: string, params: unknown[], message: RegExp): Promise<void> {
  await assert.rejects(pool.query(text, params), (e: Error) => {
    assert.match(e.message, message);
    return true;
  });
}

export interface Writer {
  /** Statements committed so far. */
  readonly count: number;
  stop(): Promise<number>;
}

/**
 * A concurrent writer on its own MySQL connection: inserts, updates (some of
 * the key columns too) and deletes on the given standard tables, single
 * statements and small multi-table transactions, until stopped.
 */
export async function startWriter(dbUrl: string, tables: string[], opts: { seed?: number; pauseMs?: number } = {}): Promise<Writer> {
  const conn = await mysql.createConnection(dbUrl);
  let stopped = false;
  let count = 0;
  let seed = opts.seed ?? 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  // moved keys go below zero, unique across writers of one test run
  let moved = Math.floor(Math.random() * 1_000_000) * 1_000;
  const maxId = new Map<string, number>();
  for (const t of tables) {
    const [r] = await conn.query<mysql.RowDataPacket[]>(`SELECT COALESCE(MAX(id), 0) AS m FROM ${mysqlIdent(t)}`);
    maxId.set(t, Number(r[0].m));
  }
  const one = async (t: string): Promise<void> => {
    const top = maxId.get(t)!;
    const id = 1 + rnd(Math.max(1, top));
    switch (rnd(6)) {
      case 0:
      case 1: {
        const [res] = await conn.query<mysql.ResultSetHeader>(
          `INSERT INTO ${mysqlIdent(t)} (k, name, amount, at, note) VALUES (?, ?, ?, NOW(3), ?)`,
          [rnd(1000), `written ${count}`, rnd(100000) / 100, rnd(2) === 0 ? null : `note ${count}\nline`],
        );
        maxId.set(t, Math.max(top, res.insertId));
        break;
      }
      case 2:
        await conn.query(`UPDATE ${mysqlIdent(t)} SET name = CONCAT(name, '+'), amount = amount + 1 WHERE id = ?`, [id]);
        break;
      case 3:
        await conn.query(`UPDATE ${mysqlIdent(t)} SET k = k + 1, note = ? WHERE id BETWEEN ? AND ?`, [`range ${count}`, id, id + 3]);
        break;
      case 4:
        await conn.query(`DELETE FROM ${mysqlIdent(t)} WHERE id = ?`, [id]);
        break;
      default:
        // the key moves (to negative ids, out of AUTO_INCREMENT's way): a delete and an insert for the replica
        await conn.query(`UPDATE ${mysqlIdent(t)} SET id = ? WHERE id = ?`, [-++moved, id]);
    }
  };
  const loop = (async () => {
    while (!stopped) {
      if (rnd(4) === 0 && tables.length > 1) {
        await conn.query('START TRANSACTION');
        for (let i = 0; i < 3; i++) await one(tables[rnd(tables.length)]);
        await conn.query('COMMIT');
      } else {
        await one(tables[rnd(tables.length)]);
      }
      count++;
      if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  })();
  return {
    get count() {
      return count;
    },
    async stop() {
      stopped = true;
      await loop;
      await conn.end();
      return count;
    },
  };
}

/** A hand-made change in PostgreSQL, retried when it deadlocks with the replica applying to the same rows. */
export async function pgChange(pool: pg.Pool, sql: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await pool.query(sql);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== '40P01' || attempt >= 5) throw err;
    }
  }
}

export async function tableStates(pool: pg.Pool, source: string): Promise<Record<string, { state: string; reason: string | null }>> {
  const res = await pool.query('SELECT mysql_table, state, reason FROM sch_chameleon.show_tables($1)', [source]);
  return Object.fromEntries(res.rows.map((r) => [r.mysql_table, { state: r.state, reason: r.reason }]));
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
  everyMs = 50,
  /** What the state was when the time ran out, for the failure message. */
  explain?: () => Promise<unknown>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      const state = explain ? await explain().then((v) => JSON.stringify(v), (e: Error) => `(could not tell: ${e.message})`) : '';
      throw new Error(`timed out waiting for ${what}${state ? `; then: ${state}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
