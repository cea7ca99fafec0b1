import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root, found from this file whether it runs from src/ or dist/src/. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'sql'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the project root (package.json next to sql/)');
    dir = up;
  }
  return dir;
}

export function catalogVersion(): string {
  const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** Files of sql/ in build order: folders and files sorted by name; upgrades/ is not part of a fresh install. */
export function sqlFiles(includeExtensionOnly: boolean): string[] {
  const root = join(projectRoot(), 'sql');
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const rel = relative(root, full);
      if (rel === 'upgrades') continue;
      if (!includeExtensionOnly && rel.startsWith('95-extension')) continue;
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.sql')) out.push(full);
    }
  };
  walk(root);
  return out;
}

/**
 * The fresh-install script for one version. The extension build has the
 * psql guard and the pg_dump config marks; the `chameleon install` build is
 * the same objects without them.
 */
export function buildInstallScript(kind: 'extension' | 'plain'): string {
  const root = projectRoot();
  const version = catalogVersion();
  const parts: string[] = [];
  parts.push(`-- pg_chameleon ${version}: generated from sql/ by \`npm run build\`; do not edit.`);
  if (kind === 'extension') parts.push(`\\echo Use "CREATE EXTENSION pg_chameleon" to load this file. \\quit`);
  for (const file of sqlFiles(kind === 'extension')) {
    parts.push(`-- ${relative(root, file)}\n${readFileSync(file, 'utf8').trimEnd()}`);
  }
  parts.push(`INSERT INTO sch_chameleon.t_version (version) VALUES ('${version.replace(/'/g, "''")}');`);
  return parts.join('\n\n') + '\n';
}

export interface UpgradeStep {
  from: string;
  to: string;
  file: string;
}

/** Hand-written upgrade deltas, sql/upgrades/pg_chameleon--A--B.sql. */
export function upgradeSteps(): UpgradeStep[] {
  const dir = join(projectRoot(), 'sql', 'upgrades');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => /^pg_chameleon--(.+)--(.+)\.sql$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ from: m[1], to: m[2], file: join(dir, m[0]) }));
}

/** The chain of steps from an installed version to the current one, or null if there is none. */
export function upgradePath(from: string, to: string = catalogVersion()): UpgradeStep[] | null {
  const steps = upgradeSteps();
  const path: UpgradeStep[] = [];
  let at = from;
  const seen = new Set<string>();
  while (at !== to) {
    if (seen.has(at)) return null;
    seen.add(at);
    const next = steps.find((s) => s.from === at);
    if (!next) return null;
    path.push(next);
    at = next.to;
  }
  return path;
}

/** An upgrade delta as `chameleon install` runs it: without the psql guard, recording the new version. */
export function upgradeScript(step: UpgradeStep, kind: 'extension' | 'plain' = 'plain'): string {
  const text = readFileSync(step.file, 'utf8');
  // the extension's copy keeps the psql guard; either records the version it reaches
  const body = kind === 'extension' ? text.trimEnd() : text.split('\n').filter((l) => !l.startsWith('\\echo')).join('\n');
  return `${body}\nINSERT INTO sch_chameleon.t_version (version) VALUES ('${step.to.replace(/'/g, "''")}');\n`;
}
