import { resolvePgUrl, type ParsedArgs } from '../../config/resolve.js';
import type { CliCommand } from './index.js';

export const doctorCommand: CliCommand = {
  summary: 'compare the live catalogue with a fresh install of this version (needs CREATEDB for a scratch database); exit 1 on a difference',
  usage: '--pg URL',
  flags: { pg: { kind: 'text' } },
  async run(args: ParsedArgs) {
    const { doctor } = await import('../../catalog/doctor.js');
    const report = await doctor(resolvePgUrl(args.flags.get('pg')));
    if (report.installed !== null && report.installed !== report.expected) {
      process.stdout.write(`catalogue version ${report.installed}, this agent's is ${report.expected}: run chameleon install to upgrade it\n`);
    }
    for (const line of report.missing) process.stdout.write(`missing or different: ${line}\n`);
    for (const line of report.unexpected) process.stdout.write(`not in version ${report.expected}: ${line}\n`);
    if (report.missing.length === 0 && report.unexpected.length === 0) {
      process.stdout.write(`ok: the catalogue is version ${report.expected}, object for object\n`);
      return 0;
    }
    return 1;
  },
};
