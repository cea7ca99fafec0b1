/**
 * The command line as people and scripts use it: bin/chameleon.js run as a
 * child process against the test PostgreSQL and MariaDB. Every sub-command
 * refuses what it does not know before it connects anywhere; the control
 * sub-commands call their SQL functions and follow queued commands to the
 * end, with a progress line that still ends when nobody watches a terminal.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { commands } from '../../src/cli/commands/index.js';
import { createMysqlDatabase, createPgDatabase, type MysqlTestDatabase, type PgTestDatabase } from '../harness/db.js';
import { startAgentProcess, type AgentProcess } from '../harness/replica.js';
import { serverUrl } from '../harness/snapshot.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'chameleon.js');
const SECRET = 'Cli-s3cret-pw';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `chameleon <args>` with stdout and stderr on pipes (not terminals)
 * and no connection in the environment: --pg is the only way in.
 */
function chameleon(args: string[], timeoutMs = 60_000): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'DATABASE_URL' && !/^PG[A-Z]+$/.test(k)));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chameleon ${args.join(' ')} did not end in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs at most `limit` at once: the machine is shared. */
async function inBatches<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += limit) out.push(...(await Promise.all(items.slice(i, i + limit).map(fn))));
  return out;
}

let pgdb: PgTestDatabase;
let my: MysqlTestDatabase;
let agent: AgentProcess | null = null;
let mysqlUrl: string;

/** Everything the control functions write, to show that a refused call wrote nothing. */
async function catalogue(pool: pg.Pool): Promise<unknown> {
  const res = await pool.query(`SELECT (SELECT coalesce(jsonb_agg(s ORDER BY s.source_id), '[]') FROM sch_chameleon.t_sources s) AS sources,
                                       (SELECT coalesce(jsonb_agg(c ORDER BY c.command_id), '[]') FROM sch_chameleon.t_commands c) AS commands,
                                       (SELECT count(*)::int FROM sch_chameleon.t_tables) AS tables`);
  return res.rows[0];
}

before(async () => {
  pgdb = await createPgDatabase('cli');
  my = await createMysqlDatabase('cli');
  mysqlUrl = serverUrl(my.url);
  await my.conn.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)');
  await my.conn.query("INSERT INTO items SELECT seq, CONCAT('item ', seq) FROM seq_1_to_1234");
  await my.conn.query('CREATE TABLE tags (tag VARCHAR(20) PRIMARY KEY)');
  await my.conn.query("INSERT INTO tags VALUES ('a'), ('b'), ('c')");
  await my.conn.query('ANALYZE TABLE items, tags');
});

after(async () => {
  await agent?.stop();
  await my?.drop();
  await pgdb?.drop();
});

test('install creates the catalogue; a second install reports it current', async () => {
  const first = await chameleon(['install', '--pg', pgdb.url]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^sch_chameleon \S+ installed\n$/);
  const second = await chameleon(['install', '--pg', pgdb.url]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^sch_chameleon \S+ is already installed\n$/);
  const v = await pgdb.pool.query('SELECT count(*)::int AS n FROM sch_chameleon.t_version');
  assert.equal(v.rows[0].n, 1);
});

test('every sub-command refuses an unknown flag, naming it, and writes nothing', async () => {
  const before = await catalogue(pgdb.pool);
  const names = Object.keys(commands);
  assert.ok(names.includes('init-replica') && names.includes('add-source') && names.includes('demo'));
  // the rest would be complete for most: the unknown flag alone stops them
  const runs = await inBatches(names, 4, async (name) => ({ name, run: await chameleon([name, '--no-such-flag', 'x', '--pg', pgdb.url, '--source', 's']) }));
  for (const { name, run } of runs) {
    assert.equal(run.code, 2, `${name}: exit code (stderr: ${run.stderr})`);
    assert.match(run.stderr, new RegExp(`^chameleon ${name}: unknown flag --no-such-flag \\(flags: `), name);
    assert.match(run.stderr, new RegExp(`Usage: chameleon ${name} `), `${name} shows its usage`);
    assert.equal(run.stdout, '', `${name} prints nothing on stdout`);
  }
  // a call that would otherwise be complete is refused whole
  const add = await chameleon(['add-source', '--pg', pgdb.url, '--source', 'typo', '--mysql', mysqlUrl, '--mappings', `{"${my.name}": "typo"}`, '--option', '{}']);
  assert.equal(add.code, 2);
  assert.match(add.stderr, /unknown flag --option \(flags: --pg, --source, --mysql, --mappings, --options\)/);
  assert.deepEqual(await catalogue(pgdb.pool), before);
});

test('bad flag values, missing flags and stray arguments: a clear error naming the flag, nothing written', async () => {
  const pgUrl = pgdb.url;
  const addSource = (mappings: string, extra: string[] = []): string[] =>
    ['add-source', '--pg', pgUrl, '--source', 'bad', '--mysql', `mysql://repl:${SECRET}@127.0.0.1:1`, '--mappings', mappings, ...extra];
  const cases: Array<[string[], RegExp, number?]> = [
    [addSource('{bad'), /^chameleon add-source: --mappings is not valid JSON \(/],
    [addSource('["shop"]'), /^chameleon add-source: --mappings must be a JSON object such as '\{"key": "value"\}', got an array/],
    [addSource('"shop"'), /--mappings must be a JSON object .*, got a string/],
    [addSource('null'), /--mappings must be a JSON object .*, got null/],
    [addSource('{"shop": "shop"}', ['--options', 'copy_jobs=2']), /--options is not valid JSON/],
    // valid JSON the SQL function refuses: its own error, and still nothing written
    [addSource('{}'), /^chameleon add-source: schema_mappings must be a non-empty json object/, 1],
    [addSource('{"shop": "shop"}', ['--options', '{"copy_jobs": 0}']), /option "copy_jobs" must be "auto" or an integer from 1 to 16, got 0/, 1],
    [['add-source', '--pg', pgUrl, '--source', 'bad', '--mappings', '{"shop": "shop"}'], /^chameleon add-source: --mysql is required/],
    [['add-source', '--pg', pgUrl, '--source', '', '--mysql', mysqlUrl, '--mappings', '{"a": "b"}'], /--source must not be empty/],
    [['init-replica', '--pg', pgUrl], /^chameleon init-replica: --source is required/],
    [['init-replica', '--pg', pgUrl, '--source', 'a', '--source', 'b'], /^chameleon init-replica: --source is given twice/],
    [['init-replica', 'shop', '--pg', pgUrl], /^chameleon init-replica: unexpected argument "shop"/],
    [['init-replica', '--pg', pgUrl, '--source'], /^chameleon init-replica: --source needs a value/],
    [['init-replica', '--pg', pgUrl, '--source', 'nope'], /^chameleon init-replica: unknown source "nope"/, 1],
    [['init-replica', '--pg', pgUrl, '--source', 'a', '--no-wait=yes'], /--no-wait takes no value/],
    [['sync-tables', '--pg', pgUrl, '--source', 'a', '--tables', 'db.a,,db.b'], /--tables holds an empty name/],
    [['run-maintenance', '--pg', pgUrl, '--source', 'a', '--full=yes'], /^chameleon run-maintenance: --full takes no value/],
    [['run-maintenance', '--pg', pgUrl, '--source', 'nope', '--full'], /^chameleon run-maintenance: unknown source "nope"/, 1],
    [['verify', '--pg', pgUrl, '--source', 'nope'], /^chameleon verify: unknown source "nope"/, 1],
    [['verify', '--pg', pgUrl, '--source', 'a', '--tables', 'db.a,,db.b'], /^chameleon verify: --tables holds an empty name/],
    [['repair', '--pg', pgUrl, '--source', 'a'], /^chameleon repair: --table is required/],
    [['show-verify', '--pg', pgUrl], /^chameleon show-verify: --source is required/],
    [['show-verify', '--pg', pgUrl, '--source', 'nope'], /^chameleon show-verify: unknown source "nope"/, 1],
    [['resolve-ddl', '--pg', pgUrl, '--id', '424242', '--sql', ''], /^chameleon resolve-ddl: DDL event 424242 does not exist/, 1],
    [['resolve-ddl', '--pg', pgUrl, '--id', '1'], /^chameleon resolve-ddl: --sql is required/],
    [['ddl', '--pg', pgUrl, '--json=yes'], /^chameleon ddl: --json takes no value/],
    [['cancel-command', '--pg', pgUrl, '--id', '12x'], /^chameleon cancel-command: --id must be a positive integer, got "12x"/],
    [['agent', '--pg', pgUrl, '--lease-seconds', 'soon'], /^chameleon agent: --lease-seconds must be a positive integer, got "soon"/],
    [['agent', '--pg', pgUrl, '--lease-seconds', '0'], /--lease-seconds must be a positive integer, got "0"/],
    [['agent', '--pg', pgUrl, '--webhook', 'not a url'], /^chameleon agent: --webhook \(or CHAMELEON_WEBHOOK_URL\) is not a valid URL/],
    [['agent', '--pg', pgUrl, '--webhook', 'ftp://h/x'], /--webhook \(or CHAMELEON_WEBHOOK_URL\) must be an http:\/\/ or https:\/\/ URL, got ftp:/],
    [['agent', '--pg', pgUrl, '--metrics-port', '70000'], /--metrics-port \(or CHAMELEON_METRICS_PORT\) must be a port from 1 to 65535, got "70000"/],
    [['demo', '--seconds', '-1'], /^chameleon demo: --seconds must be a number of seconds above 0, got "-1"/],
    [['status', '--pg'], /^chameleon status: --pg needs a value/],
    [['status', '--pg', 'not a url'], /^chameleon status: --pg is not a valid URL/],
    [['status', '--pg', mysqlUrl], /^chameleon status: --pg must start with postgres:\/\//],
    [['status'], /^chameleon status: no PostgreSQL connection: pass --pg URL or set DATABASE_URL/],
    [['status', '--pg', pgUrl, '--json=yes'], /^chameleon status: --json takes no value/],
    [['status', '--pg', pgUrl, '--source', 'nope'], /^chameleon status: unknown source "nope"/, 1],
    [['--pg', pgUrl, 'status'], /^chameleon: the command comes first/],
    [['stauts', '--pg', pgUrl], /^chameleon: unknown command "stauts"/],
  ];
  const before = await catalogue(pgdb.pool);
  const runs = await inBatches(cases, 4, async ([args, message, code]) => ({ args, message, code: code ?? 2, run: await chameleon(args) }));
  for (const { args, message, code, run } of runs) {
    const what = `chameleon ${args.join(' ')}`;
    assert.equal(run.code, code, `${what}: exit code (stderr: ${run.stderr})`);
    assert.match(run.stderr, message, what);
    assert.ok(!run.stderr.includes(SECRET) && !run.stdout.includes(SECRET), `${what}: the password is not repeated`);
  }
  assert.deepEqual(await catalogue(pgdb.pool), before, 'nothing was written');
});

test('add-source prints the source id; status shows the source, as a table and as JSON', async () => {
  const add = await chameleon(['add-source', '--pg', pgdb.url, '--source', 'cli_src', '--mysql', mysqlUrl, '--mappings', `{"${my.name}": "cli_pg"}`, '--options', '{"copy_jobs": 1}']);
  assert.equal(add.code, 0, add.stderr);
  const id = (await pgdb.pool.query("SELECT source_id::text AS id FROM sch_chameleon.t_sources WHERE source_name = 'cli_src'")).rows[0]?.id;
  assert.equal(add.stdout, `${id}\n`);

  const status = await chameleon(['status', '--pg', pgdb.url]);
  assert.equal(status.code, 0, status.stderr);
  const [header, rule, ...rows] = status.stdout.trimEnd().split('\n');
  assert.match(header, /^source\s+\|.*\bstatus\b/);
  assert.match(rule, /^-+(-\+-+)+$/);
  assert.equal(rows.length, 1);
  assert.match(rows[0], /^cli_src\s+\| ready\b/);

  const json = await chameleon(['status', '--pg', pgdb.url, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as Array<{ source: string; status: string }>;
  assert.deepEqual(parsed.map((r) => [r.source, r.status]), [['cli_src', 'ready']]);
});

test('init-replica follows the copy to the end with progress lines on a pipe, the last one with the rows copied', { timeout: 90_000 }, async () => {
  agent = startAgentProcess(pgdb.url);
  const run = await chameleon(['init-replica', '--pg', pgdb.url, '--source', 'cli_src']);
  assert.equal(run.code, 0, `${run.stderr}\nagent: ${agent.output()}`);
  const commandId = (await pgdb.pool.query("SELECT max(command_id)::text AS id FROM sch_chameleon.t_commands WHERE command = 'init_replica'")).rows[0].id;
  assert.equal(run.stdout, `${commandId}\n`, 'stdout holds only the command id, for scripts');
  // not a terminal: whole lines, no carriage returns or escape sequences
  assert.doesNotMatch(run.stderr, /[\r\x1b]/);
  const lines = run.stderr.trimEnd().split('\n');
  for (const l of lines) assert.match(l, new RegExp(`^command ${commandId} init_replica: (pending|running|done)`), l);
  assert.equal(new Set(lines).size, lines.length, 'a line is printed only when it changes');
  const [[count]] = (await my.conn.query({ sql: 'SELECT (SELECT count(*) FROM items) + (SELECT count(*) FROM tags)', rowsAsArray: true })) as unknown as [[number][]];
  assert.equal(Number(count), 1237);
  assert.match(lines.at(-1)!, new RegExp(`^command ${commandId} init_replica: done \\[#{24}\\] tables 2/2, rows ${count}/~\\d+, \\d+(\\.\\d)? kB$`));

  const tables = await chameleon(['status', '--pg', pgdb.url, '--source', 'cli_src', '--json']);
  assert.equal(tables.code, 0, tables.stderr);
  const shown = (JSON.parse(tables.stdout) as Array<{ mysql_table: string; state: string; rows_copied: string }>).map((t) => [t.mysql_table, t.state, Number(t.rows_copied)]);
  assert.deepEqual(shown, [['items', 'copied', 1234], ['tags', 'copied', 3]]);
  const pgCount = await pgdb.pool.query('SELECT count(*)::int AS n FROM cli_pg.items');
  assert.equal(pgCount.rows[0].n, 1234);
});

test('run-maintenance vacuums the log and follows its command to the end', { timeout: 60_000 }, async () => {
  const run = await chameleon(['run-maintenance', '--pg', pgdb.url, '--source', 'cli_src', '--full']);
  assert.equal(run.code, 0, run.stderr);
  const cmd = (await pgdb.pool.query<{ id: string; args: unknown; state: string }>(
    "SELECT id::text, args, state FROM sch_chameleon.show_commands() WHERE command = 'run_maintenance' ORDER BY id DESC LIMIT 1")).rows[0];
  assert.equal(run.stdout, `${cmd.id}\n`);
  assert.deepEqual({ args: cmd.args, state: cmd.state }, { args: { full: true }, state: 'done' });
  assert.match(run.stderr.trimEnd().split('\n').at(-1)!, new RegExp(`^command ${cmd.id} run_maintenance: done`));
});

test('a queued command that fails makes the CLI exit non-zero with its error', { timeout: 60_000 }, async () => {
  const run = await chameleon(['sync-tables', '--pg', pgdb.url, '--source', 'cli_src', '--tables', `${my.name}.gone`]);
  assert.equal(run.code, 1, run.stderr);
  const lines = run.stderr.trimEnd().split('\n');
  assert.match(lines.at(-2)!, /^command \d+ sync_tables: failed/);
  assert.match(lines.at(-1)!, new RegExp(`not in MySQL, or excluded by limit_tables / skip_tables: ${my.name}\\.gone; nothing was copied`));
});

test('check-source says a ready server is ready, lists every missing privilege of a user that lacks them, and never shows the password', { timeout: 60_000 }, async () => {
  const ok = await chameleon(['check-source', '--mysql', mysqlUrl]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^root@127\.0\.0\.1:\d+ \(.*MariaDB.*\): ready to be replicated\n$/);

  const user = `cli_nopriv_${process.pid}`;
  await my.conn.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${SECRET}'`);
  try {
    await my.conn.query(`GRANT SELECT ON \`${my.name}\`.* TO '${user}'@'%'`);
    const url = new URL(mysqlUrl);
    url.username = user;
    url.password = SECRET;
    const bad = await chameleon(['check-source', '--mysql', url.toString()]);
    assert.equal(bad.code, 1, bad.stderr);
    const lines = bad.stdout.trimEnd().split('\n');
    assert.match(lines[0], new RegExp(`^${user}@127\\.0\\.0\\.1:\\d+ \\(.*\\): not ready to be replicated: privilege REPLICATION SLAVE is not granted, needs granted ON \\*\\.\\*; privilege REPLICATION CLIENT is not granted`));
    assert.deepEqual(lines.slice(1), [
      '  privilege REPLICATION SLAVE: not granted, needs granted ON *.*',
      '  privilege REPLICATION CLIENT: not granted, needs granted ON *.*',
    ]);
    assert.ok(!bad.stdout.includes(SECRET) && !bad.stderr.includes(SECRET), 'the password is never shown');
  } finally {
    await my.conn.query(`DROP USER '${user}'@'%'`);
  }

  const down = await chameleon(['check-source', '--mysql', `mysql://repl:${SECRET}@127.0.0.1:1/`]);
  assert.notEqual(down.code, 0);
  assert.match(down.stderr, /^chameleon check-source: .*ECONNREFUSED/);
  assert.ok(!down.stderr.includes(SECRET), 'the password is never shown');
  const missing = await chameleon(['check-source']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^chameleon check-source: --mysql is required/);
});

test('import-config turns a pg_chameleon configuration into sources, in one transaction; --dry-run shows the calls without the password', { timeout: 60_000 }, async () => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'chameleon-import-'));
  const u = new URL(mysqlUrl);
  const config = (second: string): string => `---
pid_dir: '~/.pg_chameleon/pid/'
log_level: info
type_override:
  "tinyint(1)":
    override_to: boolean
    override_tables:
      - "*"
pg_conn:
  host: "localhost"
  port: "5432"
  user: "usr_replica"
  password: "never_commit_passwords"
  database: "db_replica"
sources:
  imp_one:
    db_conn:
      host: "${u.hostname}"
      port: "${u.port}"
      user: "${decodeURIComponent(u.username)}"
      password: "p@ss:w/rd ${SECRET}"
      charset: 'utf8'
      connect_timeout: 10
    schema_mappings:
      ${my.name}: imp_pg
    limit_tables:
    skip_tables:
      - ${my.name}.skipped
    grant_select_to:
      - chameleon_monitor
    lock_timeout: "10s"
    my_server_id: 4242
    replica_batch_size: 10000
    replay_max_rows: 10000
    batch_retention: '2 days'
    copy_max_memory: "100M"
    copy_mode: 'file'
    out_dir: /tmp
    sleep_loop: 2
    on_error_replay: exit
    on_error_read: continue
    auto_maintenance: "disabled"
    gtid_enable: No
    type: mysql
    skip_events:
      insert:
        - ${my.name}.audit
      delete:
      update:
    keep_existing_schema: No
    net_read_timeout: 300
  imp_two:
    db_conn:
      host: "${u.hostname}"
      port: "${u.port}"
      user: "${decodeURIComponent(u.username)}"
    schema_mappings:
      other_db: other_pg
    ${second}
`;
  const good = join(dir, 'good.yml');
  const bad = join(dir, 'bad.yml');
  await writeFile(good, config('sleep_loop: 1'));
  await writeFile(bad, config('replica_batch_size: 0'));
  try {
    const before = await catalogue(pgdb.pool);
    const dry = await chameleon(['import-config', good, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.doesNotMatch(dry.stdout + dry.stderr, new RegExp(SECRET), 'the password is never shown');
    assert.match(dry.stdout, /^SELECT sch_chameleon\.add_source\('imp_one', 'mysql:\/\/[^:]+:\*{8}@/m);
    assert.equal(dry.stdout.trim().split('\n').length, 2);
    assert.match(dry.stderr, /note: not imported \(how pg_chameleon itself ran\): pid_dir, log_level/);
    assert.match(dry.stderr, /note: source "imp_one": not imported .*: copy_mode, out_dir/);
    assert.deepEqual(await catalogue(pgdb.pool), before, 'a dry run writes nothing');

    // the second source is refused by add_source: the first is not registered either
    const refused = await chameleon(['import-config', bad, '--pg', pgdb.url]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^chameleon import-config: source "imp_two": option "replica_batch_size" must be a positive integer, got 0$/m);
    assert.deepEqual(await catalogue(pgdb.pool), before, 'all or nothing');
    const missing = await chameleon(['import-config', join(dir, 'nope.yml'), '--pg', pgdb.url]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^chameleon import-config: cannot read .*nope\.yml/);
    const noFile = await chameleon(['import-config', '--pg', pgdb.url]);
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /the configuration file to read is required/);

    const run = await chameleon(['import-config', good, '--pg', pgdb.url]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^source imp_one: \d+\nsource imp_two: \d+\n$/);
    const rows = (await pgdb.pool.query(
      "SELECT source, mysql_url, schema_mappings, options FROM sch_chameleon.show_sources() WHERE source LIKE 'imp_%' ORDER BY source")).rows;
    assert.equal(rows.length, 2);
    assert.match(rows[0].mysql_url, /^mysql:\/\/[^:]+:\*{8}@/);
    assert.deepEqual(rows[0].schema_mappings, { [my.name]: 'imp_pg' });
    const o = rows[0].options;
    assert.deepEqual([o.limit_tables, o.skip_tables, o.grant_select_to, o.lock_timeout, o.my_server_id, o.replica_batch_size, o.replay_max_rows,
      o.batch_retention, o.copy_max_memory, o.sleep_loop, o.on_error_replay, o.gtid_enable, o.keep_existing_schema, o.net_read_timeout],
    [[], [`${my.name}.skipped`], ["chameleon_monitor"], '10s', 4242, 10000, 10000, '2 days', '100M', 2, 'exit', false, false, 300]);
    assert.deepEqual(o.skip_events, { insert: [`${my.name}.audit`], delete: [], update: [] });
    assert.deepEqual(o.type_override, { 'tinyint(1)': { override_to: 'boolean', override_tables: ['*'] } });
    // the password as the agent will use it: the URL decodes to the file's
    const url = (await pgdb.pool.query("SELECT mysql_url FROM sch_chameleon.t_sources WHERE source_name = 'imp_one'")).rows[0].mysql_url as string;
    assert.equal(decodeURIComponent(new URL(url).password), `p@ss:w/rd ${SECRET}`);

    const again = await chameleon(['import-config', good, '--pg', pgdb.url, '--source', 'imp_two']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /imp_two/);
  } finally {
    await pgdb.pool.query("SELECT sch_chameleon.drop_source(source_name) FROM sch_chameleon.t_sources WHERE source_name LIKE 'imp_%'");
    await rm(dir, { recursive: true, force: true });
  }
});
