/**
 * Cascading (pg_chameleon reads from a MySQL replica with log-slave-updates):
 * a second MariaDB replicates from the test server, and the replica is read
 * from it. Writes on the primary reach PostgreSQL through both.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import type { Agent } from '../../src/agent/agent.js';
import { checkReplicationSettings } from '../../src/mysql/preflight.js';
import { startMariaDB, type ThrowawayServer } from '../../src/servers/index.js';
import { createPgDatabase, testMysqlUrl, uniqueName, type PgTestDatabase } from '../harness/db.js';
import { installCatalog } from '../../src/catalog/installer.js';
import { startInProcessAgent, waitCaughtUp } from '../harness/replica.js';
import { assertSameRows, runCommand } from '../harness/snapshot.js';

let replica: ThrowawayServer;
let unlogged: ThrowawayServer;
let primary: mysql.Connection;
let onReplica: mysql.Connection;
let pgdb: PgTestDatabase;
let agent: Agent;
const db = uniqueName('casc');

/** Makes `server` replicate from the test server, from its current binlog end. */
async function follow(server: ThrowawayServer): Promise<mysql.Connection> {
  const src = new URL(testMysqlUrl());
  const [[pos]] = (await primary.query('SHOW MASTER STATUS')) as unknown as [{ File: string; Position: number }[]];
  const conn = await mysql.createConnection(server.url);
  await conn.query(`CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?,
                    MASTER_LOG_FILE = ?, MASTER_LOG_POS = ?, MASTER_USE_GTID = no`,
  [src.hostname, Number(src.port), decodeURIComponent(src.username), decodeURIComponent(src.password), pos.File, Number(pos.Position)]);
  return conn;
}

/** Waits until the replica has applied everything the primary has written so far. */
async function replicaCaughtUp(): Promise<void> {
  const [[pos]] = (await primary.query('SHOW MASTER STATUS')) as unknown as [{ File: string; Position: number }[]];
  const [[{ r }]] = (await onReplica.query('SELECT MASTER_POS_WAIT(?, ?, 60) AS r', [pos.File, Number(pos.Position)])) as unknown as [{ r: number | null }[]];
  assert.ok(r !== null && r >= 0, `the MariaDB replica caught up (MASTER_POS_WAIT returned ${r})`);
}

before(async () => {
  primary = await mysql.createConnection(testMysqlUrl());
  replica = await startMariaDB({ serverId: 7701, extraArgs: ['--log-slave-updates=ON'] });
  unlogged = await startMariaDB({ serverId: 7702 });
  onReplica = await follow(replica);
  await onReplica.query('START SLAVE');
  await (await follow(unlogged)).end();
  await primary.query(`CREATE DATABASE \`${db}\``);
  await primary.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY, v VARCHAR(20), n DECIMAL(8,2))`);
  await primary.query(`INSERT INTO \`${db}\`.t VALUES (1, 'one', 1.10), (2, 'two', 2.20), (3, 'three', 3.30)`);
  await replicaCaughtUp();
  pgdb = await createPgDatabase('casc');
  await installCatalog(pgdb.url);
  agent = await startInProcessAgent(pgdb.url);
});

after(async () => {
  await agent?.stop();
  await onReplica?.query('STOP SLAVE').catch(() => undefined);
  await onReplica?.end().catch(() => undefined);
  await primary?.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
  await primary?.end().catch(() => undefined);
  await replica?.stop();
  await unlogged?.stop();
  await pgdb?.drop();
});

test('pre-flight: a replica without log_slave_updates is named as not ready; with it, it is', async () => {
  const u = await mysql.createConnection(unlogged.url);
  try {
    const problems = await checkReplicationSettings(u);
    assert.deepEqual(problems.map((p) => [p.setting, p.found]), [['log_slave_updates', 'OFF']]);
    assert.match(problems[0].needed, /replicates from another/);
  } finally {
    await u.end();
  }
  assert.deepEqual(await checkReplicationSettings(onReplica), []);
});

test('a replica read from a MariaDB replica: writes on its primary arrive, value for value', { timeout: 120_000 }, async () => {
  const pool = pgdb.pool;
  await pool.query('SELECT sch_chameleon.add_source($1, $2, $3)', ['casc', replica.url, JSON.stringify({ [db]: 'casc' })]);
  assert.equal((await runCommand(pool, 'sch_chameleon.init_replica($1)', ['casc'])).state, 'done');
  assert.equal((await runCommand(pool, 'sch_chameleon.start_replica($1)', ['casc'])).state, 'done');
  await primary.query(`INSERT INTO \`${db}\`.t VALUES (4, 'four', 4.40)`);
  await primary.query(`UPDATE \`${db}\`.t SET v = 'TWO', n = n * 10 WHERE id = 2`);
  await primary.query(`DELETE FROM \`${db}\`.t WHERE id = 3`);
  await primary.query(`START TRANSACTION`);
  await primary.query(`INSERT INTO \`${db}\`.t VALUES (5, 'five', 5.50)`);
  await primary.query(`UPDATE \`${db}\`.t SET n = 0 WHERE id = 1`);
  await primary.query(`COMMIT`);
  await replicaCaughtUp();
  await waitCaughtUp(onReplica, pool, 'casc');
  await assertSameRows(primary, pool, `SELECT id, v, n FROM \`${db}\`.t ORDER BY id`, 'SELECT id, v, n FROM casc.t ORDER BY id', 'casc.t');
  assert.deepEqual((await pool.query('SELECT id, v, n::text FROM casc.t ORDER BY id')).rows, [
    { id: 1, v: 'one', n: '0.00' }, { id: 2, v: 'TWO', n: '22.00' }, { id: 4, v: 'four', n: '4.40' }, { id: 5, v: 'five', n: '5.50' },
  ]);
  assert.equal((await runCommand(pool, 'sch_chameleon.stop_replica($1)', ['casc'])).state, 'done');
});
