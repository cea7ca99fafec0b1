/**
 * Every MySQL type of docs/types.md through the real init_replica, called
 * from SQL: the metadata reader, the type map, the generated CREATE TABLE,
 * the copy into the loading schema, the swap into place and the recording
 * of the rows PostgreSQL cannot hold. type-fidelity.test.ts takes the same
 * values through the type map directly; here nothing is called by hand.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import type { Agent } from '../../src/agent/agent.js';
import { installCatalog } from '../../src/catalog/installer.js';
import { INVALID_DATE_REASON, JSON_NUL_REASON, NUL_REASON } from '../../src/mysql/type-map/values.js';
import { createPgDatabase, type PgTestDatabase } from '../harness/db.js';
import { replicaTestEnv, startInProcessAgent, type ReplicaTestEnv } from '../harness/replica.js';
import { addSource, mysqlIdent, pgIdent, runCommand } from '../harness/snapshot.js';
import { CASES, ROWS, s, type Case } from '../harness/type-cases.js';

const TIMEOUT = 50_000;

/** Columns MySQL declares NOT NULL: rows set aside still need a value there. */
const NOT_NULL = CASES.filter((c) => /\bNOT NULL\b/i.test(c.def)).map((c) => c.name);

/** What a set-aside row's NOT NULL columns hold, as SQL and as the COPY text recorded in its image. */
const FILLER: Record<string, { sql: string; image: string }> = {
  dt2: { sql: "'2000-01-01'", image: '2000-01-01' },
  dtm2: { sql: "'2000-01-01 00:00:00'", image: '2000-01-01 00:00:00.000000' },
  ts2: { sql: "'2000-01-01 00:00:00'", image: '2000-01-01 00:00:00.000000+00' },
};

interface UnfitRow {
  id: number;
  /** Column → SQL value; the other columns are NULL (or FILLER). */
  values: Record<string, string>;
  /** The recorded image's fields that are not NULL, beyond id, FILLER and the generated columns. */
  image: Record<string, string>;
  reason: string;
}

const UNFIT: UnfitRow[] = [
  {
    id: 7,
    // the neighbours hold the text \u0000 itself, in a text column and inside a JSON string: no NUL, and kept as it is
    values: { tx: "CONCAT('nul', CHAR(0), 'inside')", vc: s('x\\u0000'), js: s('["\\\\u0000"]'), bl: "X'00FF'" },
    image: { tx: 'nul\\u0000inside', vc: 'x\\u0000', js: '["\\\\u0000"]', bl: '\\x00ff' },
    reason: `${NUL_REASON} (column tx)`,
  },
  {
    id: 8,
    values: { dt: "'2020-02-30'", dtm3: "'2020-01-01 00:00:00.5'" },
    image: { dt: '2020-02-30', dtm3: '2020-01-01 00:00:00.500000' },
    reason: `${INVALID_DATE_REASON} (column dt)`,
  },
  {
    id: 9,
    values: { dtm: "'2021-04-31 10:11:12.5'", tx: s('tab\there') },
    image: { dtm: '2021-04-31 10:11:12.500000', tx: 'tab\there' },
    reason: `${INVALID_DATE_REASON} (column dtm)`,
  },
  {
    id: 10,
    // two reasons: the agent finds the NUL, the server the impossible date in the NOT NULL column
    values: { l1: "CONCAT('x', CHAR(0))", dt2: "'2019-02-29'" },
    image: { l1: 'x\\u0000', dt2: '2019-02-29' },
    reason: `${NUL_REASON} (column l1); ${INVALID_DATE_REASON} (column dt2)`,
  },
  {
    id: 11,
    values: { js: s('{"k":"\\u0000"}') },
    image: { js: '{"k":"\\u0000"}' },
    reason: `${JSON_NUL_REASON} (column js)`,
  },
];

/** The PostgreSQL column types the generated CREATE TABLE must give, in MySQL's column order. */
const PG_TYPES: Record<string, string> = {
  id: 'integer', ti: 'smallint', tiu: 'smallint', si: 'smallint', siu: 'integer', mi: 'integer', miu: 'integer',
  i: 'integer', iu: 'bigint', bi: 'bigint', biu: 'numeric(20,0)', b1: 'smallint', bo: 'smallint',
  d65: 'numeric(65,30)', d52: 'numeric(5,2)', f: 'real', dbl: 'double precision', dbl2: 'double precision',
  bit1: 'bit(1)', bit64: 'bit(64)', bit10: 'bit(10)', y: 'smallint', dt: 'date', dt2: 'date',
  dtm: 'timestamp(6) without time zone', dtm0: 'timestamp(0) without time zone', dtm3: 'timestamp(3) without time zone',
  ts: 'timestamp(6) with time zone', ts0: 'timestamp(0) with time zone',
  tm: 'interval', tm0: 'interval', tm3: 'interval',
  dtm2: 'timestamp(6) without time zone', ts2: 'timestamp(6) with time zone', tm6: 'interval',
  ch: 'character varying(5)', vc: 'character varying(40)', tx: 'text', tt: 'text', mt: 'text', lt: 'text',
  l1: 'character varying(10)', tx1: 'text', u3: 'character varying(10)',
  bn: 'bytea', vb: 'bytea', bl: 'bytea', tb: 'bytea', mb: 'bytea', lb: 'bytea',
  en: 'text', st: 'text[]', js: 'jsonb', jsn: 'jsonb', g: 'geometry', pt: 'geometry',
  l1b: 'character varying(10)', txb: 'text', enb: 'text', stb: 'text[]', gen: 'integer', gens: 'character varying(20)',
};

let env: ReplicaTestEnv;
let agent: Agent;
/** A second target without PostGIS, with its own catalogue and agent. */
let plain: PgTestDatabase;
let plainAgent: Agent;

before(async () => {
  env = await replicaTestEnv('type_init');
  // the agent maps spatial columns to geometry only when the target database has the extension
  await env.pg.pool.query('CREATE EXTENSION IF NOT EXISTS postgis');
  plain = await createPgDatabase('type_init_plain');
  await installCatalog(plain.url);

  const conn = env.my.conn;
  // ALLOW_INVALID_DATES stores the impossible dates; no strict mode, so zero dates go in too
  await conn.query("SET SESSION sql_mode='NO_BACKSLASH_ESCAPES,ALLOW_INVALID_DATES', time_zone='+00:00', NAMES utf8mb4");
  await conn.query(`CREATE TABLE fidelity (id int PRIMARY KEY, ${CASES.map((c) => `${mysqlIdent(c.name)} ${c.def}`).join(', ')})`);
  const inserted = CASES.filter((c) => !c.generated);
  for (let r = 1; r <= ROWS; r++) {
    const values = inserted.map((c) => c.values[r - 1] ?? 'NULL');
    await conn.query(`INSERT INTO fidelity (id, ${inserted.map((c) => mysqlIdent(c.name)).join(', ')}) VALUES (${r}, ${values.join(', ')})`);
  }
  for (const u of UNFIT) {
    const values: Record<string, string> = { ...Object.fromEntries(NOT_NULL.map((n) => [n, FILLER[n].sql])), ...u.values };
    const names = Object.keys(values);
    await conn.query(`INSERT INTO fidelity (id, ${names.map(mysqlIdent).join(', ')}) VALUES (${u.id}, ${names.map((n) => values[n]).join(', ')})`);
  }
  await conn.query('CREATE TABLE plain_geo (id int PRIMARY KEY, g geometry, p point NOT NULL, SPATIAL KEY (p))');
  await conn.query("INSERT INTO plain_geo VALUES (1, ST_GeomFromText('POINT(1 2)', 4326), ST_GeomFromText('POINT(-1 0.5)')), (2, NULL, ST_GeomFromText('POINT(0 0)'))");
  // the range copy decides from the statistics' row estimate
  await conn.query('ANALYZE TABLE fidelity, plain_geo');

  agent = await startInProcessAgent(env.pg.url);
  plainAgent = await startInProcessAgent(plain.url);
});

after(async () => {
  await agent?.stop();
  await plainAgent?.stop();
  await plain?.drop();
  await env?.cleanup();
});

/** A query in a session that renders timestamptz in UTC. */
async function utcQuery(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = await pool.connect();
  try {
    await client.query("SET TimeZone = 'UTC'");
    return await client.query(sql, params);
  } finally {
    client.release();
  }
}

/** init_replica through SQL; asserts that every table was copied. */
async function initReplica(pool: pg.Pool, source: string): Promise<void> {
  const done = await runCommand(pool, 'sch_chameleon.init_replica($1)', [source], '45 seconds');
  assert.equal(done.state, 'done');
  const tables = await pool.query('SELECT mysql_table, state, reason FROM sch_chameleon.show_tables($1) ORDER BY mysql_table', [source]);
  for (const t of tables.rows) assert.equal(t.state, 'copied', `${source} ${t.mysql_table}: ${t.reason}`);
  assert.deepEqual(done.progress.tables_failed, [], `${source}: no table failed`);
}

/** Every value of the copied fidelity table against the text written in CASES. */
async function assertFidelity(pool: pg.Pool, schema: string): Promise<void> {
  const render = (c: Case): string => `${(c.render ?? ((x: string) => `${x}::text`))(pgIdent(c.name))} AS ${pgIdent(c.name)}`;
  const res = await utcQuery(pool, `SELECT id, ${CASES.map(render).join(', ')} FROM ${pgIdent(schema)}.fidelity ORDER BY id`);
  assert.deepEqual(res.rows.map((r) => r.id), Array.from({ length: ROWS }, (_, i) => i + 1), `${schema}: the rows that fit, and only those`);
  const show = (v: unknown): string => (typeof v === 'string' && v.length > 80 ? `${v.slice(0, 80)}…` : JSON.stringify(v));
  const problems: string[] = [];
  for (const row of res.rows) {
    for (const c of CASES) {
      const want = c.expect[row.id - 1] ?? null;
      if (row[c.name] !== want) problems.push(`${schema} row ${row.id} ${c.name} (${c.def}): got ${show(row[c.name])}, want ${show(want)}`);
    }
  }
  assert.deepEqual(problems, []);
}

async function assertColumns(pool: pg.Pool, schema: string): Promise<void> {
  const cols = await pool.query(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
       FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [`${pgIdent(schema)}.fidelity`],
  );
  assert.deepEqual(cols.rows.map((r) => [r.name, r.type]), Object.entries(PG_TYPES));
  // zero dates load as NULL, so MySQL's NOT NULL date columns accept NULL here
  assert.deepEqual(cols.rows.filter((r) => r.not_null).map((r) => r.name), ['id']);
  const keys = await pool.query('SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass', [`${pgIdent(schema)}.fidelity`]);
  assert.deepEqual(keys.rows, [{ def: 'PRIMARY KEY (id)' }]);
}

/** The rows set aside: in show_discarded_rows() with the reason and every field, none in the table. */
async function assertDiscarded(pool: pg.Pool, source: string, db: string): Promise<void> {
  const res = await pool.query(
    `SELECT mysql_schema, mysql_table, origin, row_image, reason FROM sch_chameleon.show_discarded_rows()
      WHERE source = $1 ORDER BY (row_image->>'id')::int`,
    [source],
  );
  const names = ['id', ...CASES.map((c) => c.name)];
  const want = UNFIT.map((u) => ({
    mysql_schema: db,
    mysql_table: 'fidelity',
    origin: 'snapshot',
    row_image: {
      ...Object.fromEntries(names.map((n) => [n, null])),
      ...Object.fromEntries(Object.entries(FILLER).map(([n, f]) => [n, f.image])),
      id: String(u.id),
      gen: String(u.id * 2),
      gens: `g${u.id}`,
      ...u.image,
    },
    reason: u.reason,
  }));
  assert.deepEqual(res.rows, want);
}

test('init_replica copies every type exactly, and sets aside the rows PostgreSQL cannot hold', { timeout: TIMEOUT }, async () => {
  assert.deepEqual([...NOT_NULL].sort(), Object.keys(FILLER).sort(), 'every NOT NULL case has a filler for the set-aside rows');
  assert.deepEqual(CASES.map((c) => c.name), Object.keys(PG_TYPES).slice(1), 'every case has its PostgreSQL type');
  const pool = env.pg.pool;
  await addSource(pool, 'fid', env.my.url, { [env.my.name]: 'fid' });
  await initReplica(pool, 'fid');
  await assertColumns(pool, 'fid');
  await assertFidelity(pool, 'fid');
  await assertDiscarded(pool, 'fid', env.my.name);
  const t = await pool.query("SELECT rows_copied FROM sch_chameleon.show_tables('fid') WHERE mysql_table = 'fidelity'");
  assert.equal(Number(t.rows[0].rows_copied), ROWS);
  // the loading schema is gone once the tables are in place
  const loading = await pool.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE '\\_chameleon\\_load\\_%'");
  assert.deepEqual(loading.rows, []);

  const geo = await pool.query('SELECT id, ST_AsEWKT(g) AS g, ST_AsEWKT(p) AS p FROM fid.plain_geo ORDER BY id');
  assert.deepEqual(geo.rows, [
    { id: 1, g: 'SRID=4326;POINT(1 2)', p: 'POINT(-1 0.5)' },
    { id: 2, g: null, p: 'POINT(0 0)' },
  ]);
});

test('init_replica in primary-key ranges gives the same values and the same rows set aside', { timeout: TIMEOUT }, async () => {
  const pool = env.pg.pool;
  // ranges of 2 rows: set-aside rows fall inside ranges and at their ends
  await addSource(pool, 'fidr', env.my.url, { [env.my.name]: 'fidr' }, { copy_range_rows: 2, limit_tables: [`${env.my.name}.fidelity`] });
  await initReplica(pool, 'fidr');
  const ranges = await pool.query(
    "SELECT t.copy_ranges FROM sch_chameleon.t_tables t JOIN sch_chameleon.t_sources s USING (source_id) WHERE s.source_name = 'fidr'",
  );
  // 11 rows, 6 that fit: five full ranges and the last one short
  assert.equal(Number(ranges.rows[0].copy_ranges), 6);
  await assertColumns(pool, 'fidr');
  await assertFidelity(pool, 'fidr');
  await assertDiscarded(pool, 'fidr', env.my.name);
});

test('init_replica into a database without PostGIS: spatial columns hold the WKB as bytea', { timeout: TIMEOUT }, async () => {
  const pool = plain.pool;
  await addSource(pool, 'geo', env.my.url, { [env.my.name]: 'geo' }, { limit_tables: [`${env.my.name}.plain_geo`] });
  await initReplica(pool, 'geo');
  const types = await pool.query(
    "SELECT column_name AS name, data_type AS type, is_nullable AS nullable FROM information_schema.columns WHERE table_schema = 'geo' AND table_name = 'plain_geo' ORDER BY ordinal_position",
  );
  assert.deepEqual(types.rows, [
    { name: 'id', type: 'integer', nullable: 'NO' },
    { name: 'g', type: 'bytea', nullable: 'YES' },
    { name: 'p', type: 'bytea', nullable: 'NO' },
  ]);
  const res = await pool.query('SELECT id, g::text AS g, p::text AS p FROM geo.plain_geo ORDER BY id');
  assert.deepEqual(res.rows, [
    { id: 1, g: '\\x0101000000000000000000f03f0000000000000040', p: '\\x0101000000000000000000f0bf000000000000e03f' },
    { id: 2, g: null, p: '\\x010100000000000000000000000000000000000000' },
  ]);
});

test(
  'a SPATIAL key becomes a GiST index with PostGIS, and is left out (not failing the copy) without it',
  // MariaDB reports SUB_PART 32 for every spatial key part, which is no
  // prefix; a GiST index on the bytea of a target without PostGIS would fail
  // the copy, so there the key is logged as not created
  { timeout: TIMEOUT },
  async () => {
    const indexes = async (pool: pg.Pool, schema: string): Promise<string[]> =>
      (await pool.query("SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'plain_geo' ORDER BY indexname", [schema])).rows.map((r) => r.indexdef);
    assert.deepEqual(await indexes(plain.pool, 'geo'), ['CREATE UNIQUE INDEX plain_geo_pkey ON geo.plain_geo USING btree (id)']);
    assert.deepEqual(await indexes(env.pg.pool, 'fid'), [
      'CREATE INDEX plain_geo_p ON fid.plain_geo USING gist (p)',
      'CREATE UNIQUE INDEX plain_geo_pkey ON fid.plain_geo USING btree (id)',
    ]);
  },
);
