import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Agent } from '../../src/agent/agent.js';
import { createLogger } from '../../src/log.js';
import { createMysqlDatabase, type MysqlTestDatabase } from '../harness/db.js';
import { replicaTestEnv, sql1, type ReplicaTestEnv } from '../harness/replica.js';
import { addSource, assertSameRows, mysqlIdent, runCommand } from '../harness/snapshot.js';

/**
 * What init_replica builds in PostgreSQL for a table's schema, read back from
 * PostgreSQL's own catalogues: keys and indexes (and the ones it skips, with
 * a warning), NOT NULL and defaults, auto_increment numbering, comments, and
 * the options fillfactor, grant_select_to and limit_tables.
 */

let env: ReplicaTestEnv;
let other: MysqlTestDatabase;
let agent: Agent | null = null;
const warnings: Record<string, unknown>[] = [];
const SCHEMA = 'snap_schema';
const OTHER_SCHEMA = 'snap_schema_all';
const ROLE = `schema_reader_${randomBytes(4).toString('hex')}`;
const ODD = `it's "odd"`;

/** Tables of the source's first database that limit_tables names, by their MySQL names. */
const LISTED = ['items', 'big', 'huge', ODD, 'items_id_seq', 'items_by_shop'];

before(async () => {
  env = await replicaTestEnv('snap_schema');
  other = await createMysqlDatabase('snap_schema_all');
  const my = env.my.conn;
  await my.query(`CREATE TABLE items (
      id INT NOT NULL AUTO_INCREMENT COMMENT 'the key',
      shop INT NOT NULL COMMENT 'the "shop''s" id',
      sku VARCHAR(20) NOT NULL,
      code VARCHAR(20) NULL,
      title VARCHAR(200) NOT NULL DEFAULT 'untitled',
      body TEXT NULL,
      qty INT NOT NULL DEFAULT 0,
      price DECIMAL(8,2) NULL DEFAULT 9.99,
      note VARCHAR(40) NULL DEFAULT 'it''s',
      state ENUM('new','old') NOT NULL DEFAULT 'new',
      created DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
      stamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
      day DATE NULL DEFAULT '2024-02-29',
      twice INT NULL DEFAULT (1 + 1),
      PRIMARY KEY (id),
      UNIQUE KEY sku_shop (sku, shop),
      UNIQUE KEY code (code),
      KEY by_shop (shop),
      KEY shop_qty (shop, qty DESC),
      KEY title_prefix (title(10)),
      FULLTEXT KEY body_words (body)
    ) COMMENT 'catalogue items'`);
  await my.query(`INSERT INTO items (shop, sku, code, title, body, qty) VALUES
      (1, 'a-1', 'A1', 'first', 'some words', 3), (1, 'a-2', NULL, 'second', NULL, 4), (2, 'a-1', 'B1', 'third', 'more words', 5)`);
  // MySQL's counter ahead of the data: the next id is 1000, not 4
  await my.query('ALTER TABLE items AUTO_INCREMENT = 1000');
  await my.query(`CREATE TABLE big (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10) NOT NULL DEFAULT 'x')`);
  await my.query(`INSERT INTO big (id, v) VALUES (1, 'one'), (2, 'two'), (9000000000, 'far')`);
  await my.query('CREATE TABLE huge (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, v INT NULL)');
  await my.query('INSERT INTO huge (id, v) VALUES (18446744073709551614, 1)');
  await my.query(`CREATE TABLE ${mysqlIdent(ODD)} (n INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, v TEXT NULL)`);
  await my.query(`INSERT INTO ${mysqlIdent(ODD)} (v) VALUES ('a'), ('b'), ('c')`);
  // names that items' identity sequence and index would take if tables were not named first
  await my.query('CREATE TABLE items_id_seq (a INT NOT NULL PRIMARY KEY)');
  await my.query('INSERT INTO items_id_seq VALUES (7)');
  await my.query('CREATE TABLE items_by_shop (a INT NULL)');
  await my.query('INSERT INTO items_by_shop VALUES (1), (NULL)');
  await my.query('CREATE TABLE not_listed (a INT NOT NULL PRIMARY KEY)');
  await other.conn.query('CREATE TABLE extra (id INT NOT NULL PRIMARY KEY, v VARCHAR(5) NULL)');
  await other.conn.query(`INSERT INTO extra VALUES (1, 'x')`);
  await other.conn.query('CREATE TABLE extra_two (id INT NOT NULL PRIMARY KEY)');

  await env.pg.pool.query(`CREATE ROLE ${ROLE}`);
  // the agent's warnings are part of the contract here: a skipped index is logged
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) warnings.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  agent = new Agent({ pgUrl: env.pg.url, log: createLogger({ level: 'warn', destination: sink }), leaseSeconds: 5, scanIntervalMs: 500 });
  await agent.start();

  const pool = env.pg.pool;
  await addSource(pool, 'schm', env.my.url, { [env.my.name]: SCHEMA, [other.name]: OTHER_SCHEMA }, {
    limit_tables: [...LISTED.map((t) => `${env.my.name}.${t}`), `${other.name}.*`],
    fillfactor: { '70': { tables: [`${env.my.name}.items`] } },
    grant_select_to: [ROLE],
  });
  const init = await runCommand(pool, "sch_chameleon.init_replica('schm')", [], '1 minute');
  assert.equal(init.state, 'done');
  const reasons = await pool.query('SELECT mysql_table, reason FROM sch_chameleon.t_tables WHERE reason IS NOT NULL');
  assert.deepEqual(init.progress.tables_failed, [], JSON.stringify(reasons.rows));
});

after(async () => {
  await agent?.stop();
  await env?.pg.pool.query(`DROP OWNED BY ${ROLE}`).catch(() => undefined);
  await env?.pg.pool.query(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => undefined);
  await other?.drop();
  await env?.cleanup();
});

async function rows<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  return (await env.pg.pool.query(text, params)).rows as T[];
}

test('limit_tables: only the listed tables ("db.table" and "db.*") are copied', async () => {
  const copied = await rows<{ s: string; t: string; kind: string }>(
    `SELECT n.nspname AS s, c.relname AS t, c.relkind::text AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ($1, $2) AND c.relkind IN ('r', 'p') ORDER BY 1, 2`, [SCHEMA, OTHER_SCHEMA]);
  assert.deepEqual(copied.map((r) => `${r.s}.${r.t}`), [
    ...[...LISTED].sort().map((t) => `${SCHEMA}.${t}`),
    `${OTHER_SCHEMA}.extra`, `${OTHER_SCHEMA}.extra_two`,
  ]);
  const catalogued = await rows<{ t: string }>('SELECT mysql_schema || \'.\' || mysql_table AS t FROM sch_chameleon.t_tables ORDER BY 1');
  assert.ok(!catalogued.some((r) => r.t.endsWith('.not_listed')), 'a table not listed is not in the catalogue');
  assert.equal(catalogued.length, LISTED.length + 2);
  const loading = await rows("SELECT nspname FROM pg_namespace WHERE nspname LIKE '\\_chameleon\\_load\\_%'");
  assert.deepEqual(loading, [], 'the loading schema is gone');
  await assertSameRows(other.conn, env.pg.pool, 'SELECT id, v FROM extra ORDER BY id', `SELECT id, v FROM ${OTHER_SCHEMA}.extra ORDER BY id`, 'extra');
});

test('primary key, unique keys and secondary indexes recreated, columns in key order; prefix and FULLTEXT indexes skipped with a warning', async () => {
  const pk = await rows<{ name: string; def: string }>(
    `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = '${SCHEMA}.items'::regclass ORDER BY conname`);
  assert.deepEqual(pk, [{ name: 'items_pkey', def: 'PRIMARY KEY (id)' }]);
  const indexes = await rows<{ indexname: string; indexdef: string }>(
    'SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY indexname', [SCHEMA, 'items']);
  assert.deepEqual(indexes.map((i) => i.indexdef), [
    // "items_by_shop" is a table of the same schema: the index takes the next name, the table keeps its own
    `CREATE INDEX items_by_shop_2 ON ${SCHEMA}.items USING btree (shop)`,
    `CREATE UNIQUE INDEX items_code ON ${SCHEMA}.items USING btree (code)`,
    `CREATE UNIQUE INDEX items_pkey ON ${SCHEMA}.items USING btree (id)`,
    `CREATE INDEX items_shop_qty ON ${SCHEMA}.items USING btree (shop, qty DESC)`,
    `CREATE UNIQUE INDEX items_sku_shop ON ${SCHEMA}.items USING btree (sku, shop)`,
  ]);
  const valid = await rows<{ n: number }>(`SELECT count(*)::int AS n FROM pg_index WHERE indrelid = '${SCHEMA}.items'::regclass AND indisvalid`);
  assert.equal(valid[0].n, 5);
  // the other tables' keys, including one on a quoted name and the bigint unsigned ones
  const keys = await rows<{ t: string; def: string }>(
    `SELECT c.relname AS t, pg_get_constraintdef(k.oid) AS def FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
      WHERE k.connamespace = $1::regnamespace AND k.contype = 'p' ORDER BY c.relname COLLATE "C"`, [SCHEMA]);
  assert.deepEqual(keys, [
    { t: 'big', def: 'PRIMARY KEY (id)' },
    { t: 'huge', def: 'PRIMARY KEY (id)' },
    { t: ODD, def: 'PRIMARY KEY (n)' },
    { t: 'items', def: 'PRIMARY KEY (id)' },
    { t: 'items_id_seq', def: 'PRIMARY KEY (a)' },
  ]);
  const noKey = await rows(`SELECT 1 FROM pg_index WHERE indrelid = '${SCHEMA}.items_by_shop'::regclass`);
  assert.deepEqual(noKey, [], 'a table without keys in MySQL has none in PostgreSQL');

  const skipped = warnings
    .filter((w) => w.msg === 'index not created')
    .map((w) => ({ table: w.table, index: w.index, reason: String(w.reason) }))
    .sort((a, b) => String(a.index).localeCompare(String(b.index)));
  assert.deepEqual(skipped.map((s) => [s.table, s.index]), [[`${env.my.name}.items`, 'body_words'], [`${env.my.name}.items`, 'title_prefix']]);
  assert.match(skipped[0].reason, /FULLTEXT/);
  assert.match(skipped[1].reason, /prefix index on title/);
  for (const w of warnings.filter((x) => x.msg === 'index not created')) assert.equal(w.level, 40, 'logged as a warning');
});

test('NOT NULL and translatable defaults carried over; untranslatable ones left out', async () => {
  const cols = await rows<{ column_name: string; data_type: string; is_nullable: string; column_default: string | null; is_identity: string }>(
    `SELECT column_name, data_type, is_nullable, column_default, is_identity FROM information_schema.columns
      WHERE table_schema = $1 AND table_name = 'items' ORDER BY ordinal_position`, [SCHEMA]);
  assert.deepEqual(cols.map((c) => [c.column_name, c.is_nullable, c.column_default]), [
    ['id', 'NO', null],
    ['shop', 'NO', null],
    ['sku', 'NO', null],
    ['code', 'YES', null],
    ['title', 'NO', "'untitled'::character varying"],
    ['body', 'YES', null],
    ['qty', 'NO', '0'],
    ['price', 'YES', '9.99'],
    ['note', 'YES', "'it''s'::character varying"],
    ['state', 'NO', "'new'::text"],
    // a NOT NULL datetime may hold MySQL's zero date, which arrives as NULL (docs/types.md)
    ['created', 'YES', 'LOCALTIMESTAMP'],
    ['stamp', 'YES', 'CURRENT_TIMESTAMP'],
    ['day', 'YES', "'2024-02-29'::date"],
    // MariaDB's (1 + 1) is an expression: not translated
    ['twice', 'YES', null],
  ]);
  assert.equal(cols[0].is_identity, 'YES');

  // the defaults give PostgreSQL the values MySQL would have given (the id given: the numbering is the next test's)
  const pool = env.pg.pool;
  const row = await sql1<Record<string, unknown>>(pool,
    `INSERT INTO ${SCHEMA}.items (id, shop, sku) VALUES (500, 9, 'pg-1')
     RETURNING title, qty, price::text, note, state, created >= LOCALTIMESTAMP - interval '1 minute' AS created_now,
               stamp >= now() - interval '1 minute' AS stamp_now, day::text, twice`);
  assert.deepEqual(row, {
    title: 'untitled', qty: 0, price: '9.99', note: "it's", state: 'new', created_now: true, stamp_now: true, day: '2024-02-29', twice: null,
  });
  await pool.query(`DELETE FROM ${SCHEMA}.items WHERE sku = 'pg-1'`);
});

test('auto_increment: numbering continues past the copied data and past MySQL\'s counter, bigint unsigned included', async () => {
  const pool = env.pg.pool;
  const ident = await rows<{ t: string; c: string; gen: string | null; seq: string | null; dflt: string | null; type: string }>(
    `SELECT table_name AS t, column_name AS c, identity_generation AS gen, column_default AS dflt, data_type AS type,
            pg_get_serial_sequence(format('%I.%I', table_schema, table_name), column_name) AS seq
       FROM information_schema.columns
      WHERE table_schema = $1 AND (is_identity = 'YES' OR column_default LIKE 'nextval(%') ORDER BY 1`, [SCHEMA]);
  assert.deepEqual(ident, [
    { t: 'big', c: 'id', gen: null, dflt: `nextval('${SCHEMA}.big_id_seq'::regclass)`, type: 'numeric', seq: `${SCHEMA}.big_id_seq` },
    { t: 'huge', c: 'id', gen: null, dflt: `nextval('${SCHEMA}.huge_id_seq'::regclass)`, type: 'numeric', seq: `${SCHEMA}.huge_id_seq` },
    { t: ODD, c: 'n', gen: 'BY DEFAULT', dflt: null, type: 'bigint', seq: `${SCHEMA}."it's ""odd""_n_seq"` },
    // the table "items_id_seq" keeps its name; the sequence takes the next one
    { t: 'items', c: 'id', gen: 'BY DEFAULT', dflt: null, type: 'integer', seq: `${SCHEMA}.items_id_seq_2` },
  ]);

  // MySQL's counter (1000) is past the data (3)
  assert.equal((await sql1<{ id: number }>(pool, `INSERT INTO ${SCHEMA}.items (shop, sku) VALUES (5, 'next') RETURNING id`)).id, 1000);
  // bigint unsigned: past the largest copied value
  assert.equal((await sql1<{ id: string }>(pool, `INSERT INTO ${SCHEMA}.big (v) VALUES ('next') RETURNING id::text`)).id, '9000000001');
  assert.equal((await sql1<{ n: string }>(pool, `INSERT INTO ${SCHEMA}."it's ""odd""" (v) VALUES ('d') RETURNING n::text`)).n, '4');
  // past what a sequence can count: an insert without a key fails instead of reusing one
  await assert.rejects(pool.query(`INSERT INTO ${SCHEMA}.huge (v) VALUES (2)`), /reached maximum value of sequence/);
  await assertSameRows(env.my.conn, pool, 'SELECT CAST(id AS CHAR), v FROM huge', `SELECT id::text, v FROM ${SCHEMA}.huge`, 'huge');
  await assertSameRows(env.my.conn, pool, 'SELECT CAST(id AS CHAR), v FROM big ORDER BY id',
    `SELECT id::text, v FROM ${SCHEMA}.big WHERE v <> 'next' ORDER BY id`, 'big');
  await pool.query(`DELETE FROM ${SCHEMA}.items WHERE sku = 'next'`);
  await pool.query(`DELETE FROM ${SCHEMA}.big WHERE v = 'next'`);
  await pool.query(`DELETE FROM ${SCHEMA}."it's ""odd""" WHERE v = 'd'`);
});

test('table and column comments become COMMENT ON', async () => {
  const c = await sql1<Record<string, string | null>>(env.pg.pool,
    `SELECT obj_description('${SCHEMA}.items'::regclass, 'pg_class') AS tbl,
            col_description('${SCHEMA}.items'::regclass, 1) AS id, col_description('${SCHEMA}.items'::regclass, 2) AS shop,
            col_description('${SCHEMA}.items'::regclass, 3) AS sku, obj_description('${SCHEMA}.big'::regclass, 'pg_class') AS big`);
  assert.deepEqual(c, { tbl: 'catalogue items', id: 'the key', shop: `the "shop's" id`, sku: null, big: null });
});

test('fillfactor sets the storage option of the named table only; grant_select_to gives SELECT on every copied table', async () => {
  const opts = await rows<{ t: string; reloptions: string[] | null }>(
    `SELECT c.relname AS t, c.reloptions FROM pg_class c WHERE c.relnamespace IN ($1::regnamespace, $2::regnamespace)
        AND c.relkind IN ('r', 'i') AND c.reloptions IS NOT NULL ORDER BY 1`, [SCHEMA, OTHER_SCHEMA]);
  // heap pages keep room for HOT updates; the table's indexes keep PostgreSQL's default
  assert.deepEqual(opts, [{ t: 'items', reloptions: ['fillfactor=70'] }]);

  const privileges = await rows<{ t: string; sel: boolean; ins: boolean; usage: boolean }>(
    `SELECT c.oid::regclass::text AS t, has_table_privilege($1, c.oid, 'SELECT') AS sel, has_table_privilege($1, c.oid, 'INSERT') AS ins,
            has_schema_privilege($1, c.relnamespace, 'USAGE') AS usage
       FROM pg_class c WHERE c.relnamespace IN ($2::regnamespace, $3::regnamespace) AND c.relkind = 'r' ORDER BY 1`, [ROLE, SCHEMA, OTHER_SCHEMA]);
  assert.equal(privileges.length, LISTED.length + 2);
  for (const p of privileges) assert.deepEqual([p.t, p.sel, p.ins, p.usage], [p.t, true, false, true]);
  const catalogue = await sql1<{ ok: boolean }>(env.pg.pool, "SELECT has_table_privilege($1, 'sch_chameleon.t_tables', 'SELECT') AS ok", [ROLE]);
  assert.equal(catalogue.ok, false, 'the catalogue stays closed to it');
});
