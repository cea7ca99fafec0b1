import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import type { Agent } from '../../src/agent/agent.js';
import { canRestartServers, restartServer } from '../harness/db.js';
import { replicaTestEnv, replicate, startInProcessAgent, sql1, tableRows, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';

let env: ReplicaTestEnv;
let agent: Agent;
/** The connection opened after the MariaDB restart; the harness closes only its own. */
let reconnected: mysql.Connection | null = null;
const ACCOUNTS = 20;
const TOTAL = ACCOUNTS * 1000;
const TABLE = { mysql: 'accounts', pg: 'crash.accounts', mysqlExprs: 'id, balance, CAST(moves AS CHAR)', pgExprs: 'id, balance, moves', orderBy: 'id' };

before(async () => {
  env = await replicaTestEnv('replica_crash');
  await env.my.conn.query('CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL, moves BIGINT UNSIGNED NOT NULL DEFAULT 0)');
  await env.my.conn.query(`INSERT INTO accounts (id, balance) VALUES ${Array.from({ length: ACCOUNTS }, (_, i) => `(${i + 1}, 1000)`).join(', ')}`);
  agent = await startInProcessAgent(env.pg.url);
  await replicate(env, 'crash', 'crash', { sleep_loop: 0.2 });
});

after(async () => {
  await agent?.stop();
  await reconnected?.end().catch(() => undefined);
  await env?.cleanup();
});

/** Transfers between accounts in MySQL transactions, reconnecting when the server goes away. */
function transferWorkload(): { stop(): Promise<number> } {
  let running = true;
  let committed = 0;
  const loop = (async () => {
    let conn: mysql.Connection | null = null;
    for (let i = 0; running; i++) {
      try {
        if (!conn) {
          conn = await mysql.createConnection(env.my.url);
          conn.on('error', () => undefined);
        }
        const from = (i % ACCOUNTS) + 1;
        const to = ((i * 7 + 3) % ACCOUNTS) + 1;
        await conn.query('START TRANSACTION');
        await conn.query('UPDATE accounts SET balance = balance - 5, moves = moves + 1 WHERE id = ?', [from]);
        await conn.query('UPDATE accounts SET balance = balance + 5, moves = moves + 1 WHERE id = ?', [to]);
        await conn.query('COMMIT');
        committed++;
      } catch {
        await conn?.destroy();
        conn = null;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await conn?.end().catch(() => undefined);
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return committed;
    },
  };
}

async function assertExact(): Promise<void> {
  const rows = await tableRows(env.my.conn, env.pg.pool, TABLE);
  assert.deepEqual(rows.pg, rows.mysql);
  const sum = await sql1<{ s: string }>(env.pg.pool, 'SELECT sum(balance) AS s FROM crash.accounts');
  assert.equal(Number(sum.s), TOTAL);
}

test('a multi-statement MySQL transaction is never visible half-applied in PostgreSQL', async () => {
  const work = transferWorkload();
  const sums = new Set<number>();
  let samples = 0;
  const until = Date.now() + 4000;
  while (Date.now() < until) {
    // one statement, one snapshot: the sum of a transfer workload never changes
    const r = await sql1<{ s: string }>(env.pg.pool, 'SELECT sum(balance) AS s FROM crash.accounts');
    sums.add(Number(r.s));
    samples++;
  }
  const committed = await work.stop();
  assert.ok(committed > 100, `transfers committed: ${committed}`);
  assert.ok(samples > 100, `samples: ${samples}`);
  assert.deepEqual([...sums], [TOTAL]);
  await waitCaughtUp(env.my.conn, env.pg.pool, 'crash');
  await assertExact();
  const moves = await sql1<{ m: string }>(env.pg.pool, 'SELECT sum(moves) AS m FROM crash.accounts');
  assert.ok(Number(moves.m) >= committed * 2);
});

test('MariaDB restarted while the replica runs: it resumes by itself, exact', { skip: !canRestartServers() && 'servers are external' }, async () => {
  const work = transferWorkload();
  await new Promise((r) => setTimeout(r, 700));
  await restartServer('mysql');
  await new Promise((r) => setTimeout(r, 1500));
  const committed = await work.stop();
  assert.ok(committed > 50, `transfers committed: ${committed}`);
  // the harness connection died with the server
  reconnected = await mysql.createConnection(env.my.url);
  env.my.conn = reconnected;
  await waitCaughtUp(env.my.conn, env.pg.pool, 'crash', '90 seconds');
  await assertExact();
  const s = await sql1<{ status: string }>(env.pg.pool, "SELECT status FROM sch_chameleon.show_status() WHERE source = 'crash'");
  assert.equal(s.status, 'running');
});

test('PostgreSQL restarted while the replica runs: it resumes by itself, exact', { skip: !canRestartServers() && 'servers are external' }, async () => {
  const work = transferWorkload();
  await new Promise((r) => setTimeout(r, 700));
  await restartServer('pg');
  await new Promise((r) => setTimeout(r, 1500));
  const committed = await work.stop();
  assert.ok(committed > 50, `transfers committed: ${committed}`);
  await waitCaughtUp(env.my.conn, env.pg.pool, 'crash', '90 seconds');
  await assertExact();
  const s = await sql1<{ status: string }>(env.pg.pool, "SELECT status FROM sch_chameleon.show_status() WHERE source = 'crash'");
  assert.equal(s.status, 'running');
});
