/**
 * The MySQL snapshot point (a read lock on the copied table alone while the
 * snapshot starts), run against the MariaDB test server by asking
 * openSnapshot for the MySQL flavour: MariaDB accepts the same statements.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type mysql from 'mysql2/promise';
import { connectMysql } from '../../src/mysql/connection.js';
import { createLogger } from '../../src/log.js';
import { openSnapshot, type Coordinates } from '../../src/snapshot/snapshot-point.js';
import { createMysqlDatabase, uniqueName, type MysqlTestDatabase } from '../harness/db.js';
import { mysqlIdent } from '../harness/snapshot.js';

const TIMEOUT = 30_000;
const IS_MARIADB = false;

let my: MysqlTestDatabase;
const opened: mysql.Connection[] = [];

before(async () => {
  my = await createMysqlDatabase('snapshot_lock');
  await my.conn.query('CREATE TABLE t (id int PRIMARY KEY, v varchar(20))');
  await my.conn.query('CREATE TABLE other (id int AUTO_INCREMENT PRIMARY KEY)');
  await my.conn.query("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
});

after(async () => {
  for (const c of opened) await c.end().catch(() => c.destroy());
  await my?.drop();
});

async function open(url = my.url): Promise<mysql.Connection> {
  const c = await connectMysql(url);
  opened.push(c);
  return c;
}

/** Runs `hook` on `conn` right after each statement matching `pattern` returned, before the caller goes on. */
function afterStatement(conn: mysql.Connection, pattern: RegExp, hook: () => Promise<void>): void {
  const target = conn as unknown as { query(sql: unknown, values?: unknown): Promise<unknown> };
  const query = target.query.bind(conn);
  target.query = async (sql: unknown, values?: unknown) => {
    const res = await query(sql, values);
    if (typeof sql === 'string' && pattern.test(sql)) await hook();
    return res;
  };
}

/** Polls until the session `threadId` waits for a lock (or gives up and says what it does). */
async function waitingForLock(conn: mysql.Connection, threadId: number): Promise<string> {
  let state = '';
  for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT STATE AS state FROM information_schema.PROCESSLIST WHERE ID = ?', [threadId]);
    state = String(rows[0]?.state ?? '(gone)');
    if (/lock/i.test(state)) return state;
  }
  return state;
}

/** The tables the binlog's row events name from `at` on (one Table_map per table and transaction). */
async function tablesWrittenAfter(conn: mysql.Connection, at: Coordinates): Promise<string[]> {
  const [events] = await conn.query<mysql.RowDataPacket[]>(`SHOW BINLOG EVENTS IN ? FROM ${Number(at.pos)}`, [at.file]);
  return events
    .filter((e) => e.Event_type === 'Table_map')
    .map((e) => /\((.*)\)\s*$/.exec(String(e.Info))?.[1] ?? String(e.Info))
    .filter((name) => name.startsWith(`${my.name}.`));
}

function captureLog(): { log: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger({ level: 'info', destination }), lines };
}

test('MySQL: only the copied table waits while the snapshot starts, and its coordinates split the table\'s writes', { timeout: TIMEOUT }, async () => {
  const copy = await open();
  const writer = await open();
  const blocked = await open();
  const watcher = await open();
  // a write that had to wait for a lock fails quickly instead of hanging the test
  await writer.query('SET SESSION lock_wait_timeout = 2');
  const lockSessions: number[] = [];
  let otherWriteMs = -1;
  let blockedState = '';
  let blockedDone = false;
  let blockedWrite: Promise<unknown> | null = null;

  const connect = async (): Promise<mysql.Connection> => {
    const lock = await connectMysql(my.url);
    lockSessions.push(lock.threadId!);
    afterStatement(lock, /^FLUSH TABLES .+ WITH READ LOCK$/, async () => {
      const t0 = Date.now();
      await writer.query('INSERT INTO other () VALUES ()');
      otherWriteMs = Date.now() - t0;
      blockedWrite = blocked.query("INSERT INTO t VALUES (100, 'during')").finally(() => {
        blockedDone = true;
      });
      blockedState = await waitingForLock(watcher, blocked.threadId!);
    });
    return lock;
  };
  // the moment the snapshot's coordinates are read, the lock still held: whether the write got through
  let doneAtSnapshot: boolean | null = null;
  afterStatement(copy, /^SHOW (MASTER|BINARY LOG) STATUS$/, async () => {
    doneAtSnapshot = blockedDone;
  });
  const { log, lines } = captureLog();
  const at = await openSnapshot(copy, IS_MARIADB, { table: { schema: my.name, name: 't' }, connect, log });

  assert.equal(lockSessions.length, 1, 'the table is locked from a second session');
  assert.ok(otherWriteMs >= 0 && otherWriteMs < 2000, `a write to another table went through while the lock was held (${otherWriteMs} ms)`);
  assert.match(blockedState, /metadata lock/i, 'a write to the locked table waited for the lock');
  assert.equal(doneAtSnapshot, false, 'the write to the locked table was still waiting when the snapshot had started');
  assert.deepEqual(lines.filter((l) => Number(l.level) >= 40), [], 'no fallback, no warning');
  assert.match(at.file, /\S/);
  assert.match(at.pos, /^[0-9]+$/);

  await blockedWrite;
  await writer.query("INSERT INTO t VALUES (101, 'after')");
  const [inCopy] = await copy.query<mysql.RowDataPacket[]>('SELECT id FROM t ORDER BY id');
  const [otherInCopy] = await copy.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM other');
  await copy.query('COMMIT');
  assert.deepEqual(inCopy.map((r) => r.id), [1, 2, 3], 'the copy holds no row committed after the lock');
  assert.equal(Number(otherInCopy[0].n), 1, 'the write to the other table, committed before the snapshot, is in it');
  // exactly the two rows the copy lacks come after the coordinates; the rest is before them
  assert.deepEqual(await tablesWrittenAfter(watcher, at), [`${my.name}.t`, `${my.name}.t`]);

  // the lock's session is gone, its lock with it
  const [left] = await watcher.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ?', [lockSessions[0]]);
  assert.equal(Number(left[0].n), 0);
  const [locked] = await watcher.query<mysql.RowDataPacket[]>('SHOW OPEN TABLES WHERE In_use > 0');
  assert.deepEqual(locked.filter((r) => r.Database === my.name), []);
});

test('MySQL: a server that refuses the table lock gets the global read lock instead, and the fallback is logged', { timeout: TIMEOUT }, async () => {
  // RELOAD allows the global read lock; the table lock also needs LOCK TABLES, which this user lacks
  const user = uniqueName('nolock', 32);
  const password = 'pw-nolock';
  await my.conn.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, password]);
  try {
    await my.conn.query(`GRANT SELECT ON ${mysqlIdent(my.name)}.* TO ?@'%'`, [user]);
    await my.conn.query(`GRANT RELOAD, BINLOG MONITOR ON *.* TO ?@'%'`, [user]);
    const url = new URL(my.url);
    url.username = user;
    url.password = password;
    const copy = await open(url.toString());
    const writer = await open();
    await writer.query('SET SESSION lock_wait_timeout = 1');
    let otherWrite: unknown = null;
    afterStatement(copy, /^FLUSH TABLES WITH READ LOCK$/, async () => {
      otherWrite = await writer.query('INSERT INTO other () VALUES ()').then(() => 'went through', (err: { code?: string }) => err.code);
    });
    const { log, lines } = captureLog();
    const at = await openSnapshot(copy, IS_MARIADB, { table: { schema: my.name, name: 't' }, connect: () => connectMysql(url.toString()), log });

    assert.equal(otherWrite, 'ER_LOCK_WAIT_TIMEOUT', 'the global lock held every table while the snapshot started');
    const warnings = lines.filter((l) => Number(l.level) === 40);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].table, `${my.name}.t`);
    assert.match(String(warnings[0].msg), /refused a read lock on the table alone/);
    assert.match(String((warnings[0].err as { message?: string }).message), /Access denied/);

    await writer.query("INSERT INTO t VALUES (200, 'after')");
    const [inCopy] = await copy.query<mysql.RowDataPacket[]>('SELECT id FROM t ORDER BY id');
    await copy.query('COMMIT');
    assert.ok(!inCopy.some((r) => r.id === 200), 'a row committed after the coordinates is not in the copy');
    assert.deepEqual(await tablesWrittenAfter(writer, at), [`${my.name}.t`]);
  } finally {
    await my.conn.query(`DROP USER IF EXISTS ?@'%'`, [user]);
  }
});
