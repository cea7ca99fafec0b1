import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/agent.js';
import { replicaTestEnv, startInProcessAgent, sql1, tableRows, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';
// agents killed during a stream of transactions: replica-kill.test.ts

let env: ReplicaTestEnv;
let agent: Agent | null = null;

const ITEMS = {
  mysql: 'items',
  pg: 'shop.items',
  mysqlExprs: "id, name, price, qty, CAST(big AS CHAR), DATE_FORMAT(happened, '%Y-%m-%d %H:%i:%s.%f'), note, LOWER(HEX(raw))",
  pgExprs: "id, name, price, qty, big, to_char(happened, 'YYYY-MM-DD HH24:MI:SS.US'), note, encode(raw, 'hex')",
  orderBy: 'id',
};
const ACCOUNTS = { mysql: 'accounts', pg: 'shop.accounts', mysqlExprs: 'id, balance', pgExprs: 'id, balance', orderBy: 'id' };
const NOKEY = { mysql: 'nokey', pg: 'shop.nokey', mysqlExprs: 'a, b', pgExprs: 'a, b', orderBy: 'a IS NULL, a, b IS NULL, b' };

async function assertSame(t: typeof ITEMS): Promise<void> {
  const rows = await tableRows(env.my.conn, env.pg.pool, t);
  assert.ok(rows.mysql.length > 0, `${t.mysql} has rows`);
  const diff: string[] = [];
  const n = Math.max(rows.mysql.length, rows.pg.length);
  for (let i = 0; i < n && diff.length < 5; i++) {
    if (JSON.stringify(rows.mysql[i]) !== JSON.stringify(rows.pg[i])) diff.push(`row ${i}: mysql ${JSON.stringify(rows.mysql[i])} pg ${JSON.stringify(rows.pg[i])}`);
  }
  assert.equal(rows.pg.length, rows.mysql.length, `${t.pg} has as many rows as ${t.mysql}; ${diff.join('\n')}`);
  assert.deepEqual(diff, [], `${t.pg} equals ${t.mysql}`);
}

before(async () => {
  env = await replicaTestEnv('foundation');
  const c = env.my.conn;
  await c.query(`CREATE TABLE items (
      id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      name VARCHAR(100) NOT NULL,
      price DECIMAL(12,2) NULL,
      qty INT UNSIGNED NOT NULL DEFAULT 0,
      big BIGINT UNSIGNED NULL,
      happened DATETIME(6) NULL,
      note TEXT NULL,
      raw VARBINARY(16) NULL,
      KEY items_name (name))`);
  await c.query('CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL)');
  await c.query('CREATE TABLE nokey (a INT, b VARCHAR(10))');
  const values: string[] = [];
  for (let i = 1; i <= 500; i++) {
    values.push(`('item ${i}', ${i % 7 === 0 ? 'NULL' : `${i}.${String(i % 100).padStart(2, '0')}`}, ${i * 3}, ` +
      `${i === 1 ? '18446744073709551615' : i === 2 ? '0' : i}, '2024-01-0${(i % 9) + 1} 12:34:56.${String(i).padStart(6, '0')}', ` +
      `${i % 5 === 0 ? "'tab\\there\\nnew line \\\\ back ☕'" : i % 11 === 0 ? "''" : 'NULL'}, ${i % 3 === 0 ? "X'00ff10'" : 'NULL'})`);
  }
  await c.query(`INSERT INTO items (name, price, qty, big, happened, note, raw) VALUES ${values.join(', ')}`);
  await c.query(`INSERT INTO accounts VALUES ${Array.from({ length: 20 }, (_, i) => `(${i + 1}, 1000)`).join(', ')}`);
  await c.query("INSERT INTO nokey VALUES (1, 'a'), (1, 'a'), (2, 'b'), (NULL, NULL)");
  agent = await startInProcessAgent(env.pg.url);
});

after(async () => {
  await agent?.stop();
  await env?.cleanup();
});

test('init_replica copies every table value by value, with per-table coordinates', async () => {
  const pool = env.pg.pool;
  const id = await sql1<{ add_source: string }>(pool, 'SELECT sch_chameleon.add_source($1, $2, $3)', [
    'shop', env.my.url.replace(/\/[^/]*$/, ''), JSON.stringify({ [env.my.name]: 'shop' }),
  ]);
  assert.ok(Number(id.add_source) > 0);
  const cmd = await sql1<{ init_replica: string }>(pool, "SELECT sch_chameleon.init_replica('shop')");
  const done = await sql1<{ state: string; command: string }>(pool, 'SELECT * FROM sch_chameleon.wait_command($1, $2)', [cmd.init_replica, '2 minutes']);
  assert.equal(done.state, 'done');
  assert.equal(done.command, 'init_replica');
  await assertSame(ITEMS);
  await assertSame(ACCOUNTS);
  await assertSame(NOKEY);

  const tables = await pool.query("SELECT * FROM sch_chameleon.show_tables('shop') ORDER BY mysql_table");
  assert.deepEqual(tables.rows.map((r) => [r.mysql_table, r.state, Number(r.rows_copied)]), [
    ['accounts', 'copied', 20], ['items', 'copied', 500], ['nokey', 'copied', 4],
  ]);
  for (const r of tables.rows) assert.match(r.copy_position, /^.+\.\d+:\d+/);
  const pk = await pool.query(`SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                                WHERE i.indrelid = 'shop.items'::regclass AND i.indisprimary`);
  assert.deepEqual(pk.rows.map((r) => r.attname), ['id']);
  const idx = await pool.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'shop' AND tablename = 'items' ORDER BY 1");
  assert.equal(idx.rows.length, 2, 'primary key and items_name');
  const status = await sql1<{ status: string }>(pool, 'SELECT status FROM sch_chameleon.show_status()');
  assert.equal(status.status, 'initialised');
});

test('start_replica: inserts, updates, deletes, key changes and multi-statement transactions arrive', async () => {
  const pool = env.pg.pool;
  const c = env.my.conn;
  const cmd = await sql1<{ start_replica: string }>(pool, "SELECT sch_chameleon.start_replica('shop')");
  await pool.query('SELECT * FROM sch_chameleon.wait_command($1, $2)', [cmd.start_replica, '1 minute']);
  assert.equal((await sql1<{ status: string }>(pool, 'SELECT status FROM sch_chameleon.show_status()')).status, 'running');

  await c.query("INSERT INTO items (name, price, qty, big, happened, note) VALUES ('new one', 1.50, 1, 18446744073709551614, '1999-12-31 23:59:59.999999', 'x\\\\y')");
  await c.query("UPDATE items SET price = price * 2, note = 'updated' WHERE id BETWEEN 10 AND 60");
  await c.query('UPDATE items SET qty = qty + 1 WHERE id = 3');
  await c.query('UPDATE items SET qty = qty + 1 WHERE id = 3');
  await c.query('DELETE FROM items WHERE id BETWEEN 100 AND 150');
  await c.query('UPDATE items SET id = id + 100000 WHERE id IN (5, 6)');
  await c.query('UPDATE items SET id = 7000 WHERE id = 7');
  await c.query('UPDATE items SET id = 7 WHERE id = 7000');
  await c.query('START TRANSACTION');
  await c.query('UPDATE accounts SET balance = balance - 250 WHERE id = 1');
  await c.query('UPDATE accounts SET balance = balance + 250 WHERE id = 2');
  await c.query("INSERT INTO items (name) VALUES ('in transaction')");
  await c.query('DELETE FROM items WHERE id = 8');
  await c.query('COMMIT');
  await c.query('START TRANSACTION');
  await c.query('UPDATE accounts SET balance = 0');
  await c.query('ROLLBACK');
  await c.query("INSERT INTO nokey VALUES (3, 'c')");
  await c.query("UPDATE nokey SET b = 'z' WHERE a = 2");
  await c.query('DELETE FROM nokey WHERE a = 1 LIMIT 1');
  await waitCaughtUp(c, pool, 'shop');
  await assertSame(ITEMS);
  await assertSame(ACCOUNTS);
  await assertSame(NOKEY);
  const s = await sql1<{ events_applied: string; consistent: boolean; tables_excluded: string }>(pool, 'SELECT * FROM sch_chameleon.show_status()');
  assert.ok(Number(s.events_applied) >= 100, `events applied: ${s.events_applied}`);
  assert.equal(s.consistent, true);
  assert.equal(Number(s.tables_excluded), 0);
});

test('agent stopped, source changed, agent restarted: the replica resumes by itself, exact', async () => {
  const pool = env.pg.pool;
  const c = env.my.conn;
  await agent!.stop();
  agent = null;
  await c.query("INSERT INTO items (name, qty) VALUES ('while stopped 1', 1), ('while stopped 2', 2)");
  await c.query('UPDATE accounts SET balance = balance + 1');
  await c.query('DELETE FROM items WHERE id BETWEEN 200 AND 210');
  agent = await startInProcessAgent(env.pg.url);
  await waitCaughtUp(c, pool, 'shop');
  await assertSame(ITEMS);
  await assertSame(ACCOUNTS);
  assert.equal((await sql1<{ status: string }>(pool, 'SELECT status FROM sch_chameleon.show_status()')).status, 'running');
});
