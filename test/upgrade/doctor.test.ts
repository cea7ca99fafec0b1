import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { doctor } from '../../src/catalog/doctor.js';
import { installCatalog } from '../../src/catalog/installer.js';
import { createPgDatabase, type PgTestDatabase } from '../harness/db.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'chameleon.js');
let db: PgTestDatabase;

before(async () => {
  db = await createPgDatabase('doctor');
  await installCatalog(db.url);
});

after(async () => {
  await db?.drop();
});

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'DATABASE_URL' && !/^PG[A-Z]+$/.test(k)));
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function scratchDatabases(): Promise<number> {
  return (await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'chameleon_doctor_%'")).rows[0].n;
}

test('doctor: a catalogue as installed matches a fresh install object for object', async () => {
  const report = await doctor(db.url);
  assert.deepEqual(report, { installed: report.expected, expected: report.expected, missing: [], unexpected: [] });
  const run = cli(['doctor', '--pg', db.url]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, `ok: the catalogue is version ${report.expected}, object for object\n`);
  assert.equal(await scratchDatabases(), 0, 'the scratch database is dropped');
});

test('doctor names each object that differs: a grant to PUBLIC, a dropped index, a function body changed by hand', async () => {
  await db.pool.query('GRANT EXECUTE ON FUNCTION sch_chameleon.fn_source(text, boolean) TO PUBLIC');
  await db.pool.query('DROP INDEX sch_chameleon.t_commands_pending');
  await db.pool.query(`CREATE OR REPLACE FUNCTION sch_chameleon.fn_mask_url(url text) RETURNS text LANGUAGE sql IMMUTABLE
                       SET search_path = pg_catalog, pg_temp AS $$ SELECT url $$`);
  const report = await doctor(db.url);
  assert.equal(report.missing.length, 4, report.missing.join('\n'));
  assert.ok(report.missing.includes('relation t_commands_pending kind=i acl= comment='));
  assert.ok(report.missing.some((l) => /^index CREATE INDEX t_commands_pending /.test(l)));
  assert.ok(report.missing.some((l) => /^function sch_chameleon\.fn_source\(text,boolean\) .* acl= /.test(l)));
  assert.ok(report.missing.some((l) => /^function sch_chameleon\.fn_mask_url\(text\) /.test(l)));
  assert.equal(report.unexpected.length, 2, report.unexpected.join('\n'));
  assert.ok(report.unexpected.some((l) => /^function sch_chameleon\.fn_source\(text,boolean\) .*acl=PUBLIC:EXECUTE/.test(l)));
  const run = cli(['doctor', '--pg', db.url]);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /^missing or different: index CREATE INDEX t_commands_pending /m);
  assert.match(run.stdout, /^not in version .*: function sch_chameleon\.fn_source\(text,boolean\) .*PUBLIC:EXECUTE/m);
  assert.equal(await scratchDatabases(), 0);
});
