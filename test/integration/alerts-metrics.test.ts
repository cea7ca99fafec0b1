import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from '../../src/agent/agent.js';
import { createLogger } from '../../src/log.js';
import { replicaTestEnv, replicate, sql1, waitCaughtUp, type ReplicaTestEnv } from '../harness/replica.js';
import { waitFor } from '../harness/snapshot.js';

let env: ReplicaTestEnv;
let agent: Agent;
let hook: Server;
const posts: { status: number; body: Record<string, unknown> }[] = [];
let failFirst = true;

before(async () => {
  env = await replicaTestEnv('alerts');
  await env.my.conn.query('CREATE TABLE good (id INT PRIMARY KEY, v INT NOT NULL)');
  await env.my.conn.query('CREATE TABLE bad (id INT PRIMARY KEY, v INT NOT NULL)');
  // the webhook answers 503 once, then 200: the alert is tried again
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const status = failFirst ? 503 : 200;
      failFirst = false;
      posts.push({ status, body: JSON.parse(body) as Record<string, unknown> });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  const webhookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`;
  agent = new Agent({ pgUrl: env.pg.url, log: createLogger({ level: process.env.CHAMELEON_TEST_LOG ?? 'silent' }), leaseSeconds: 5,
    scanIntervalMs: 500, webhookUrl, metricsPort: 0 });
  await agent.start();
  await replicate(env, 'al', 'al', { sleep_loop: 0.2 });
});

after(async () => {
  await agent?.stop();
  await new Promise((r) => hook?.close(r));
  await env?.cleanup();
});

async function scrape(path = '/metrics'): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(`http://127.0.0.1:${agent.metricsPort}${path}`);
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('GET /metrics: per source status, lag, tables and event counters as show_status() has them, in the Prometheus text format', async () => {
  const c = env.my.conn;
  await c.query('INSERT INTO good VALUES (1, 1), (2, 2), (3, 3)');
  await c.query('UPDATE good SET v = 20 WHERE id = 2');
  await waitCaughtUp(c, env.pg.pool, 'al');
  const st = await sql1<{ events_applied: string; events_read: string }>(env.pg.pool,
    "SELECT events_applied, events_read FROM sch_chameleon.show_status() WHERE source = 'al'");
  const m = await scrape();
  assert.equal(m.status, 200);
  assert.match(m.type ?? '', /^text\/plain; version=0\.0\.4/);
  assert.match(m.text, /^# HELP chameleon_agent_info /m);
  assert.match(m.text, /^# TYPE chameleon_events_applied_total counter$/m);
  assert.equal(sample(m.text, 'chameleon_source_status', 'source="al",status="running"'), 1);
  assert.equal(sample(m.text, 'chameleon_source_status', 'source="al",status="error"'), 0);
  assert.equal(sample(m.text, 'chameleon_events_applied_total', 'source="al"'), Number(st.events_applied));
  assert.ok(Number(st.events_applied) >= 4);
  assert.equal(sample(m.text, 'chameleon_tables_replicated', 'source="al"'), 2);
  assert.equal(sample(m.text, 'chameleon_tables_excluded', 'source="al"'), 0);
  assert.equal(sample(m.text, 'chameleon_source_consistent', 'source="al"'), 1);
  const lag = sample(m.text, 'chameleon_replay_lag_seconds', 'source="al"');
  assert.ok(lag !== undefined && lag >= 0 && lag < 60, `replay lag ${lag}`);
  assert.equal((await scrape('/other')).status, 404);
});

test('an alert goes to the webhook as JSON, tried again after a 5xx, once', async () => {
  const c = env.my.conn;
  await env.pg.pool.query('ALTER TABLE al.bad ADD CONSTRAINT small_v CHECK (v < 100)');
  await c.query('INSERT INTO bad VALUES (1, 500)');
  await waitFor('the alert to reach the webhook', async () => posts.some((p) => p.status === 200));
  const tries = posts.filter((p) => p.body.table === `${env.my.name}.bad`);
  assert.deepEqual(tries.map((p) => p.status), [503, 200], 'one failure, then delivered');
  const alert = tries[1].body;
  assert.equal(alert.source, 'al');
  assert.equal(alert.excluded, true);
  assert.match(String(alert.error), /small_v/);
  assert.match(String(alert.at), /^\d{4}-\d\d-\d\dT/);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(posts.filter((p) => p.body.table === `${env.my.name}.bad`).length, 2, 'posted once');
  const m = await scrape();
  assert.equal(sample(m.text, 'chameleon_tables_excluded', 'source="al"'), 1);
});
