import { resolvePgUrl, type ParsedArgs } from '../../config/resolve.js';
import { renderTable } from '../table.js';
import type { CliCommand } from './index.js';

export const ddlCommand: CliCommand = {
  summary: 'list the MySQL DDL statements the replica met, quarantined ones first (resolve-ddl takes their id)',
  usage: '--pg URL [--source NAME] [--json]',
  flags: { pg: { kind: 'text' }, source: { kind: 'text' }, json: { kind: 'boolean' } },
  async run(args: ParsedArgs) {
    const [{ openCatalog }, { showDdl }] = await Promise.all([import('../../catalog/db.js'), import('../../catalog/control.js')]);
    const cat = openCatalog(resolvePgUrl(args.flags.get('pg')), { max: 1 });
    try {
      const source = args.flags.get('source');
      const rows = await showDdl(cat, typeof source === 'string' ? source : null);
      process.stdout.write(args.flags.get('json') === true ? `${JSON.stringify(rows, null, 2)}\n` : renderTable(rows));
      return 0;
    } finally {
      await cat.close();
    }
  },
};
