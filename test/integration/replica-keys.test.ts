import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/agent.js';
import { replicaTestEnv, replicate, startInProcessAgent, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';
import { assertSameRows } from '../harness/snapshot.js';

let env: ReplicaTestEnv;
let agent: Agent;

/** Tables keyed by every kind of key the decoder groups events by; the key's values include the edges of their type. */
const TABLES: { name: string; ddl: string; keys: string[]; rows: string[]; pgKey: string }[] = [
  {
    name: 'k_composite',
    ddl: 'CREATE TABLE k_composite (a INT NOT NULL, b VARCHAR(10) NOT NULL, v INT, PRIMARY KEY (a, b))',
    keys: ['a', 'b'],
    rows: ["(1, 'x', 1)", "(1, 'y', 2)", "(2, 'x', 3)", "(-2147483648, '', 4)"],
    pgKey: 'a, b',
  },
  {
    name: 'k_unsigned',
    ddl: 'CREATE TABLE k_unsigned (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, v INT)',
    keys: ['id'],
    rows: ['(18446744073709551615, 1)', '(9007199254740993, 2)', '(0, 3)'],
    pgKey: 'id',
  },
  {
    name: 'k_text',
    ddl: "CREATE TABLE k_text (`the \"key\"` VARCHAR(12) NOT NULL PRIMARY KEY, v INT) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
    keys: ['the "key"'],
    rows: ["('b', 1)", "('a\\\\z', 2)", "('tab\\there', 3)", "('😀', 4)", "('B', 5)"],
    pgKey: '"the ""key"""',
  },
  {
    name: 'k_time',
    ddl: 'CREATE TABLE k_time (t DATETIME(6) NOT NULL, d DECIMAL(10,2) NOT NULL, v INT, PRIMARY KEY (t, d))',
    keys: ['t', 'd'],
    rows: ["('2020-01-01 00:00:00.000001', 1.50, 1)", "('2020-01-01 00:00:00.000002', 1.50, 2)", "('9999-12-31 23:59:59.999999', -99999999.99, 3)"],
    pgKey: 't, d',
  },
  {
    name: 'k_bytes',
    ddl: 'CREATE TABLE k_bytes (id VARBINARY(8) NOT NULL PRIMARY KEY, v INT)',
    keys: ['id'],
    rows: ["(X'00', 1)", "(X'00FF', 2)", "(X'5C0A', 3)", "(X'', 4)"],
    pgKey: 'id',
  },
];

before(async () => {
  env = await replicaTestEnv('keys');
  const c = env.my.conn;
  await c.query("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'");
  for (const t of TABLES) {
    await c.query(t.ddl);
    await c.query(`INSERT INTO ${t.name} VALUES ${t.rows.join(', ')}`);
  }
  // the agent's sessions count their function calls: the test checks the set-based path did the work
  const db = (await env.pg.pool.query('SELECT current_database() AS d')).rows[0].d as string;
  await env.pg.pool.query(`ALTER DATABASE "${db.replace(/"/g, '""')}" SET track_functions = 'pl'`);
  agent = await startInProcessAgent(env.pg.url);
});

after(async () => {
  await agent?.stop();
  await env?.cleanup();
});

test('every key type: inserts, updates, key changes and deletes in one transaction reach their net effect', async () => {
  const c = env.my.conn;
  const pool = env.pg.pool;
  await replicate(env, 'keys', 'keys');
  // one transaction, so one batch and one net statement per table: keys deleted and inserted again,
  // keys changed onto keys freed earlier in the transaction, rows changed several times
  await c.query('START TRANSACTION');
  await c.query("UPDATE k_composite SET v = v + 10 WHERE a = 1 AND b = 'x'");
  await c.query("UPDATE k_composite SET b = 'z' WHERE a = 1 AND b = 'y'");
  await c.query("DELETE FROM k_composite WHERE a = 2 AND b = 'x'");
  await c.query("UPDATE k_composite SET a = 2, b = 'x' WHERE a = 1 AND b = 'z'");
  await c.query("INSERT INTO k_composite VALUES (1, 'y', 99)");
  await c.query('UPDATE k_unsigned SET id = id - 1 WHERE id = 18446744073709551615');
  await c.query('UPDATE k_unsigned SET v = 7 WHERE id = 9007199254740993');
  await c.query('INSERT INTO k_unsigned VALUES (18446744073709551615, 8)');
  await c.query('DELETE FROM k_unsigned WHERE id = 0');
  await c.query("UPDATE k_text SET `the \"key\"` = 'c' WHERE `the \"key\"` = 'b'");
  await c.query("INSERT INTO k_text VALUES ('b', 6)");
  await c.query("UPDATE k_text SET v = 30 WHERE `the \"key\"` = 'tab\\there'");
  await c.query("DELETE FROM k_text WHERE `the \"key\"` = 'B'");
  await c.query("UPDATE k_time SET d = 2.50 WHERE t = '2020-01-01 00:00:00.000001'");
  await c.query("UPDATE k_time SET t = '2020-01-01 00:00:00.000001' WHERE t = '2020-01-01 00:00:00.000002'");
  await c.query("DELETE FROM k_time WHERE d = -99999999.99");
  await c.query("INSERT INTO k_time VALUES ('9999-12-31 23:59:59.999999', -99999999.99, 33)");
  await c.query("UPDATE k_bytes SET id = X'0000' WHERE id = X'00'");
  await c.query("UPDATE k_bytes SET id = X'00' WHERE id = X'00FF'");
  await c.query("DELETE FROM k_bytes WHERE id = X''");
  await c.query("INSERT INTO k_bytes VALUES (X'', 40), (X'FF', 41)");
  await c.query('COMMIT');
  await waitCaughtUp(c, pool, 'keys');
  for (const t of TABLES) {
    // values as text on both sides: bytes in hex, datetimes to the microsecond
    const cols = { k_unsigned: 'CAST(id AS CHAR), v', k_bytes: 'HEX(id), v', k_time: "DATE_FORMAT(t, '%Y-%m-%d %H:%i:%s.%f'), d, v" }[t.name] ?? '*';
    const pgCols = { k_bytes: "upper(encode(id, 'hex')), v", k_time: "to_char(t, 'YYYY-MM-DD HH24:MI:SS.US'), d, v" }[t.name] ?? '*';
    const order = t.name === 'k_bytes' ? 'id' : t.keys.map((k) => `\`${k}\``).join(', ');
    const mysqlOrder = t.name === 'k_text' ? 'CAST(`the "key"` AS BINARY)' : order;
    const pgOrder = t.name === 'k_text' ? `convert_to(${t.pgKey}, 'UTF8')` : t.pgKey;
    const n = await assertSameRows(c, pool, `SELECT ${cols} FROM ${t.name} ORDER BY ${mysqlOrder}`, `SELECT ${pgCols} FROM keys.${t.name} ORDER BY ${pgOrder}`, t.name);
    assert.ok(n >= 3, `${t.name} holds rows`);
  }
  const errors = await pool.query("SELECT count(*)::int AS n FROM sch_chameleon.show_errors() WHERE source = 'keys'");
  assert.equal(errors.rows[0].n, 0);
  // one net statement per table did it: a failed one would have fallen back to event-by-event replay,
  // which reaches the same rows, so the calls are counted (sessions report them within a few seconds)
  const calls = async (): Promise<Record<string, number>> => {
    const r = await pool.query("SELECT funcname, calls::int AS calls FROM pg_stat_user_functions WHERE schemaname = 'sch_chameleon'");
    return Object.fromEntries(r.rows.map((x) => [x.funcname as string, x.calls as number]));
  };
  let seen = await calls();
  for (let i = 0; i < 150 && !(seen.fn_replay_batch > 0); i++) {
    await new Promise((r) => setTimeout(r, 100));
    seen = await calls();
  }
  assert.ok(seen.fn_replay_batch > 0, 'the decoder ran');
  assert.equal(seen.fn_replay_event ?? 0, 0, 'no event was replayed alone');
});
