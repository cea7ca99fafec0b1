import { writeFileSync, readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { buildInstallScript, catalogVersion, projectRoot, upgradeScript, upgradeSteps } from './sql-bundle.js';

/**
 * `npm run build` step: writes extension/pg_chameleon--X.Y.Z.sql from sql/,
 * the upgrade deltas next to it (each with the version it reaches recorded
 * in t_version, as chameleon install records it) and keeps the control
 * file's default_version in step with package.json.
 */
function main(): void {
  const root = projectRoot();
  const ext = join(root, 'extension');
  const version = catalogVersion();
  const wanted = new Set<string>([`pg_chameleon--${version}.sql`]);
  writeFileSync(join(ext, `pg_chameleon--${version}.sql`), buildInstallScript('extension'));
  for (const step of upgradeSteps()) {
    const name = `pg_chameleon--${step.from}--${step.to}.sql`;
    writeFileSync(join(ext, name), upgradeScript(step, 'extension'));
    wanted.add(name);
  }
  for (const name of readdirSync(ext)) {
    if (/^pg_chameleon--.*\.sql$/.test(name) && !wanted.has(name)) unlinkSync(join(ext, name));
  }
  const controlPath = join(ext, 'pg_chameleon.control');
  const control = readFileSync(controlPath, 'utf8').replace(/default_version = '[^']*'/, `default_version = '${version}'`);
  writeFileSync(controlPath, control);
}

main();
