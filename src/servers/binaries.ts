import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface PostgresBinaries {
  bindir: string;
  initdb: string;
  postgres: string;
  /** Directory holding extension libraries (where pg_cron.so lives), if known. */
  pkglibdir: string | undefined;
  /** Major version, e.g. 15, parsed from `postgres --version`. */
  major: number;
}

export interface MariaDBBinaries {
  mariadbd: string;
  installDb: string;
}

export interface LocateOptions {
  /**
   * Whether a missing server may be installed with apt-get. Defaults to true;
   * it only ever happens as root on Debian/Ubuntu.
   */
  install?: boolean;
  log?: (msg: string) => void;
}

const PG_PACKAGES_HINT = 'postgresql (or postgresql-<major>), optionally postgresql-<major>-cron and postgresql-<major>-postgis-3';
const MARIADB_PACKAGES_HINT = 'mariadb-server';

async function isExecutable(file: string): Promise<boolean> {
  try {
    await fs.access(file, fsConstants.X_OK);
    const st = await fs.stat(file);
    return st.isFile();
  } catch {
    return false;
  }
}

async function firstExecutable(names: string[], dirs: string[]): Promise<string | undefined> {
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (await isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

function pathDirs(): string[] {
  return (process.env.PATH ?? '').split(path.delimiter).filter((d) => d.length > 0);
}

async function run(cmd: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

export async function canAutoInstall(): Promise<boolean> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  try {
    await fs.access('/etc/debian_version');
  } catch {
    return false;
  }
  return (await firstExecutable(['apt-get'], [...pathDirs(), '/usr/bin'])) !== undefined;
}

// Both servers may be looked up concurrently (startThrowawayPair); apt/dpkg
// hold a global lock, so installs are serialized through this chain.
let aptChain: Promise<unknown> = Promise.resolve();
let aptUpdated = false;

function aptGet(args: string[], log?: (msg: string) => void): Promise<void> {
  const next = aptChain.then(async () => {
    log?.(`apt-get ${args.join(' ')}`);
    await execFileAsync('apt-get', args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      maxBuffer: 64 * 1024 * 1024,
    });
  });
  aptChain = next.catch(() => undefined);
  return next;
}

async function aptUpdate(log?: (msg: string) => void): Promise<void> {
  if (aptUpdated) return;
  await aptGet(['update'], log);
  aptUpdated = true;
}

async function aptInstall(packages: string[], log?: (msg: string) => void): Promise<void> {
  await aptUpdate(log);
  await aptGet(['install', '-y', ...packages], log);
}

async function newestDebianPgBindir(): Promise<string | undefined> {
  const root = '/usr/lib/postgresql';
  let entries: string[];
  try {
    entries = await fs.readdir(root);
  } catch {
    return undefined;
  }
  const versions = entries
    .filter((e) => /^\d+(\.\d+)?$/.test(e))
    .sort((a, b) => parseFloat(b) - parseFloat(a));
  for (const v of versions) {
    const bindir = path.join(root, v, 'bin');
    if (await isExecutable(path.join(bindir, 'postgres')) && await isExecutable(path.join(bindir, 'initdb'))) {
      return bindir;
    }
  }
  return undefined;
}

async function pgConfig(bindir: string | undefined, flag: string): Promise<string | undefined> {
  // Prefer the pg_config that belongs to the chosen bindir: on Debian the one
  // on PATH is a wrapper that may report a different major version.
  const candidates = [bindir ? path.join(bindir, 'pg_config') : undefined, 'pg_config'];
  for (const c of candidates) {
    if (c === undefined) continue;
    if (c !== 'pg_config' && !(await isExecutable(c))) continue;
    try {
      const out = await run(c, [flag]);
      if (out) return out;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

async function locatePostgres(): Promise<PostgresBinaries | undefined> {
  let bindir = await newestDebianPgBindir();
  if (bindir === undefined) {
    const fromConfig = await pgConfig(undefined, '--bindir');
    if (fromConfig && await isExecutable(path.join(fromConfig, 'postgres')) && await isExecutable(path.join(fromConfig, 'initdb'))) {
      bindir = fromConfig;
    }
  }
  if (bindir === undefined) {
    const postgres = await firstExecutable(['postgres'], pathDirs());
    if (postgres && await isExecutable(path.join(path.dirname(postgres), 'initdb'))) bindir = path.dirname(postgres);
  }
  if (bindir === undefined) return undefined;

  const postgres = path.join(bindir, 'postgres');
  const version = await run(postgres, ['--version']);
  const m = /(\d+)(?:\.\d+)?/.exec(version.replace(/^[^0-9]*/, ''));
  if (!m) throw new Error(`cannot parse PostgreSQL version from: ${version}`);
  const major = Number(m[1]);

  let pkglibdir = await pgConfig(bindir, '--pkglibdir');
  if (pkglibdir === undefined) {
    // Debian layout: /usr/lib/postgresql/<major>/{bin,lib}
    const sibling = path.join(path.dirname(bindir), 'lib');
    try {
      await fs.access(sibling);
      pkglibdir = sibling;
    } catch {
      pkglibdir = undefined;
    }
  }
  return { bindir, initdb: path.join(bindir, 'initdb'), postgres, pkglibdir, major };
}

async function locateMariaDB(): Promise<MariaDBBinaries | undefined> {
  const dirs = [...pathDirs(), '/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin', '/usr/libexec'];
  const mariadbd = await firstExecutable(['mariadbd', 'mysqld'], dirs);
  const installDb = await firstExecutable(['mariadb-install-db', 'mysql_install_db'], dirs);
  if (mariadbd === undefined || installDb === undefined) return undefined;
  return { mariadbd, installDb };
}

/** Optional extensions are nice to have; any failure to install them is ignored. */
async function installOptionalPgPackages(major: number, log?: (msg: string) => void): Promise<void> {
  for (const pkg of [`postgresql-${major}-cron`, `postgresql-${major}-postgis-3`]) {
    try {
      await aptInstall([pkg], log);
    } catch (err) {
      log?.(`optional package ${pkg} not installed: ${(err as Error).message.split('\n')[0]}`);
    }
  }
}

export async function findPostgresBinaries(opts: LocateOptions = {}): Promise<PostgresBinaries> {
  const found = await locatePostgres();
  if (found) return found;
  if (opts.install !== false && await canAutoInstall()) {
    opts.log?.('PostgreSQL server binaries not found; installing with apt-get');
    await aptInstall(['postgresql'], opts.log);
    const installed = await locatePostgres();
    if (installed) {
      await installOptionalPgPackages(installed.major, opts.log);
      return installed;
    }
  }
  throw new Error(
    'PostgreSQL server binaries (postgres, initdb) not found in /usr/lib/postgresql/*/bin, ' +
      `pg_config --bindir or PATH. On Debian/Ubuntu install: ${PG_PACKAGES_HINT}`,
  );
}

export async function findMariaDBBinaries(opts: LocateOptions = {}): Promise<MariaDBBinaries> {
  const found = await locateMariaDB();
  if (found) return found;
  if (opts.install !== false && await canAutoInstall()) {
    opts.log?.('MariaDB server binaries not found; installing with apt-get');
    await aptInstall(['mariadb-server'], opts.log);
    const installed = await locateMariaDB();
    if (installed) return installed;
  }
  throw new Error(
    'MariaDB server binaries (mariadbd or mysqld, and mariadb-install-db or mysql_install_db) ' +
      `not found on PATH, /usr/sbin or /usr/bin. On Debian/Ubuntu install: ${MARIADB_PACKAGES_HINT}`,
  );
}
