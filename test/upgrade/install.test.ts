import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { catalogueListing } from '../../src/catalog/doctor.js';
import { installCatalog } from '../../src/catalog/installer.js';
import { startPostgres, stopOnExit } from '../../src/servers/index.js';
import {
  buildInstallScript,
  catalogVersion,
  projectRoot,
  upgradePath,
  upgradeScript,
  upgradeSteps,
  type UpgradeStep,
} from '../../src/catalog/sql-bundle.js';
import { createPgDatabase, type PgTestDatabase } from '../harness/db.js';

/**
 * SPEC §1: `CREATE EXTENSION pg_chameleon` and `chameleon install` give the
 * same objects, are idempotent, and upgrade an older catalogue in place.
 */

const VERSION = catalogVersion();

async function versionRows(pool: pg.Pool): Promise<Array<{ version: string; installed_at: Date }>> {
  return (await pool.query('SELECT version, installed_at FROM sch_chameleon.t_version ORDER BY installed_at, version')).rows;
}

const dbs: PgTestDatabase[] = [];
async function freshDatabase(prefix: string): Promise<PgTestDatabase> {
  const db = await createPgDatabase(prefix);
  dbs.push(db);
  return db;
}

/** The listing of a plain fresh install: the reference every other path must match. */
let reference: string[];

before(async () => {
  const db = await freshDatabase('install_ref');
  assert.deepEqual(await installCatalog(db.url), { action: 'installed', version: VERSION });
  reference = await catalogueListing(db.pool);
});

after(async () => {
  for (const db of dbs) await db.drop();
});

describe('chameleon install (installCatalog)', () => {
  test('the listing holds the whole catalogue', () => {
    for (const expected of [
      'function sch_chameleon.add_source(text,text,jsonb,jsonb) returns bigint',
      'relation t_sources kind=r',
      'column t_sources.mysql_url text notnull=t',
      'index CREATE UNIQUE INDEX t_sources_pkey',
      `version ${VERSION}`,
    ]) {
      assert.ok(reference.some((l) => l.startsWith(expected)), `listing has "${expected}"`);
    }
  });

  test('a second install reports current and changes nothing', async () => {
    const db = await freshDatabase('install_twice');
    assert.deepEqual(await installCatalog(db.url), { action: 'installed', version: VERSION });
    const listing = await catalogueListing(db.pool);
    const versions = await versionRows(db.pool);
    assert.deepEqual(listing, reference);
    assert.deepEqual(await installCatalog(db.url), { action: 'current', version: VERSION });
    assert.deepEqual(await catalogueListing(db.pool), listing);
    assert.deepEqual(await versionRows(db.pool), versions, 'no second version row, same install time');
  });

  test('the log of row images is a queue: autovacuum never analyses it and vacuums it after a fixed count', async () => {
    const db = await freshDatabase('install_queue');
    await installCatalog(db.url);
    const r = await db.pool.query("SELECT reloptions FROM pg_class WHERE oid = 'sch_chameleon.t_log_events'::regclass");
    assert.deepEqual(r.rows[0].reloptions, [
      'autovacuum_analyze_scale_factor=0', 'autovacuum_analyze_threshold=2000000000',
      'autovacuum_vacuum_scale_factor=0', 'autovacuum_vacuum_threshold=200000',
      'autovacuum_vacuum_insert_scale_factor=0', 'autovacuum_vacuum_insert_threshold=2000000000',
    ]);
  });

  test('two concurrent installs on one fresh database install once', async () => {
    const db = await freshDatabase('install_race');
    const results = await Promise.all([installCatalog(db.url), installCatalog(db.url), installCatalog(db.url)]);
    assert.deepEqual(results.map((r) => r.action).sort(), ['current', 'current', 'installed']);
    assert.deepEqual(await catalogueListing(db.pool), reference);
    assert.equal((await versionRows(db.pool)).length, 1);
  });

  /**
   * The installer's advisory lock is per database, while the roles are per
   * cluster: first installs into several databases of a new cluster race on
   * CREATE ROLE. The shared test cluster has the roles already, so this runs
   * on a cluster of its own.
   */
  test('first installs into several databases of a new cluster at once all succeed', async () => {
    const server = await startPostgres({});
    const forget = stopOnExit(server);
    try {
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      try {
        for (let i = 0; i < 4; i++) await admin.query(`CREATE DATABASE race_${i}`);
        const urls = [0, 1, 2, 3].map((i) => server.url.replace(/\/postgres$/, `/race_${i}`));
        const results = await Promise.allSettled(urls.map((u) => installCatalog(u)));
        assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value.action : String(r.reason))), ['installed', 'installed', 'installed', 'installed']);
        const roles = await admin.query(`SELECT rolname, pg_has_role('chameleon_admin', 'chameleon_monitor', 'MEMBER') AS admin_monitors
            FROM pg_roles WHERE rolname LIKE 'chameleon\\_%' ORDER BY 1`);
        assert.deepEqual(roles.rows, [
          { rolname: 'chameleon_admin', admin_monitors: true },
          { rolname: 'chameleon_monitor', admin_monitors: true },
        ]);
      } finally {
        await admin.end();
      }
    } finally {
      forget();
      await server.stop();
    }
  });

  test('a schema sch_chameleon without a catalogue version is refused and left alone', async () => {
    const db = await freshDatabase('install_foreign');
    await db.pool.query('CREATE SCHEMA sch_chameleon; CREATE TABLE sch_chameleon.mine (x int)');
    await assert.rejects(installCatalog(db.url), /schema sch_chameleon exists but holds no catalogue version; refusing to touch it/);
    const left = await db.pool.query(`SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'sch_chameleon'::regnamespace ORDER BY 1`);
    assert.deepEqual(left.rows, [{ relname: 'mine' }]);
  });
});

describe('CREATE EXTENSION pg_chameleon', () => {
  let extDb: PgTestDatabase | undefined;
  let skipReason: string | undefined;
  let extensionDir: string | undefined;

  /**
   * The extension files have to be in the server's share directory; they
   * are (re)installed when missing or older than this build.
   */
  before(async () => {
    const db = await freshDatabase('install_ext');
    const major = Math.floor(Number((await db.pool.query('SHOW server_version_num')).rows[0].server_version_num) / 10000);
    const pgConfig = `/usr/lib/postgresql/${major}/bin/pg_config`;
    if (!existsSync(pgConfig)) {
      skipReason = `${pgConfig} not found: cannot install the extension files for PostgreSQL ${major}`;
      return;
    }
    const shareDir = execFileSync(pgConfig, ['--sharedir'], { encoding: 'utf8' }).trim();
    extensionDir = join(shareDir, 'extension');
    const built = join(projectRoot(), 'extension', `pg_chameleon--${VERSION}.sql`);
    const installed = join(shareDir, 'extension', `pg_chameleon--${VERSION}.sql`);
    const fresh =
      existsSync(join(shareDir, 'extension', 'pg_chameleon.control')) &&
      existsSync(installed) &&
      readFileSync(installed, 'utf8') === readFileSync(built, 'utf8');
    if (!fresh) {
      try {
        execFileSync('make', ['-C', join(projectRoot(), 'extension'), 'install', `PG_CONFIG=${pgConfig}`], { stdio: 'pipe' });
      } catch (err) {
        const e = err as { stderr?: Buffer; message: string };
        skipReason = `make -C extension install failed (needs write access to ${shareDir} and the PGXS files): ${e.stderr?.toString().trim() || e.message}`;
        return;
      }
    }
    try {
      await db.pool.query('CREATE EXTENSION pg_chameleon');
      extDb = db;
    } catch (err) {
      skipReason = `CREATE EXTENSION pg_chameleon failed; the server may read another share directory than ${shareDir}: ${(err as Error).message}`;
    }
  });

  test('gives the same catalogue as chameleon install', async (t) => {
    if (!extDb) return t.skip(skipReason);
    assert.deepEqual(await catalogueListing(extDb.pool), reference);
    const ext = await extDb.pool.query(`SELECT extversion FROM pg_extension WHERE extname = 'pg_chameleon'`);
    assert.deepEqual(ext.rows, [{ extversion: VERSION }]);
    const members = await extDb.pool.query(`SELECT count(*)::int AS n FROM pg_depend d
        WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
          AND d.classid = 'pg_namespace'::regclass AND d.objid = 'sch_chameleon'::regnamespace`);
    assert.equal(members.rows[0].n, 1, 'the schema belongs to the extension, so DROP EXTENSION removes it');
  });

  test('pg_dump keeps what operators configured', async (t) => {
    if (!extDb) return t.skip(skipReason);
    const dumped = await extDb.pool.query(`SELECT unnest(extconfig)::regclass::text AS t FROM pg_extension WHERE extname = 'pg_chameleon' ORDER BY 1`);
    assert.deepEqual(dumped.rows.map((r) => r.t), [
      'sch_chameleon.t_commands',
      'sch_chameleon.t_sources',
      'sch_chameleon.t_tables',
      'sch_chameleon.t_version',
    ]);
  });

  test('chameleon install on it reports extension and changes nothing', async (t) => {
    if (!extDb) return t.skip(skipReason);
    const before = await catalogueListing(extDb.pool);
    assert.deepEqual(await installCatalog(extDb.url), { action: 'extension', version: VERSION });
    assert.deepEqual(await catalogueListing(extDb.pool), before);
  });

  test('ALTER EXTENSION pg_chameleon UPDATE from 0.2.0 walks the upgrade steps to the fresh-install catalogue, keeping the sources', async (t) => {
    if (!extDb || !extensionDir) return t.skip(skipReason);
    // the 0.2.0 extension script as it shipped: the frozen plain script with the extension's guard and pg_dump marks
    const plain = readFileSync(join(projectRoot(), 'test', 'upgrade', 'fixtures', 'chameleon-install--0.2.0.sql'), 'utf8');
    const marks = readFileSync(join(projectRoot(), 'sql', '95-extension', '10-config-dump.sql'), 'utf8');
    const old = join(extensionDir, 'pg_chameleon--0.2.0.sql');
    const existed = existsSync(old);
    if (!existed) writeFileSync(old, `\\echo Use "CREATE EXTENSION pg_chameleon" to load this file. \\quit\n${plain}\n${marks}`);
    try {
      const db = await freshDatabase('install_ext_update');
      await db.pool.query("CREATE EXTENSION pg_chameleon VERSION '0.2.0'");
      assert.deepEqual((await db.pool.query('SELECT version FROM sch_chameleon.t_version ORDER BY installed_at DESC LIMIT 1')).rows, [{ version: '0.2.0' }]);
      const id = (await db.pool.query(`SELECT sch_chameleon.add_source('old', 'mysql://u@h/db', '{"shop": "shop"}')::text AS id`)).rows[0].id;
      await db.pool.query('ALTER EXTENSION pg_chameleon UPDATE');
      assert.deepEqual((await db.pool.query(`SELECT extversion FROM pg_extension WHERE extname = 'pg_chameleon'`)).rows, [{ extversion: VERSION }]);
      const versions = (await catalogueListing(db.pool)).filter((l) => l.startsWith('version '));
      assert.deepEqual(versions, ['version 0.2.0', `version ${VERSION}`], 'the version each step reached is recorded, as chameleon install records it');
      assert.deepEqual((await catalogueListing(db.pool)).filter((l) => !l.startsWith('version ')), reference.filter((l) => !l.startsWith('version ')),
        'the same catalogue as a fresh install');
      assert.deepEqual((await db.pool.query('SELECT source_id::text AS id, source_name FROM sch_chameleon.t_sources')).rows, [{ id, source_name: 'old' }]);
      const members = await db.pool.query(`SELECT count(*)::int AS n FROM pg_depend d
          WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND d.classid = 'pg_class'::regclass
            AND d.objid IN ('sch_chameleon.t_ddl_events'::regclass, 'sch_chameleon.t_verify_chunks'::regclass)`);
      assert.equal(members.rows[0].n, 2, 'the tables the upgrade adds belong to the extension');
    } finally {
      if (!existed) rmSync(old, { force: true });
    }
  });
});

describe('the committed extension files', () => {
  test(`extension/pg_chameleon--${VERSION}.sql is exactly what the build makes from sql/`, () => {
    const committed = readFileSync(join(projectRoot(), 'extension', `pg_chameleon--${VERSION}.sql`), 'utf8');
    assert.ok(committed === buildInstallScript('extension'), 'edit sql/ and run `npm run build`, never the generated file');
  });

  test('the control file names the current version', () => {
    const control = readFileSync(join(projectRoot(), 'extension', 'pg_chameleon.control'), 'utf8');
    assert.match(control, new RegExp(`^default_version = '${VERSION.replace(/\./g, '\\.')}'$`, 'm'));
  });

  test('the plain script is the extension script without the psql guard and the pg_dump marks', () => {
    const ext = buildInstallScript('extension');
    const plain = buildInstallScript('plain');
    assert.match(ext, /^\\echo Use "CREATE EXTENSION pg_chameleon"/m);
    assert.doesNotMatch(plain, /\\echo|pg_extension_config_dump/);
    assert.ok(plain.trimEnd().endsWith(`INSERT INTO sch_chameleon.t_version (version) VALUES ('${VERSION}');`));
  });
});

describe('upgrades', () => {
  let scratch: string;
  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'chameleon-upgrade-'));
  });
  after(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  /** A hand-written delta as it would sit in sql/upgrades/, kept outside the project. */
  function fakeStep(from: string, to: string, body: string): UpgradeStep {
    const file = join(scratch, `pg_chameleon--${from}--${to}.sql`);
    writeFileSync(file, body);
    return { from, to, file };
  }

  test('the current version needs no step; an unknown version has no path', () => {
    assert.deepEqual(upgradePath(VERSION), []);
    assert.deepEqual(upgradePath('1.2.3', '1.2.3'), []);
    assert.equal(upgradePath('0.0.0-never-released'), null);
  });

  test('every step in sql/upgrades/ belongs to an unbroken chain ending at the current version', () => {
    for (const step of upgradeSteps()) {
      const path = upgradePath(step.from);
      assert.ok(path && path.length > 0, `no path from ${step.from} to ${VERSION}`);
      assert.equal(path[0].from, step.from);
      for (let i = 1; i < path.length; i++) assert.equal(path[i].from, path[i - 1].to, `step ${i} follows step ${i - 1}`);
      assert.equal(path.at(-1)?.to, VERSION);
    }
  });

  test('an upgrade script drops the psql guard and records the version it reaches', () => {
    const step = fakeStep('0.0.9', '0.1.0-next', [
      '\\echo Use "ALTER EXTENSION pg_chameleon UPDATE" to load this file. \\quit',
      'ALTER TABLE sch_chameleon.t_sources ADD COLUMN upgraded_at timestamptz;',
      '',
    ].join('\n'));
    const script = upgradeScript(step);
    assert.doesNotMatch(script, /\\echo|\\quit/);
    assert.match(script, /^ALTER TABLE sch_chameleon\.t_sources ADD COLUMN upgraded_at timestamptz;$/m);
    assert.ok(script.trimEnd().endsWith(`INSERT INTO sch_chameleon.t_version (version) VALUES ('0.1.0-next');`));
    assert.ok(upgradeScript(fakeStep('1', "2'x", 'SELECT 1;')).includes(`VALUES ('2''x');`), 'a quote in a version stays a literal');
  });

  test('an upgrade script runs on a catalogue and makes its version the installed one', async () => {
    const db = await freshDatabase('upgrade_fake');
    assert.equal((await installCatalog(db.url)).action, 'installed');
    await db.pool.query(`SELECT sch_chameleon.add_source('kept', 'mysql://u@h/db', '{"kept_db": "kept_pg"}')`);
    const step = fakeStep(VERSION, `${VERSION}-fake-next`, [
      '\\echo Use "ALTER EXTENSION pg_chameleon UPDATE" to load this file. \\quit',
      'ALTER TABLE sch_chameleon.t_sources ADD COLUMN upgraded_at timestamptz NOT NULL DEFAULT now();',
    ].join('\n'));
    // a later transaction than the install, so the new version row is the newest as the installer reads it
    await db.pool.query(`BEGIN; ${upgradeScript(step)} COMMIT;`);
    const versions = (await versionRows(db.pool)).map((v) => v.version);
    assert.deepEqual(versions, [VERSION, `${VERSION}-fake-next`]);
    const kept = await db.pool.query(`SELECT source_name, upgraded_at IS NOT NULL AS stamped FROM sch_chameleon.t_sources`);
    assert.deepEqual(kept.rows, [{ source_name: 'kept', stamped: true }], 'data survives the upgrade');

    // this build knows no way from that (newer) version back to its own: refused, untouched
    const before = await catalogueListing(db.pool);
    await assert.rejects(installCatalog(db.url), new RegExp(`no upgrade path from catalogue version ${VERSION}-fake-next to ${VERSION.replace(/\./g, '\\.')}`));
    assert.deepEqual(await catalogueListing(db.pool), before);
  });

  test('a catalogue of a version with no upgrade path is refused and left untouched', async () => {
    const db = await freshDatabase('upgrade_nopath');
    await installCatalog(db.url);
    await db.pool.query(`UPDATE sch_chameleon.t_version SET version = '0.0.1-unknown'`);
    const before = await catalogueListing(db.pool);
    await assert.rejects(installCatalog(db.url), /no upgrade path from catalogue version 0\.0\.1-unknown to /);
    assert.deepEqual(await catalogueListing(db.pool), before);
  });

  /**
   * One database test per real upgrade step. With the first file in
   * sql/upgrades/, keep the plain install script of the older release next
   * to this test, made at that release with
   *   node -e "import('./dist/src/catalog/sql-bundle.js').then(m => process.stdout.write(m.buildInstallScript('plain')))"
   * as test/upgrade/fixtures/chameleon-install--<from>.sql; the test then
   * installs it, upgrades with installCatalog and compares with a fresh
   * install.
   */
  describe('real upgrade steps', () => {
    const steps = upgradeSteps();
    if (steps.length === 0) {
      test('an older release upgrades in place to the fresh-install catalogue', { skip: 'sql/upgrades/ holds no upgrade script yet: there is one version only' }, () => undefined);
    }
    for (const step of steps) {
      test(`${step.from} upgrades in place to the fresh-install catalogue`, async () => {
        const fixture = join(projectRoot(), 'test', 'upgrade', 'fixtures', `chameleon-install--${step.from}.sql`);
        assert.ok(existsSync(fixture), `missing ${fixture}: the plain install script of release ${step.from} (see the comment above)`);
        const db = await freshDatabase('upgrade_real');
        await db.pool.query(readFileSync(fixture, 'utf8'));
        await db.pool.query(`SELECT sch_chameleon.add_source('kept', 'mysql://u@h/db', '{"kept_db": "kept_pg"}')`);
        assert.deepEqual(await installCatalog(db.url), { action: 'upgraded', from: step.from, version: VERSION });
        const upgraded = (await catalogueListing(db.pool)).filter((l) => !l.startsWith('version '));
        assert.deepEqual(upgraded, reference.filter((l) => !l.startsWith('version ')));
        const kept = await db.pool.query(`SELECT source_name, schema_mappings FROM sch_chameleon.t_sources`);
        assert.deepEqual(kept.rows, [{ source_name: 'kept', schema_mappings: { kept_db: 'kept_pg' } }]);
      });
    }
  });
});
