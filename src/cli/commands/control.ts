import { openCatalog, type Catalog } from '../../catalog/db.js';
import { callControl, commandState, type ControlFunction } from '../../catalog/control.js';
import { resolvePgUrl, type ParsedArgs } from '../../config/resolve.js';
import { ChameleonError, ErrorCodes } from '../../errors.js';
import { renderProgress } from '../progress.js';
import type { CliCommand } from './index.js';

function need(args: ParsedArgs, flag: string): string {
  const v = args.flags.get(flag);
  if (typeof v !== 'string' || v === '') throw new ChameleonError(ErrorCodes.CONFIG, `--${flag} is required`);
  return v;
}

function json(args: ParsedArgs, flag: string, fallback?: string): string {
  const v = args.flags.get(flag) ?? fallback;
  if (typeof v !== 'string') throw new ChameleonError(ErrorCodes.CONFIG, `--${flag} is required`);
  try {
    JSON.parse(v);
  } catch {
    throw new ChameleonError(ErrorCodes.CONFIG, `--${flag} is not valid JSON`);
  }
  return v;
}

/** Waits for a queued command, drawing its progress on stderr when it is a terminal. */
export async function followCommand(cat: Catalog, id: string, out: NodeJS.WriteStream = process.stderr): Promise<number> {
  let last = '';
  for (;;) {
    const row = await commandState(cat, id);
    if (!row) throw new ChameleonError(ErrorCodes.CONFIG, `command ${id} disappeared`);
    const line = `command ${id} ${row.command}: ${row.state}${renderProgress(row.progress)}`;
    if (out.isTTY) out.write(`\r\x1b[K${line}`);
    else if (line !== last) out.write(`${line}\n`);
    last = line;
    if (['done', 'failed', 'cancelled'].includes(row.state)) {
      if (out.isTTY) out.write('\n');
      if (row.state !== 'done') {
        out.write(`${row.error ?? row.state}\n`);
        return 1;
      }
      return 0;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function controlCommand(fn: ControlFunction, summary: string, usage: string, argsOf: (a: ParsedArgs) => unknown[], queued: boolean): CliCommand {
  return {
    summary,
    usage: `--pg URL ${usage}${queued ? ' [--no-wait]' : ''}`,
    async run(args) {
      const cat = openCatalog(resolvePgUrl(args.flags.get('pg')), { max: 2 });
      try {
        const result = await callControl(cat, fn, argsOf(args));
        process.stdout.write(`${result}\n`);
        if (!queued || args.flags.get('no-wait') === true) return 0;
        return await followCommand(cat, result);
      } finally {
        await cat.close();
      }
    },
  };
}

const src = (a: ParsedArgs): unknown[] => [need(a, 'source')];

export const controlCommands: Record<string, CliCommand> = {
  'add-source': controlCommand('add_source', 'register a MySQL source', '--source NAME --mysql URL --mappings JSON [--options JSON]',
    (a) => [need(a, 'source'), need(a, 'mysql'), json(a, 'mappings'), json(a, 'options', '{}')], false),
  'alter-source': controlCommand('alter_source', 'change options of a stopped source', '--source NAME --options JSON',
    (a) => [need(a, 'source'), json(a, 'options')], false),
  'update-schema-mappings': controlCommand('update_schema_mappings', 'replace the schema mappings', '--source NAME --mappings JSON',
    (a) => [need(a, 'source'), json(a, 'mappings')], false),
  'drop-source': controlCommand('drop_source', 'remove a source (tables stay)', '--source NAME', src, false),
  'init-replica': controlCommand('init_replica', 'copy the mapped schemas and wait', '--source NAME', src, true),
  'copy-schema': controlCommand('copy_schema', 'create tables, keys and indexes without data', '--source NAME', src, true),
  'refresh-schema': controlCommand('refresh_schema', 'copy one mapped database again while the replica runs', '--source NAME --schema MYSQL_DB',
    (a) => [need(a, 'source'), need(a, 'schema')], true),
  'sync-tables': controlCommand('sync_tables', 'copy tables again while the replica runs ("disabled": excluded and failed ones)',
    '--source NAME --tables db.table[,db.table...]|disabled', (a) => [need(a, 'source'), need(a, 'tables').split(',').map((t) => t.trim())], true),
  'start-replica': controlCommand('start_replica', 'start the continuous replica', '--source NAME', src, true),
  'stop-replica': controlCommand('stop_replica', 'stop the continuous replica', '--source NAME', src, true),
  'enable-replica': controlCommand('enable_replica', 'clear the error state of a source', '--source NAME', src, false),
  'cancel-command': controlCommand('cancel_command', 'cancel a pending or running command', '--id N', (a) => [need(a, 'id')], false),
};
