import type { FlagSpecs, ParsedArgs } from '../../config/resolve.js';
import { agentCommand } from './agent.js';
import { installCommand } from './install.js';
import { demoCommand } from './demo.js';
import { statusCommand } from './status.js';
import { controlCommands } from './control.js';
import { checkSourceCommand } from './check-source.js';
import { ddlCommand } from './ddl.js';
import { showVerifyCommand } from './show-verify.js';
import { importConfigCommand } from './import-config.js';
import { doctorCommand } from './doctor.js';

export interface CliCommand {
  summary: string;
  usage: string;
  /** Every flag the command takes: parseArgs refuses any other. */
  flags: FlagSpecs;
  /** The one argument that is not a flag, when the command takes one (import-config's file). */
  positional?: { name: string; required: boolean };
  run(args: ParsedArgs): Promise<number>;
}

export const commands: Record<string, CliCommand> = {
  agent: agentCommand,
  install: installCommand,
  doctor: doctorCommand,
  demo: demoCommand,
  status: statusCommand,
  'check-source': checkSourceCommand,
  ddl: ddlCommand,
  'show-verify': showVerifyCommand,
  'import-config': importConfigCommand,
  ...controlCommands,
};

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${`chameleon ${name} ${c.usage}`.padEnd(64)} ${c.summary}`);
  return `chameleon: MySQL/MariaDB to PostgreSQL replica controlled from SQL

Usage:
${lines.join('\n')}

Connection: --pg URL, else DATABASE_URL, else PGHOST/PGPORT/PGUSER/PGDATABASE/PGPASSWORD.
`;
}
