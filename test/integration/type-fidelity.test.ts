/**
 * Every MySQL type through both paths against the real servers: the
 * snapshot (MySQL formats COPY text, PostgreSQL COPYs it) and the binlog
 * (zongji decodes row events, fromBinlog converts, jsonb_populate_record
 * applies). Both must give the PostgreSQL values written down here by hand.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pipeline } from 'node:stream/promises';
import ZongJi from '@vlasky/zongji';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createMysqlDatabase, createPgDatabase, type MysqlTestDatabase, type PgTestDatabase } from '../harness/db.js';
import { copyLayout } from '../../src/snapshot/copy-encoder.js';
import { streamCopyText } from '../../src/snapshot/copy-stream.js';
import { UnfitValueError, type ColumnMapping, type MysqlColumn } from '../../src/mysql/column.js';
import { mapColumn, keepRawBytes, quoteMysqlIdent, stringifyImage } from '../../src/mysql/type-map.js';
import { CASES, ROWS, s, type Case } from '../harness/type-cases.js';

const TIMEOUT = 180_000;

interface ColumnRow {
  name: string;
  ordinal: number;
  data_type: string;
  column_type: string;
  nullable: string;
  dflt: string | null;
  num_precision: number | string | null;
  num_scale: number | string | null;
  dt_precision: number | string | null;
  char_len: number | string | null;
  charset: string | null;
  collation: string | null;
  extra: string;
  gen_expr: string | null;
  comment: string;
}

/** information_schema → MysqlColumn, as the metadata reader does it (kept here so this test stands alone). */
async function readColumns(conn: mysql.Connection, db: string, table: string): Promise<MysqlColumn[]> {
  const [rows] = await conn.query(
    `SELECT COLUMN_NAME name, ORDINAL_POSITION ordinal, DATA_TYPE data_type, COLUMN_TYPE column_type,
            IS_NULLABLE nullable, COLUMN_DEFAULT dflt, NUMERIC_PRECISION num_precision, NUMERIC_SCALE num_scale,
            DATETIME_PRECISION dt_precision, CHARACTER_MAXIMUM_LENGTH char_len, CHARACTER_SET_NAME charset,
            COLLATION_NAME collation, EXTRA extra, GENERATION_EXPRESSION gen_expr, COLUMN_COMMENT comment
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [db, table],
  );
  const [checks] = await conn.query(
    'SELECT CHECK_CLAUSE clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?',
    [db, table],
  );
  const jsonCols = new Set(
    (checks as { clause: string }[]).map((c) => /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(c.clause)?.[1]?.replace(/``/g, '`')),
  );
  const num = (v: number | string | null): number | null => (v === null ? null : Number(v));
  return (rows as ColumnRow[]).map((r) => ({
    name: r.name,
    ordinal: Number(r.ordinal),
    dataType: r.data_type.toLowerCase(),
    columnType: r.column_type.toLowerCase(),
    nullable: r.nullable === 'YES',
    defaultValue: r.dflt,
    numericPrecision: num(r.num_precision),
    numericScale: num(r.num_scale),
    datetimePrecision: num(r.dt_precision),
    charMaxLength: num(r.char_len),
    charset: r.charset,
    collation: r.collation,
    extra: r.extra,
    generationExpression: r.gen_expr,
    comment: r.comment,
    isJson: r.data_type.toLowerCase() === 'json' || jsonCols.has(r.name),
  }));
}

function pgIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

type Mapped = { col: MysqlColumn; map: ColumnMapping };

async function createPgTable(pool: pg.Pool, table: string, mapped: Mapped[]): Promise<void> {
  const cols = mapped.map((m) => `${pgIdent(m.col.name)} ${m.map.pgType}${!m.col.nullable && !m.map.nullableInTarget ? ' NOT NULL' : ''}`);
  await pool.query(`CREATE TABLE ${pgIdent(table)} (${cols.join(', ')})`);
}

async function setSnapshotSession(conn: mysql.Connection): Promise<void> {
  await conn.query("SET SESSION sql_mode='NO_BACKSLASH_ESCAPES,NO_ENGINE_SUBSTITUTION', time_zone='+00:00', NAMES utf8mb4");
}

/** The snapshot path exactly as the agent runs it: the same SELECT, the same encoder, COPY. */
async function snapshotCopy(conn: mysql.Connection, pool: pg.Pool, db: string, table: string, target: string, mapped: Mapped[]): Promise<number> {
  await setSnapshotSession(conn);
  const copied = mapped.filter((m) => !m.map.generated);
  const layout = copyLayout(mapped);
  const core = (conn as unknown as { connection: import('mysql2').Connection }).connection;
  const { chunks, encoder } = streamCopyText(core, `SELECT ${layout.select} FROM ${quoteMysqlIdent(db)}.${quoteMysqlIdent(table)}`, layout, 64 * 1024);
  const client = await pool.connect();
  try {
    const cols = copied.map((m) => pgIdent(m.col.name)).join(', ');
    await pipeline(chunks, client.query(copyFrom(`COPY ${pgIdent(target)} (${cols}) FROM STDIN`)));
  } finally {
    client.release();
  }
  return encoder.rows;
}

interface Capture {
  rows: Record<string, unknown>[];
  stop(): Promise<void>;
}

async function captureWrites(mysqlUrl: string, db: string): Promise<Capture> {
  const u = new URL(mysqlUrl);
  const zongji = new ZongJi({
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    dateStrings: true,
    timezone: 'Z',
    jsonStrings: true,
  } as never);
  const rows: Record<string, unknown>[] = [];
  zongji.on('binlog', (e: unknown) => {
    const evt = e as { getEventName(): string; tableId?: number; rows?: Record<string, unknown>[] };
    const name = evt.getEventName();
    if (name === 'tablemap') {
      keepRawBytes((zongji as unknown as { tableMap: Record<number, { columns?: { type: number; charset: string | null }[] }> }).tableMap[evt.tableId!]);
    } else if (name === 'writerows') {
      rows.push(...(evt.rows ?? []));
    }
  });
  let failure: unknown = null;
  zongji.on('error', (err: unknown) => {
    failure = err;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`zongji not ready: ${String(failure)}`)), 30_000);
    zongji.on('ready', () => {
      clearTimeout(timer);
      resolve();
    });
    zongji.start({
      serverId: 100_000 + Math.floor(Math.random() * 1_000_000),
      startAtEnd: true,
      includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows'],
      includeSchema: { [db]: true },
    });
  });
  return {
    rows,
    stop: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        zongji.once('stopped', () => {
          clearTimeout(timer);
          resolve();
        });
        zongji.stop();
      }),
  };
}

async function waitFor(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The binlog path: fromBinlog per value, one image per row, applied with jsonb_populate_record. */
async function applyImages(pool: pg.Pool, target: string, mapped: Mapped[], rows: Record<string, unknown>[]): Promise<void> {
  const byName = new Map(mapped.map((m) => [m.col.name, m.map]));
  for (const row of rows) {
    const image: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(row)) {
      const map = byName.get(name);
      assert.ok(map, `binlog column ${name} is mapped`);
      if (map.generated) continue;
      try {
        image[name] = value === null ? null : map.fromBinlog(value);
      } catch (err) {
        throw new Error(`fromBinlog of ${name} = ${Buffer.isBuffer(value) ? value.toString('hex') : JSON.stringify(value)}: ${String(err)}`);
      }
    }
    await pool.query(`INSERT INTO ${pgIdent(target)} SELECT * FROM jsonb_populate_record(NULL::${pgIdent(target)}, $1::jsonb)`, [stringifyImage(image)]);
  }
}

/** A query in a session that renders timestamptz in UTC. */
async function utcQuery(pool: pg.Pool, sql: string): Promise<pg.QueryResult> {
  const client = await pool.connect();
  try {
    await client.query("SET TimeZone = 'UTC'");
    return await client.query(sql);
  } finally {
    client.release();
  }
}

async function renderTable(pool: pg.Pool, table: string, cases: Case[]): Promise<Map<number, Record<string, string | null>>> {
  const exprs = cases.map((c) => `${(c.render ?? ((x: string) => `${x}::text`))(pgIdent(c.name))} AS ${pgIdent(c.name)}`);
  const res = await utcQuery(pool, `SELECT id, ${exprs.join(', ')} FROM ${pgIdent(table)} ORDER BY id`);
  return new Map(res.rows.map((r: Record<string, string | null> & { id: number }) => [Number(r.id), r]));
}

let my: MysqlTestDatabase;
let pgdb: PgTestDatabase;

before(async () => {
  my = await createMysqlDatabase('type_fidelity');
  pgdb = await createPgDatabase('type_fidelity');
  await pgdb.pool.query('CREATE EXTENSION IF NOT EXISTS postgis');
});

after(async () => {
  await my?.drop();
  await pgdb?.drop();
});

test('every type: snapshot and binlog give the same, expected PostgreSQL values', { timeout: TIMEOUT }, async () => {
  const conn = my.conn;
  await conn.query("SET SESSION sql_mode='NO_BACKSLASH_ESCAPES', time_zone='+00:00', NAMES utf8mb4");
  await conn.query(`CREATE TABLE fidelity (id int PRIMARY KEY, ${CASES.map((c) => `${quoteMysqlIdent(c.name)} ${c.def}`).join(', ')})`);

  const capture = await captureWrites(my.url, my.name);
  try {
    const inserted = CASES.filter((c) => !c.generated);
    for (let r = 1; r <= ROWS; r++) {
      const values = inserted.map((c) => c.values[r - 1] ?? 'NULL');
      await conn.query(`INSERT INTO fidelity (id, ${inserted.map((c) => quoteMysqlIdent(c.name)).join(', ')}) VALUES (${r}, ${values.join(', ')})`);
    }
    await waitFor(() => capture.rows.length >= ROWS, 'the binlog rows');
  } finally {
    await capture.stop();
  }

  const columns = await readColumns(conn, my.name, 'fidelity');
  const mapped = columns.map((col) => ({ col, map: mapColumn(col, { table: `${my.name}.fidelity`, postgis: true, typeOverride: {}, flavor: 'mariadb' }) }));
  await createPgTable(pgdb.pool, 'snap', mapped);
  await createPgTable(pgdb.pool, 'bin', mapped);

  const copied = await snapshotCopy(conn, pgdb.pool, my.name, 'fidelity', 'snap', mapped);
  assert.equal(copied, ROWS);
  await applyImages(pgdb.pool, 'bin', mapped, capture.rows);

  const snap = await renderTable(pgdb.pool, 'snap', CASES);
  const bin = await renderTable(pgdb.pool, 'bin', CASES);
  const problems: string[] = [];
  for (let r = 1; r <= ROWS; r++) {
    for (const c of CASES) {
      const want = c.expect[r - 1] ?? null;
      const got = snap.get(r)?.[c.name];
      const gotBin = bin.get(r)?.[c.name];
      const show = (v: unknown): string => (typeof v === 'string' && v.length > 80 ? `${v.slice(0, 80)}…` : JSON.stringify(v));
      if (got !== want) problems.push(`snapshot row ${r} ${c.name} (${c.def}): got ${show(got)}, want ${show(want)}`);
      if (gotBin !== want) problems.push(`binlog row ${r} ${c.name} (${c.def}): got ${show(gotBin)}, want ${show(want)}`);
    }
  }
  assert.deepEqual(problems, []);

  // The rendering above may hide differences (ST_AsEWKT); the plain text form must agree too.
  const all = mapped.map((m) => `${pgIdent(m.col.name)}::text`).join(', ');
  const a = await utcQuery(pgdb.pool, `SELECT ${all} FROM snap ORDER BY id`);
  const b = await utcQuery(pgdb.pool, `SELECT ${all} FROM bin ORDER BY id`);
  assert.equal(a.rows.length, ROWS);
  assert.deepEqual(b.rows, a.rows);
});

test('spatial without PostGIS: bytea holding the WKB, both paths', { timeout: TIMEOUT }, async () => {
  const conn = my.conn;
  await conn.query("SET SESSION sql_mode='NO_BACKSLASH_ESCAPES', time_zone='+00:00', NAMES utf8mb4");
  await conn.query('CREATE TABLE plain_geo (id int PRIMARY KEY, g geometry, p point)');
  const capture = await captureWrites(my.url, my.name);
  try {
    await conn.query("INSERT INTO plain_geo VALUES (1, ST_GeomFromText('POINT(1 2)', 4326), ST_GeomFromText('POINT(-1 0.5)')), (2, NULL, NULL)");
    await waitFor(() => capture.rows.length >= 2, 'the binlog rows');
  } finally {
    await capture.stop();
  }
  const columns = await readColumns(conn, my.name, 'plain_geo');
  const mapped = columns.map((col) => ({ col, map: mapColumn(col, { table: `${my.name}.plain_geo`, postgis: false, typeOverride: {} }) }));
  assert.equal(mapped[1].map.pgType, 'bytea');
  await createPgTable(pgdb.pool, 'geo_snap', mapped);
  await createPgTable(pgdb.pool, 'geo_bin', mapped);
  await snapshotCopy(conn, pgdb.pool, my.name, 'plain_geo', 'geo_snap', mapped);
  await applyImages(pgdb.pool, 'geo_bin', mapped, capture.rows);
  const q = 'SELECT id, g::text AS g, p::text AS p, ST_AsText(ST_GeomFromWKB(g)) AS gt FROM %s ORDER BY id';
  const a = await pgdb.pool.query(q.replace('%s', 'geo_snap'));
  const b = await pgdb.pool.query(q.replace('%s', 'geo_bin'));
  assert.deepEqual(a.rows, [
    { id: 1, g: '\\x0101000000000000000000f03f0000000000000040', p: '\\x0101000000000000000000f0bf000000000000e03f', gt: 'POINT(1 2)' },
    { id: 2, g: null, p: null, gt: null },
  ]);
  assert.deepEqual(b.rows, a.rows);
});

test('values PostgreSQL cannot hold: unfitExpr flags exactly those rows, fromBinlog throws UnfitValueError', { timeout: TIMEOUT }, async () => {
  const conn = my.conn;
  await conn.query("SET SESSION sql_mode='NO_BACKSLASH_ESCAPES,ALLOW_INVALID_DATES', time_zone='+00:00', NAMES utf8mb4");
  await conn.query(
    'CREATE TABLE unfit (id int PRIMARY KEY, t text, c varchar(10) CHARACTER SET latin1, j json, d date, dt datetime)',
  );
  const capture = await captureWrites(my.url, my.name);
  const rows = [
    // id, t, c, j, d, dt, which column is unfit
    [1, "CONCAT('a', CHAR(0), 'b')", 'NULL', 'NULL', 'NULL', 'NULL', 't'],
    [2, 'NULL', "CONCAT('x', CHAR(0))", 'NULL', 'NULL', 'NULL', 'c'],
    [3, 'NULL', 'NULL', s('{"k":"\\u0000"}'), 'NULL', 'NULL', 'j'],
    [4, 'NULL', 'NULL', 'NULL', "'2020-02-30'", 'NULL', 'd'],
    [5, 'NULL', 'NULL', 'NULL', 'NULL', "'2021-04-31 10:00:00'", 'dt'],
    // fit: an escaped backslash before u0000 is no NUL; zero dates are NULL, not unfit
    [6, s('fine'), s('ok'), s('["\\\\u0000"]'), "'0000-00-00'", "'2020-00-00 00:00:00'", null],
    [7, 'NULL', 'NULL', 'NULL', 'NULL', 'NULL', null],
  ] as const;
  try {
    for (const r of rows) await conn.query(`INSERT INTO unfit VALUES (${r.slice(0, 6).join(', ')})`);
    await waitFor(() => capture.rows.length >= rows.length, 'the binlog rows');
  } finally {
    await capture.stop();
  }
  const columns = await readColumns(conn, my.name, 'unfit');
  const maps = new Map(columns.map((col) => [col.name, mapColumn(col, { table: `${my.name}.unfit`, postgis: true, typeOverride: {} })]));

  await setSnapshotSession(conn);
  for (const [name, map] of maps) {
    if (name === 'id') {
      assert.equal(map.unfitExpr, null);
      continue;
    }
    assert.ok(map.unfitExpr, `${name} has an unfitExpr`);
    assert.ok(map.unfitReason, `${name} has an unfitReason`);
    const [res] = await conn.query({ sql: `SELECT id, (${map.unfitExpr}) AS u FROM unfit ORDER BY id`, rowsAsArray: true });
    const flagged = (res as [number, number | null][]).filter(([, u]) => {
      assert.notEqual(u, null, `${name}: unfitExpr is never NULL`);
      return Number(u) !== 0;
    });
    const want = rows.filter((r) => r[6] === name).map((r) => r[0]);
    assert.deepEqual(flagged.map(([id]) => id), want, `rows flagged by ${name}`);
  }

  for (const row of capture.rows) {
    const spec = rows.find((r) => r[0] === row.id)!;
    for (const [name, value] of Object.entries(row)) {
      if (value === null || name === 'id') continue;
      const map = maps.get(name)!;
      if (spec[6] === name) assert.throws(() => map.fromBinlog(value), UnfitValueError, `row ${spec[0]} ${name}`);
      else assert.doesNotThrow(() => map.fromBinlog(value), `row ${spec[0]} ${name}`);
    }
  }

  // The rows that fit still load through the snapshot path with their unfit neighbours left out.
  const mapped = columns.map((col) => ({ col, map: maps.get(col.name)! }));
  await createPgTable(pgdb.pool, 'unfit_snap', mapped);
  const copied = await snapshotCopy(conn, pgdb.pool, my.name, 'unfit', 'unfit_snap', mapped);
  assert.equal(copied, 2);
  const res = await pgdb.pool.query('SELECT id, t, c, j::text AS j, d::text AS d, dt::text AS dt FROM unfit_snap ORDER BY id');
  assert.deepEqual(res.rows, [
    { id: 6, t: 'fine', c: 'ok', j: '["\\\\u0000"]', d: null, dt: null },
    { id: 7, t: null, c: null, j: null, d: null, dt: null },
  ]);
});

test('defaults translate into PostgreSQL and are accepted by CREATE TABLE', { timeout: TIMEOUT }, async () => {
  const conn = my.conn;
  await conn.query("SET SESSION sql_mode='NO_BACKSLASH_ESCAPES', time_zone='+00:00'");
  await conn.query(`CREATE TABLE dflt (
      a int DEFAULT 5, b varchar(10) DEFAULT 'it''s', c varchar(10) DEFAULT 'NULL', d varchar(10) DEFAULT NULL,
      e datetime DEFAULT current_timestamp(), f timestamp(6) NULL DEFAULT current_timestamp(6), g date DEFAULT (curdate()),
      h bit(5) DEFAULT b'101', i decimal(5,2) DEFAULT 1.50, j varchar(5) DEFAULT 'a\\b', k enum('x','y') DEFAULT 'y',
      l set('x','y z') DEFAULT 'x,y z', m double DEFAULT 1e300, o varchar(5) DEFAULT '', p int DEFAULT (1 + 1),
      q text DEFAULT 'q', r varbinary(5) DEFAULT 'ab', t float DEFAULT -0.5, u time DEFAULT '-01:00:00',
      v year DEFAULT 2000, w tinyint(1) DEFAULT true, x datetime DEFAULT '0000-00-00 00:00:00', y date DEFAULT '2020-02-29',
      z binary(3) DEFAULT 'a', aa bigint unsigned DEFAULT 18446744073709551615, ab timestamp NULL DEFAULT '2001-02-03 04:05:06',
      ac char(4) DEFAULT 'ab  ')`);
  const columns = await readColumns(conn, my.name, 'dflt');
  const mapped = columns.map((col) => ({ col, map: mapColumn(col, { table: `${my.name}.dflt`, postgis: true, typeOverride: {}, flavor: 'mariadb' }) }));
  const defaults = Object.fromEntries(mapped.map((m) => [m.col.name, m.map.pgDefault]));
  assert.deepEqual(defaults, {
    a: "'5'",
    b: "'it''s'",
    c: "'NULL'",
    d: null,
    e: 'LOCALTIMESTAMP',
    f: 'CURRENT_TIMESTAMP',
    g: 'CURRENT_DATE',
    h: "'00101'",
    i: "'1.50'",
    j: "E'a\\\\b'",
    k: "'y'",
    l: `'{"x","y z"}'`,
    m: "'1e300'",
    o: "''",
    p: null,
    q: "'q'",
    r: "E'\\\\x6162'",
    t: "'-0.5'",
    u: "'-01:00:00'",
    v: "'2000'",
    w: "'1'",
    x: null,
    y: "'2020-02-29'",
    z: "E'\\\\x610000'",
    aa: "'18446744073709551615'",
    ab: "'2001-02-03 04:05:06+00'",
    ac: "'ab'",
  });
  const cols = mapped.map((m) => `${pgIdent(m.col.name)} ${m.map.pgType}${m.map.pgDefault ? ` DEFAULT ${m.map.pgDefault}` : ''}`);
  await pgdb.pool.query(`CREATE TABLE dflt (${cols.join(', ')})`);
  await pgdb.pool.query('INSERT INTO dflt DEFAULT VALUES');
  const res = await utcQuery(pgdb.pool, 'SELECT a, b, c, h::text, i::text, j, k, l::text, m, r::text, t, u::text, v, w, y::text, z::text, aa::text, ab::text, ac FROM dflt');
  assert.deepEqual(res.rows[0], {
    a: 5, b: "it's", c: 'NULL', h: '00101', i: '1.50', j: 'a\\b', k: 'y', l: '{x,"y z"}', m: 1e300, r: '\\x6162',
    t: -0.5, u: '-01:00:00', v: 2000, w: 1, y: '2020-02-29', z: '\\x610000', aa: '18446744073709551615',
    ab: '2001-02-03 04:05:06+00', ac: 'ab',
  });
});
