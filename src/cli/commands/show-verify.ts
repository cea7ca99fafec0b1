import { resolvePgUrl, type ParsedArgs } from '../../config/resolve.js';
import { renderTable } from '../table.js';
import type { CliCommand } from './index.js';

export const showVerifyCommand: CliCommand = {
  summary: 'show, per table, what the last verify or repair of a source found',
  usage: '--pg URL --source NAME [--json]',
  flags: { pg: { kind: 'text' }, source: { kind: 'text', required: true }, json: { kind: 'boolean' } },
  async run(args: ParsedArgs) {
    const [{ openCatalog }, { showVerify }] = await Promise.all([import('../../catalog/db.js'), import('../../catalog/control.js')]);
    const cat = openCatalog(resolvePgUrl(args.flags.get('pg')), { max: 1 });
    try {
      const rows = await showVerify(cat, String(args.flags.get('source')));
      const shown = args.flags.get('json') === true ? rows : rows.map(({ differing_ranges: _r, ...rest }) => rest);
      process.stdout.write(args.flags.get('json') === true ? `${JSON.stringify(shown, null, 2)}\n` : renderTable(shown));
      return 0;
    } finally {
      await cat.close();
    }
  },
};
