import { ChameleonError, ErrorCodes } from '../../errors.js';
import type { ParsedArgs } from '../../config/resolve.js';
import type { CliCommand } from './index.js';

/**
 * The replica's pre-flight on a MySQL server before it is added: every
 * setting and privilege the replica needs, all problems at once. The
 * same check runs when a replica starts.
 */
export const checkSourceCommand: CliCommand = {
  summary: 'check that a MySQL/MariaDB server is ready to be replicated (binlog settings, privileges)',
  usage: '--mysql URL',
  flags: { mysql: { kind: 'text', required: true } },
  async run(args: ParsedArgs) {
    const url = args.flags.get('mysql');
    if (typeof url !== 'string') throw new ChameleonError(ErrorCodes.CONFIG, '--mysql is required');
    const [{ connectMysql, serverInfo, mysqlOptionsFromUrl }, { checkReplicationSettings, describeProblems }] = await Promise.all([
      import('../../mysql/connection.js'),
      import('../../mysql/preflight.js'),
    ]);
    const target = mysqlOptionsFromUrl(url);
    const where = `${target.user ?? ''}@${target.host ?? 'localhost'}:${target.port ?? 3306}`;
    const conn = await connectMysql(url, { connectTimeout: 10_000 });
    try {
      const info = await serverInfo(conn);
      const problems = await checkReplicationSettings(conn);
      if (problems.length === 0) {
        process.stdout.write(`${where} (${info.version}): ready to be replicated\n`);
        return 0;
      }
      process.stdout.write(`${where} (${info.version}): not ready to be replicated: ${describeProblems(problems)}\n`);
      for (const p of problems) process.stdout.write(`  ${p.setting}: ${p.found}, needs ${p.needed}\n`);
      return 1;
    } finally {
      await conn.end().catch(() => undefined);
    }
  },
};
