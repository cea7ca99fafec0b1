import { startMariaDB, type MariaDBOptions } from './mariadb.js';
import { startPostgres, type PostgresOptions } from './postgres.js';
import type { StopOptions, ThrowawayServer } from './process.js';

export { freePort } from './free-port.js';
export {
  findMariaDBBinaries,
  findPostgresBinaries,
  type LocateOptions,
  type MariaDBBinaries,
  type PostgresBinaries,
} from './binaries.js';
export { startMariaDB, type MariaDBOptions } from './mariadb.js';
export { startPostgres, type PostgresOptions } from './postgres.js';
export { stopOnExit, type ServerKind, type StopOptions, type ThrowawayServer } from './process.js';

export interface ThrowawayPairOptions {
  mariadb?: Omit<MariaDBOptions, 'log'>;
  postgres?: Omit<PostgresOptions, 'log'>;
  log?: (msg: string) => void;
}

export interface ThrowawayPair {
  mysql: ThrowawayServer;
  pg: ThrowawayServer;
  /** Stops both servers; with `keep` their data dirs stay on disk. */
  stop(opts?: StopOptions): Promise<void>;
}

/** Starts MariaDB and PostgreSQL in parallel; if either fails, the other is stopped. */
export async function startThrowawayPair(opts: ThrowawayPairOptions = {}): Promise<ThrowawayPair> {
  const [my, pgs] = await Promise.allSettled([
    startMariaDB({ ...opts.mariadb, log: opts.log }),
    startPostgres({ ...opts.postgres, log: opts.log }),
  ]);
  if (my.status === 'rejected' || pgs.status === 'rejected') {
    if (my.status === 'fulfilled') await my.value.stop();
    if (pgs.status === 'fulfilled') await pgs.value.stop();
    const reasons = [my, pgs]
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => (r.reason instanceof Error ? r.reason.message : String(r.reason)));
    throw new Error(`could not start throwaway servers:\n${reasons.join('\n')}`);
  }
  const mysqlServer = my.value;
  const pgServer = pgs.value;
  return {
    mysql: mysqlServer,
    pg: pgServer,
    async stop(stopOpts?: StopOptions) {
      await Promise.all([mysqlServer.stop(stopOpts), pgServer.stop(stopOpts)]);
    },
  };
}
