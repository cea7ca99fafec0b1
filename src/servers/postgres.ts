import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { findPostgresBinaries, type PostgresBinaries } from './binaries.js';
import { freePort } from './free-port.js';
import {
  fileSize,
  isRoot,
  prepareDataDir,
  removeDir,
  shutdown,
  sleep,
  spawnServer,
  StartupError,
  waitUntilReady,
  type SpawnedServer,
  type StopOptions,
  type ThrowawayServer,
} from './process.js';

const execFileAsync = promisify(execFile);

export interface PostgresOptions {
  /** Defaults to a fresh temporary directory. An existing cluster (PG_VERSION present) is reused. */
  dataDir?: string;
  /** Defaults to a free port. */
  port?: number;
  /**
   * Keep the data dir on stop(). Defaults to false for a temporary dir and to
   * true for a caller-supplied dataDir, which we never delete unasked.
   */
  keep?: boolean;
  /** Extra `-c name=value` settings, applied after ours. */
  settings?: Record<string, string>;
  startTimeoutMs?: number;
  log?: (msg: string) => void;
}

const SHUTDOWN_GRACE_MS = 60_000;

interface OsUser {
  uid: number;
  gid: number;
}

/** initdb and postgres refuse to run as root, so as root we run them as this OS user. */
async function postgresOsUser(): Promise<OsUser | undefined> {
  if (!isRoot()) return undefined;
  const passwd = await fs.readFile('/etc/passwd', 'utf8');
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === 'postgres' && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new Error(
    "running as root, but there is no 'postgres' OS user to run PostgreSQL as; " +
      'install the Debian package postgresql (it creates the user) or run `useradd --system postgres`',
  );
}

async function chooseLocale(): Promise<string> {
  try {
    const { stdout } = await execFileAsync('locale', ['-a']);
    const locales = stdout.split('\n').map((l) => l.trim().toLowerCase());
    if (locales.includes('c.utf8') || locales.includes('c.utf-8')) return 'C.UTF-8';
  } catch {
    // no locale tool: fall through to the always-available C locale
  }
  return 'C';
}

async function initialize(
  bins: PostgresBinaries,
  dataDir: string,
  user: OsUser | undefined,
  log?: (msg: string) => void,
): Promise<void> {
  try {
    await fs.access(path.join(dataDir, 'PG_VERSION'));
    return;
  } catch {
    // not initialized yet
  }
  await fs.chmod(dataDir, 0o700);
  if (user) await fs.chown(dataDir, user.uid, user.gid);
  const args = ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', `--locale=${await chooseLocale()}`, '--no-sync'];
  log?.(`postgres: ${bins.initdb} ${args.join(' ')}`);
  try {
    await execFileAsync(bins.initdb, args, {
      uid: user?.uid,
      gid: user?.gid,
      cwd: dataDir,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    let hint = '';
    if (user && /permission denied/i.test(`${e.stderr}`)) {
      hint = `\n(the postgres OS user must be able to reach ${dataDir}; set TMPDIR to a world-traversable directory)`;
    }
    throw new Error(`initdb failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}${hint}`);
  }
}

async function hasPgCron(bins: PostgresBinaries): Promise<boolean> {
  if (!bins.pkglibdir) return false;
  try {
    await fs.access(path.join(bins.pkglibdir, 'pg_cron.so'));
    return true;
  } catch {
    return false;
  }
}

function serverArgs(dataDir: string, port: number, settings: Record<string, string>): string[] {
  const args = ['-D', dataDir, '-p', String(port), '-k', dataDir];
  for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
  return args;
}

/** `host` is 127.0.0.1 or the unix socket directory. */
async function probe(host: string, port: number): Promise<void> {
  const client = new pg.Client({
    host,
    port,
    user: 'postgres',
    database: 'postgres',
    connectionTimeoutMillis: 2000,
  });
  // A refused connection can still emit 'error' after connect() rejects.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

// After a crash (kill('SIGKILL')) orphaned backends may hold the old shared
// memory segment for a moment; postgres refuses to start until they are gone.
const TRANSIENT_START_FAILURE = /pre-existing shared memory block|lock file .* already exists/i;

export async function startPostgres(opts: PostgresOptions = {}): Promise<ThrowawayServer> {
  const log = opts.log;
  const bins = await findPostgresBinaries({ log });
  const user = await postgresOsUser();
  const { dir: dataDir, created } = await prepareDataDir('chameleon-pg-', opts.dataDir);
  const keepByDefault = opts.keep ?? !created;
  const timeoutMs = opts.startTimeoutMs ?? 120_000;
  const logFile = path.join(dataDir, 'postgres.log');

  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '200',
    shared_buffers: '256MB',
  };
  if (await hasPgCron(bins)) {
    settings.shared_preload_libraries = 'pg_cron';
    settings['cron.database_name'] = 'postgres';
  }
  Object.assign(settings, opts.settings ?? {});

  let port = opts.port ?? (await freePort());
  let proc: SpawnedServer | undefined;
  let removed = false;

  const launchOnce = async (): Promise<void> => {
    const offset = await fileSize(logFile);
    const p = spawnServer(bins.postgres, serverArgs(dataDir, port, settings), {
      logFile,
      uid: user?.uid,
      gid: user?.gid,
    });
    proc = p;
    // Probing the socket in our own data dir cannot be fooled by some other
    // server that grabbed the TCP port first.
    await waitUntilReady(p, () => probe(dataDir, port), { timeoutMs, what: 'postgres', logFile, logOffset: offset });
    await probe('127.0.0.1', port);
  };

  const launch = async (allowNewPort: boolean): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await launchOnce();
        return;
      } catch (err) {
        if (!(err instanceof StartupError) || attempt >= 10) throw err;
        if (TRANSIENT_START_FAILURE.test(err.log)) {
          await sleep(500);
          continue;
        }
        if (allowNewPort && /address already in use/i.test(err.log)) {
          port = await freePort();
          log?.(`postgres: port in use, retrying on ${port}`);
          continue;
        }
        throw err;
      }
    }
  };

  try {
    await initialize(bins, dataDir, user, log);
    if (user) {
      // The log file lives in the data dir; keep it readable by its owner too.
      await fs.writeFile(logFile, '', { flag: 'a' });
      await fs.chown(logFile, user.uid, user.gid);
    }
    const started = Date.now();
    await launch(opts.port === undefined);
    log?.(`postgres: ready on port ${port} in ${Date.now() - started} ms (data dir ${dataDir})`);
  } catch (err) {
    if (proc) await shutdown(proc, 'SIGKILL', 5000);
    if (!keepByDefault) await removeDir(dataDir);
    throw err;
  }

  // SIGINT is PostgreSQL's "fast" shutdown: SIGTERM ("smart") would wait for
  // every client, e.g. a test's idle pool, to disconnect.
  const stopProcess = async (): Promise<void> => {
    if (proc) await shutdown(proc, 'SIGINT', SHUTDOWN_GRACE_MS);
  };

  const server: ThrowawayServer = {
    kind: 'postgres',
    get url() {
      return `postgres://postgres@127.0.0.1:${port}/postgres`;
    },
    get port() {
      return port;
    },
    dataDir,
    logFile,
    get pid() {
      return proc && !proc.hasExited() ? proc.child.pid : undefined;
    },
    get running() {
      return proc !== undefined && !proc.hasExited();
    },
    async stop(stopOpts: StopOptions = {}) {
      await stopProcess();
      const keep = stopOpts.keep ?? keepByDefault;
      if (!keep && !removed) {
        removed = true;
        await removeDir(dataDir);
      }
    },
    async restart() {
      if (removed) throw new Error('postgres: cannot restart, the data dir was removed by stop()');
      await stopProcess();
      const started = Date.now();
      await launch(false);
      log?.(`postgres: restarted on port ${port} in ${Date.now() - started} ms`);
    },
    kill(signal: NodeJS.Signals = 'SIGINT') {
      if (proc && !proc.hasExited()) proc.child.kill(signal);
    },
  };
  return server;
}
