import { resolvePgUrl, type ParsedArgs } from '../../config/resolve.js';
import type { CliCommand } from './index.js';

export const installCommand: CliCommand = {
  summary: 'create or upgrade the sch_chameleon schema',
  usage: '--pg URL',
  flags: { pg: { kind: 'text' } },
  async run(args: ParsedArgs) {
    const { installCatalog } = await import('../../catalog/installer.js');
    const result = await installCatalog(resolvePgUrl(args.flags.get('pg')));
    const text = {
      installed: `sch_chameleon ${result.version} installed`,
      upgraded: `sch_chameleon upgraded from ${result.from} to ${result.version}`,
      current: `sch_chameleon ${result.version} is already installed`,
      extension: `sch_chameleon ${result.version} is installed by the pg_chameleon extension`,
    }[result.action];
    process.stdout.write(`${text}\n`);
    return 0;
  },
};
