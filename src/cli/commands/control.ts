import type { Catalog } from '../../catalog/db.js';
import type { ControlFunction } from '../../catalog/control.js';
import { resolvePgUrl, type FlagSpecs, type ParsedArgs } from '../../config/resolve.js';
import { ChameleonError, ErrorCodes } from '../../errors.js';
import { renderProgress } from '../progress.js';
import type { CliCommand } from './index.js';

/** A flag parseArgs has checked (its kind, and presence when required). */
function flag(args: ParsedArgs, name: string): string {
  const v = args.flags.get(name);
  if (typeof v !== 'string') throw new ChameleonError(ErrorCodes.CONFIG, `--${name} is required`);
  return v;
}

/** Waits for a queued command, drawing its progress on stderr when it is a terminal. */
export async function followCommand(cat: Catalog, id: string, out: NodeJS.WriteStream = process.stderr): Promise<number> {
  const { commandState } = await import('../../catalog/control.js');
  let last = '';
  for (;;) {
    const row = await commandState(cat, id);
    if (!row) throw new ChameleonError(ErrorCodes.CONFIG, `command ${id} disappeared`);
    const line = `command ${id} ${row.command}: ${row.state}${renderProgress(row.progress)}`;
    // a line wider than the terminal wraps, and \r would redraw only its last row
    if (out.isTTY) out.write(`\r\x1b[K${line.slice(0, Math.max(20, (out.columns || 80) - 1))}`);
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

const PG: FlagSpecs = { pg: { kind: 'text' } };
const SOURCE: FlagSpecs = { source: { kind: 'text', required: true } };

function controlCommand(
  fn: ControlFunction,
  summary: string,
  usage: string,
  flags: FlagSpecs,
  argsOf: (a: ParsedArgs) => unknown[],
  queued: boolean,
): CliCommand {
  return {
    summary,
    usage: `--pg URL ${usage}${queued ? ' [--no-wait]' : ''}`,
    flags: { ...PG, ...flags, ...(queued ? { 'no-wait': { kind: 'boolean' } } : {}) },
    async run(args) {
      // the arguments first: a bad one must fail before anything connects
      const params = argsOf(args);
      const [{ openCatalog }, { callControl }] = await Promise.all([import('../../catalog/db.js'), import('../../catalog/control.js')]);
      const cat = openCatalog(resolvePgUrl(args.flags.get('pg')), { max: 2 });
      try {
        const result = await callControl(cat, fn, params);
        process.stdout.write(`${result}\n`);
        if (!queued || args.flags.get('no-wait') === true) return 0;
        return await followCommand(cat, result);
      } finally {
        await cat.close();
      }
    },
  };
}

const src = (a: ParsedArgs): unknown[] => [flag(a, 'source')];
const MAPPINGS: FlagSpecs = { mappings: { kind: 'json-object', required: true } };

export const controlCommands: Record<string, CliCommand> = {
  'add-source': controlCommand('add_source', 'register a MySQL source', '--source NAME --mysql URL --mappings JSON [--options JSON]',
    { ...SOURCE, mysql: { kind: 'text', required: true }, ...MAPPINGS, options: { kind: 'json-object' } },
    (a) => [flag(a, 'source'), flag(a, 'mysql'), flag(a, 'mappings'), a.flags.get('options') ?? '{}'], false),
  'alter-source': controlCommand('alter_source', 'change options of a stopped source', '--source NAME --options JSON',
    { ...SOURCE, options: { kind: 'json-object', required: true } }, (a) => [flag(a, 'source'), flag(a, 'options')], false),
  'update-schema-mappings': controlCommand('update_schema_mappings', 'replace the schema mappings', '--source NAME --mappings JSON',
    { ...SOURCE, ...MAPPINGS }, (a) => [flag(a, 'source'), flag(a, 'mappings')], false),
  'drop-source': controlCommand('drop_source', 'remove a source (tables stay)', '--source NAME', SOURCE, src, false),
  'init-replica': controlCommand('init_replica', 'copy the mapped schemas and wait', '--source NAME', SOURCE, src, true),
  'copy-schema': controlCommand('copy_schema', 'create tables, keys and indexes without data', '--source NAME', SOURCE, src, true),
  'refresh-schema': controlCommand('refresh_schema', 'copy one mapped database again while the replica runs', '--source NAME --schema MYSQL_DB',
    { ...SOURCE, schema: { kind: 'text', required: true } }, (a) => [flag(a, 'source'), flag(a, 'schema')], true),
  'sync-tables': controlCommand('sync_tables', 'copy tables again while the replica runs ("disabled": excluded and failed ones)',
    '--source NAME --tables db.table[,db.table...]|disabled', { ...SOURCE, tables: { kind: 'text', required: true } },
    (a) => [flag(a, 'source'), tableList(flag(a, 'tables'))], true),
  'start-replica': controlCommand('start_replica', 'start the continuous replica', '--source NAME', SOURCE, src, true),
  'stop-replica': controlCommand('stop_replica', 'stop the continuous replica', '--source NAME', SOURCE, src, true),
  'detach-replica': controlCommand('detach_replica', 'end replication for a cut-over: sequences past the data, foreign keys created, tables left standalone',
    '--source NAME', SOURCE, src, true),
  'cutover': controlCommand('cutover', 'wait until everything MySQL has is applied (--timeout, e.g. "5 minutes"), then detach',
    '--source NAME --timeout INTERVAL', { ...SOURCE, timeout: { kind: 'text', required: true } }, (a) => [flag(a, 'source'), flag(a, 'timeout')], true),
  'run-maintenance': controlCommand('run_maintenance', 'prune applied batches and vacuum the log (--full: rewrite it, locking out every replica meanwhile)',
    '--source NAME [--full]', { ...SOURCE, full: { kind: 'boolean' } }, (a) => [flag(a, 'source'), a.flags.get('full') === true], true),
  'enable-replica': controlCommand('enable_replica', 'clear the error state of a source', '--source NAME', SOURCE, src, false),
  'verify': controlCommand('verify', 'compare MySQL and PostgreSQL chunk by chunk while the replica runs (all tables, or --tables); then chameleon show-verify',
    '--source NAME [--tables db.table[,db.table...]]', { ...SOURCE, tables: { kind: 'text' } },
    (a) => [flag(a, 'source'), a.flags.has('tables') ? tableList(flag(a, 'tables')) : null], true),
  'repair': controlCommand('repair', 'copy again only the ranges of a table its last verify found different, then compare them again',
    '--source NAME --table db.table', { ...SOURCE, table: { kind: 'text', required: true } }, (a) => [flag(a, 'source'), flag(a, 'table')], true),
  'resolve-ddl': controlCommand('resolve_ddl',
    'run a PostgreSQL statement in place of a quarantined MySQL DDL statement (see chameleon ddl) and resume its table; --sql "" resumes without one',
    '--id N --sql STATEMENT', { id: { kind: 'integer', required: true }, sql: { kind: 'statement', required: true } },
    (a) => [flag(a, 'id'), flag(a, 'sql')], false),
  'cancel-command': controlCommand('cancel_command', 'cancel a pending or running command', '--id N', { id: { kind: 'integer', required: true } },
    (a) => [flag(a, 'id')], false),
};

/** --tables: names separated by commas; an empty name (",," or a trailing comma) is a typo, not a table. */
function tableList(text: string): string[] {
  const names = text.split(',').map((t) => t.trim());
  if (names.some((t) => t === '')) {
    throw new ChameleonError(ErrorCodes.CONFIG, `--tables holds an empty name: ${JSON.stringify(text)}`, { flag: 'tables' });
  }
  return names;
}
