import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { installCatalog } from '../../src/catalog/installer.js';
import { createPgDatabase, type PgTestDatabase } from '../harness/db.js';

/**
 * The SQL contract of the control functions (SPEC §1): a bad call raises an
 * error that names the problem and writes nothing; a good call writes exactly
 * the rows it should. No agent runs here, so every queued command stays
 * pending unless the test moves it, as an agent would, with a plain UPDATE.
 */

const SECRET = 'Sup3r-s3cr3t-pw';
const MYSQL_URL = `mysql://repl:${SECRET}@db.example:3306/shop`;

const SQLSTATE = {
  invalidParameter: '22023',
  nullNotAllowed: '22004',
  undefinedObject: '42704',
  duplicateObject: '42710',
  notInPrerequisiteState: '55000',
  queryCanceled: '57014',
  externalRoutine: '38000',
} as const;

interface PgError {
  message: string;
  code?: string;
  hint?: string;
}

interface Expected {
  message: RegExp;
  code?: string;
  hint?: RegExp;
}

/** Everything a control call may write, in a form deepEqual can compare. */
async function catalogState(q: pg.Pool | pg.PoolClient): Promise<Record<string, unknown>> {
  const res = await q.query(`
    SELECT (SELECT count(*) FROM sch_chameleon.t_sources)::int  AS sources,
           (SELECT count(*) FROM sch_chameleon.t_commands)::int AS commands,
           (SELECT count(*) FROM sch_chameleon.t_tables)::int   AS tables,
           (SELECT coalesce(jsonb_agg(to_jsonb(s) ORDER BY s.source_id), '[]') FROM sch_chameleon.t_sources s) AS source_rows,
           (SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.command_id), '[]') FROM sch_chameleon.t_commands c) AS command_rows,
           (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.source_id, t.mysql_schema, t.mysql_table), '[]')
              FROM sch_chameleon.t_tables t) AS table_rows`);
  return res.rows[0] as Record<string, unknown>;
}

async function failure(q: pg.Pool | pg.PoolClient, text: string, params: unknown[]): Promise<PgError> {
  const outcome = await q.query(text, params).then(
    (res) => ({ ok: true as const, rows: res.rows }),
    (err: unknown) => ({ ok: false as const, err: err as PgError }),
  );
  if (outcome.ok) assert.fail(`expected ${text} ${JSON.stringify(params)} to fail, it returned ${JSON.stringify(outcome.rows)}`);
  return outcome.err;
}

function assertError(err: PgError, expected: Expected, what: string): void {
  assert.match(err.message, expected.message, `${what}: message`);
  if (expected.code) assert.equal(err.code, expected.code, `${what}: SQLSTATE of "${err.message}"`);
  if (expected.hint) assert.match(err.hint ?? '', expected.hint, `${what}: hint`);
}

/** The call fails as expected and the catalogue is exactly as it was. */
async function assertRejected(pool: pg.Pool, text: string, params: unknown[], expected: Expected): Promise<PgError> {
  const before = await catalogState(pool);
  const err = await failure(pool, text, params);
  assertError(err, expected, text);
  assert.deepEqual(await catalogState(pool), before, `${text} ${JSON.stringify(params)} must write nothing`);
  return err;
}

async function one<T = Record<string, unknown>>(q: pg.Pool | pg.PoolClient, text: string, params: unknown[] = []): Promise<T> {
  const res = await q.query(text, params);
  assert.equal(res.rows.length, 1, `${text} returns one row`);
  return res.rows[0] as T;
}

async function freshCatalogue(prefix: string): Promise<PgTestDatabase> {
  const db = await createPgDatabase(prefix);
  const installed = await installCatalog(db.url);
  assert.equal(installed.action, 'installed');
  return db;
}

const BAD_NAME = { message: /invalid source name/, code: SQLSTATE.invalidParameter };
const UNKNOWN = (name: string): Expected => ({ message: new RegExp(`unknown source "${name}"`), code: SQLSTATE.undefinedObject });
const NULL_SOURCE = { message: /source must not be null/, code: SQLSTATE.nullNotAllowed };
const BAD_URL = { message: /mysql_url is not a MySQL connection URL/, code: SQLSTATE.invalidParameter, hint: /mysql:\/\/user:password@host/ };
const BAD_MAPPINGS = { message: /schema_mappings must be a non-empty json object/, code: SQLSTATE.invalidParameter };

/**
 * For every option of fn_default_options(), values that must be refused and
 * what the error must say. A test checks the keys match, so a new option
 * cannot arrive without its validation being pinned here.
 */
const BAD_OPTIONS: Record<string, Array<[unknown, RegExp, string?]>> = {
  limit_tables: [
    ['shop.items', /option "limit_tables" must be an array of "db.table" names/],
    [['items'], /option "limit_tables": "items" is not a "db.table" name/],
    [[5], /option "limit_tables": 5 is not a "db.table" name/],
  ],
  skip_tables: [
    [{ shop: 'items' }, /option "skip_tables" must be an array/],
    [['shop.items.x'], /option "skip_tables": "shop.items.x" is not a "db.table" name/],
  ],
  grant_select_to: [
    ['reporting', /option "grant_select_to" must be an array of role names/],
    [['no_such_role_chameleon_test'], /option "grant_select_to": role "no_such_role_chameleon_test" does not exist/, SQLSTATE.undefinedObject],
    [[42], /option "grant_select_to": role 42 does not exist/, SQLSTATE.undefinedObject],
  ],
  lock_timeout: [
    ['soon', /option "lock_timeout": "soon" is not an interval/],
    [120, /option "lock_timeout": 120 must be a positive interval string/],
    ['-5s', /option "lock_timeout": "-5s" must be a positive interval string/],
  ],
  batch_retention: [
    ['forever', /option "batch_retention": "forever" is not an interval/],
    ['-1 day', /option "batch_retention": "-1 day" must be a positive interval string/],
  ],
  my_server_id: [
    [0, /option "my_server_id" must be a positive integer, got 0/],
    [-1, /option "my_server_id" must be a positive integer, got -1/],
    [1.5, /option "my_server_id" must be a positive integer, got 1.5/],
    ['100', /option "my_server_id" must be a positive integer, got "100"/],
    [4294967296, /option "my_server_id" must be a positive integer, got 4294967296/],
  ],
  replica_batch_size: [
    [0, /option "replica_batch_size" must be a positive integer, got 0/],
    [-10, /option "replica_batch_size" must be a positive integer, got -10/],
    [2147483648, /option "replica_batch_size" must be a positive integer, got 2147483648/],
  ],
  replay_max_rows: [
    [0, /option "replay_max_rows" must be a positive integer, got 0/],
    [2.5, /option "replay_max_rows" must be a positive integer, got 2.5/],
  ],
  copy_jobs: [
    [0, /option "copy_jobs" must be "auto" or an integer from 1 to 16, got 0/],
    [-2, /option "copy_jobs" must be "auto" or an integer from 1 to 16, got -2/],
    [2.5, /option "copy_jobs" must be "auto" or an integer from 1 to 16, got 2.5/],
    [17, /option "copy_jobs" must be "auto" or an integer from 1 to 16, got 17/],
    ['2', /option "copy_jobs" must be "auto" or an integer from 1 to 16, got "2"/],
    ['AUTO', /option "copy_jobs" must be "auto" or an integer from 1 to 16, got "AUTO"/],
    ['max', /option "copy_jobs" must be "auto" or an integer from 1 to 16, got "max"/],
    [null, /option "copy_jobs" must be "auto" or an integer from 1 to 16, got null/],
    [true, /option "copy_jobs" must be "auto" or an integer from 1 to 16, got true/],
  ],
  copy_range_rows: [
    [0, /option "copy_range_rows" must be a positive integer, got 0/],
    [-5, /option "copy_range_rows" must be a positive integer, got -5/],
    ['1000', /option "copy_range_rows" must be a positive integer, got "1000"/],
  ],
  net_read_timeout: [
    [-600, /option "net_read_timeout" must be a positive integer, got -600/],
    [null, /option "net_read_timeout" must be a positive integer, got null/],
  ],
  sleep_loop: [
    [0, /option "sleep_loop" must be a number of seconds between 0 and 3600, got 0/],
    [-1, /option "sleep_loop" must be a number of seconds between 0 and 3600, got -1/],
    [3601, /option "sleep_loop" must be a number of seconds between 0 and 3600, got 3601/],
    ['1', /option "sleep_loop" must be a number of seconds between 0 and 3600, got "1"/],
  ],
  copy_max_memory: [
    [300, /option "copy_max_memory" must be a size such as "300M", got 300/],
    ['3T', /option "copy_max_memory" must be a size such as "300M", got "3T"/],
  ],
  on_error_replay: [
    ['stop', /option "on_error_replay" must be "continue" or "exit", got "stop"/],
    [true, /option "on_error_replay" must be "continue" or "exit", got true/],
  ],
  on_error_read: [['ignore', /option "on_error_read" must be "continue" or "exit", got "ignore"/]],
  auto_maintenance: [
    [3600, /option "auto_maintenance" must be "disabled" or an interval string/],
    ['sometimes', /option "auto_maintenance": "sometimes" is neither "disabled" nor an interval/],
  ],
  gtid_enable: [
    ['yes', /option "gtid_enable" must be true or false, got "yes"/],
    [1, /option "gtid_enable" must be true or false, got 1/],
  ],
  keep_existing_schema: [['false', /option "keep_existing_schema" must be true or false, got "false"/]],
  skip_events: [
    [['insert'], /option "skip_events" must be an object/],
    [{ truncate: ['shop'] }, /option "skip_events": unknown event kind "truncate"/],
    [{ insert: 'shop' }, /option "skip_events": "insert" must be an array of "db" or "db.table" names/],
    [{ delete: ['shop.items.x'] }, /option "skip_events": "delete" must be an array of "db" or "db.table" names/],
  ],
  type_override: [
    ['tinyint(1) boolean', /option "type_override" must be an object/],
    [{ 'tinyint(1)': { override_to: 'no_such_pg_type', override_tables: ['*'] } }, /option "type_override": "no_such_pg_type" is not a PostgreSQL type/],
    [{ 'tinyint(1)': { override_tables: ['*'] } }, /option "type_override": entry "tinyint\(1\)" must be \{"override_to"/],
    [{ 'tinyint(1)': { override_to: 'boolean', override_tables: '*' } }, /option "type_override": entry "tinyint\(1\)" must be/],
    [{ 'tinyint(1)': { override_to: 'boolean', tables: ['*'] } }, /option "type_override": entry "tinyint\(1\)" must be/],
  ],
  fillfactor: [
    [70, /option "fillfactor" must be an object/],
    [{ '5': { tables: ['shop.items'] } }, /option "fillfactor": entry "5" must be a number from 10 to 100/],
    [{ hot: { tables: ['shop.items'] } }, /option "fillfactor": entry "hot" must be a number from 10 to 100/],
    // larger than an integer: the check must still name the option, not fail on a cast
    [{ '99999999999': { tables: ['shop.items'] } }, /option "fillfactor": entry "99999999999" must be a number from 10 to 100/],
    [{ '70': { tables: 'shop.items' } }, /option "fillfactor": entry "70" must be a number from 10 to 100 with \{"tables"/],
  ],
};

describe('control functions reject bad input and write nothing', () => {
  let db: PgTestDatabase;
  let pool: pg.Pool;
  let doneCommand: string;
  let cancelledCommand: string;
  let failedCommand: string;

  before(async () => {
    db = await freshCatalogue('ctl_reject');
    pool = db.pool;
    // base: registered, never initialised; owns target schema shop_pg
    await pool.query(`SELECT sch_chameleon.add_source('base', $1, '{"shop": "shop_pg"}')`, [MYSQL_URL]);
    doneCommand = (await one<{ id: string }>(pool, `SELECT command_id AS id FROM sch_chameleon.t_commands WHERE source_name = 'base'`)).id;
    await pool.query(`INSERT INTO sch_chameleon.t_tables (source_id, mysql_schema, mysql_table, pg_schema, pg_table, pk_columns)
        SELECT source_id, 'shop', 'items', 'shop_pg', 'items', '{id}' FROM sch_chameleon.t_sources WHERE source_name = 'base'`);
    cancelledCommand = (await one<{ id: string }>(pool, `SELECT sch_chameleon.init_replica('base') AS id`)).id;
    assert.equal((await one<{ r: string }>(pool, 'SELECT sch_chameleon.cancel_command($1) AS r', [cancelledCommand])).r, 'cancelled');
    // live: start_replica asked for, so replica_enabled is on
    await pool.query(`SELECT sch_chameleon.add_source('live', $1, '{"live_db": "live_pg"}')`, [MYSQL_URL]);
    await pool.query(`SELECT sch_chameleon.init_replica('live'), sch_chameleon.start_replica('live')`);
    // busy: an agent has claimed its init_replica
    await pool.query(`SELECT sch_chameleon.add_source('busy', $1, '{"busy_db": "busy_pg"}')`, [MYSQL_URL]);
    const busyInit = (await one<{ id: string }>(pool, `SELECT sch_chameleon.init_replica('busy') AS id`)).id;
    await pool.query(`UPDATE sch_chameleon.t_commands SET state = 'running', started_at = now(), agent_id = 'test-agent'
        WHERE command_id = $1`, [busyInit]);
    // broken: the agent put it in error
    await pool.query(`SELECT sch_chameleon.add_source('broken', $1, '{"broken_db": "broken_pg"}')`, [MYSQL_URL]);
    await pool.query(`UPDATE sch_chameleon.t_sources SET status = 'error', last_error = 'binlog file purged' WHERE source_name = 'broken'`);
    failedCommand = (await one<{ id: string }>(pool, `SELECT sch_chameleon.copy_schema('broken') AS id`)).id;
    await pool.query(`UPDATE sch_chameleon.t_commands SET state = 'failed', error = 'boom', finished_at = now() WHERE command_id = $1`, [failedCommand]);

    const state = await catalogState(pool);
    assert.deepEqual([state.sources, state.tables], [4, 1], 'fixture sources and tables');
  });

  after(async () => {
    await db?.drop();
  });

  test('every option of fn_default_options() has bad values pinned here', async () => {
    const keys = (await pool.query<{ k: string }>('SELECT jsonb_object_keys(sch_chameleon.fn_default_options()) AS k ORDER BY 1')).rows.map((r) => r.k);
    assert.deepEqual(Object.keys(BAD_OPTIONS).sort(), keys);
  });

  describe('add_source', () => {
    const add = 'SELECT sch_chameleon.add_source($1, $2, $3, $4)';

    test('NULL, malformed and over-long source names', async () => {
      for (const name of [null, '', '1shop', 'shop-eu', 'shop eu', 'shöp', 'x'.repeat(64), "a'; DROP TABLE x; --"]) {
        const err = await assertRejected(pool, add, [name, MYSQL_URL, { fresh_db: 'fresh_pg' }, {}], BAD_NAME);
        assert.match(err.hint ?? '', /letters, digits and underscores/);
      }
      const err = await assertRejected(pool, add, [null, MYSQL_URL, { fresh_db: 'fresh_pg' }, {}], BAD_NAME);
      assert.match(err.message, /invalid source name NULL/);
    });

    test('a name already registered', async () => {
      await assertRejected(pool, add, ['base', MYSQL_URL, { fresh_db: 'fresh_pg' }, {}], {
        message: /source "base" already exists/,
        code: SQLSTATE.duplicateObject,
        hint: /alter_source/,
      });
    });

    test('NULL or non-MySQL URLs, without echoing the password', async () => {
      for (const url of [
        null,
        '',
        `postgres://repl:${SECRET}@db.example/shop`,
        `repl:${SECRET}@db.example/shop`,
        'mysql://',
        `mysql:///${SECRET}`,
        'db.example:3306',
      ]) {
        const err = await assertRejected(pool, add, ['fresh', url, { fresh_db: 'fresh_pg' }, {}], BAD_URL);
        assert.ok(!err.message.includes(SECRET) && !(err.hint ?? '').includes(SECRET), 'the error does not repeat the password');
      }
    });

    test('NULL, empty and non-object mappings', async () => {
      for (const m of [null, {}, [], ['shop'], 'shop', 5]) {
        await assertRejected(pool, add, ['fresh', MYSQL_URL, JSON.stringify(m), {}], BAD_MAPPINGS);
      }
    });

    test('mappings with bad names', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ '': 'x_pg' }, /schema_mappings: "" is not a MySQL database name/],
        [{ ['d'.repeat(65)]: 'x_pg' }, /is not a MySQL database name/],
        [{ fresh_db: 5 }, /schema_mappings: the target of "fresh_db" must be a PostgreSQL schema name \(1 to 63 characters\), got 5/],
        [{ fresh_db: '' }, /the target of "fresh_db" must be a PostgreSQL schema name/],
        [{ fresh_db: null }, /the target of "fresh_db" must be a PostgreSQL schema name/],
        [{ fresh_db: 's'.repeat(64) }, /the target of "fresh_db" must be a PostgreSQL schema name \(1 to 63 characters\)/],
        [{ a_db: 'same_pg', b_db: 'same_pg' }, /schema "same_pg" is the target of more than one MySQL database/],
      ];
      for (const [m, message] of cases) {
        await assertRejected(pool, add, ['fresh', MYSQL_URL, JSON.stringify(m), {}], { message, code: SQLSTATE.invalidParameter });
      }
    });

    test('a target schema another source already uses', async () => {
      await assertRejected(pool, add, ['fresh', MYSQL_URL, { other_db: 'shop_pg' }, {}], {
        message: /schema_mappings: schema "shop_pg" is already the target of source "base"/,
        code: SQLSTATE.duplicateObject,
      });
    });

    test('reserved target schemas', async () => {
      for (const target of ['sch_chameleon', 'pg_catalog', 'information_schema', 'pg_toast', 'pg_temp_3', 'pg_anything']) {
        await assertRejected(pool, add, ['fresh', MYSQL_URL, { fresh_db: target }, {}], {
          message: new RegExp(`schema_mappings: "${target}" cannot be a target schema`),
          code: SQLSTATE.invalidParameter,
        });
      }
    });

    test('options that are not an object, and unknown options', async () => {
      for (const [o, kind] of [[[], 'array'], ['x', 'string'], [5, 'number'], [null, 'null']] as const) {
        await assertRejected(pool, add, ['fresh', MYSQL_URL, { fresh_db: 'fresh_pg' }, JSON.stringify(o)], {
          message: new RegExp(`options must be a json object, got ${kind}`),
          code: SQLSTATE.invalidParameter,
        });
      }
      const err = await assertRejected(pool, add, ['fresh', MYSQL_URL, { fresh_db: 'fresh_pg' }, { replica_batch_size: 10, batch_size: 10 }], {
        message: /unknown option "batch_size"/,
        code: SQLSTATE.invalidParameter,
        hint: /Known options: .*replica_batch_size/,
      });
      assert.ok(!err.message.includes(SECRET));
    });

    test('every option with a wrong type or value', async () => {
      for (const [key, cases] of Object.entries(BAD_OPTIONS)) {
        for (const [value, message, code] of cases) {
          await assertRejected(pool, add, ['fresh', MYSQL_URL, { fresh_db: 'fresh_pg' }, JSON.stringify({ [key]: value })], {
            message,
            code: code ?? SQLSTATE.invalidParameter,
          });
        }
      }
    });
  });

  describe('alter_source', () => {
    const alter = 'SELECT sch_chameleon.alter_source($1, $2)';

    test('unknown and NULL source', async () => {
      await assertRejected(pool, alter, ['nope', { sleep_loop: 2 }], { ...UNKNOWN('nope'), hint: /show_sources\(\)/ });
      await assertRejected(pool, alter, [null, { sleep_loop: 2 }], NULL_SOURCE);
    });

    test('NULL, non-object and unknown options', async () => {
      await assertRejected(pool, alter, ['base', null], { message: /options must be a json object, got null/, code: SQLSTATE.invalidParameter });
      await assertRejected(pool, alter, ['base', JSON.stringify([])], { message: /options must be a json object, got array/ });
      await assertRejected(pool, alter, ['base', { sleep_loop: 2, mysql_url: 'mysql://x' }], { message: /unknown option "mysql_url"/, code: SQLSTATE.invalidParameter });
    });

    test('every option with a wrong type or value', async () => {
      for (const [key, cases] of Object.entries(BAD_OPTIONS)) {
        for (const [value, message, code] of cases) {
          await assertRejected(pool, alter, ['base', JSON.stringify({ [key]: value })], { message, code: code ?? SQLSTATE.invalidParameter });
        }
      }
    });

    test('while the replica is running or a command runs', async () => {
      await assertRejected(pool, alter, ['live', { sleep_loop: 2 }], {
        message: /cannot alter source "live" while its replica is running/,
        code: SQLSTATE.notInPrerequisiteState,
        hint: /stop_replica\('live'\)/,
      });
      await assertRejected(pool, alter, ['busy', { sleep_loop: 2 }], {
        message: /cannot alter source "busy" while command \d+ \(init_replica\) runs/,
        code: SQLSTATE.notInPrerequisiteState,
        hint: /wait_command\(\).*cancel_command\(\)/,
      });
    });
  });

  describe('update_schema_mappings', () => {
    const upd = 'SELECT sch_chameleon.update_schema_mappings($1, $2)';

    test('unknown and NULL source', async () => {
      await assertRejected(pool, upd, ['nope', { shop: 'shop_pg' }], UNKNOWN('nope'));
      await assertRejected(pool, upd, [null, { shop: 'shop_pg' }], NULL_SOURCE);
    });

    test('NULL, empty and non-object mappings', async () => {
      for (const m of [null, {}, [], 'shop']) await assertRejected(pool, upd, ['base', JSON.stringify(m)], BAD_MAPPINGS);
    });

    test('a target schema another source uses, a duplicate target, reserved targets', async () => {
      await assertRejected(pool, upd, ['base', { shop: 'live_pg' }], {
        message: /schema "live_pg" is already the target of source "live"/,
        code: SQLSTATE.duplicateObject,
      });
      await assertRejected(pool, upd, ['base', { shop: 'shop_pg', crm: 'shop_pg' }], {
        message: /schema "shop_pg" is the target of more than one MySQL database/,
      });
      await assertRejected(pool, upd, ['base', { shop: 'sch_chameleon' }], { message: /"sch_chameleon" cannot be a target schema/ });
      await assertRejected(pool, upd, ['base', { shop: 'pg_catalog' }], { message: /"pg_catalog" cannot be a target schema/ });
    });

    test('while the replica is running or a command runs', async () => {
      await assertRejected(pool, upd, ['live', { live_db: 'live2_pg' }], {
        message: /cannot change the schema mappings of source "live" while its replica is running/,
        code: SQLSTATE.notInPrerequisiteState,
      });
      await assertRejected(pool, upd, ['busy', { busy_db: 'busy2_pg' }], {
        message: /cannot change the schema mappings of source "busy" while command \d+ \(init_replica\) runs/,
      });
    });
  });

  test('drop_source: unknown and NULL source', async () => {
    await assertRejected(pool, 'SELECT sch_chameleon.drop_source($1)', ['nope'], UNKNOWN('nope'));
    await assertRejected(pool, 'SELECT sch_chameleon.drop_source($1)', [null], NULL_SOURCE);
  });

  test('run_maintenance: unknown and NULL source, NULL full; a valid call queues one command with its argument', async () => {
    await assertRejected(pool, 'SELECT sch_chameleon.run_maintenance($1)', ['nope'], UNKNOWN('nope'));
    await assertRejected(pool, 'SELECT sch_chameleon.run_maintenance($1)', [null], NULL_SOURCE);
    await assertRejected(pool, 'SELECT sch_chameleon.run_maintenance($1, $2)', ['live', null], {
      message: /argument "full" must be true or false, not NULL/,
      code: SQLSTATE.nullNotAllowed,
      hint: /locking out every source's replica/,
    });
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      for (const [call, full] of [["run_maintenance('live')", false], ["run_maintenance('live', full => true)", true]] as const) {
        const { id } = await one<{ id: string }>(client, `SELECT sch_chameleon.${call}::text AS id`);
        const cmd = await one<{ command: string; source: string; args: unknown; state: string }>(client,
          'SELECT command, source, args, state FROM sch_chameleon.show_commands() WHERE id = $1', [id]);
        assert.deepEqual(cmd, { command: 'run_maintenance', source: 'live', args: { full }, state: 'pending' });
      }
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  test('detach_replica: unknown and NULL source, never initialised', async () => {
    await assertRejected(pool, 'SELECT sch_chameleon.detach_replica($1)', ['nope'], UNKNOWN('nope'));
    await assertRejected(pool, 'SELECT sch_chameleon.detach_replica($1)', [null], NULL_SOURCE);
    await pool.query(`SELECT sch_chameleon.add_source('fresh_detach', 'mysql://u:p@db.example:3306/fd', '{"fd": "fd_pg"}')`);
    try {
      await assertRejected(pool, 'SELECT sch_chameleon.detach_replica($1)', ['fresh_detach'], {
        message: /source "fresh_detach" has not been initialised/,
        code: SQLSTATE.notInPrerequisiteState,
      });
    } finally {
      await pool.query(`SELECT sch_chameleon.drop_source('fresh_detach')`);
    }
  });

  test('cutover: unknown and NULL source, NULL, zero or negative timeout', async () => {
    const call = 'SELECT sch_chameleon.cutover($1, $2)';
    await assertRejected(pool, call, ['nope', '1 minute'], UNKNOWN('nope'));
    await assertRejected(pool, call, [null, '1 minute'], NULL_SOURCE);
    for (const t of [null, '0 seconds', '-5 minutes']) {
      await assertRejected(pool, call, ['live', t], {
        message: new RegExp(`cutover needs a positive timeout, got ${t === null ? 'NULL' : '.+'}`),
        code: SQLSTATE.invalidParameter,
        hint: /How long to wait/,
      });
    }
  });

  test('init_replica and copy_schema: unknown, NULL source, and while the replica is running', async () => {
    for (const fn of ['init_replica', 'copy_schema']) {
      await assertRejected(pool, `SELECT sch_chameleon.${fn}($1)`, ['nope'], UNKNOWN('nope'));
      await assertRejected(pool, `SELECT sch_chameleon.${fn}($1)`, [null], NULL_SOURCE);
      await assertRejected(pool, `SELECT sch_chameleon.${fn}($1)`, ['live'], {
        message: new RegExp(`cannot ${fn} source "live" while its replica is running`),
        code: SQLSTATE.notInPrerequisiteState,
        hint: /stop_replica\('live'\)/,
      });
    }
  });

  test('refresh_schema: unknown and NULL source, unmapped database, never initialised', async () => {
    const refresh = 'SELECT sch_chameleon.refresh_schema($1, $2)';
    await assertRejected(pool, refresh, ['nope', 'shop'], UNKNOWN('nope'));
    await assertRejected(pool, refresh, [null, 'shop'], NULL_SOURCE);
    for (const [db, shown] of [['crm', 'crm'], [null, 'NULL'], ['Shop', '"Shop"']]) {
      await assertRejected(pool, refresh, ['base', db], {
        message: new RegExp(`MySQL database ${shown} is not mapped by source "base"`),
        code: SQLSTATE.invalidParameter,
        hint: /update_schema_mappings\(\)/,
      });
    }
    await assertRejected(pool, refresh, ['base', 'shop'], {
      message: /source "base" has not been initialised/,
      code: SQLSTATE.notInPrerequisiteState,
      hint: /init_replica\('base'\)/,
    });
  });

  test('sync_tables: unknown and NULL source, empty or malformed lists, unmapped databases, never initialised', async () => {
    const sync = 'SELECT sch_chameleon.sync_tables($1, $2)';
    await assertRejected(pool, sync, ['nope', ['shop.items']], UNKNOWN('nope'));
    await assertRejected(pool, sync, [null, ['shop.items']], NULL_SOURCE);
    for (const tables of [null, []]) {
      await assertRejected(pool, sync, ['base', tables], { message: /tables must name at least one table/, code: SQLSTATE.invalidParameter });
    }
    await assertRejected(pool, sync, ['base', ['disabled', 'shop.items']], {
      message: /"disabled" must be the only element of tables/,
      code: SQLSTATE.invalidParameter,
    });
    await assertRejected(pool, sync, ['base', ['shop.items', 'items']], { message: /tables: 'items' is not a "db\.table" name/, code: SQLSTATE.invalidParameter });
    await assertRejected(pool, sync, ['base', ['shop.items', null]], { message: /tables: NULL is not a "db\.table" name/ });
    await assertRejected(pool, sync, ['base', ['crm.customers']], {
      message: /tables: the database of "crm\.customers" is not mapped by source "base"/,
      code: SQLSTATE.invalidParameter,
    });
    await assertRejected(pool, sync, ['base', ['shop.items']], {
      message: /source "base" has not been initialised/,
      code: SQLSTATE.notInPrerequisiteState,
    });
  });

  test('start_replica: unknown, NULL, never initialised (a cancelled init does not count), in error', async () => {
    await assertRejected(pool, 'SELECT sch_chameleon.start_replica($1)', ['nope'], UNKNOWN('nope'));
    await assertRejected(pool, 'SELECT sch_chameleon.start_replica($1)', [null], NULL_SOURCE);
    await assertRejected(pool, 'SELECT sch_chameleon.start_replica($1)', ['base'], {
      message: /source "base" has not been initialised/,
      code: SQLSTATE.notInPrerequisiteState,
      hint: /init_replica\('base'\)/,
    });
    await assertRejected(pool, 'SELECT sch_chameleon.start_replica($1)', ['broken'], {
      message: /source "broken" is in error: binlog file purged/,
      code: SQLSTATE.notInPrerequisiteState,
      hint: /enable_replica\('broken'\)/,
    });
  });

  test('stop_replica: unknown and NULL source', async () => {
    await assertRejected(pool, 'SELECT sch_chameleon.stop_replica($1)', ['nope'], UNKNOWN('nope'));
    await assertRejected(pool, 'SELECT sch_chameleon.stop_replica($1)', [null], NULL_SOURCE);
  });

  test('enable_replica: unknown, NULL, and a source that is not in error', async () => {
    await assertRejected(pool, 'SELECT sch_chameleon.enable_replica($1)', ['nope'], UNKNOWN('nope'));
    await assertRejected(pool, 'SELECT sch_chameleon.enable_replica($1)', [null], NULL_SOURCE);
    await assertRejected(pool, 'SELECT sch_chameleon.enable_replica($1)', ['base'], {
      message: /source "base" is not in error \(status ready\)/,
      code: SQLSTATE.notInPrerequisiteState,
    });
  });

  test('wait_command: unknown id, NULL id, negative or NULL timeout', async () => {
    await assertRejected(pool, 'SELECT * FROM sch_chameleon.wait_command($1, $2)', [987654321, '1 second'], {
      message: /unknown command 987654321/,
      code: SQLSTATE.undefinedObject,
      hint: /show_commands\(\)/,
    });
    await assertRejected(pool, 'SELECT * FROM sch_chameleon.wait_command($1, $2)', [null, '1 second'], {
      message: /command_id must not be null/,
      code: SQLSTATE.nullNotAllowed,
    });
    for (const timeout of ['-1 second', '-5 minutes', null]) {
      await assertRejected(pool, 'SELECT * FROM sch_chameleon.wait_command($1, $2)', [doneCommand, timeout], {
        message: /timeout must be a positive interval/,
        code: SQLSTATE.invalidParameter,
      });
    }
  });

  test('wait_command on a failed or cancelled command raises with its error', async () => {
    await assertRejected(pool, 'SELECT * FROM sch_chameleon.wait_command($1, $2)', [failedCommand, '1 second'], {
      message: new RegExp(`command ${failedCommand} \\(copy_schema\\) failed: boom`),
      code: SQLSTATE.externalRoutine,
      hint: /show_errors\(\)/,
    });
    await assertRejected(pool, 'SELECT * FROM sch_chameleon.wait_command($1, $2)', [cancelledCommand, '1 second'], {
      message: new RegExp(`command ${cancelledCommand} \\(init_replica\\) was cancelled: cancelled by postgres`),
      code: SQLSTATE.queryCanceled,
    });
  });

  test('cancel_command: unknown id and finished commands', async () => {
    await assertRejected(pool, 'SELECT sch_chameleon.cancel_command($1)', [987654321], {
      message: /unknown command 987654321/,
      code: SQLSTATE.undefinedObject,
    });
    for (const [id, state] of [[doneCommand, 'done'], [cancelledCommand, 'cancelled'], [failedCommand, 'failed']]) {
      await assertRejected(pool, 'SELECT sch_chameleon.cancel_command($1)', [id], {
        message: new RegExp(`command ${id} has already finished \\(${state}\\)`),
        code: SQLSTATE.notInPrerequisiteState,
      });
    }
  });

  test('show_tables: unknown and NULL source raise, a known source lists its tables', async () => {
    await assertRejected(pool, 'SELECT * FROM sch_chameleon.show_tables($1)', ['nope'], UNKNOWN('nope'));
    await assertRejected(pool, 'SELECT * FROM sch_chameleon.show_tables($1)', [null], NULL_SOURCE);
    const rows = (await pool.query(`SELECT mysql_schema, mysql_table, pg_schema, pg_table, state, primary_key FROM sch_chameleon.show_tables('base')`)).rows;
    assert.deepEqual(rows, [{ mysql_schema: 'shop', mysql_table: 'items', pg_schema: 'shop_pg', pg_table: 'items', state: 'pending', primary_key: ['id'] }]);
    assert.deepEqual((await pool.query(`SELECT * FROM sch_chameleon.show_tables('live')`)).rows, []);
  });

  test('wait_for_position: unknown and NULL source, malformed positions, bad timeouts', async () => {
    const wfp = 'SELECT sch_chameleon.wait_for_position($1, $2, $3)';
    await assertRejected(pool, wfp, ['nope', 'mysql-bin.000001:4', '1 second'], UNKNOWN('nope'));
    await assertRejected(pool, wfp, [null, 'mysql-bin.000001:4', '1 second'], NULL_SOURCE);
    for (const position of ['garbage', 'mysql-bin.000001', 'mysql-bin.000001:', 'mysql-bin.000001:12x', ':4', '0-1', '0-1-x', '0-1-2,', '']) {
      await assertRejected(pool, wfp, ['base', position, '1 second'], {
        message: new RegExp(`position "${position.replace(/[.]/g, '\\.')}" is neither file:position nor a MariaDB GTID`),
        code: SQLSTATE.invalidParameter,
        hint: /SHOW MASTER STATUS/,
      });
    }
    await assertRejected(pool, wfp, ['base', null, '1 second'], { message: /position and a positive timeout are required/, code: SQLSTATE.invalidParameter });
    await assertRejected(pool, wfp, ['base', 'mysql-bin.000001:4', '-1 second'], { message: /position and a positive timeout are required/ });
  });
});

describe('control functions that succeed write what they should', () => {
  let db: PgTestDatabase;
  let pool: pg.Pool;
  let defaults: Record<string, unknown>;

  const commandsOf = async (source: string): Promise<Array<Record<string, unknown>>> =>
    (await pool.query(`SELECT id, command, args, state, error FROM sch_chameleon.show_commands() WHERE source = $1 ORDER BY id`, [source])).rows;
  const sourceRow = async (source: string): Promise<Record<string, unknown>> =>
    one(pool, 'SELECT * FROM sch_chameleon.t_sources WHERE source_name = $1', [source]);
  const addSource = async (source: string, mappings: Record<string, string>, options: Record<string, unknown> = {}, url = MYSQL_URL): Promise<string> =>
    (await one<{ id: string }>(pool, 'SELECT sch_chameleon.add_source($1, $2, $3, $4) AS id', [source, url, mappings, options])).id;

  before(async () => {
    db = await freshCatalogue('ctl_accept');
    pool = db.pool;
    defaults = (await one<{ d: Record<string, unknown> }>(pool, 'SELECT sch_chameleon.fn_default_options() AS d')).d;
  });

  after(async () => {
    await db?.drop();
  });

  test('add_source returns the source id, stores options over the defaults and records a done command', async () => {
    const id = await addSource('p_add', { shop: 'p_add_shop', crm: 'p_add_crm' }, { replica_batch_size: 5000, skip_tables: ['shop.logs'] });
    assert.match(id, /^\d+$/);
    const row = await sourceRow('p_add');
    assert.equal(row.source_id, id);
    assert.equal(row.status, 'ready');
    assert.equal(row.replica_enabled, false);
    assert.equal(row.mysql_url, MYSQL_URL, 'the agent needs the MYSQL_URL as given');
    assert.deepEqual(row.schema_mappings, { shop: 'p_add_shop', crm: 'p_add_crm' });
    assert.deepEqual(row.options, { ...defaults, replica_batch_size: 5000, skip_tables: ['shop.logs'] });
    assert.equal((row.options as Record<string, unknown>).lock_timeout, '120s', 'untouched options keep their defaults');

    const shown = await one(pool, `SELECT * FROM sch_chameleon.show_sources() WHERE source = 'p_add'`);
    assert.equal(shown.source_id, id);
    assert.equal(shown.mysql_url, 'mysql://repl:********@db.example:3306/shop');
    assert.deepEqual(shown.options, row.options);

    assert.deepEqual(await commandsOf('p_add'), [
      {
        id: (await one<{ id: string }>(pool, `SELECT max(command_id) AS id FROM sch_chameleon.t_commands`)).id,
        command: 'add_source',
        args: { schema_mappings: { shop: 'p_add_shop', crm: 'p_add_crm' }, options: { replica_batch_size: 5000, skip_tables: ['shop.logs'] } },
        state: 'done',
        error: null,
      },
    ]);
  });

  test('every default option value is itself accepted', async () => {
    await addSource('p_defaults', { d_db: 'p_defaults_pg' }, defaults);
    assert.deepEqual((await sourceRow('p_defaults')).options, defaults);
  });

  test('copy_jobs: "auto" by default (the agent sizes it); 1 to 16 kept as given, and back to "auto"', async () => {
    const jobsOf = async (source: string): Promise<unknown> => ((await sourceRow(source)).options as Record<string, unknown>).copy_jobs;
    assert.equal(defaults.copy_jobs, 'auto');
    await addSource('p_jobs', { j_db: 'p_jobs_pg' });
    assert.equal(await jobsOf('p_jobs'), 'auto');
    for (const jobs of [1, 16, 4, 'auto']) {
      await pool.query('SELECT sch_chameleon.alter_source($1, $2)', ['p_jobs', { copy_jobs: jobs }]);
      assert.equal(await jobsOf('p_jobs'), jobs);
    }
    await addSource('p_jobs_16', { j16_db: 'p_jobs_16_pg' }, { copy_jobs: 16 });
    assert.equal(await jobsOf('p_jobs_16'), 16);
    const err = await failure(pool, 'SELECT sch_chameleon.alter_source($1, $2)', ['p_jobs', { copy_jobs: 'many' }]);
    assert.match(err.hint ?? '', /"auto" copies as many tables at once as the agent has CPU cores, from 1 to 8/);
  });

  test('valid values of every option kind are accepted as given', async () => {
    await pool.query('CREATE ROLE chameleon_ctl_test_reader NOLOGIN');
    try {
      const options = {
        // both forms README documents: "db.table" and "db.*"
        limit_tables: ['shop.items', 'shop.orders', 'crm.*'],
        skip_tables: ['shop.logs', 'audit.*'],
        grant_select_to: ['chameleon_ctl_test_reader'],
        lock_timeout: '30s',
        batch_retention: '7 days',
        my_server_id: 4294967295,
        replica_batch_size: 1,
        sleep_loop: 0.5,
        copy_max_memory: '1G',
        on_error_replay: 'exit',
        on_error_read: 'exit',
        auto_maintenance: '1 hour',
        gtid_enable: true,
        keep_existing_schema: true,
        skip_events: { insert: ['shop'], delete: ['shop.items'] },
        type_override: { 'tinyint(1)': { override_to: 'boolean', override_tables: ['*'] } },
        fillfactor: { '70': { tables: ['shop.items'] } },
      };
      await addSource('p_kinds', { k_db: 'p_kinds_pg' }, options);
      assert.deepEqual((await sourceRow('p_kinds')).options, { ...defaults, ...options });
    } finally {
      await pool.query(`SELECT sch_chameleon.drop_source('p_kinds')`).catch(() => undefined);
      await pool.query('DROP ROLE chameleon_ctl_test_reader');
    }
  });

  test('passwords appear in no column of show_sources(), show_status(), show_commands(), show_tables()', async () => {
    const atSecret = `pa@${SECRET}`;
    await addSource('p_secret', { s_db: 'p_secret_pg' }, {}, MYSQL_URL);
    // URL parsers take the password up to the last @, so an unencoded @ is part of it
    await addSource('p_secret_at', { sa_db: 'p_secret_at_pg' }, {}, `mysql://repl:${atSecret}@db.example/shop`);
    await failure(pool, 'SELECT sch_chameleon.add_source($1, $2, $3, $4)', ['p_secret_bad', MYSQL_URL, { sb_db: 'sb_pg' }, { nope: 1 }]);
    await pool.query(`SELECT sch_chameleon.init_replica('p_secret'), sch_chameleon.alter_source('p_secret_at', '{"sleep_loop": 2}')`);

    const masked = (await pool.query(`SELECT source, mysql_url FROM sch_chameleon.show_sources() WHERE source LIKE 'p\\_secret%' ORDER BY 1`)).rows;
    assert.deepEqual(masked, [
      { source: 'p_secret', mysql_url: 'mysql://repl:********@db.example:3306/shop' },
      { source: 'p_secret_at', mysql_url: 'mysql://repl:********@db.example/shop' },
    ]);
    const everything = JSON.stringify([
      (await pool.query('SELECT * FROM sch_chameleon.show_sources()')).rows,
      (await pool.query('SELECT * FROM sch_chameleon.show_status()')).rows,
      (await pool.query('SELECT * FROM sch_chameleon.show_commands()')).rows,
      (await pool.query(`SELECT * FROM sch_chameleon.show_tables('p_secret')`)).rows,
      (await pool.query('SELECT * FROM sch_chameleon.show_errors()')).rows,
    ]);
    assert.match(everything, /p_secret_at/, 'the listings do show the sources');
    assert.ok(!everything.includes(SECRET), 'no listing shows the password');
    assert.ok(!everything.includes('pa@'), 'no part of an @-holding password shows');
  });

  test('alter_source merges the given keys over the current options', async () => {
    await addSource('p_alter', { a_db: 'p_alter_pg' }, { replica_batch_size: 5000 });
    const first = await one<{ id: string }>(pool, `SELECT sch_chameleon.alter_source('p_alter', '{"sleep_loop": 3, "on_error_replay": "exit"}') AS id`);
    assert.deepEqual((await sourceRow('p_alter')).options, { ...defaults, replica_batch_size: 5000, sleep_loop: 3, on_error_replay: 'exit' });
    await pool.query(`SELECT sch_chameleon.alter_source('p_alter', '{"replica_batch_size": 20}')`);
    assert.deepEqual((await sourceRow('p_alter')).options, { ...defaults, replica_batch_size: 20, sleep_loop: 3, on_error_replay: 'exit' });
    const cmds = await commandsOf('p_alter');
    assert.deepEqual(
      cmds.map((c) => [c.command, c.state, c.args]),
      [
        ['add_source', 'done', { schema_mappings: { a_db: 'p_alter_pg' }, options: { replica_batch_size: 5000 } }],
        ['alter_source', 'done', { options: { sleep_loop: 3, on_error_replay: 'exit' } }],
        ['alter_source', 'done', { options: { replica_batch_size: 20 } }],
      ],
    );
    assert.equal(cmds[1].id, first.id, 'alter_source returns its command id');
  });

  test('update_schema_mappings replaces the mappings, moves and drops table rows, frees old targets', async () => {
    const id = await addSource('p_map', { a: 'p_map_a', b: 'p_map_b' });
    await pool.query(`INSERT INTO sch_chameleon.t_tables (source_id, mysql_schema, mysql_table, pg_schema, pg_table)
        VALUES ($1, 'a', 't1', 'p_map_a', 't1'), ($1, 'b', 't2', 'p_map_b', 't2')`, [id]);
    await pool.query(`SELECT sch_chameleon.update_schema_mappings('p_map', '{"a": "p_map_a2"}')`);
    assert.deepEqual((await sourceRow('p_map')).schema_mappings, { a: 'p_map_a2' });
    const tables = (await pool.query('SELECT mysql_schema, mysql_table, pg_schema FROM sch_chameleon.t_tables WHERE source_id = $1', [id])).rows;
    assert.deepEqual(tables, [{ mysql_schema: 'a', mysql_table: 't1', pg_schema: 'p_map_a2' }]);
    // a source may keep its own targets, and a freed target may go to another source
    await pool.query(`SELECT sch_chameleon.update_schema_mappings('p_map', '{"a": "p_map_a2", "c": "p_map_c"}')`);
    await addSource('p_map_other', { x: 'p_map_b' });
    assert.deepEqual((await commandsOf('p_map')).map((c) => [c.command, c.state]), [
      ['add_source', 'done'],
      ['update_schema_mappings', 'done'],
      ['update_schema_mappings', 'done'],
    ]);
  });

  test('init_replica, start_replica, refresh_schema, sync_tables and copy_schema queue pending commands in order', async () => {
    await addSource('p_queue', { q_db: 'p_queue_pg' });
    const init = (await one<{ id: string }>(pool, `SELECT sch_chameleon.init_replica('p_queue') AS id`)).id;
    const start = (await one<{ id: string }>(pool, `SELECT sch_chameleon.start_replica('p_queue') AS id`)).id;
    assert.ok(BigInt(start) > BigInt(init), 'ids follow the order of the calls');
    const cmds = await commandsOf('p_queue');
    assert.deepEqual(cmds.slice(1), [
      { id: init, command: 'init_replica', args: {}, state: 'pending', error: null },
      { id: start, command: 'start_replica', args: {}, state: 'pending', error: null },
    ]);
    const row = await sourceRow('p_queue');
    assert.equal(row.replica_enabled, true, 'start_replica records the intent at once');
    assert.equal(row.status, 'ready', 'the status is the agent\'s to change');

    // re-copies may be queued behind the init_replica that gives the source its position
    const refresh = (await one<{ id: string }>(pool, `SELECT sch_chameleon.refresh_schema('p_queue', 'q_db') AS id`)).id;
    const sync = (await one<{ id: string }>(pool, `SELECT sch_chameleon.sync_tables('p_queue', ARRAY['q_db.b', 'q_db.a', 'q_db.b']) AS id`)).id;
    const disabled = (await one<{ id: string }>(pool, `SELECT sch_chameleon.sync_tables('p_queue', ARRAY['disabled']) AS id`)).id;
    assert.deepEqual((await commandsOf('p_queue')).slice(3), [
      { id: refresh, command: 'refresh_schema', args: { mysql_schema: 'q_db' }, state: 'pending', error: null },
      { id: sync, command: 'sync_tables', args: { tables: ['q_db.b', 'q_db.a'] }, state: 'pending', error: null },
      { id: disabled, command: 'sync_tables', args: { tables: ['disabled'] }, state: 'pending', error: null },
    ]);

    await addSource('p_copy', { c_db: 'p_copy_pg' });
    const copy = (await one<{ id: string }>(pool, `SELECT sch_chameleon.copy_schema('p_copy') AS id`)).id;
    assert.deepEqual((await commandsOf('p_copy')).slice(1), [{ id: copy, command: 'copy_schema', args: {}, state: 'pending', error: null }]);
  });

  test('stop_replica completes at once when no agent holds the source, and queues otherwise', async () => {
    // a source an agent left running when it died: nothing to wait for
    await addSource('p_stop', { st_db: 'p_stop_pg' });
    await pool.query(`UPDATE sch_chameleon.t_sources SET status = 'running', replica_enabled = true WHERE source_name = 'p_stop'`);
    const id = (await one<{ id: string }>(pool, `SELECT sch_chameleon.stop_replica('p_stop') AS id`)).id;
    const [cmd] = (await pool.query('SELECT command, state, started_at IS NOT NULL AS started, finished_at IS NOT NULL AS finished FROM sch_chameleon.t_commands WHERE command_id = $1', [id])).rows;
    assert.deepEqual(cmd, { command: 'stop_replica', state: 'done', started: true, finished: true });
    const row = await sourceRow('p_stop');
    assert.equal(row.replica_enabled, false);
    assert.equal(row.status, 'stopped');

    // commands still queued: the stop waits its turn behind them
    const queued = (await one<{ id: string }>(pool, `SELECT sch_chameleon.stop_replica('p_queue') AS id`)).id;
    assert.deepEqual((await commandsOf('p_queue')).map((c) => [c.command, c.state]).slice(-1), [['stop_replica', 'pending']]);
    assert.equal((await commandsOf('p_queue')).at(-1)?.id, queued);
    assert.equal((await sourceRow('p_queue')).replica_enabled, false);

    // a live agent owns the source: it must do the stopping
    await addSource('p_owned', { o_db: 'p_owned_pg' });
    await pool.query(`UPDATE sch_chameleon.t_sources SET status = 'running', replica_enabled = true WHERE source_name = 'p_owned'`);
    await pool.query(`INSERT INTO sch_chameleon.t_source_leases (source_id, agent_id, expires_at)
        SELECT source_id, 'agent-1', now() + interval '1 minute' FROM sch_chameleon.t_sources WHERE source_name = 'p_owned'`);
    await pool.query(`SELECT sch_chameleon.stop_replica('p_owned')`);
    assert.deepEqual((await commandsOf('p_owned')).map((c) => [c.command, c.state]), [['add_source', 'done'], ['stop_replica', 'pending']]);
    const owned = await sourceRow('p_owned');
    assert.equal(owned.replica_enabled, false);
    assert.equal(owned.status, 'running', 'the owning agent reports stopped');
  });

  test('cancel_command cancels a pending command at once and flags a running one', async () => {
    await addSource('p_cancel', { cn_db: 'p_cancel_pg' });
    const init = (await one<{ id: string }>(pool, `SELECT sch_chameleon.init_replica('p_cancel') AS id`)).id;
    const start = (await one<{ id: string }>(pool, `SELECT sch_chameleon.start_replica('p_cancel') AS id`)).id;
    assert.equal((await one<{ r: string }>(pool, 'SELECT sch_chameleon.cancel_command($1) AS r', [start])).r, 'cancelled');
    const cancelled = await one(pool, 'SELECT state, error, finished_at IS NOT NULL AS finished, cancel_requested FROM sch_chameleon.t_commands WHERE command_id = $1', [start]);
    assert.deepEqual(cancelled, { state: 'cancelled', error: 'cancelled by postgres', finished: true, cancel_requested: false });
    assert.equal((await sourceRow('p_cancel')).replica_enabled, false, 'a cancelled start_replica withdraws the intent');

    await pool.query(`UPDATE sch_chameleon.t_commands SET state = 'running', started_at = now() WHERE command_id = $1`, [init]);
    assert.equal((await one<{ r: string }>(pool, 'SELECT sch_chameleon.cancel_command($1) AS r', [init])).r, 'cancel requested');
    const running = await one(pool, 'SELECT state, cancel_requested FROM sch_chameleon.t_commands WHERE command_id = $1', [init]);
    assert.deepEqual(running, { state: 'running', cancel_requested: true }, 'the agent finishes the cancellation');
  });

  test('wait_command returns the row of a finished command at once', async () => {
    await addSource('p_wait', { w_db: 'p_wait_pg' });
    const done = (await one<{ id: string }>(pool, `SELECT max(command_id) AS id FROM sch_chameleon.t_commands WHERE source_name = 'p_wait'`)).id;
    const row = await one(pool, `SELECT id, source, command, state, error FROM sch_chameleon.wait_command($1, '1 second')`, [done]);
    assert.deepEqual(row, { id: done, source: 'p_wait', command: 'add_source', state: 'done', error: null });
  });

  test('wait_command on a command of its own transaction raises instead of waiting', async () => {
    const before = await catalogState(pool);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const id = (await one<{ id: string }>(client, `SELECT sch_chameleon.init_replica('p_wait') AS id`)).id;
      const t0 = Date.now();
      const err = await failure(client, `SELECT * FROM sch_chameleon.wait_command($1, '30 seconds')`, [id]);
      assert.ok(Date.now() - t0 < 5000, 'it does not wait for the timeout');
      assertError(err, {
        message: new RegExp(`command ${id} was issued in this transaction and cannot run before it commits`),
        code: SQLSTATE.notInPrerequisiteState,
        hint: /Commit, then call wait_command\(\)/,
      }, 'wait_command in the same transaction');
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
    assert.deepEqual(await catalogState(pool), before, 'the rolled-back command left nothing');
  });

  test('wait_command on a command issued under a savepoint of its own transaction raises too', async () => {
    // psql's ON_ERROR_ROLLBACK and EXCEPTION blocks put every statement in a subtransaction
    const before = await catalogState(pool);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SAVEPOINT issue');
      const id = (await one<{ id: string }>(client, `SELECT sch_chameleon.init_replica('p_wait') AS id`)).id;
      await client.query('RELEASE SAVEPOINT issue');
      await client.query('SAVEPOINT wait');
      const t0 = Date.now();
      const err = await failure(client, `SELECT * FROM sch_chameleon.wait_command($1, '30 seconds')`, [id]);
      assert.ok(Date.now() - t0 < 5000, 'it does not wait for the timeout');
      assertError(err, { message: /was issued in this transaction and cannot run before it commits/, code: SQLSTATE.notInPrerequisiteState }, 'savepoint');
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
    assert.deepEqual(await catalogState(pool), before);
  });

  test('wait_command in a transaction that wrote other commands still waits for a committed one', async () => {
    const committed = (await one<{ id: string }>(pool, `SELECT sch_chameleon.copy_schema('p_wait') AS id`)).id;
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT sch_chameleon.init_replica('p_wait')`);
      const err = await failure(client, `SELECT * FROM sch_chameleon.wait_command($1, '100 milliseconds')`, [committed]);
      assertError(err, { message: new RegExp(`command ${committed} \\(copy_schema\\) still pending after`), code: SQLSTATE.queryCanceled }, 'committed command');
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
    assert.equal((await one<{ r: string }>(pool, 'SELECT sch_chameleon.cancel_command($1) AS r', [committed])).r, 'cancelled');
  });

  test('wait_command times out on a pending command, naming the state and hinting to start an agent', async () => {
    const id = (await one<{ id: string }>(pool, `SELECT sch_chameleon.init_replica('p_wait') AS id`)).id;
    const t0 = Date.now();
    const err = await failure(pool, `SELECT * FROM sch_chameleon.wait_command($1, '300 milliseconds')`, [id]);
    const elapsed = Date.now() - t0;
    assertError(err, {
      message: new RegExp(`command ${id} \\(init_replica\\) still pending after 00:00:00\\.3`),
      code: SQLSTATE.queryCanceled,
      hint: /Is an agent running\? Start one with: chameleon agent --pg URL/,
    }, 'wait_command timeout');
    assert.ok(elapsed >= 250 && elapsed < 5000, `waited about the timeout (${elapsed} ms)`);

    await pool.query(`UPDATE sch_chameleon.t_commands SET state = 'running', started_at = now() WHERE command_id = $1`, [id]);
    const running = await failure(pool, `SELECT * FROM sch_chameleon.wait_command($1, '100 milliseconds')`, [id]);
    assertError(running, { message: /still running after/, hint: /It goes on running; call wait_command\(\) again/ }, 'running timeout');
  });

  test('drop_source cancels pending commands, removes catalogue rows and records a done drop_source', async () => {
    const sourceId = await addSource('p_drop', { d_db: 'p_drop_pg' });
    await pool.query(`INSERT INTO sch_chameleon.t_tables (source_id, mysql_schema, mysql_table, pg_schema, pg_table) VALUES ($1, 'd_db', 't', 'p_drop_pg', 't')`, [sourceId]);
    await pool.query(`INSERT INTO sch_chameleon.t_source_leases (source_id, agent_id, expires_at) VALUES ($1, 'agent-1', now() + interval '1 minute')`, [sourceId]);
    const init = (await one<{ id: string }>(pool, `SELECT sch_chameleon.init_replica('p_drop') AS id`)).id;
    const start = (await one<{ id: string }>(pool, `SELECT sch_chameleon.start_replica('p_drop') AS id`)).id;
    await pool.query(`UPDATE sch_chameleon.t_commands SET state = 'running' WHERE command_id = $1`, [init]);

    const drop = (await one<{ id: string }>(pool, `SELECT sch_chameleon.drop_source('p_drop') AS id`)).id;
    const left = await one<Record<string, number>>(pool, `
      SELECT (SELECT count(*) FROM sch_chameleon.t_sources WHERE source_id = $1)::int AS sources,
             (SELECT count(*) FROM sch_chameleon.t_tables WHERE source_id = $1)::int AS tables,
             (SELECT count(*) FROM sch_chameleon.t_source_leases WHERE source_id = $1)::int AS leases,
             (SELECT count(*) FROM sch_chameleon.show_sources() WHERE source = 'p_drop')::int AS shown`, [sourceId]);
    assert.deepEqual(left, { sources: 0, tables: 0, leases: 0, shown: 0 });

    const cmds = (await pool.query(`SELECT command_id AS id, source_id, command, state, error, cancel_requested
        FROM sch_chameleon.t_commands WHERE source_name = 'p_drop' ORDER BY command_id`)).rows;
    assert.deepEqual(cmds, [
      { id: cmds[0].id, source_id: null, command: 'add_source', state: 'done', error: null, cancel_requested: false },
      { id: init, source_id: null, command: 'init_replica', state: 'running', error: null, cancel_requested: true },
      { id: start, source_id: null, command: 'start_replica', state: 'cancelled', error: 'source dropped', cancel_requested: false },
      { id: drop, source_id: null, command: 'drop_source', state: 'done', error: null, cancel_requested: false },
    ]);

    // the name and the target schema are free again
    await addSource('p_drop', { d_db: 'p_drop_pg' });
  });

  test('enable_replica clears the error state', async () => {
    await addSource('p_err_read', { er_db: 'p_err_read_pg' });
    await addSource('p_err_new', { en_db: 'p_err_new_pg' });
    await pool.query(`UPDATE sch_chameleon.t_sources SET status = 'error', last_error = 'boom', replica_enabled = true,
        read_file = CASE source_name WHEN 'p_err_read' THEN 'mysql-bin.000002' END, read_pos = 4 WHERE source_name IN ('p_err_read', 'p_err_new')`);
    await pool.query(`SELECT sch_chameleon.enable_replica('p_err_read'), sch_chameleon.enable_replica('p_err_new')`);
    const rows = (await pool.query(`SELECT source_name, status, last_error, replica_enabled FROM sch_chameleon.t_sources
        WHERE source_name IN ('p_err_read', 'p_err_new') ORDER BY 1`)).rows;
    assert.deepEqual(rows, [
      { source_name: 'p_err_new', status: 'ready', last_error: null, replica_enabled: false },
      { source_name: 'p_err_read', status: 'stopped', last_error: null, replica_enabled: false },
    ]);
    assert.deepEqual((await commandsOf('p_err_read')).map((c) => [c.command, c.state]).at(-1), ['enable_replica', 'done']);
  });

  test('wait_for_position returns once the replay has reached a file:position or GTID, and times out otherwise', async () => {
    await addSource('p_pos', { ps_db: 'p_pos_pg' });
    await pool.query(`UPDATE sch_chameleon.t_sources SET replay_file = 'mysql-bin.000003', replay_pos = 500, replay_gtid = '0-1-42'
        WHERE source_name = 'p_pos'`);
    const wfp = 'SELECT sch_chameleon.wait_for_position($1, $2, $3) AS at';
    for (const position of ['mysql-bin.000003:500', 'mysql-bin.000002:9999', '0-1-42', '0-1-7']) {
      assert.equal((await one<{ at: string }>(pool, wfp, ['p_pos', position, '1 second'])).at, 'mysql-bin.000003:500 (0-1-42)', position);
    }
    for (const position of ['mysql-bin.000003:501', '0-1-43', '1-1-1']) {
      const err = await failure(pool, wfp, ['p_pos', position, '100 milliseconds']);
      assertError(err, {
        message: new RegExp(`position ${position} of source "p_pos" not applied after 00:00:00\\.1 \\(replay is at mysql-bin\\.000003:500 \\(0-1-42\\)\\)`),
        code: SQLSTATE.queryCanceled,
      }, position);
    }
    await pool.query(`UPDATE sch_chameleon.t_sources SET status = 'error', last_error = 'table excluded' WHERE source_name = 'p_pos'`);
    const err = await failure(pool, wfp, ['p_pos', 'mysql-bin.000009:4', '10 seconds']);
    assertError(err, { message: /source "p_pos" is in error: table excluded/, code: SQLSTATE.notInPrerequisiteState }, 'in error');
  });

  test('commands issued in a rolled-back transaction leave no row and wake no agent', async () => {
    await addSource('p_tx_existing', { tx_db: 'p_tx_pg' });
    const listener = new pg.Client({ connectionString: db.url });
    listener.on('error', () => undefined);
    await listener.connect();
    const notes: Array<{ command_id: number; source: string }> = [];
    listener.on('notification', (n) => notes.push(JSON.parse(n.payload ?? 'null') as { command_id: number; source: string }));
    await listener.query('LISTEN chameleon_commands');
    try {
      const before = await catalogState(pool);
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SELECT sch_chameleon.add_source('p_tx_new', $1, '{"txn_db": "p_txn_pg"}')`, [MYSQL_URL]);
        await client.query(`SELECT sch_chameleon.init_replica('p_tx_new'), sch_chameleon.start_replica('p_tx_new')`);
        await client.query(`SELECT sch_chameleon.init_replica('p_tx_existing'), sch_chameleon.copy_schema('p_tx_existing')`);
        await client.query(`SELECT sch_chameleon.alter_source('p_tx_existing', '{"sleep_loop": 9}')`);
        await client.query(`SELECT sch_chameleon.stop_replica('p_tx_existing'), sch_chameleon.drop_source('p_tx_existing')`);
        assert.equal((await catalogState(client)).sources, (before.sources as number), 'inside: one added, one dropped');
        await client.query('ROLLBACK');
      } finally {
        client.release();
      }
      assert.deepEqual(await catalogState(pool), before, 'nothing of the rolled-back transaction remains');

      const committed = (await one<{ id: string }>(pool, `SELECT sch_chameleon.init_replica('p_tx_existing') AS id`)).id;
      const deadline = Date.now() + 3000;
      while (notes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // a late notification of the rolled-back commands would arrive by now too
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(notes, [{ command_id: Number(committed), source: 'p_tx_existing' }]);
    } finally {
      await listener.end();
    }
  });
});

describe('stop_all_replicas', () => {
  let db: PgTestDatabase;

  before(async () => {
    db = await freshCatalogue('ctl_stop_all');
  });

  after(async () => {
    await db?.drop();
  });

  test('with nothing running it returns no command and writes nothing', async () => {
    const empty = await catalogState(db.pool);
    assert.deepEqual((await db.pool.query('SELECT * FROM sch_chameleon.stop_all_replicas()')).rows, []);
    assert.deepEqual(await catalogState(db.pool), empty);

    await db.pool.query(`SELECT sch_chameleon.add_source('idle', $1, '{"i_db": "idle_pg"}')`, [MYSQL_URL]);
    const idle = await catalogState(db.pool);
    assert.deepEqual((await db.pool.query('SELECT * FROM sch_chameleon.stop_all_replicas()')).rows, []);
    assert.deepEqual(await catalogState(db.pool), idle, 'a stopped source is left alone');
  });

  test('stops every running or enabled source and leaves the others', async () => {
    await db.pool.query(`SELECT sch_chameleon.add_source('orphan', $1, '{"o_db": "orphan_pg"}')`, [MYSQL_URL]);
    await db.pool.query(`UPDATE sch_chameleon.t_sources SET status = 'running', replica_enabled = true WHERE source_name = 'orphan'`);
    await db.pool.query(`SELECT sch_chameleon.add_source('queued', $1, '{"q_db": "queued_pg"}')`, [MYSQL_URL]);
    await db.pool.query(`SELECT sch_chameleon.init_replica('queued'), sch_chameleon.start_replica('queued')`);

    const ids = (await db.pool.query<{ id: string }>('SELECT id FROM sch_chameleon.stop_all_replicas() AS id')).rows.map((r) => r.id);
    const stops = (await db.pool.query(`SELECT command_id AS id, source_name, state FROM sch_chameleon.t_commands
        WHERE command = 'stop_replica' ORDER BY source_name`)).rows;
    assert.deepEqual(stops, [
      { id: ids[0], source_name: 'orphan', state: 'done' },
      { id: ids[1], source_name: 'queued', state: 'pending' },
    ]);
    const sources = (await db.pool.query('SELECT source_name, status, replica_enabled FROM sch_chameleon.t_sources ORDER BY 1')).rows;
    assert.deepEqual(sources, [
      { source_name: 'idle', status: 'ready', replica_enabled: false },
      { source_name: 'orphan', status: 'stopped', replica_enabled: false },
      { source_name: 'queued', status: 'ready', replica_enabled: false },
    ]);
  });
});
