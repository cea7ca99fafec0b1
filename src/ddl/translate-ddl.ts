import type { MysqlColumn, TypeMapContext } from '../mysql/column.js';
import type { MysqlIndex, MysqlTable } from '../mysql/metadata.js';
import { mapColumn } from '../mysql/type-map.js';
import { pgLiteral } from '../mysql/type-map/defaults.js';
import { tableDdl, type MappedColumn } from './create-table.js';
import { pgColumnNames, pgIdentifier, qualified, quoteIdent } from './identifiers.js';
import { DdlSyntaxError, parseDdl, type AlterAction, type ColumnDef, type ParsedDdl, type TableName } from './parse-ddl.js';
import { tablesTouchedByDdl } from './ddl-tables.js';

/** A step the decoder cannot write ahead: the primary key's name is read from the target when the step runs. */
export interface DropPrimaryKeyStep {
  drop_primary_key: true;
}

/**
 * What the decoder does with one table at a DDL event's place in the
 * stream (stored as the log row's ddl_plan).
 *
 * Steps are format() templates, run in order in one subtransaction:
 * `%1$I.%2$I` is the target table as the catalogue names it when the step
 * runs (a rename earlier in the stream has been applied by then), `%3$s`
 * its name with double quotes doubled (index names are built from it);
 * every other % is doubled. If a step fails, or the plan is 'quarantine',
 * the table is quarantined: its later events wait until resolve_ddl.
 */
export interface DdlPlan {
  action: 'create' | 'alter' | 'rename' | 'drop' | 'truncate' | 'forget' | 'quarantine';
  steps: (string | DropPrimaryKeyStep)[];
  /** The target of a table new to the replica (create, or a quarantine of one). */
  pg_schema?: string;
  pg_table?: string;
  /** CREATE TABLE IF NOT EXISTS: nothing to do for a table the replica already holds. */
  if_not_exists?: boolean;
  /** Where a rename takes the table. */
  to?: { mysql_schema: string; mysql_table: string; pg_schema: string; pg_table: string };
  /** Why the statement is quarantined. */
  reason?: string;
  /** Parts of the statement that have no PostgreSQL counterpart, said once in the DDL history. */
  notes?: string[];
}

export interface TableDdlEvent {
  schema: string;
  table: string;
  plan: DdlPlan;
}

export interface DdlContext {
  /** The PostgreSQL schema a MySQL database is replicated into; null when it is not. */
  pgSchemaOf(mysqlSchema: string): string | null;
  /** limit_tables / skip_tables let the table through. */
  selected(schema: string, table: string): boolean;
  postgis: boolean;
  typeOverride: TypeMapContext['typeOverride'];
  /** When the statement ran on the source (its binlog event's time): what CURRENT_TIMESTAMP gave existing rows. */
  statementTime?: Date;
}

const TARGET = '\u0001target\u0001';
const NOW_DEFAULT = /^(current_timestamp|now|localtime|localtimestamp)\(\d*\)$/;
const NAME = '\u0001name\u0001';
const SCHEMA = '\u0001schema\u0001';

/** A step's text as a format() template (see DdlPlan). */
function template(sql: string): string {
  return sql.split('%').join('%%').split(TARGET).join('%1$I.%2$I').split(SCHEMA).join('%1$I').split(NAME).join('%3$s');
}

/** An index of the target table, named as the snapshot names them: "<table>_<mysql index>". */
function indexName(mysqlIndex: string): string {
  return `"${NAME}_${mysqlIndex.replace(/"/g, '""')}"`;
}

/**
 * The tables a MySQL DDL statement changes, each with what the decoder does
 * to its target. Tables outside the replica (databases not mapped, tables
 * limit_tables / skip_tables leave out) are not listed; a statement not
 * about tables lists none.
 */
export function translateDdl(statement: string, defaultSchema: string, ctx: DdlContext): TableDdlEvent[] {
  const inReplica = (n: TableName): boolean => ctx.pgSchemaOf(n.schema) !== null && ctx.selected(n.schema, n.table);
  let parsed: ParsedDdl;
  try {
    parsed = parseDdl(statement, defaultSchema);
  } catch (err) {
    if (!(err instanceof DdlSyntaxError)) throw err;
    return untranslated(statement, defaultSchema, ctx, `the statement could not be read: ${err.message}`);
  }
  switch (parsed.kind) {
    case 'other':
      return [];
    case 'unsupported':
      return inReplica(parsed.table) ? [quarantine(parsed.table, ctx, parsed.reason)] : [];
    case 'create_table':
      return inReplica(parsed.table) ? [createTable(parsed, ctx)] : [];
    case 'drop_table':
      return parsed.tables.filter(inReplica).map((t) => ({ ...t, plan: { action: 'drop', steps: [template(`DROP TABLE IF EXISTS ${TARGET}`)] } }));
    case 'truncate':
      return inReplica(parsed.table) ? [{ ...parsed.table, plan: { action: 'truncate', steps: [template(`TRUNCATE ${TARGET}`)] } }] : [];
    case 'rename_table':
      return parsed.pairs.flatMap(({ from, to }) => {
        if (inReplica(from)) return [{ ...from, plan: renamePlan(from, to, ctx, inReplica(to)) }];
        if (inReplica(to)) {
          return [quarantine(to, ctx, `${from.schema}.${from.table}, which the replica does not hold, is renamed into it: ` +
            'its definition is not in the binlog (resolve_ddl with a CREATE TABLE, or sync_tables, brings it in)')];
        }
        return [];
      });
    case 'create_index':
      return inReplica(parsed.table) ? [alterTable(parsed.table, [{ op: 'add_index', index: parsed.index }], ctx, inReplica)] : [];
    case 'drop_index':
      return inReplica(parsed.table) ? [alterTable(parsed.table, [{ op: 'drop_index', name: parsed.name }], ctx, inReplica)] : [];
    case 'alter_table':
      return inReplica(parsed.table) ? [alterTable(parsed.table, parsed.actions, ctx, inReplica)] : [];
  }
}

/** Every table of the replica a statement names, quarantined for the reason (the statement has no translation). */
export function untranslated(statement: string, defaultSchema: string, ctx: DdlContext, reason: string): TableDdlEvent[] {
  return tablesTouchedByDdl(statement, defaultSchema)
    .filter((n) => ctx.pgSchemaOf(n.schema) !== null && ctx.selected(n.schema, n.table))
    .map((name) => quarantine(name, ctx, reason));
}

function quarantine(name: TableName, ctx: DdlContext, reason: string): TableDdlEvent {
  return { ...name, plan: { action: 'quarantine', steps: [], reason, pg_schema: ctx.pgSchemaOf(name.schema)!, pg_table: pgIdentifier(name.table) } };
}

function columnMapping(col: MysqlColumn, table: TableName, ctx: DdlContext): ReturnType<typeof mapColumn> {
  // the parser writes defaults as MariaDB's information_schema prints them
  return mapColumn(col, { table: `${table.schema}.${table.table}`, postgis: ctx.postgis, typeOverride: ctx.typeOverride, flavor: 'mariadb' });
}

function createTable(parsed: Extract<ParsedDdl, { kind: 'create_table' }>, ctx: DdlContext): TableDdlEvent {
  const pgSchema = ctx.pgSchemaOf(parsed.table.schema)!;
  const pgTable = pgIdentifier(parsed.table.table);
  const base = { pg_schema: pgSchema, pg_table: pgTable, ...(parsed.ifNotExists ? { if_not_exists: true } : {}) };
  // MariaDB's CREATE OR REPLACE TABLE: the table there is dropped first
  const replace = parsed.orReplace ? [template(`DROP TABLE IF EXISTS ${qualified(pgSchema, pgTable)}`)] : [];
  if (parsed.like) {
    const likeSchema = ctx.pgSchemaOf(parsed.like.schema);
    if (likeSchema === null) return quarantine(parsed.table, ctx, `CREATE TABLE ... LIKE ${parsed.like.schema}.${parsed.like.table}, a table outside the replica`);
    const source = qualified(likeSchema, pgIdentifier(parsed.like.table));
    return { ...parsed.table, plan: { action: 'create', ...base, steps: [...replace, template(`CREATE TABLE ${qualified(pgSchema, pgTable)} (LIKE ${source} INCLUDING ALL)`)] } };
  }
  const names = pgColumnNames(parsed.columns.map((c) => c.column.name));
  const mapped: MappedColumn[] = parsed.columns.map((c, i) => ({
    name: c.column.name,
    pgName: names[i],
    mapping: columnMapping(c.column, parsed.table, ctx),
    nullable: c.column.nullable,
    autoIncrement: c.autoIncrement,
    comment: c.column.comment,
  }));
  const primary = parsed.indexes.find((i) => i.primary);
  const table: MysqlTable = {
    schema: parsed.table.schema,
    name: parsed.table.table,
    engine: null,
    rowsEstimate: 0,
    comment: parsed.comment,
    autoIncrement: null,
    columns: parsed.columns.map((c) => c.column),
    indexes: parsed.indexes,
    primaryKey: primary ? primary.columns.map((c) => c.name) : [],
  };
  const ddl = tableDdl(table, mapped, { schema: pgSchema, table: pgTable });
  const notes = ddl.skippedIndexes.map((s) => `index ${s.name} not created: ${s.reason}`);
  return {
    ...parsed.table,
    plan: { action: 'create', ...base, steps: [...replace, ...[ddl.createTable, ...ddl.indexes, ...ddl.comments].map(template)], ...(notes.length ? { notes } : {}) },
  };
}

function renamePlan(from: TableName, to: TableName, ctx: DdlContext, toInReplica: boolean): DdlPlan {
  if (!toInReplica) {
    return { action: 'forget', steps: [], notes: [`renamed to ${to.schema}.${to.table}, outside the replica: the PostgreSQL table is kept as it is and no longer replicated`] };
  }
  const pgSchema = ctx.pgSchemaOf(to.schema)!;
  const pgTable = pgIdentifier(to.table);
  const steps = [template(`ALTER TABLE ${TARGET} RENAME TO ${quoteIdent(pgTable)}`)];
  // into another mapped database: the table, under its new name, moves to that schema
  if (ctx.pgSchemaOf(from.schema) !== pgSchema) steps.push(template(`ALTER TABLE ${SCHEMA}.${quoteIdent(pgTable)} SET SCHEMA ${quoteIdent(pgSchema)}`));
  return { action: 'rename', steps, to: { mysql_schema: to.schema, mysql_table: to.table, pg_schema: pgSchema, pg_table: pgTable } };
}

function pgLiteralOf(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** The value MySQL gives existing rows for a NOT NULL column added without a default. */
function implicitDefault(col: MysqlColumn): string | null {
  const t = col.dataType;
  if (['tinyint', 'smallint', 'mediumint', 'int', 'bigint', 'decimal', 'float', 'double', 'year'].includes(t)) return '0';
  if (['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext'].includes(t)) return "''";
  if (t === 'set') return "'{}'";
  if (t === 'enum') {
    const first = /^enum\('((?:[^']|'')*)'/.exec(col.columnType);
    return first ? pgLiteral(first[1].replace(/''/g, "'")) : null;
  }
  if (['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob'].includes(t)) return "'\\x'::bytea";
  if (t === 'time') return "'00:00:00'";
  // zero dates become NULL here, bit and json have no one obvious value: the column stays nullable
  return null;
}

/** A DEFAULT given alone (ALTER COLUMN SET DEFAULT): the column's type is not in the statement, PostgreSQL casts the literal. */
function bareDefault(value: string): string | null {
  if (/^'.*'$/s.test(value)) return pgLiteral(value.slice(1, -1).replace(/''/g, "'").replace(/\\\\/g, '\\'));
  if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(value)) return value;
  if (/^(current_timestamp|now|localtime|localtimestamp)\(\)$/.test(value)) return 'CURRENT_TIMESTAMP';
  return null;
}

function columnSteps(table: TableName, def: ColumnDef, ctx: DdlContext, from: string | null, steps: string[], notes: string[]): string | null {
  const col = def.column;
  const m = columnMapping(col, table, ctx);
  const name = quoteIdent(pgIdentifier(col.name));
  const notNull = !col.nullable && !m.nullableInTarget;
  if (from === null) {
    // the values MySQL gave the existing rows must be the ones PostgreSQL gives them
    const again = '(sync_tables copies the table again)';
    if (def.autoIncrement) {
      return `ADD COLUMN ${col.name} AUTO_INCREMENT: MySQL numbers the existing rows in its own order, which PostgreSQL cannot reproduce ${again}`;
    }
    if (col.generationExpression !== null) {
      return `ADD COLUMN ${col.name} AS ${col.generationExpression}: MySQL computes the existing rows' values, which the binlog does not carry ${again}`;
    }
    const now = col.defaultValue !== null && NOW_DEFAULT.test(col.defaultValue);
    if (now && !(col.dataType === 'timestamp' && (col.datetimePrecision ?? 0) === 0 && ctx.statementTime)) {
      return `ADD COLUMN ${col.name} ${col.columnType} DEFAULT ${col.defaultValue}: MySQL gave the existing rows the time of the ALTER` +
        `${col.dataType === 'timestamp' ? ' to the microsecond' : ' in its session\'s time zone'}, which the binlog does not carry ${again}`;
    }
    if (!now && col.defaultValue !== null && col.defaultValue !== 'NULL' && m.pgDefault === null) {
      return `ADD COLUMN ${col.name} DEFAULT ${col.defaultValue}: MySQL evaluated the default for each existing row ${again}`;
    }
    let add = `ALTER TABLE ${TARGET} ADD COLUMN ${name} ${m.pgType}`;
    if (now) {
      // the second the statement ran, as the existing rows got it; then the default for new rows
      const at = Math.floor(ctx.statementTime!.getTime() / 1000);
      steps.push(`${add} DEFAULT to_timestamp(${at})${notNull ? ' NOT NULL' : ''}`, `ALTER TABLE ${TARGET} ALTER COLUMN ${name} SET DEFAULT ${m.pgDefault}`);
      return columnTail(def, name, steps);
    }
    if (m.pgDefault !== null) add += ` DEFAULT ${m.pgDefault}`;
    if (notNull && m.pgDefault === null) {
      const fill = implicitDefault(col);
      if (fill === null) {
        notes.push(`column ${col.name} is NOT NULL in MySQL and nullable here: existing rows have no value PostgreSQL can hold`);
        steps.push(add);
      } else {
        steps.push(`${add} DEFAULT ${fill} NOT NULL`, `ALTER TABLE ${TARGET} ALTER COLUMN ${name} DROP DEFAULT`);
      }
    } else {
      steps.push(notNull ? `${add} NOT NULL` : add);
    }
  } else {
    if (from !== col.name) steps.push(`ALTER TABLE ${TARGET} RENAME COLUMN ${quoteIdent(pgIdentifier(from))} TO ${name}`);
    steps.push(`ALTER TABLE ${TARGET} ALTER COLUMN ${name} TYPE ${m.pgType} USING ${name}::${m.pgType}`);
    steps.push(`ALTER TABLE ${TARGET} ALTER COLUMN ${name} ${m.pgDefault !== null ? `SET DEFAULT ${m.pgDefault}` : 'DROP DEFAULT'}`);
    steps.push(`ALTER TABLE ${TARGET} ALTER COLUMN ${name} ${notNull ? 'SET' : 'DROP'} NOT NULL`);
    if (def.autoIncrement) notes.push(`column ${col.name}: AUTO_INCREMENT is not changed here (values arrive from MySQL; detach_replica sets sequences)`);
  }
  return columnTail(def, name, steps);
}

/** A column's key, unique index and comment, written on the column itself. */
function columnTail(def: ColumnDef, name: string, steps: string[]): null {
  if (def.inlinePrimary) steps.push(`ALTER TABLE ${TARGET} ADD PRIMARY KEY (${name})`);
  if (def.inlineUnique) steps.push(`CREATE UNIQUE INDEX ${indexName(def.column.name)} ON ${TARGET} (${name})`);
  if (def.column.comment) steps.push(`COMMENT ON COLUMN ${TARGET}.${name} IS ${pgLiteralOf(def.column.comment)}`);
  return null;
}

function indexSteps(index: MysqlIndex, ctx: DdlContext, steps: string[], notes: string[]): void {
  if (index.kind === 'FULLTEXT') {
    notes.push(`FULLTEXT index ${index.name} not created: no PostgreSQL equivalent`);
    return;
  }
  if (index.columns.some((c) => c.name === null)) {
    notes.push(`index ${index.name} not created: functional index (expression)`);
    return;
  }
  const cols = (desc: boolean): string =>
    index.columns.map((c) => quoteIdent(pgIdentifier(c.name)) + (desc && c.descending ? ' DESC' : '')).join(', ');
  if (index.primary) {
    steps.push(`ALTER TABLE ${TARGET} ADD PRIMARY KEY (${cols(false)})`);
    return;
  }
  if (index.kind === 'SPATIAL') {
    if (!ctx.postgis) {
      notes.push(`SPATIAL index ${index.name} not created: the target database has no PostGIS`);
      return;
    }
    steps.push(`CREATE INDEX ${indexName(index.name)} ON ${TARGET} USING gist (${cols(false)})`);
    return;
  }
  const prefixed = index.columns.filter((c) => c.prefixLength !== null);
  if (prefixed.length > 0) {
    notes.push(`${index.unique ? 'unique ' : ''}prefix index ${index.name} not created (on ${prefixed.map((c) => c.name).join(', ')})`);
    return;
  }
  steps.push(`CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${indexName(index.name)} ON ${TARGET} (${cols(true)})`);
}

function alterTable(table: TableName, actions: AlterAction[], ctx: DdlContext, inReplica: (n: TableName) => boolean): TableDdlEvent {
  const steps: (string | DropPrimaryKeyStep)[] = [];
  const notes: string[] = [];
  let renameTo: TableName | null = null;
  const text: string[] = [];
  for (const a of actions) {
    let refused: string | null = null;
    switch (a.op) {
      case 'add_column':
        refused = columnSteps(table, a.column, ctx, null, text, notes);
        break;
      case 'change_column':
        refused = columnSteps(table, a.column, ctx, a.from, text, notes);
        break;
      case 'drop_column':
        text.push(`ALTER TABLE ${TARGET} DROP COLUMN ${quoteIdent(pgIdentifier(a.name))}`);
        break;
      case 'rename_column':
        text.push(`ALTER TABLE ${TARGET} RENAME COLUMN ${quoteIdent(pgIdentifier(a.from))} TO ${quoteIdent(pgIdentifier(a.to))}`);
        break;
      case 'alter_default': {
        const name = quoteIdent(pgIdentifier(a.name));
        const value = a.defaultValue === null || a.defaultValue === 'NULL' ? null : bareDefault(a.defaultValue);
        if (a.defaultValue !== null && a.defaultValue !== 'NULL' && value === null) {
          notes.push(`default ${a.defaultValue} of ${a.name} not translated (defaults do not change replicated values)`);
          break;
        }
        text.push(`ALTER TABLE ${TARGET} ALTER COLUMN ${name} ${value === null ? 'DROP DEFAULT' : `SET DEFAULT ${value}`}`);
        break;
      }
      case 'add_index':
        indexSteps(a.index, ctx, text, notes);
        break;
      case 'drop_index':
        if (a.name.toUpperCase() === 'PRIMARY') {
          flush();
          steps.push({ drop_primary_key: true });
        } else {
          text.push(`DROP INDEX IF EXISTS ${SCHEMA}.${indexName(a.name)}`);
        }
        break;
      case 'drop_primary_key':
        flush();
        steps.push({ drop_primary_key: true });
        break;
      case 'rename_index':
        text.push(`ALTER INDEX IF EXISTS ${SCHEMA}.${indexName(a.from)} RENAME TO ${indexName(a.to)}`);
        break;
      case 'rename_table':
        renameTo = a.to;
        break;
      case 'ignored':
        if (a.text) notes.push(`not translated, nothing to do in PostgreSQL: ${a.text}`);
        break;
    }
    if (refused) return quarantine(table, ctx, refused);
  }
  flush();
  if (renameTo && (renameTo.schema !== table.schema || renameTo.table !== table.table)) {
    const plan = renamePlan(table, renameTo, ctx, inReplica(renameTo));
    if (plan.action === 'forget' && steps.length > 0) {
      return quarantine(table, ctx, `ALTER TABLE changes the table and renames it out of the replica (${renameTo.schema}.${renameTo.table})`);
    }
    return { ...table, plan: { ...plan, steps: [...steps, ...plan.steps], ...(notes.length ? { notes } : {}) } };
  }
  return { ...table, plan: { action: 'alter', steps, ...(notes.length ? { notes } : {}) } };

  function flush(): void {
    for (const s of text) steps.push(template(s));
    text.length = 0;
  }
}
