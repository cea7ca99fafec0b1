import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { installCatalog } from '../../src/catalog/installer.js';
import { createPgDatabase, testPgUrl, uniqueName, type PgTestDatabase } from '../harness/db.js';

/**
 * SPEC §1 permissions: only chameleon_admin (and superusers) control,
 * chameleon_monitor reads the status functions, PUBLIC gets nothing, and
 * every function runs with a fixed search_path.
 */

const SECRET = 'perm-s3cr3t';
const MYSQL_URL = `mysql://repl:${SECRET}@db.example/shop`;
const PERMISSION_DENIED = '42501';

const STATUS_FUNCTIONS = [
  'show_status()',
  'show_sources()',
  'show_commands()',
  'show_tables(text)',
  'show_errors()',
  'show_discarded_rows()',
  'show_ddl(text)',
  'show_verify(text)',
];

const CONTROL_FUNCTIONS = [
  'add_source(text,text,jsonb,jsonb)',
  'alter_source(text,jsonb)',
  'update_schema_mappings(text,jsonb)',
  'drop_source(text)',
  'init_replica(text)',
  'copy_schema(text)',
  'refresh_schema(text,text)',
  'sync_tables(text,text[])',
  'start_replica(text)',
  'stop_replica(text)',
  'stop_all_replicas()',
  'enable_replica(text)',
  'wait_command(bigint,interval)',
  'cancel_command(bigint)',
  'wait_for_position(text,text,interval)',
  'run_maintenance(text,boolean)',
  'detach_replica(text)',
  'cutover(text,interval)',
  'resolve_ddl(bigint,text)',
  'verify(text,text[])',
  'repair(text,text)',
];

/**
 * resolve_ddl runs as its caller (the operator's statement gets the caller's
 * privileges, never the owner's); these run its catalogue part as the owner.
 */
const RESOLVE_HELPERS = ['fn_require_quarantined(bigint)', 'fn_resume_quarantined(bigint,text)'];

/** One call per control function, with arguments that would pass validation for a caller allowed to run it. */
const CONTROL_CALLS: Array<[string, string, unknown[]]> = [
  ['add_source', 'SELECT sch_chameleon.add_source($1, $2, $3)', ['intruder', MYSQL_URL, { x_db: 'x_pg' }]],
  ['alter_source', `SELECT sch_chameleon.alter_source('shop', '{"sleep_loop": 2}')`, []],
  ['update_schema_mappings', `SELECT sch_chameleon.update_schema_mappings('shop', '{"shop": "shop_pg"}')`, []],
  ['drop_source', `SELECT sch_chameleon.drop_source('shop')`, []],
  ['init_replica', `SELECT sch_chameleon.init_replica('shop')`, []],
  ['copy_schema', `SELECT sch_chameleon.copy_schema('shop')`, []],
  ['refresh_schema', `SELECT sch_chameleon.refresh_schema('shop', 'shop')`, []],
  ['sync_tables', `SELECT sch_chameleon.sync_tables('shop', ARRAY['shop.items'])`, []],
  ['start_replica', `SELECT sch_chameleon.start_replica('shop')`, []],
  ['stop_replica', `SELECT sch_chameleon.stop_replica('shop')`, []],
  ['stop_all_replicas', 'SELECT * FROM sch_chameleon.stop_all_replicas()', []],
  ['enable_replica', `SELECT sch_chameleon.enable_replica('shop')`, []],
  ['wait_command', `SELECT * FROM sch_chameleon.wait_command(1, '1 second')`, []],
  ['cancel_command', 'SELECT sch_chameleon.cancel_command(1)', []],
  ['wait_for_position', `SELECT sch_chameleon.wait_for_position('shop', 'mysql-bin.000001:4', '1 second')`, []],
  ['run_maintenance', `SELECT sch_chameleon.run_maintenance('shop')`, []],
  ['detach_replica', `SELECT sch_chameleon.detach_replica('shop')`, []],
  ['cutover', `SELECT sch_chameleon.cutover('shop', '1 minute')`, []],
  ['resolve_ddl', `SELECT sch_chameleon.resolve_ddl(1, '')`, []],
  ['verify', `SELECT sch_chameleon.verify('shop')`, []],
  ['repair', `SELECT sch_chameleon.repair('shop', 'shop.items')`, []],
];

interface PgError {
  message: string;
  code?: string;
}

async function failure(c: pg.Client, text: string, params: unknown[] = []): Promise<PgError> {
  const outcome = await c.query(text, params).then(
    (res) => ({ ok: true as const, rows: res.rows }),
    (err: unknown) => ({ ok: false as const, err: err as PgError }),
  );
  if (outcome.ok) assert.fail(`expected ${text} to fail, it returned ${JSON.stringify(outcome.rows)}`);
  return outcome.err;
}

async function assertDenied(c: pg.Client, text: string, what: RegExp, params: unknown[] = []): Promise<void> {
  const err = await failure(c, text, params);
  assert.equal(err.code, PERMISSION_DENIED, `${text}: expected permission denied, got "${err.message}"`);
  assert.match(err.message, what, text);
}

let db: PgTestDatabase;
let adminRole: string;
let monitorRole: string;
let plainRole: string;
const clients: pg.Client[] = [];

/** Roles are cluster-wide: the cluster's superuser creates them, and they are dropped in after(). */
async function withSuperuser<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: testPgUrl() });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function connectAs(role: string): Promise<pg.Client> {
  const u = new URL(db.url);
  u.username = role;
  u.password = '';
  const c = new pg.Client({ connectionString: u.toString() });
  c.on('error', () => undefined);
  await c.connect();
  clients.push(c);
  const who = await c.query<{ u: string }>('SELECT current_user AS u');
  assert.equal(who.rows[0].u, role, 'connected as the test role');
  return c;
}

before(async () => {
  db = await createPgDatabase('perm');
  await installCatalog(db.url);
  adminRole = uniqueName('chm_test_admin');
  monitorRole = uniqueName('chm_test_monitor');
  plainRole = uniqueName('chm_test_plain');
  await withSuperuser(async (c) => {
    await c.query(`CREATE ROLE ${adminRole} LOGIN IN ROLE chameleon_admin`);
    await c.query(`CREATE ROLE ${monitorRole} LOGIN IN ROLE chameleon_monitor`);
    await c.query(`CREATE ROLE ${plainRole} LOGIN`);
  });
  await db.pool.query(`SELECT sch_chameleon.add_source('shop', $1, '{"shop": "shop_pg"}')`, [MYSQL_URL]);
});

after(async () => {
  for (const c of clients) await c.end().catch(() => undefined);
  await db?.drop();
  await withSuperuser(async (c) => {
    for (const role of [adminRole, monitorRole, plainRole]) {
      if (role) await c.query(`DROP ROLE IF EXISTS ${role}`);
    }
  });
});

describe('roles', () => {
  test('chameleon_admin and chameleon_monitor exist, cannot log in, and an admin is a monitor', async () => {
    const roles = (await db.pool.query(`SELECT rolname, rolcanlogin, rolsuper FROM pg_roles
        WHERE rolname IN ('chameleon_admin', 'chameleon_monitor') ORDER BY 1`)).rows;
    assert.deepEqual(roles, [
      { rolname: 'chameleon_admin', rolcanlogin: false, rolsuper: false },
      { rolname: 'chameleon_monitor', rolcanlogin: false, rolsuper: false },
    ]);
    const member = await db.pool.query(`SELECT pg_has_role('chameleon_admin', 'chameleon_monitor', 'MEMBER') AS m`);
    assert.equal(member.rows[0].m, true);
  });

  test('EXECUTE is granted to exactly the status functions (monitor) and status plus control functions (admin)', async () => {
    const rows = (await db.pool.query<{ fn: string; monitor: boolean; admin: boolean; public: boolean }>(`
      SELECT regexp_replace(p.oid::regprocedure::text, '^sch_chameleon\\.', '') AS fn,
             has_function_privilege('chameleon_monitor', p.oid, 'EXECUTE') AS monitor,
             has_function_privilege('chameleon_admin', p.oid, 'EXECUTE') AS admin,
             has_function_privilege('public', p.oid, 'EXECUTE') AS public
      FROM pg_proc p WHERE p.pronamespace = 'sch_chameleon'::regnamespace`)).rows;
    const names = (f: (r: (typeof rows)[number]) => boolean): string[] => rows.filter(f).map((r) => r.fn.replace(/ /g, '')).sort();
    assert.deepEqual(names((r) => r.monitor), [...STATUS_FUNCTIONS].sort());
    assert.deepEqual(names((r) => r.admin), [...STATUS_FUNCTIONS, ...CONTROL_FUNCTIONS, ...RESOLVE_HELPERS].sort());
    assert.deepEqual(names((r) => r.public), []);
  });

  test('no table, sequence or function of the schema is reachable by PUBLIC', async () => {
    const res = await db.pool.query(`
      SELECT has_schema_privilege('public', 'sch_chameleon', 'USAGE') AS schema_usage,
             (SELECT count(*) FROM pg_class c
               WHERE c.relnamespace = 'sch_chameleon'::regnamespace AND c.relkind IN ('r', 'v', 'S', 'p')
                 AND (has_table_privilege('public', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                      OR (c.relkind = 'S' AND has_sequence_privilege('public', c.oid, 'USAGE, SELECT, UPDATE'))))::int AS relations,
             (SELECT count(*) FROM pg_class c
               WHERE c.relnamespace = 'sch_chameleon'::regnamespace AND c.relkind IN ('r', 'v', 'p')
                 AND (has_table_privilege('chameleon_monitor', c.oid, 'SELECT')
                      OR has_table_privilege('chameleon_admin', c.oid, 'SELECT')))::int AS readable_by_roles`);
    assert.deepEqual(res.rows[0], { schema_usage: false, relations: 0, readable_by_roles: 0 });
  });
});

describe('a member of chameleon_monitor', () => {
  let c: pg.Client;
  before(async () => {
    c = await connectAs(monitorRole);
  });

  test('reads every status function', async () => {
    const sources = (await c.query('SELECT source, mysql_url, schema_mappings FROM sch_chameleon.show_sources()')).rows;
    assert.deepEqual(sources, [{ source: 'shop', mysql_url: 'mysql://repl:********@db.example/shop', schema_mappings: { shop: 'shop_pg' } }]);
    const status = (await c.query('SELECT source, status, pending_batches FROM sch_chameleon.show_status()')).rows;
    assert.deepEqual(status, [{ source: 'shop', status: 'ready', pending_batches: '0' }]);
    const commands = (await c.query('SELECT source, command, state FROM sch_chameleon.show_commands()')).rows;
    assert.deepEqual(commands, [{ source: 'shop', command: 'add_source', state: 'done' }]);
    assert.deepEqual((await c.query(`SELECT * FROM sch_chameleon.show_tables('shop')`)).rows, []);
    assert.deepEqual((await c.query('SELECT * FROM sch_chameleon.show_errors()')).rows, []);
    assert.deepEqual((await c.query('SELECT * FROM sch_chameleon.show_discarded_rows()')).rows, []);
  });

  test('gets the unknown-source error from show_tables, not permission denied', async () => {
    const err = await failure(c, `SELECT * FROM sch_chameleon.show_tables('x')`);
    assert.equal(err.code, '42704');
    assert.match(err.message, /unknown source "x"/);
  });

  test('is denied every control function', async () => {
    const before = await db.pool.query('SELECT count(*)::int AS n FROM sch_chameleon.t_commands');
    for (const [fn, text, params] of CONTROL_CALLS) {
      await assertDenied(c, text, new RegExp(`permission denied for function ${fn}`), params);
    }
    const afterCount = await db.pool.query('SELECT count(*)::int AS n FROM sch_chameleon.t_commands');
    assert.equal(afterCount.rows[0].n, before.rows[0].n, 'no command was recorded');
  });

  test('is denied the catalogue tables and the internal functions', async () => {
    await assertDenied(c, 'SELECT mysql_url FROM sch_chameleon.t_sources', /permission denied for table t_sources/);
    await assertDenied(c, 'SELECT * FROM sch_chameleon.t_commands', /permission denied for table t_commands/);
    await assertDenied(c, `UPDATE sch_chameleon.t_sources SET status = 'error'`, /permission denied for table t_sources/);
    await assertDenied(c, 'SELECT sch_chameleon.fn_default_options()', /permission denied for function fn_default_options/);
    await assertDenied(c, `SELECT sch_chameleon.fn_source('shop')`, /permission denied for function fn_source/);
  });
});

describe('a member of chameleon_admin', () => {
  let c: pg.Client;
  before(async () => {
    c = await connectAs(adminRole);
  });

  test('runs the control functions, which write as their owner', async () => {
    const id = (await c.query<{ id: string }>(`SELECT sch_chameleon.add_source('by_admin', $1, '{"adm_db": "adm_pg"}', '{"sleep_loop": 2}') AS id`, [MYSQL_URL])).rows[0].id;
    assert.match(id, /^\d+$/);
    const init = (await c.query<{ id: string }>(`SELECT sch_chameleon.init_replica('by_admin') AS id`)).rows[0].id;
    assert.equal((await c.query<{ r: string }>('SELECT sch_chameleon.cancel_command($1) AS r', [init])).rows[0].r, 'cancelled');
    await c.query(`SELECT sch_chameleon.alter_source('by_admin', '{"sleep_loop": 5}')`);

    const row = (await db.pool.query(`SELECT source_id, mysql_url, options->'sleep_loop' AS sleep_loop FROM sch_chameleon.t_sources WHERE source_name = 'by_admin'`)).rows;
    assert.deepEqual(row, [{ source_id: id, mysql_url: MYSQL_URL, sleep_loop: 5 }]);
    const cmds = (await db.pool.query(`SELECT command, state, created_by FROM sch_chameleon.t_commands WHERE source_name = 'by_admin' ORDER BY command_id`)).rows;
    assert.deepEqual(cmds, [
      { command: 'add_source', state: 'done', created_by: adminRole },
      { command: 'init_replica', state: 'cancelled', created_by: adminRole },
      { command: 'alter_source', state: 'done', created_by: adminRole },
    ]);
    const dropped = (await c.query<{ id: string }>(`SELECT sch_chameleon.drop_source('by_admin') AS id`)).rows[0].id;
    assert.match(dropped, /^\d+$/);
    assert.equal((await db.pool.query(`SELECT count(*)::int AS n FROM sch_chameleon.t_sources WHERE source_name = 'by_admin'`)).rows[0].n, 0);
  });

  test('reads the status functions too', async () => {
    const sources = (await c.query('SELECT source, mysql_url FROM sch_chameleon.show_sources()')).rows;
    assert.deepEqual(sources, [{ source: 'shop', mysql_url: 'mysql://repl:********@db.example/shop' }]);
  });

  test('still cannot read the tables holding the password, nor call internal functions', async () => {
    await assertDenied(c, 'SELECT mysql_url FROM sch_chameleon.t_sources', /permission denied for table t_sources/);
    await assertDenied(c, 'SELECT * FROM sch_chameleon.t_tables', /permission denied for table t_tables/);
    await assertDenied(c, `INSERT INTO sch_chameleon.t_commands (command) VALUES ('init_replica')`, /permission denied for table t_commands/);
    await assertDenied(c, `SELECT sch_chameleon.fn_source('shop')`, /permission denied for function fn_source/);
    await assertDenied(c, `SELECT sch_chameleon.fn_mask_url('mysql://a:b@c')`, /permission denied for function fn_mask_url/);
  });
});

describe('a role with only PUBLIC rights', () => {
  test('can call nothing and read nothing in the schema', async () => {
    const c = await connectAs(plainRole);
    const schemaDenied = /permission denied for schema sch_chameleon/;
    for (const fn of ['show_status()', 'show_sources()', 'show_commands()', `show_tables('shop')`, 'show_errors()']) {
      await assertDenied(c, `SELECT * FROM sch_chameleon.${fn}`, schemaDenied);
    }
    for (const [, text, params] of CONTROL_CALLS) await assertDenied(c, text, schemaDenied, params);
    await assertDenied(c, 'SELECT * FROM sch_chameleon.t_sources', schemaDenied);
    await assertDenied(c, 'SELECT * FROM sch_chameleon.t_version', schemaDenied);
    const n = (await db.pool.query(`SELECT count(*)::int AS n FROM sch_chameleon.t_sources WHERE source_name = 'intruder'`)).rows[0].n;
    assert.equal(n, 0);
  });
});

describe('function definitions', () => {
  test('every function has a fixed search_path ending in pg_temp', async () => {
    const rows = (await db.pool.query<{ fn: string; config: string[] | null }>(`
      SELECT p.oid::regprocedure::text AS fn, p.proconfig AS config
      FROM pg_proc p WHERE p.pronamespace = 'sch_chameleon'::regnamespace ORDER BY 1`)).rows;
    assert.ok(rows.length >= STATUS_FUNCTIONS.length + CONTROL_FUNCTIONS.length, 'the functions are there');
    // pg_temp listed last keeps temporary objects of the caller from shadowing catalog names
    const bad = rows.filter((r) => !(r.config ?? []).some((s) => /^search_path=.*\bpg_temp$/.test(s))).map((r) => `${r.fn} ${JSON.stringify(r.config)}`);
    assert.deepEqual(bad, []);
  });

  test('SECURITY DEFINER is exactly the control and status functions (resolve_ddl: its owner-side helpers)', async () => {
    const secdef = (await db.pool.query<{ fn: string }>(`
      SELECT regexp_replace(p.oid::regprocedure::text, '^sch_chameleon\\.', '') AS fn
      FROM pg_proc p WHERE p.pronamespace = 'sch_chameleon'::regnamespace AND p.prosecdef`)).rows.map((r) => r.fn.replace(/ /g, ''));
    const definer = [...STATUS_FUNCTIONS, ...CONTROL_FUNCTIONS.filter((f) => f !== 'resolve_ddl(bigint,text)'), ...RESOLVE_HELPERS];
    assert.deepEqual(secdef.sort(), definer.sort());
  });

  test('every function has a comment', async () => {
    const missing = (await db.pool.query<{ fn: string }>(`
      SELECT p.oid::regprocedure::text AS fn FROM pg_proc p
      WHERE p.pronamespace = 'sch_chameleon'::regnamespace
        AND coalesce(obj_description(p.oid, 'pg_proc'), '') = ''`)).rows.map((r) => r.fn);
    assert.deepEqual(missing, []);
  });
});
