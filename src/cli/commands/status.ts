import { resolvePgUrl, type ParsedArgs } from '../../config/resolve.js';
import { renderTable } from '../table.js';
import type { CliCommand } from './index.js';

export const statusCommand: CliCommand = {
  summary: 'show the status of every source (or the tables of one)',
  usage: '--pg URL [--source NAME] [--json]',
  flags: { pg: { kind: 'text' }, source: { kind: 'text' }, json: { kind: 'boolean' } },
  async run(args: ParsedArgs) {
    const [{ openCatalog }, { showStatus, showTables }] = await Promise.all([import('../../catalog/db.js'), import('../../catalog/control.js')]);
    const cat = openCatalog(resolvePgUrl(args.flags.get('pg')), { max: 1 });
    try {
      const source = args.flags.get('source');
      const rows = typeof source === 'string' ? await showTables(cat, source) : await showStatus(cat);
      process.stdout.write(args.flags.get('json') === true ? `${JSON.stringify(rows, null, 2)}\n` : renderTable(rows));
      return 0;
    } finally {
      await cat.close();
    }
  },
};
