import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { installCatalog } from '../../src/catalog/installer.js';
import { createPgDatabase, type PgTestDatabase } from '../harness/db.js';

/**
 * wait_for_position with GTIDs (SPEC §5, read-your-writes): a MySQL GTID
 * set ('uuid:1-5:11-18,uuid2:1-27', as @@gtid_executed prints it) is applied
 * once every transaction it names is in the source's applied set; a
 * MariaDB position once every domain has reached its sequence number. No
 * MySQL server is needed: the applied position is written into the
 * catalogue here, as the replayer would.
 */

const MYSQL_URL = 'mysql://repl:pw@db.example:3306/shop';
const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const B = '2c256447-3f0d-431b-9a25-bddf1f1f6ef6';
const C = 'd0b5a1c6-0000-4000-8000-00000000000c';
const WFP = 'SELECT sch_chameleon.wait_for_position($1, $2, $3) AS at';

interface PgError {
  message: string;
  code?: string;
  hint?: string;
}

let db: PgTestDatabase;
let pool: pg.Pool;

async function setReplay(source: string, gtid: string | null, file = 'mysql-bin.000007', pos = 1234): Promise<void> {
  await pool.query('UPDATE sch_chameleon.t_sources SET replay_file = $2, replay_pos = $3, replay_gtid = $4 WHERE source_name = $1', [source, file, pos, gtid]);
}

async function waitFor(source: string, position: string, timeout: string): Promise<string> {
  return (await pool.query<{ at: string }>(WFP, [source, position, timeout])).rows[0].at;
}

async function failure(source: string, position: string | null, timeout: string): Promise<PgError> {
  const outcome = await pool.query(WFP, [source, position, timeout]).then(
    (res) => ({ ok: true as const, rows: res.rows }),
    (err: unknown) => ({ ok: false as const, err: err as PgError }),
  );
  if (outcome.ok) assert.fail(`wait_for_position(${source}, ${position}) was expected to fail; it returned ${JSON.stringify(outcome.rows)}`);
  return outcome.err;
}

async function contains(current: string | null, target: string): Promise<boolean> {
  return (await pool.query<{ c: boolean }>('SELECT sch_chameleon.fn_gtid_set_contains($1, $2) AS c', [current, target])).rows[0].c;
}

before(async () => {
  db = await createPgDatabase('gtid_position');
  pool = db.pool;
  await installCatalog(db.url);
  for (const s of ['my', 'maria', 'fresh']) {
    await pool.query('SELECT sch_chameleon.add_source($1, $2, $3)', [s, MYSQL_URL, JSON.stringify({ [`${s}_db`]: `${s}_pg` })]);
  }
});

after(async () => {
  await db?.drop();
});

describe('MySQL GTID sets', () => {
  const APPLIED = `${A}:1-5:11-18,\n${B}:1-27`;

  test('a set is applied once every interval it names lies in the applied set: returns the replay position', async () => {
    await setReplay('my', APPLIED);
    const at = `mysql-bin.000007:1234 (${APPLIED})`;
    const covered = [
      `${A}:1-5`,
      `${A.toUpperCase()}:3`,
      `${A}:1-5:11-18`,
      `${A}:1-3:4-5:12`,
      `${A}:18,${B}:27`,
      ` ${A.toUpperCase()}:1-5:11-18,\n${B.toUpperCase()}:1-27 `,
      `${B}:1-27,${A}:5`,
      `${A} : 11 - 18`,
      APPLIED,
    ];
    for (const position of covered) assert.equal(await waitFor('my', position, '1 second'), at, position);
  });

  test('a set with any transaction outside the applied set times out, naming the replay position', async () => {
    await setReplay('my', APPLIED);
    const missing = [
      `${A}:6`,
      `${A}:1-6`,
      `${A}:10-11`,
      `${A}:19`,
      `${A}:5:19`,
      `${A}:1-5,${B}:28`,
      `${C}:1`,
      `${A}:tag_a:1`,
      `${A}:1-5,${C}:1`,
    ];
    for (const position of missing) {
      const err = await failure('my', position, '50 milliseconds');
      assert.equal(err.code, '57014', `${position}: ${err.message}`);
      assert.ok(err.message.startsWith(`position ${position} of source "my" not applied after 00:00:00.05 (replay is at mysql-bin.000007:1234 (${APPLIED}))`), err.message);
    }
  });

  test('the wait returns as soon as the replay reaches the set', async () => {
    await setReplay('my', `${A}:1-5`);
    const started = Date.now();
    const waiting = waitFor('my', `${A}:1-9,${B}:1-2`, '10 seconds');
    await new Promise((r) => setTimeout(r, 300));
    await setReplay('my', `${A}:1-8,${B}:1-2`, 'mysql-bin.000008', 10);
    await new Promise((r) => setTimeout(r, 200));
    await setReplay('my', `${A}:1-9,${B}:1-3`, 'mysql-bin.000008', 99);
    assert.equal(await waiting, `mysql-bin.000008:99 (${A}:1-9,${B}:1-3)`);
    const took = Date.now() - started;
    assert.ok(took >= 450 && took < 2000, `returned after ${took} ms`);
  });

  test('containment merges the applied intervals, keeps tags apart and is exact at the edges', async () => {
    const cases: Array<[string | null, string, boolean]> = [
      // intervals that touch or overlap are one run, in any order
      [`${A}:1-5:6-10`, `${A}:3-8`, true],
      [`${A}:6-10:1-5`, `${A}:1-10`, true],
      [`${A}:1-7:3-10`, `${A}:2-9`, true],
      [`${A}:1-5:7-10`, `${A}:3-8`, false],
      [`${A}:1-5:7-10`, `${A}:7-10:1-2`, true],
      // a tag (MySQL 8.3+) is a source of its own; tags are case-insensitive
      [`${A}:1-5:tag_a:1-3`, `${A}:tag_a:2`, true],
      [`${A}:1-5:tag_a:1-3`, `${A}:4:TAG_A:3`, true],
      [`${A}:1-5:tag_a:1-3`, `${A}:tag_b:1`, false],
      [`${A}:1-5:tag_a:1-3`, `${A}:tag_a:4`, false],
      [`${A}:tag_a:1-3`, `${A}:1`, false],
      // GNOs up to 2^63-1, compared exactly
      [`${A}:1-9223372036854775807`, `${A}:9223372036854775806-9223372036854775807`, true],
      [`${A}:1-9223372036854775806`, `${A}:9223372036854775807`, false],
      // the lone last GTID the reader records without gtid_enable: everything of that server up to it
      [`${A}:18`, `${A}:1-18`, true],
      [`${A}:18`, `${A}:19`, false],
      [`${A}:18`, `${B}:1`, false],
      [`${A}:tag_a:4`, `${A}:tag_a:1-4`, true],
      // nothing applied yet
      [null, `${A}:1`, false],
      ['', `${A}:1`, false],
    ];
    for (const [current, target, expected] of cases) {
      assert.equal(await contains(current, target), expected, `${current} contains ${target}`);
    }
  });

  test('a malformed set is rejected at once, naming the argument and what is wrong with it', async () => {
    await setReplay('my', APPLIED);
    const bad: Array<[string, RegExp]> = [
      [`${A}:`, /"" \(in ".*"\) is neither an interval N or N-M nor a tag/],
      [`${A}:0`, /interval "0" is outside 1 to 9223372036854775807/],
      [`${A}:1-9223372036854775808`, /interval "1-9223372036854775808" is outside 1 to 9223372036854775807/],
      [`${A}:5-3`, /interval "5-3" ends before it starts/],
      [`${A}:1-x`, /"1-x" \(in ".*"\) is neither an interval N or N-M nor a tag/],
      [`${A}:1-2-3`, /"1-2-3" \(in ".*"\) is neither an interval/],
      [`${A}:tag_a`, /tag "tag_a" has no interval/],
      [`${A}:1:TAG_A`, /tag "tag_a" has no interval/],
      [`${A}:tag_a:tag_b:1`, /tag "tag_a" has no interval/],
      [`${A}:1,${B}`, new RegExp(`"${B}" names no interval`)],
      [`${A}:1,`, /it has an empty entry/],
      [`${A}:1,,${B}:1`, /it has an empty entry/],
      [`${A}:1,0-1-2`, /"0-1-2" is not a server UUID/],
      [`${A}:1,${B.slice(0, -1)}:1`, /"2c256447-3f0d-431b-9a25-bddf1f1f6ef" is not a server UUID/],
    ];
    for (const [position, reason] of bad) {
      const before = (await pool.query('SELECT count(*)::int AS n FROM sch_chameleon.t_commands')).rows[0].n;
      const err = await failure('my', position, '10 seconds');
      assert.equal(err.code, '22023', `${position}: ${err.message}`);
      assert.ok(err.message.startsWith(`position "${position}" is not a MySQL GTID set: `), err.message);
      assert.match(err.message, reason, position);
      assert.match(err.hint ?? '', /@@gtid_executed/, position);
      assert.equal((await pool.query('SELECT count(*)::int AS n FROM sch_chameleon.t_commands')).rows[0].n, before, 'nothing written');
    }
  });

  test('a MySQL set against a source that records MariaDB GTIDs fails at once instead of timing out', async () => {
    await setReplay('maria', '0-1-42');
    const started = Date.now();
    const err = await failure('maria', `${A}:1-5`, '10 seconds');
    assert.ok(Date.now() - started < 2000, 'not after the timeout');
    assert.equal(err.code, '22023');
    assert.equal(err.message, `position "${A}:1-5" is a MySQL GTID, but source "maria" records MariaDB GTIDs (replay is at mysql-bin.000007:1234 (0-1-42))`);
  });

  test('a source with no GTID recorded yet waits, and the timeout says nothing is applied', async () => {
    const err = await failure('fresh', `${A}:1`, '50 milliseconds');
    assert.equal(err.code, '57014');
    assert.match(err.message, new RegExp(`^position ${A}:1 of source "fresh" not applied after 00:00:00\\.05 \\(replay is at nothing yet\\)`));
  });
});

describe('MariaDB GTID positions and file:position still work beside MySQL sets', () => {
  test('per domain: covered once each named domain reached its sequence number', async () => {
    await setReplay('maria', '0-1-42,1-2-7', 'mariadb-bin.000003', 500);
    const at = 'mariadb-bin.000003:500 (0-1-42,1-2-7)';
    for (const position of ['0-1-42', '0-9-41', '1-2-7', ' 0-1-40 , 1-2-1 ']) assert.equal(await waitFor('maria', position, '1 second'), at, position);
    for (const position of ['0-1-43', '1-2-8', '2-1-1', '0-1-1,2-1-1']) {
      const err = await failure('maria', position, '50 milliseconds');
      assert.equal(err.code, '57014', `${position}: ${err.message}`);
    }
  });

  test('a MariaDB position against a source that records MySQL GTID sets fails at once', async () => {
    await setReplay('my', `${A}:1-5`);
    const err = await failure('my', '0-1-5', '10 seconds');
    assert.equal(err.code, '22023');
    assert.equal(err.message, `position "0-1-5" is a MariaDB GTID, but source "my" records MySQL GTIDs (replay is at mysql-bin.000007:1234 (${A}:1-5))`);
  });

  test('file:position is compared with the replay file and position whatever GTIDs are recorded', async () => {
    await setReplay('my', `${A}:1-5`, 'mysql-bin.000007', 1234);
    assert.equal(await waitFor('my', 'mysql-bin.000007:1234', '1 second'), `mysql-bin.000007:1234 (${A}:1-5)`);
    assert.equal(await waitFor('my', 'mysql-bin.000006:99999', '1 second'), `mysql-bin.000007:1234 (${A}:1-5)`);
    assert.equal((await failure('my', 'mysql-bin.000007:1235', '50 milliseconds')).code, '57014');
  });

  test('anything else is neither form: the error lists the three forms', async () => {
    for (const position of ['garbage', '0-1', `${A}`, '']) {
      const err = await failure('my', position, '1 second');
      assert.equal(err.code, '22023', position);
      assert.equal(err.message, `position "${position}" is neither file:position nor a MariaDB GTID (domain-server-sequence) nor a MySQL GTID set (uuid:interval)`);
      assert.match(err.hint ?? '', /SHOW MASTER STATUS.*@@gtid_binlog_pos.*@@gtid_executed/);
    }
  });
});
