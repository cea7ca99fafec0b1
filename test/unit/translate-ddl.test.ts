import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDdl } from '../../src/ddl/parse-ddl.js';
import { translateDdl, type DdlContext, type DdlPlan } from '../../src/ddl/translate-ddl.js';

const ctx: DdlContext = {
  pgSchemaOf: (db) => ({ shop: 'shop_pg', other: 'other_pg' } as Record<string, string>)[db] ?? null,
  selected: (_db, table) => table !== 'skipped',
  postgis: false,
  typeOverride: {},
};

function plans(sql: string, schema = 'shop'): { table: string; plan: DdlPlan }[] {
  return translateDdl(sql, schema, ctx).map((t) => ({ table: `${t.schema}.${t.table}`, plan: t.plan }));
}

/** A step as the decoder runs it, for a table shop_pg."items". */
function rendered(step: DdlPlan['steps'][number], schema = 'shop_pg', table = 'items'): string {
  if (typeof step !== 'string') return '<drop the primary key>';
  // format('%1$I.%2$I', ...) with plain names, and %% back to %
  return step.replace(/%1\$I/g, `"${schema}"`).replace(/%2\$I/g, `"${table}"`).replace(/%3\$s/g, table).replace(/%%/g, '%');
}

test('ALTER TABLE: each action in order, as PostgreSQL statements on the table the catalogue names', () => {
  const [p] = plans(`ALTER TABLE items
      ADD COLUMN price DECIMAL(10,2) NOT NULL DEFAULT '0.00' COMMENT '100% net',
      ADD note VARCHAR(20) NOT NULL,
      CHANGE COLUMN qty quantity BIGINT UNSIGNED,
      MODIFY name VARCHAR(80) NULL,
      DROP COLUMN legacy,
      RENAME COLUMN a TO b,
      ALTER COLUMN quantity SET DEFAULT 5,
      ADD UNIQUE KEY uq_name (name),
      ADD INDEX ix_prefix (name(10)),
      ADD FULLTEXT ft (note),
      DROP INDEX old_ix,
      ENGINE = InnoDB, ALGORITHM = INPLACE`);
  assert.equal(p.table, 'shop.items');
  assert.equal(p.plan.action, 'alter');
  assert.deepEqual(p.plan.steps.map((s) => rendered(s)), [
    `ALTER TABLE "shop_pg"."items" ADD COLUMN "price" numeric(10,2) DEFAULT '0.00' NOT NULL`,
    `COMMENT ON COLUMN "shop_pg"."items"."price" IS '100% net'`,
    `ALTER TABLE "shop_pg"."items" ADD COLUMN "note" character varying(20) DEFAULT '' NOT NULL`,
    'ALTER TABLE "shop_pg"."items" ALTER COLUMN "note" DROP DEFAULT',
    'ALTER TABLE "shop_pg"."items" RENAME COLUMN "qty" TO "quantity"',
    'ALTER TABLE "shop_pg"."items" ALTER COLUMN "quantity" TYPE numeric(20,0) USING "quantity"::numeric(20,0)',
    'ALTER TABLE "shop_pg"."items" ALTER COLUMN "quantity" DROP DEFAULT',
    'ALTER TABLE "shop_pg"."items" ALTER COLUMN "quantity" DROP NOT NULL',
    'ALTER TABLE "shop_pg"."items" ALTER COLUMN "name" TYPE character varying(80) USING "name"::character varying(80)',
    'ALTER TABLE "shop_pg"."items" ALTER COLUMN "name" DROP DEFAULT',
    'ALTER TABLE "shop_pg"."items" ALTER COLUMN "name" DROP NOT NULL',
    'ALTER TABLE "shop_pg"."items" DROP COLUMN "legacy"',
    'ALTER TABLE "shop_pg"."items" RENAME COLUMN "a" TO "b"',
    'ALTER TABLE "shop_pg"."items" ALTER COLUMN "quantity" SET DEFAULT 5',
    'CREATE UNIQUE INDEX "items_uq_name" ON "shop_pg"."items" ("name")',
    'DROP INDEX IF EXISTS "shop_pg"."items_old_ix"',
  ]);
  assert.deepEqual(p.plan.notes, [
    'prefix index ix_prefix not created (on name)',
    'FULLTEXT index ft not created: no PostgreSQL equivalent',
    'not translated, nothing to do in PostgreSQL: ENGINE = InnoDB',
    'not translated, nothing to do in PostgreSQL: ALGORITHM = INPLACE',
  ]);
});

test('every % of the statement is doubled for format(), identifiers are quoted, and the key steps keep their order', () => {
  const [p] = plans('ALTER TABLE `it"s%` DROP PRIMARY KEY, ADD PRIMARY KEY (`k"1`, k2), ADD KEY `ix%1$s` (k2 DESC)');
  assert.deepEqual(p.plan.steps, [
    { drop_primary_key: true },
    'ALTER TABLE %1$I.%2$I ADD PRIMARY KEY ("k""1", "k2")',
    'CREATE INDEX "%3$s_ix%%1$s" ON %1$I.%2$I ("k2" DESC)',
  ]);
});

test('CREATE TABLE: types, defaults, keys and comments as a copy would make them; the target named after the mapping', () => {
  const [p] = plans(`CREATE TABLE IF NOT EXISTS \`shop\`.\`orders\` (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      customer INT(11) NOT NULL,
      placed DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      state ENUM('new','paid') NOT NULL DEFAULT 'new',
      flags SET('a','b'),
      doc JSON,
      total DOUBLE PRECISION,
      code CHAR(3) CHARACTER SET latin1 COLLATE latin1_bin,
      ok BOOL DEFAULT TRUE,
      PRIMARY KEY (id),
      UNIQUE KEY uq (customer, placed),
      KEY ix_state (state),
      CONSTRAINT fk FOREIGN KEY (customer) REFERENCES customers (id) ON DELETE CASCADE,
      CHECK (total > 0)
    ) ENGINE=InnoDB AUTO_INCREMENT=1000 DEFAULT CHARSET=utf8mb4 COMMENT='all orders'`);
  assert.equal(p.table, 'shop.orders');
  assert.equal(p.plan.action, 'create');
  assert.equal(p.plan.pg_schema, 'shop_pg');
  assert.equal(p.plan.pg_table, 'orders');
  assert.equal(p.plan.if_not_exists, true);
  const text = p.plan.steps.join('\n');
  assert.match(text, /CREATE SEQUENCE "shop_pg"\."orders_id_seq" AS bigint/);
  assert.match(text, /"id" numeric\(20,0\) DEFAULT nextval\('"shop_pg"\."orders_id_seq"'::regclass\) NOT NULL/);
  assert.match(text, /"customer" integer NOT NULL/);
  assert.match(text, /"placed" timestamp\(3\) without time zone DEFAULT LOCALTIMESTAMP,/);
  assert.match(text, /"state" text DEFAULT 'new' NOT NULL/);
  assert.match(text, /"flags" text\[\]/);
  assert.match(text, /"doc" jsonb/);
  assert.match(text, /"total" double precision/);
  assert.match(text, /"code" character varying\(3\),/);
  assert.match(text, /"ok" smallint DEFAULT '1'\n/);
  assert.match(text, /ADD CONSTRAINT "orders_pkey" PRIMARY KEY \("id"\)/);
  assert.match(text, /CREATE UNIQUE INDEX "orders_uq" ON "shop_pg"\."orders" \("customer", "placed"\)/);
  assert.match(text, /CREATE INDEX "orders_ix_state"/);
  assert.match(text, /COMMENT ON TABLE "shop_pg"\."orders" IS 'all orders'/);
  assert.doesNotMatch(text, /fk|REFERENCES|CHECK/, 'foreign keys wait for detach_replica; checks stay in MySQL');
});

test('RENAME, DROP and TRUNCATE: per table, in order; tables outside the replica are left out or quarantined', () => {
  assert.deepEqual(plans('RENAME TABLE a TO b, b TO c').map((p) => [p.table, p.plan.action, p.plan.to?.mysql_table]), [
    ['shop.a', 'rename', 'b'], ['shop.b', 'rename', 'c'],
  ]);
  const [moved] = plans('RENAME TABLE shop.a TO other.a');
  assert.deepEqual(moved.plan.steps.map((s) => rendered(s, 'shop_pg', 'a')), [
    'ALTER TABLE "shop_pg"."a" RENAME TO "a"',
    'ALTER TABLE "shop_pg"."a" SET SCHEMA "other_pg"',
  ]);
  assert.equal(plans('RENAME TABLE shop.a TO elsewhere.a')[0].plan.action, 'forget');
  const [into] = plans('RENAME TABLE elsewhere.a TO shop.a');
  assert.equal(into.plan.action, 'quarantine');
  assert.match(into.plan.reason!, /does not hold.*resolve_ddl/);
  assert.deepEqual(plans('DROP TABLE IF EXISTS a, elsewhere.b, skipped, `c`').map((p) => [p.table, rendered(p.plan.steps[0], 'shop_pg', p.table.slice(5))]), [
    ['shop.a', 'DROP TABLE IF EXISTS "shop_pg"."a"'],
    ['shop.c', 'DROP TABLE IF EXISTS "shop_pg"."c"'],
  ]);
  assert.deepEqual(plans('TRUNCATE items').map((p) => rendered(p.plan.steps[0])), ['TRUNCATE "shop_pg"."items"']);
  assert.deepEqual(plans('TRUNCATE TABLE elsewhere.items'), []);
});

test('statements about no table, or about tables outside the replica, give nothing; unreadable ones quarantine the table they name', () => {
  for (const sql of ['CREATE DATABASE x', 'GRANT SELECT ON shop.* TO u', 'CREATE VIEW v AS SELECT 1', 'DROP TEMPORARY TABLE t',
    'CREATE TEMPORARY TABLE t (id int)', 'ALTER TABLE elsewhere.t ADD COLUMN c int', 'CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET @x = 1']) {
    assert.deepEqual(plans(sql), [], sql);
  }
  const [bad] = plans('ALTER TABLE items ADD COLUMN a int FIRST SECOND');
  assert.equal(bad.plan.action, 'quarantine');
  assert.match(bad.plan.reason!, /could not be read: column a: unexpected "SECOND"/);
  const [created] = plans('CREATE TABLE fresh (a int FIRST SECOND)');
  assert.deepEqual([created.table, created.plan.action, created.plan.pg_schema, created.plan.pg_table], ['shop.fresh', 'quarantine', 'shop_pg', 'fresh'],
    'a new table whose definition cannot be read is quarantined too, not left out');
  const [list] = plans('ALTER TABLE items ADD COLUMN (a int, b varchar(3) NOT NULL DEFAULT \'x\'), ADD (c bigint)');
  assert.deepEqual(list.plan.steps.map((st) => rendered(st)), [
    'ALTER TABLE "shop_pg"."items" ADD COLUMN "a" integer',
    `ALTER TABLE "shop_pg"."items" ADD COLUMN "b" character varying(3) DEFAULT 'x' NOT NULL`,
    'ALTER TABLE "shop_pg"."items" ADD COLUMN "c" bigint',
  ]);
  const [sel] = plans('CREATE TABLE copy SELECT * FROM items');
  assert.equal(sel.plan.action, 'quarantine');
  const [auto] = plans('ALTER TABLE items ADD COLUMN n INT AUTO_INCREMENT UNIQUE');
  assert.match(auto.plan.reason!, /AUTO_INCREMENT/);
});

test('the parser reads comments, executable comments, quoting and defaults as MySQL does', () => {
  const parsed = parseDdl("/*!40101 ALTER TABLE */ `we``ird` -- trailing\n ADD COLUMN `c` varchar(5) DEFAULT 'it''s \\\\ ok' /* x */, ADD d int DEFAULT -1 # end", 'shop');
  assert.equal(parsed.kind, 'alter_table');
  if (parsed.kind !== 'alter_table') return;
  assert.deepEqual(parsed.table, { schema: 'shop', table: 'we`ird' });
  const [c, d] = parsed.actions;
  assert.equal(c.op === 'add_column' && c.column.column.defaultValue, "'it''s \\\\ ok'");
  assert.equal(d.op === 'add_column' && d.column.column.defaultValue, '-1');
  const [p] = plans("ALTER TABLE items ADD COLUMN c varchar(5) DEFAULT 'a\\\\b'");
  assert.equal(rendered(p.plan.steps[0]), `ALTER TABLE "shop_pg"."items" ADD COLUMN "c" character varying(5) DEFAULT E'a\\\\b'`);
});

test('ADD COLUMN with values MySQL computed for the existing rows: the statement\'s time for a TIMESTAMP default, a quarantine when the binlog cannot tell', () => {
  const at = new Date('2026-12-04T10:20:30.456Z');
  const [ts] = translateDdl('ALTER TABLE items ADD COLUMN created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP', 'shop', { ...ctx, statementTime: at })
    .map((t) => t.plan);
  assert.deepEqual(ts.steps.map((st) => rendered(st)), [
    // NOT NULL stays off, as in a copy: a zero timestamp arrives as NULL
    `ALTER TABLE "shop_pg"."items" ADD COLUMN "created" timestamp(0) with time zone DEFAULT to_timestamp(${Math.floor(at.getTime() / 1000)})`,
    'ALTER TABLE "shop_pg"."items" ALTER COLUMN "created" SET DEFAULT CURRENT_TIMESTAMP',
  ]);
  const refused: [string, RegExp][] = [
    ['ALTER TABLE items ADD COLUMN d DATETIME DEFAULT NOW()', /the time of the ALTER in its session's time zone/],
    ['ALTER TABLE items ADD COLUMN t6 TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6)', /to the microsecond/],
    ['ALTER TABLE items ADD COLUMN total INT AS (a + b) STORED', /computes the existing rows' values/],
    ['ALTER TABLE items ADD COLUMN u CHAR(36) DEFAULT (uuid())', /evaluated the default for each existing row/],
  ];
  for (const [sql, reason] of refused) {
    const [p] = translateDdl(sql, 'shop', { ...ctx, statementTime: at }).map((t) => t.plan);
    assert.equal(p.action, 'quarantine', sql);
    assert.match(p.reason!, reason, sql);
  }
  // a new table has no existing rows: the same columns are plain DDL there
  const [created] = plans('CREATE TABLE t (id INT PRIMARY KEY, d DATETIME DEFAULT NOW(), total INT AS (id * 2) STORED)');
  assert.equal(created.plan.action, 'create');
});

test('CREATE OR REPLACE TABLE (MariaDB) drops the table there first', () => {
  const [p] = plans('CREATE OR REPLACE TABLE items (id INT PRIMARY KEY)');
  assert.equal(p.plan.action, 'create');
  assert.equal(rendered(p.plan.steps[0]), 'DROP TABLE IF EXISTS "shop_pg"."items"');
  assert.match(rendered(p.plan.steps[1]), /^CREATE TABLE "shop_pg"\."items"/);
});
