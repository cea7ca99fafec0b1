import pg from 'pg';
import { ChameleonError, ErrorCodes } from '../errors.js';
import { buildInstallScript, catalogVersion, upgradePath, upgradeScript } from './sql-bundle.js';

export interface InstallResult {
  action: 'installed' | 'upgraded' | 'current' | 'extension';
  from?: string;
  version: string;
}

// one key for every installer of this catalogue, whatever database or process
const INSTALL_LOCK = 0x6368616d; // 'cham'

/**
 * Creates or upgrades sch_chameleon without the extension mechanism, in one
 * transaction under an advisory lock, so concurrent installers queue up and
 * a failure leaves nothing behind.
 */
export async function installCatalog(url: string): Promise<InstallResult> {
  const client = new pg.Client({ connectionString: url, application_name: 'chameleon install' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query("SET LOCAL lock_timeout = '30s'");
    await client.query('SELECT pg_advisory_xact_lock($1)', [INSTALL_LOCK]);
    const version = catalogVersion();
    const ext = await client.query<{ extversion: string }>("SELECT extversion FROM pg_extension WHERE extname = 'pg_chameleon'");
    if (ext.rows.length > 0) {
      await client.query('COMMIT');
      if (ext.rows[0].extversion !== version) {
        throw new ChameleonError(
          ErrorCodes.CONFIG,
          `sch_chameleon is managed by the extension at version ${ext.rows[0].extversion}; upgrade it with ALTER EXTENSION pg_chameleon UPDATE`,
        );
      }
      return { action: 'extension', version };
    }
    const installed = await installedVersion(client);
    if (installed === version) {
      await client.query('COMMIT');
      return { action: 'current', version };
    }
    if (installed === null) {
      const schemaExists = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = 'sch_chameleon'");
      if (schemaExists.rows.length > 0) {
        throw new ChameleonError(ErrorCodes.CONFIG, 'schema sch_chameleon exists but holds no catalogue version; refusing to touch it', {});
      }
      await client.query(buildInstallScript('plain'));
      await client.query('COMMIT');
      return { action: 'installed', version };
    }
    const path = upgradePath(installed, version);
    if (!path) {
      throw new ChameleonError(ErrorCodes.CONFIG, `no upgrade path from catalogue version ${installed} to ${version}`);
    }
    for (const step of path) await client.query(upgradeScript(step));
    await client.query('COMMIT');
    return { action: 'upgraded', from: installed, version };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function installedVersion(client: pg.ClientBase): Promise<string | null> {
  const t = await client.query("SELECT to_regclass('sch_chameleon.t_version') IS NOT NULL AS present");
  if (!t.rows[0].present) return null;
  const v = await client.query<{ version: string }>(
    'SELECT version FROM sch_chameleon.t_version ORDER BY installed_at DESC, version DESC LIMIT 1',
  );
  return v.rows[0]?.version ?? null;
}
