import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { findMariaDBBinaries, type MariaDBBinaries } from './binaries.js';
import { freePort } from './free-port.js';
import {
  fileSize,
  isRoot,
  prepareDataDir,
  removeDir,
  shutdown,
  spawnServer,
  StartupError,
  waitUntilReady,
  type SpawnedServer,
  type StopOptions,
  type ThrowawayServer,
} from './process.js';

const execFileAsync = promisify(execFile);

export interface MariaDBOptions {
  /** Defaults to a fresh temporary directory. An existing initialized data dir is reused. */
  dataDir?: string;
  /** Defaults to a free port. */
  port?: number;
  serverId?: number;
  /**
   * Keep the data dir on stop(). Defaults to false for a temporary dir and to
   * true for a caller-supplied dataDir, which we never delete unasked.
   */
  keep?: boolean;
  /** Extra mariadbd options, appended last so they override ours. */
  extraArgs?: string[];
  startTimeoutMs?: number;
  log?: (msg: string) => void;
}

const SHUTDOWN_GRACE_MS = 60_000;

async function initialize(bins: MariaDBBinaries, dataDir: string, log?: (msg: string) => void): Promise<void> {
  // The "mysql" schema is the marker that install-db already ran here.
  try {
    await fs.access(path.join(dataDir, 'mysql'));
    return;
  } catch {
    // not initialized yet
  }
  const args = [
    '--no-defaults',
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    '--skip-name-resolve',
    `--datadir=${dataDir}`,
  ];
  if (isRoot()) args.push('--user=root');
  log?.(`mariadb: ${bins.installDb} ${args.join(' ')}`);
  try {
    await execFileAsync(bins.installDb, args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${path.basename(bins.installDb)} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

function serverArgs(dataDir: string, port: number, serverId: number, extra: string[]): string[] {
  const args = [
    '--no-defaults',
    `--datadir=${dataDir}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${path.join(dataDir, 'mysqld.sock')}`,
    `--pid-file=${path.join(dataDir, 'mysqld.pid')}`,
    `--log-error=${path.join(dataDir, 'mariadbd.log')}`,
    `--log-bin=${path.join(dataDir, 'binlog')}`,
    '--binlog-format=ROW',
    '--binlog-row-image=FULL',
    '--binlog-row-metadata=FULL',
    `--server-id=${serverId}`,
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_general_ci',
    '--innodb-buffer-pool-size=256M',
    '--innodb-flush-log-at-trx-commit=2',
    '--sync-binlog=0',
    '--skip-name-resolve',
    '--max-connections=300',
    '--max-allowed-packet=256M',
  ];
  // mariadbd refuses to run as root unless told to explicitly.
  if (isRoot()) args.splice(1, 0, '--user=root');
  return [...args, ...extra];
}

/**
 * Allows passwordless root over TCP. Acceptable only because the server
 * binds to 127.0.0.1 and lives for one test run or demo.
 */
async function openRootAccess(socketPath: string): Promise<void> {
  const conn = await mysql.createConnection({ socketPath, user: 'root', connectTimeout: 5000 });
  try {
    for (const host of ['localhost', '127.0.0.1', '::1']) {
      await conn.query(`ALTER USER IF EXISTS 'root'@'${host}' IDENTIFIED BY ''`);
    }
    await conn.query(`CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY ''`);
    await conn.query(`GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION`);
    await conn.query('FLUSH PRIVILEGES');
  } finally {
    await conn.end();
  }
}

async function probe(port: number): Promise<void> {
  const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 2000 });
  await conn.end();
}

export async function startMariaDB(opts: MariaDBOptions = {}): Promise<ThrowawayServer> {
  const log = opts.log;
  const bins = await findMariaDBBinaries({ log });
  const { dir: dataDir, created } = await prepareDataDir('chameleon-mariadb-', opts.dataDir);
  const keepByDefault = opts.keep ?? !created;
  const serverId = opts.serverId ?? 1;
  const timeoutMs = opts.startTimeoutMs ?? 120_000;
  const logFile = path.join(dataDir, 'mariadbd.log');
  const socketPath = path.join(dataDir, 'mysqld.sock');

  let port = opts.port ?? (await freePort());
  let proc: SpawnedServer | undefined;
  let removed = false;

  const launch = async (): Promise<void> => {
    const offset = await fileSize(logFile);
    const p = spawnServer(bins.mariadbd, serverArgs(dataDir, port, serverId, opts.extraArgs ?? []), { logFile });
    proc = p;
    // Socket first: until root@'%' exists a TCP login may be refused, and a
    // TCP probe against a port we don't own would look like success.
    await waitUntilReady(p, async () => {
      const c = await mysql.createConnection({ socketPath, user: 'root', connectTimeout: 2000 });
      await c.end();
    }, { timeoutMs, what: 'mariadbd', logFile, logOffset: offset });
    await openRootAccess(socketPath);
    await probe(port);
  };

  try {
    await initialize(bins, dataDir, log);
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        await launch();
        break;
      } catch (err) {
        // Another process may grab a port between freePort() and bind.
        const portRace = err instanceof StartupError && /address already in use/i.test(err.log);
        if (!portRace || opts.port !== undefined || attempt >= 5) throw err;
        port = await freePort();
        log?.(`mariadb: port in use, retrying on ${port}`);
      }
    }
    log?.(`mariadb: ready on port ${port} in ${Date.now() - started} ms (data dir ${dataDir})`);
  } catch (err) {
    if (proc) await shutdown(proc, 'SIGKILL', 5000);
    if (!keepByDefault) await removeDir(dataDir);
    throw err;
  }

  const stopProcess = async (): Promise<void> => {
    if (proc) await shutdown(proc, 'SIGTERM', SHUTDOWN_GRACE_MS);
  };

  const server: ThrowawayServer = {
    kind: 'mariadb',
    get url() {
      return `mysql://root@127.0.0.1:${port}`;
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
      if (removed) throw new Error('mariadb: cannot restart, the data dir was removed by stop()');
      await stopProcess();
      const started = Date.now();
      await launch();
      log?.(`mariadb: restarted on port ${port} in ${Date.now() - started} ms`);
    },
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc && !proc.hasExited()) proc.child.kill(signal);
    },
  };
  return server;
}

