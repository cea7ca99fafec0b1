import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/agent.js';
import { replicaTestEnv, replicate, startInProcessAgent, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';

let env: ReplicaTestEnv;
let agent: Agent;

before(async () => {
  env = await replicaTestEnv('replica_json');
  await env.my.conn.query('CREATE TABLE docs (id INT PRIMARY KEY, doc JSON NULL, note VARCHAR(20))');
  await env.my.conn.query(`INSERT INTO docs VALUES (1, '{"a": 1.50}', 'x')`);
  agent = await startInProcessAgent(env.pg.url);
});

after(async () => {
  await agent?.stop();
  await env?.cleanup();
});

test('JSON documents replicate digit for digit, next to plain columns', async () => {
  const pool = env.pg.pool;
  await replicate(env, 'js', 'js');
  const c = env.my.conn;
  await c.query(`INSERT INTO docs VALUES (2, '{"price": 1.50, "big": 12345678901234567890, "list": [1.0, "é", null], "s": "tab\\\\tquote\\\\""}', 'y')`);
  await c.query(`INSERT INTO docs VALUES (3, NULL, 'z'), (4, '[]', NULL)`);
  await c.query(`UPDATE docs SET doc = JSON_SET(doc, '$.a', 2.250), note = 'changed' WHERE id = 1`);
  await waitCaughtUp(c, pool, 'js');
  const rows = await pool.query('SELECT id, doc::text AS doc, note FROM js.docs ORDER BY id');
  assert.deepEqual(rows.rows, [
    { id: 1, doc: '{"a": 2.250}', note: 'changed' },
    { id: 2, doc: '{"s": "tab\\tquote\\"", "big": 12345678901234567890, "list": [1.0, "é", null], "price": 1.50}', note: 'y' },
    { id: 3, doc: null, note: 'z' },
    { id: 4, doc: '[]', note: null },
  ]);
});
