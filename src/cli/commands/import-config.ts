import { readFile } from 'node:fs/promises';
import { resolvePgUrl, type ParsedArgs } from '../../config/resolve.js';
import { readPgChameleonConfig } from '../../config/pg-chameleon-config.js';
import { ChameleonError, ErrorCodes, errorMessage } from '../../errors.js';
import { redactText } from '../../log.js';
import type { CliCommand } from './index.js';

export const importConfigCommand: CliCommand = {
  summary: 'turn a pg_chameleon 2.x configuration file into add_source calls, all in one transaction (--dry-run: show them)',
  usage: 'FILE.yml [--pg URL] [--source NAME] [--dry-run]',
  flags: { pg: { kind: 'text' }, source: { kind: 'text' }, 'dry-run': { kind: 'boolean' } },
  positional: { name: 'configuration file', required: true },
  async run(args: ParsedArgs) {
    const file = args.positional!;
    let yamlText: string;
    try {
      yamlText = await readFile(file, 'utf8');
    } catch (err) {
      throw new ChameleonError(ErrorCodes.CONFIG, `cannot read ${file}: ${errorMessage(err)}`, { file });
    }
    const config = readPgChameleonConfig(yamlText, file);
    const only = args.flags.get('source');
    const sources = typeof only === 'string' ? config.sources.filter((s) => s.source === only) : config.sources;
    if (sources.length === 0) {
      throw new ChameleonError(ErrorCodes.CONFIG, `${file} has no source "${String(only)}" (it has: ${config.sources.map((s) => s.source).join(', ')})`);
    }
    for (const note of config.notes) process.stderr.write(`note: ${note}\n`);
    if (args.flags.get('dry-run') === true) {
      for (const s of sources) {
        process.stdout.write(`SELECT sch_chameleon.add_source(${[s.source, redactText(s.mysqlUrl), JSON.stringify(s.schemaMappings), JSON.stringify(s.options)]
          .map((v) => `'${v.replace(/'/g, "''")}'`).join(', ')});\n`);
      }
      return 0;
    }
    const flag = args.flags.get('pg');
    const pgUrl = typeof flag === 'string' || process.env.DATABASE_URL || process.env.PGHOST || process.env.PGDATABASE || !config.pgUrl
      ? resolvePgUrl(flag)
      : config.pgUrl;
    const [{ openCatalog }, { addSources }] = await Promise.all([import('../../catalog/db.js'), import('../../catalog/control.js')]);
    const cat = openCatalog(pgUrl, { max: 1 });
    try {
      const ids = await addSources(cat, sources);
      for (const [i, s] of sources.entries()) process.stdout.write(`source ${s.source}: ${ids[i]}\n`);
      return 0;
    } finally {
      await cat.close();
    }
  },
};
