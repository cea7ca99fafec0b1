import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/agent.js';
import { replicaTestEnv, replicate, sql1, startInProcessAgent, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';
import { assertRefused, assertSameRows, runCommand, tableStates } from '../harness/snapshot.js';

let env: ReplicaTestEnv;
let agent: Agent;

before(async () => {
  env = await replicaTestEnv('ddl');
  const c = env.my.conn;
  await c.query('CREATE TABLE a (id INT PRIMARY KEY, v INT)');
  await c.query('CREATE TABLE b (id INT PRIMARY KEY, v INT)');
  await c.query('CREATE TABLE c (id INT PRIMARY KEY, v INT)');
  await c.query('CREATE TABLE d (k1 INT NOT NULL, k2 INT NOT NULL, v INT, PRIMARY KEY (k1))');
  await c.query('CREATE TABLE gone (id INT PRIMARY KEY)');
  await c.query('CREATE TABLE q (id INT PRIMARY KEY, v INT NOT NULL)');
  await c.query('CREATE TABLE r (id INT PRIMARY KEY, v INT NOT NULL)');
  await c.query('CREATE TABLE qr (id INT PRIMARY KEY, v INT NOT NULL)');
  await c.query('INSERT INTO qr VALUES (1, 1)');
  await c.query('CREATE TABLE late (k1 INT NOT NULL PRIMARY KEY, k2 INT NOT NULL, v VARCHAR(10), x INT)');
  await c.query("INSERT INTO late VALUES (1, 10, 'a', 1), (2, 20, 'b', 2), (3, 30, 'c', 3)");
  await c.query('INSERT INTO a VALUES (1, 1)');
  await c.query('INSERT INTO c VALUES (1, 1), (2, 2)');
  await c.query('INSERT INTO d VALUES (1, 10, 100), (2, 20, 200)');
  await c.query('INSERT INTO gone VALUES (1)');
  await c.query('INSERT INTO q VALUES (1, 1), (2, 2)');
  agent = await startInProcessAgent(env.pg.url);
  await replicate(env, 'ddl', 'ddl');
});

after(async () => {
  await agent?.stop();
  await env?.cleanup();
});

interface PgColumn {
  column_name: string;
  data_type: string;
  is_nullable: string;
  column_default: string | null;
  character_maximum_length: number | null;
}

async function columns(table: string): Promise<PgColumn[]> {
  return (await env.pg.pool.query<PgColumn>(
    `SELECT column_name, data_type, is_nullable, column_default, character_maximum_length
       FROM information_schema.columns WHERE table_schema = 'ddl' AND table_name = $1 ORDER BY ordinal_position`, [table])).rows;
}

async function indexes(table: string): Promise<string[]> {
  return (await env.pg.pool.query<{ d: string }>(
    `SELECT regexp_replace(indexdef, ' ON ddl\\.\\S+', ' ON') AS d FROM pg_indexes WHERE schemaname = 'ddl' AND tablename = $1 ORDER BY indexname`, [table])).rows.map((r) => r.d);
}

async function ddlRows(): Promise<{ ddl_id: string; mysql_table: string; state: string; error: string | null }[]> {
  return (await env.pg.pool.query("SELECT ddl_id, mysql_table, state, error FROM sch_chameleon.show_ddl('ddl') ORDER BY ddl_id")).rows;
}

test('MySQL DDL is applied in its place in the stream: columns added, changed, renamed and dropped, keys and indexes, new, renamed, truncated and dropped tables; the data stays equal to MySQL', async () => {
  const c = env.my.conn;
  const pool = env.pg.pool;
  const before = (await ddlRows()).length;
  await c.query('ALTER TABLE a ADD COLUMN w INT NOT NULL DEFAULT 7');
  await c.query('INSERT INTO a VALUES (2, 2, 8)');
  // NOT NULL without a default: MySQL gives the existing rows ''
  await c.query('ALTER TABLE a ADD COLUMN s VARCHAR(20) NOT NULL');
  await c.query("UPDATE a SET s = 'x' WHERE id = 2");
  await c.query('ALTER TABLE a CHANGE v vv BIGINT');
  await c.query("INSERT INTO a VALUES (3, 9007199254740993, 9, 'y')");
  await c.query("ALTER TABLE a MODIFY s VARCHAR(50) NULL DEFAULT 'dflt'");
  await c.query('ALTER TABLE a DROP COLUMN w');
  await c.query('ALTER TABLE a ADD INDEX ix_s (s), ADD UNIQUE KEY uq_vv (vv)');
  await c.query('INSERT INTO a (id, vv) VALUES (4, 4)');
  await c.query(`/* a comment */ CREATE TABLE n (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      d DECIMAL(10,2) DEFAULT 1.50 COMMENT 'price',
      t DATETIME(6) NULL,
      e ENUM('x', 'it''s') NOT NULL DEFAULT 'x',
      txt TEXT CHARACTER SET utf8mb4,
      bin VARBINARY(4),
      KEY k_d (d)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
  await c.query("INSERT INTO n (d, t, e, txt, bin) VALUES (12345678.99, '2024-02-29 23:59:59.999999', 'it''s', 'tab\\there 😀', 0x00ff)");
  await c.query('INSERT INTO n (id, t) VALUES (18446744073709551615, NULL)');
  await c.query('RENAME TABLE b TO b2');
  await c.query('INSERT INTO b2 VALUES (1, 1)');
  await c.query('ALTER TABLE b2 RENAME TO b3, ADD COLUMN z INT');
  await c.query('INSERT INTO b3 VALUES (2, 2, 2)');
  await c.query('TRUNCATE TABLE c');
  await c.query('INSERT INTO c VALUES (5, 5)');
  // the existing row gets the time of the ALTER, the new one its own
  await c.query('ALTER TABLE c ADD COLUMN created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP');
  await new Promise((r) => setTimeout(r, 1100));
  await c.query('INSERT INTO c (id, v) VALUES (6, 6)');
  await c.query('ALTER TABLE d DROP PRIMARY KEY, ADD PRIMARY KEY (k2)');
  await c.query('UPDATE d SET k1 = 11, v = 101 WHERE k2 = 10');
  await c.query('DELETE FROM d WHERE k2 = 20');
  await c.query('CREATE INDEX ix_v ON d (v DESC)');
  await c.query('DROP INDEX ix_v ON d');
  await c.query('DROP TABLE gone');
  await c.query('CREATE TABLE IF NOT EXISTS a (id INT PRIMARY KEY)');
  await c.query('CREATE TABLE f LIKE c');
  await c.query('INSERT INTO f (id, v) VALUES (7, 7)');
  await c.query('CREATE TABLE g (id INT PRIMARY KEY, v INT)');
  await c.query('INSERT INTO g VALUES (1, 1)');
  // MariaDB's CREATE OR REPLACE: the table is dropped and made anew
  await c.query('CREATE OR REPLACE TABLE g (id INT PRIMARY KEY, w VARCHAR(5))');
  await c.query("INSERT INTO g VALUES (8, 'x')");
  await waitCaughtUp(c, pool, 'ddl');

  await assertSameRows(c, pool, 'SELECT id, CAST(vv AS CHAR), s FROM a ORDER BY id', 'SELECT id, vv::text, s FROM ddl.a ORDER BY id', 'a');
  assert.deepEqual((await pool.query('SELECT id, vv::text, s FROM ddl.a ORDER BY id')).rows, [
    { id: 1, vv: '1', s: '' }, { id: 2, vv: '2', s: 'x' }, { id: 3, vv: '9007199254740993', s: 'y' }, { id: 4, vv: '4', s: 'dflt' },
  ]);
  assert.deepEqual(await columns('a'), [
    { column_name: 'id', data_type: 'integer', is_nullable: 'NO', column_default: null, character_maximum_length: null },
    { column_name: 'vv', data_type: 'bigint', is_nullable: 'YES', column_default: null, character_maximum_length: null },
    { column_name: 's', data_type: 'character varying', is_nullable: 'YES', column_default: "'dflt'::character varying", character_maximum_length: 50 },
  ]);
  assert.deepEqual(await indexes('a'), [
    'CREATE INDEX a_ix_s ON USING btree (s)',
    'CREATE UNIQUE INDEX a_pkey ON USING btree (id)',
    'CREATE UNIQUE INDEX a_uq_vv ON USING btree (vv)',
  ]);

  await assertSameRows(c, pool,
    'SELECT CAST(id AS CHAR), d, CAST(t AS CHAR), e, txt, HEX(bin) FROM n ORDER BY id',
    "SELECT id, d, t::text, e, txt, upper(encode(bin, 'hex')) FROM ddl.n ORDER BY id", 'n');
  assert.deepEqual((await columns('n')).map((col) => [col.column_name, col.data_type, col.is_nullable, col.column_default]), [
    ['id', 'numeric', 'NO', "nextval('ddl.n_id_seq'::regclass)"],
    ['d', 'numeric', 'YES', '1.50'],
    ['t', 'timestamp without time zone', 'YES', null],
    ['e', 'text', 'NO', "'x'::text"],
    ['txt', 'text', 'YES', null],
    ['bin', 'bytea', 'YES', null],
  ]);
  assert.deepEqual(await indexes('n'), ['CREATE INDEX n_k_d ON USING btree (d)', 'CREATE UNIQUE INDEX n_pkey ON USING btree (id)']);
  assert.equal((await sql1<{ c: string }>(pool, "SELECT col_description('ddl.n'::regclass, 2) AS c")).c, 'price');

  assert.equal((await pool.query("SELECT to_regclass('ddl.b') AS t")).rows[0].t, null, 'b was renamed');
  await assertSameRows(c, pool, 'SELECT id, v, z FROM b3 ORDER BY id', 'SELECT id, v, z FROM ddl.b3 ORDER BY id', 'b3');
  assert.deepEqual(await indexes('b3'), ['CREATE UNIQUE INDEX b3_pkey ON USING btree (id)'], 'its key followed it, renamed');
  await assertSameRows(c, pool, 'SELECT id, v, UNIX_TIMESTAMP(created) FROM c ORDER BY id',
    'SELECT id, v, extract(epoch FROM created)::bigint FROM ddl.c ORDER BY id', 'c');
  await assertSameRows(c, pool, 'SELECT k1, k2, v FROM d ORDER BY k2', 'SELECT k1, k2, v FROM ddl.d ORDER BY k2', 'd');
  assert.deepEqual((await pool.query('SELECT k1, k2, v FROM ddl.d')).rows, [{ k1: 11, k2: 10, v: 101 }]);
  assert.deepEqual(await indexes('d'), ['CREATE UNIQUE INDEX d_pkey ON USING btree (k2)']);
  assert.equal((await pool.query("SELECT to_regclass('ddl.gone') AS t")).rows[0].t, null, 'gone was dropped');
  await assertSameRows(c, pool, 'SELECT id, w FROM g ORDER BY id', 'SELECT id, w FROM ddl.g ORDER BY id', 'g');
  assert.deepEqual((await columns('g')).map((col) => col.column_name), ['id', 'w']);
  await assertSameRows(c, pool, 'SELECT id, v, UNIX_TIMESTAMP(created) FROM f ORDER BY id',
    'SELECT id, v, extract(epoch FROM created)::bigint FROM ddl.f ORDER BY id', 'f');

  const states = await tableStates(pool, 'ddl');
  assert.deepEqual(Object.entries(states).map(([t, s]) => `${t}:${s.state}`).sort(),
    ['a:replicating', 'b3:replicating', 'c:replicating', 'd:replicating', 'f:replicating', 'g:replicating', 'late:replicating', 'n:replicating', 'q:replicating', 'qr:replicating', 'r:replicating']);
  const keys = (await pool.query("SELECT mysql_table, pk_columns FROM sch_chameleon.t_tables WHERE mysql_table IN ('d', 'n', 'f') ORDER BY 1")).rows;
  assert.deepEqual(keys, [{ mysql_table: 'd', pk_columns: ['k2'] }, { mysql_table: 'f', pk_columns: ['id'] }, { mysql_table: 'n', pk_columns: ['id'] }]);
  const history = (await ddlRows()).slice(before);
  // CREATE TABLE IF NOT EXISTS of a table there already is passed by, like MySQL did
  assert.equal(history.length, 18, JSON.stringify(history));
  assert.deepEqual(history.filter((h) => h.state !== 'applied'), [], 'every statement applied');
  const status = await sql1<{ status: string; tables_excluded: string }>(pool, "SELECT status, tables_excluded FROM sch_chameleon.show_status() WHERE source = 'ddl'");
  assert.deepEqual([status.status, Number(status.tables_excluded)], ['running', 0]);
  assert.equal((await sql1<{ n: number }>(pool, "SELECT count(*)::int AS n FROM sch_chameleon.show_errors() WHERE source = 'ddl'")).n, 0);
});

test('a statement PostgreSQL cannot follow quarantines its table, the others go on; resolve_ddl checks its arguments, runs the operator\'s statement and brings the kept events, exact', async () => {
  const c = env.my.conn;
  const pool = env.pg.pool;
  // MySQL numbers the existing rows of an added AUTO_INCREMENT column itself: no translation can know the numbers
  await c.query('ALTER TABLE q ADD COLUMN seq INT NOT NULL AUTO_INCREMENT UNIQUE');
  await c.query('INSERT INTO q (id, v) VALUES (3, 3)');
  await c.query('UPDATE q SET v = 20 WHERE id = 2');
  await c.query('INSERT INTO r VALUES (1, 1)');
  await c.query('ALTER TABLE q ADD COLUMN note VARCHAR(10)');
  await c.query("INSERT INTO q (id, v, note) VALUES (4, 4, 'four')");
  await waitCaughtUp(c, pool, 'ddl');

  const states = await tableStates(pool, 'ddl');
  assert.equal(states.q.state, 'quarantined');
  const [quarantined] = (await ddlRows()).filter((h) => h.state === 'quarantined');
  assert.equal(quarantined.mysql_table, 'q');
  assert.match(quarantined.error ?? '', /AUTO_INCREMENT/);
  assert.match(states.q.reason ?? '', new RegExp(`^DDL ${quarantined.ddl_id} quarantined: .*resolve_ddl\\(${quarantined.ddl_id}, `));
  const first = (await pool.query("SELECT ddl_id, state FROM sch_chameleon.show_ddl('ddl') LIMIT 1")).rows[0];
  assert.deepEqual(first, { ddl_id: quarantined.ddl_id, state: 'quarantined' }, 'show_ddl lists quarantined statements first');
  assert.deepEqual((await pool.query('SELECT id, v FROM ddl.q ORDER BY id')).rows, [{ id: 1, v: 1 }, { id: 2, v: 2 }], 'nothing after the statement');
  await assertSameRows(c, pool, 'SELECT id, v FROM r', 'SELECT id, v FROM ddl.r', 'r goes on');
  const err = await sql1<{ statement: string; message: string }>(pool,
    "SELECT statement, message FROM sch_chameleon.show_errors() WHERE source = 'ddl' AND mysql_table = 'q'");
  assert.equal(err.statement, 'ALTER TABLE q ADD COLUMN seq INT NOT NULL AUTO_INCREMENT UNIQUE');
  assert.match(err.message, new RegExp(`^DDL ${quarantined.ddl_id} quarantined`));
  const during = await sql1<{ status: string; tables_excluded: string }>(pool, "SELECT status, tables_excluded FROM sch_chameleon.show_status() WHERE source = 'ddl'");
  assert.deepEqual([during.status, Number(during.tables_excluded)], ['running', 1], 'the replica runs on; the quarantined table counts as excluded');

  // bad input: a clear error, nothing changed
  const refuse = (text: string, params: unknown[], message: RegExp): Promise<void> => assertRefused(pool, text, params, message);
  await refuse('SELECT sch_chameleon.resolve_ddl(999999, $1)', [''], /DDL event 999999 does not exist/);
  await refuse('SELECT sch_chameleon.resolve_ddl($1, NULL)', [quarantined.ddl_id], /postgres_sql must not be NULL/);
  await refuse('SELECT sch_chameleon.resolve_ddl(NULL, $1)', [''], /id must not be NULL/);
  await refuse('SELECT * FROM sch_chameleon.show_ddl($1)', ['nope'], /unknown source "nope"/);
  const applied = (await ddlRows()).find((h) => h.state === 'applied')!;
  await refuse('SELECT sch_chameleon.resolve_ddl($1, $2)', [applied.ddl_id, ''], new RegExp(`DDL event ${applied.ddl_id} is applied, not quarantined`));
  await refuse('SELECT sch_chameleon.resolve_ddl($1, $2)', [quarantined.ddl_id, 'ALTER TABLE q ADD COLUMN seq integer'],
    /resolve_ddl\(\d+\): the statement failed: relation "q" does not exist/);
  await refuse('SELECT sch_chameleon.resolve_ddl($1, $2)', [quarantined.ddl_id, 'ALTER TABLE ddl.q ADD COLUMN seq integer; SELECT 1/0'],
    /the statement failed: division by zero/);
  assert.deepEqual((await columns('q')).map((col) => col.column_name), ['id', 'v'], 'the failed statements left no trace');
  assert.equal((await tableStates(pool, 'ddl')).q.state, 'quarantined');

  // the operator adds the column with MySQL's numbers for the rows the replica held
  const [seqs] = await c.query<import('mysql2').RowDataPacket[]>('SELECT id, seq FROM q WHERE id <= 2 ORDER BY id');
  const fill = seqs.map((s) => `(${Number(s.id)}, ${Number(s.seq)})`).join(', ');
  const resolved = await sql1<{ id: string }>(pool, 'SELECT sch_chameleon.resolve_ddl($1, $2) AS id', [quarantined.ddl_id,
    `ALTER TABLE ddl.q ADD COLUMN seq integer NOT NULL DEFAULT 0; ALTER TABLE ddl.q ALTER COLUMN seq DROP DEFAULT;
     UPDATE ddl.q SET seq = x.seq FROM (VALUES ${fill}) AS x(id, seq) WHERE q.id = x.id;
     CREATE UNIQUE INDEX q_seq ON ddl.q (seq)`]);
  const cmd = await sql1<{ command: string; state: string; progress: { applied: number; state: string } }>(pool,
    'SELECT command, state, progress FROM sch_chameleon.show_commands() WHERE id = $1', [resolved.id]);
  assert.deepEqual([cmd.command, cmd.state, cmd.progress.state], ['resolve_ddl', 'done', 'replicating']);
  assert.equal(cmd.progress.applied, 4, 'the kept insert, update, column and insert');
  await assertSameRows(c, pool, 'SELECT id, v, seq, note FROM q ORDER BY id', 'SELECT id, v, seq, note FROM ddl.q ORDER BY id', 'q after resolve_ddl');

  await c.query("UPDATE q SET note = 'one' WHERE id = 1");
  await c.query('INSERT INTO q (id, v) VALUES (5, 5)');
  await waitCaughtUp(c, pool, 'ddl');
  await assertSameRows(c, pool, 'SELECT id, v, seq, note FROM q ORDER BY id', 'SELECT id, v, seq, note FROM ddl.q ORDER BY id', 'q replicates again');
  const row = (await pool.query('SELECT state, resolved_sql IS NOT NULL AS has_sql, resolved_by IS NOT NULL AS has_role FROM sch_chameleon.show_ddl() WHERE ddl_id = $1', [quarantined.ddl_id])).rows[0];
  assert.deepEqual(row, { state: 'resolved', has_sql: true, has_role: true });
  assert.equal((await tableStates(pool, 'ddl')).q.state, 'replicating');
  await refuse('SELECT sch_chameleon.resolve_ddl($1, $2)', [quarantined.ddl_id, ''], /is resolved, not quarantined/);
});

test('sync_tables(\'disabled\') copies a quarantined table again; its statement is recorded as recopied', async () => {
  const c = env.my.conn;
  const pool = env.pg.pool;
  await c.query('ALTER TABLE r ADD COLUMN rank INT NOT NULL AUTO_INCREMENT UNIQUE');
  await c.query('INSERT INTO r (id, v) VALUES (2, 2)');
  await waitCaughtUp(c, pool, 'ddl');
  assert.equal((await tableStates(pool, 'ddl')).r.state, 'quarantined');
  const id = (await ddlRows()).find((h) => h.state === 'quarantined' && h.mysql_table === 'r')!.ddl_id;
  const sync = await runCommand(pool, 'sch_chameleon.sync_tables($1, $2)', ['ddl', ['disabled']]);
  assert.equal(sync.state, 'done');
  await c.query('INSERT INTO r (id, v) VALUES (3, 3)');
  await waitCaughtUp(c, pool, 'ddl');
  await assertSameRows(c, pool, 'SELECT id, v, `rank` FROM r ORDER BY id', 'SELECT id, v, rank FROM ddl.r ORDER BY id', 'r');
  assert.equal((await tableStates(pool, 'ddl')).r.state, 'replicating');
  assert.equal((await pool.query('SELECT state FROM sch_chameleon.show_ddl() WHERE ddl_id = $1', [id])).rows[0].state, 'recopied');
});

test('DDL run while the replica is stopped: on restart every row is read with the table as it was when written (columns, types, key) and applied in order', async () => {
  const c = env.my.conn;
  const pool = env.pg.pool;
  assert.equal((await runCommand(pool, 'sch_chameleon.stop_replica($1)', ['ddl'])).state, 'done');
  // before the change: the key is k1
  await c.query("UPDATE late SET v = 'a1', x = 10 WHERE k1 = 1");
  await c.query('DELETE FROM late WHERE k1 = 3');
  await c.query('ALTER TABLE late DROP PRIMARY KEY, ADD PRIMARY KEY (k2), CHANGE v label VARCHAR(30), DROP COLUMN x, ADD COLUMN y DECIMAL(6,2) NOT NULL DEFAULT 0.5');
  // after it: the key is k2, k1 changes freely
  await c.query("UPDATE late SET k1 = 100, label = 'two', y = 2.25 WHERE k2 = 20");
  await c.query("INSERT INTO late VALUES (4, 40, 'four', 4.5)");
  await c.query('ALTER TABLE late MODIFY label TEXT');
  await c.query("UPDATE late SET label = 'één' WHERE k2 = 10");
  assert.equal((await runCommand(pool, 'sch_chameleon.start_replica($1)', ['ddl'])).state, 'done');
  await waitCaughtUp(c, pool, 'ddl');
  await assertSameRows(c, pool, 'SELECT k1, k2, label, y FROM late ORDER BY k2', 'SELECT k1, k2, label, y FROM ddl.late ORDER BY k2', 'late');
  assert.deepEqual((await pool.query('SELECT k1, k2, label, y::text FROM ddl.late ORDER BY k2')).rows, [
    { k1: 1, k2: 10, label: 'één', y: '0.50' }, { k1: 100, k2: 20, label: 'two', y: '2.25' }, { k1: 4, k2: 40, label: 'four', y: '4.50' },
  ]);
  assert.deepEqual((await columns('late')).map((col) => `${col.column_name} ${col.data_type}`), ['k1 integer', 'k2 integer', 'label text', 'y numeric']);
  assert.deepEqual(await indexes('late'), ['CREATE UNIQUE INDEX late_pkey ON USING btree (k2)']);
  assert.equal((await tableStates(pool, 'ddl')).late.state, 'replicating');
});

test('a quarantined table renamed before its statement is resolved: the events under its new name wait too, and follow the rename once resolved', async () => {
  const c = env.my.conn;
  const pool = env.pg.pool;
  await c.query('ALTER TABLE qr ADD COLUMN seq INT NOT NULL AUTO_INCREMENT UNIQUE');
  await c.query('INSERT INTO qr (id, v) VALUES (2, 2)');
  await c.query('RENAME TABLE qr TO qr_new');
  await c.query('INSERT INTO qr_new (id, v) VALUES (3, 3)');
  await c.query('UPDATE qr_new SET v = 10 WHERE id = 1');
  await waitCaughtUp(c, pool, 'ddl');
  const held = await tableStates(pool, 'ddl');
  assert.equal(held.qr.state, 'quarantined');
  assert.equal(held.qr_new.state, 'quarantined');
  assert.match(held.qr_new.reason ?? '', /the new name of .*\.qr, which is quarantined/);
  assert.deepEqual((await pool.query('SELECT id, v FROM ddl.qr ORDER BY id')).rows, [{ id: 1, v: 1 }]);
  const id = (await ddlRows()).find((h) => h.state === 'quarantined' && h.mysql_table === 'qr')!.ddl_id;
  await pool.query('SELECT sch_chameleon.resolve_ddl($1, $2)', [id,
    'ALTER TABLE ddl.qr ADD COLUMN seq integer; UPDATE ddl.qr SET seq = 1 WHERE id = 1']);
  const states = await tableStates(pool, 'ddl');
  assert.equal(states.qr, undefined, 'renamed');
  assert.equal(states.qr_new.state, 'replicating');
  assert.equal((await pool.query("SELECT to_regclass('ddl.qr') AS t")).rows[0].t, null);
  await assertSameRows(c, pool, 'SELECT id, v, seq FROM qr_new ORDER BY id', 'SELECT id, v, seq FROM ddl.qr_new ORDER BY id', 'qr_new');
  const left = await sql1<{ n: number }>(pool, `SELECT count(*)::int AS n FROM sch_chameleon.t_log_events l JOIN sch_chameleon.t_batches b USING (batch_id)
                                                 WHERE b.applied_at IS NOT NULL AND l.mysql_table IN ('qr', 'qr_new')`);
  assert.equal(left.n, 0, 'no event is left behind');
  await c.query('DELETE FROM qr_new WHERE id = 2');
  await waitCaughtUp(c, pool, 'ddl');
  await assertSameRows(c, pool, 'SELECT id, v, seq FROM qr_new ORDER BY id', 'SELECT id, v, seq FROM ddl.qr_new ORDER BY id', 'qr_new replicates');
});
