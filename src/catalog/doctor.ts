import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { ChameleonError, ErrorCodes, errorMessage } from '../errors.js';
import { quoteIdent } from '../ddl/identifiers.js';
import { installCatalog, installedVersion } from './installer.js';
import { catalogVersion } from './sql-bundle.js';

/**
 * Everything that makes up the catalogue, one line per object, independent
 * of OIDs, of column order (an upgrade adds a column at the end that a
 * fresh install has in the middle) and of which role owns it (privileges
 * are listed for the other roles only).
 */
export async function catalogueListing(db: pg.ClientBase | pg.Pool): Promise<string[]> {
  const res = await db.query<{ line: string }>(`
    WITH ns AS (SELECT 'sch_chameleon'::regnamespace AS oid)
    SELECT 'schema ' || n.nspname || ' acl=' || sch_acl.a || ' comment=' || coalesce(obj_description(n.oid, 'pg_namespace'), '') AS line
    FROM pg_namespace n JOIN ns ON n.oid = ns.oid
    CROSS JOIN LATERAL (SELECT coalesce(string_agg(x.grantee::regrole || ':' || x.privilege_type, ',' ORDER BY 1), '') AS a
                          FROM aclexplode(n.nspacl) x WHERE x.grantee <> n.nspowner) sch_acl
    UNION ALL
    SELECT format('function %s returns %s kind=%s volatile=%s secdef=%s config=%s acl=%s src=%s comment=%s',
                  p.oid::regprocedure, pg_get_function_result(p.oid), p.prokind, p.provolatile, p.prosecdef,
                  p.proconfig, f_acl.a, md5(p.prosrc), obj_description(p.oid, 'pg_proc'))
    FROM pg_proc p JOIN ns ON p.pronamespace = ns.oid
    CROSS JOIN LATERAL (SELECT coalesce(string_agg(CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE x.grantee::regrole::text END || ':' || x.privilege_type, ','
                                                   ORDER BY 1), '') AS a
                          FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x WHERE x.grantee <> p.proowner) f_acl
    UNION ALL
    SELECT format('relation %s kind=%s acl=%s comment=%s', c.relname, c.relkind, r_acl.a, obj_description(c.oid, 'pg_class'))
    FROM pg_class c JOIN ns ON c.relnamespace = ns.oid
    CROSS JOIN LATERAL (SELECT coalesce(string_agg(CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE x.grantee::regrole::text END || ':' || x.privilege_type, ','
                                                   ORDER BY 1), '') AS a
                          FROM aclexplode(c.relacl) x WHERE x.grantee <> c.relowner) r_acl
    UNION ALL
    SELECT format('column %s.%s %s notnull=%s identity=%s default=%s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                  a.attnotnull, a.attidentity, pg_get_expr(d.adbin, d.adrelid))
    FROM pg_class c JOIN ns ON c.relnamespace = ns.oid
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relkind IN ('r', 'p', 'v', 'c')
    UNION ALL
    SELECT format('constraint %s.%s %s', c.relname, k.conname, pg_get_constraintdef(k.oid))
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN ns ON c.relnamespace = ns.oid
    UNION ALL
    SELECT format('index %s', pg_get_indexdef(i.indexrelid))
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN ns ON c.relnamespace = ns.oid
    UNION ALL
    SELECT 'version ' || v.version FROM sch_chameleon.t_version v
    ORDER BY 1`);
  return res.rows.map((r) => r.line);
}

export interface DoctorReport {
  /** The catalogue version found, and the one this agent ships. */
  installed: string | null;
  expected: string;
  /** Objects of a fresh install of `expected` the live catalogue lacks (or has otherwise). */
  missing: string[];
  /** Objects of the live catalogue a fresh install does not have. */
  unexpected: string[];
}

/**
 * Compares the live catalogue with a fresh install of this version, made in
 * a scratch database beside it (the connecting role needs CREATEDB) and
 * dropped after.
 */
export async function doctor(url: string): Promise<DoctorReport> {
  const expected = catalogVersion();
  const live = new pg.Client({ connectionString: url, application_name: 'chameleon doctor' });
  live.on('error', () => undefined);
  await live.connect();
  try {
    const installed = await installedVersion(live);
    if (installed === null) return { installed, expected, missing: ['the catalogue (schema sch_chameleon): run chameleon install'], unexpected: [] };
    const scratch = `chameleon_doctor_${randomBytes(6).toString('hex')}`;
    try {
      await live.query(`CREATE DATABASE ${quoteIdent(scratch)}`);
    } catch (err) {
      throw new ChameleonError(ErrorCodes.CONFIG, `doctor compares with a fresh install in a scratch database, which could not be created (${errorMessage(err)})`,
        {}, { cause: err });
    }
    try {
      const u = new URL(url);
      u.pathname = `/${scratch}`;
      await installCatalog(u.toString());
      const ref = new pg.Client({ connectionString: u.toString(), application_name: 'chameleon doctor' });
      ref.on('error', () => undefined);
      await ref.connect();
      let reference: string[];
      try {
        reference = await catalogueListing(ref);
      } finally {
        await ref.end().catch(() => undefined);
      }
      const mine = await catalogueListing(live);
      const have = new Set(mine);
      const want = new Set(reference);
      return { installed, expected, missing: reference.filter((l) => !have.has(l)), unexpected: mine.filter((l) => !want.has(l)) };
    } finally {
      await live.query(`DROP DATABASE IF EXISTS ${quoteIdent(scratch)} WITH (FORCE)`).catch(() => undefined);
    }
  } finally {
    await live.end().catch(() => undefined);
  }
}
