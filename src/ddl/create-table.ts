import type { ColumnMapping } from '../mysql/column.js';
import type { MysqlTable } from '../mysql/metadata.js';
import { NameAllocator, qualified, quoteIdent, quoteLiteral } from './identifiers.js';

export interface MappedColumn {
  name: string;
  pgName: string;
  mapping: ColumnMapping & { nullableInTarget?: boolean };
  nullable: boolean;
  autoIncrement: boolean;
  comment: string;
}

export interface TableDdl {
  /**
   * CREATE TABLE with columns, defaults, NOT NULL; no keys (they are built
   * after the data). Several statements when an auto_increment column needs
   * its own sequence: sent as one simple query, PostgreSQL runs them in one
   * implicit transaction, so a failed attempt leaves no sequence behind.
   */
  createTable: string;
  /** Primary key and unique/plain indexes, in the order to build them. */
  indexes: string[];
  /** Indexes PostgreSQL cannot build the same way, with the reason (logged, not built). */
  skippedIndexes: { name: string; reason: string }[];
  comments: string[];
  /** Statements that move the auto_increment sequences past the copied data and MySQL's counter. */
  identityRestart: string[];
}

export interface PlannedTableDdl extends TableDdl {
  /**
   * The same statements, under the same relation names, for the table built
   * in another schema (the loading schema it is moved out of afterwards).
   */
  inSchema(schema: string): TableDdl;
}

export interface TableDdlOptions {
  schema: string;
  table: string;
  fillfactor?: number;
  /** Names already taken in the schema by other relations (indexes share the namespace). */
  names?: NameAllocator;
}

/** Target types an identity column can have; any other auto_increment target gets a sequence and a nextval default. */
const IDENTITY_TYPES = new Set(['smallint', 'integer', 'bigint']);
/** Targets of MySQL auto_increment columns that are not PostgreSQL integers: bigint unsigned, float, double. */
const SEQUENCE_TYPES = /^(numeric\(\d+,0\)|real|double precision)$/;
/** Target types a GiST index can take a MySQL SPATIAL key on (PostGIS; a type_override may add a typmod). */
const GEOMETRY_TYPE = /^(geometry|geography)\b/i;

type IndexPlan =
  | { kind: 'primary'; name: string; cols: string }
  | { kind: 'index'; name: string; cols: string; unique: boolean; gist: boolean };

/**
 * PostgreSQL DDL for one MySQL table. Pure: the column types come from the
 * type map, and nothing here talks to a database. Every relation name
 * (keys, indexes, sequences) is taken from `names` once, so the statements
 * rendered for another schema name the same relations.
 */
/**
 * Moves the sequence of a column (identity or serial) past the table's rows
 * and past `floor` (MySQL's auto_increment counter minus one: ids MySQL
 * handed out whose rows are gone are not handed out again). Data past the
 * sequence's range (bigint unsigned) leaves it at its end, so that an insert
 * without a key fails rather than repeats one; a column without a sequence
 * (an existing table, keep_existing_schema) selects nothing.
 */
export function sequenceRestart(target: string, column: string, floor: bigint): string {
  const max = `(SELECT max(${quoteIdent(column)}) FROM ${target})`;
  return `SELECT setval(s.seqrelid, least(greatest(${max}::numeric, ${floor}::numeric, 1), s.seqmax)::bigint, ` +
    `${max} IS NOT NULL OR ${floor} > 0) FROM pg_catalog.pg_sequence s ` +
    `WHERE s.seqrelid = pg_get_serial_sequence(${quoteLiteral(target)}, ${quoteLiteral(column)})::regclass`;
}

export function tableDdl(table: MysqlTable, columns: MappedColumn[], opts: TableDdlOptions): PlannedTableDdl {
  const names = opts.names ?? new NameAllocator();
  const fillfactor = opts.fillfactor ? Math.trunc(opts.fillfactor) : null;

  const sequenceOf = new Map<string, { name: string; identity: boolean }>();
  for (const c of columns) {
    if (!c.autoIncrement) continue;
    const identity = IDENTITY_TYPES.has(c.mapping.pgType);
    // a type_override to a non-numeric type leaves MySQL's numbering to MySQL
    if (!identity && !SEQUENCE_TYPES.test(c.mapping.pgType)) continue;
    sequenceOf.set(c.name, { name: names.take(`${opts.table}_${c.pgName}_seq`), identity });
  }

  const pgNameOf = new Map(columns.map((c) => [c.name, c.pgName]));
  const pgTypeOf = new Map(columns.map((c) => [c.name, c.mapping.pgType]));
  const planned: IndexPlan[] = [];
  const skippedIndexes: { name: string; reason: string }[] = [];
  for (const index of table.indexes) {
    const spatial = index.kind === 'SPATIAL';
    // MariaDB reports SUB_PART 32 for every spatial key part: a spatial key always covers the whole value
    const prefixed = spatial ? [] : index.columns.filter((c) => c.prefixLength !== null);
    if (index.kind === 'FULLTEXT') {
      skippedIndexes.push({ name: index.name, reason: 'FULLTEXT indexes have no PostgreSQL equivalent; create a GIN index on to_tsvector(...) if needed' });
      continue;
    }
    if (spatial) {
      // GiST needs PostGIS's operator class: without PostGIS the column holds the WKB as bytea,
      // which GiST cannot index, and the copy would fail on the index instead of going on without it
      const notGeometry = index.columns.filter((c) => c.name === null || !GEOMETRY_TYPE.test(pgTypeOf.get(c.name) ?? ''));
      if (notGeometry.length > 0) {
        const what = notGeometry.map((c) => (c.name === null ? 'an expression' : `${c.name} (${pgTypeOf.get(c.name) ?? 'not copied'})`)).join(', ');
        skippedIndexes.push({ name: index.name, reason: `SPATIAL index on ${what}: a GiST index needs a PostGIS geometry column (is PostGIS installed in the target database?)` });
        continue;
      }
    }
    if (prefixed.length > 0 && !index.primary && !index.unique) {
      skippedIndexes.push({ name: index.name, reason: `prefix index on ${prefixed.map((c) => c.name).join(', ')}` });
      continue;
    }
    if (prefixed.length > 0 && index.unique && !index.primary) {
      // a unique prefix index enforces uniqueness of the prefix only: not the same constraint
      skippedIndexes.push({ name: index.name, reason: `unique prefix index on ${prefixed.map((c) => c.name).join(', ')}` });
      continue;
    }
    const missing = index.columns.find((c) => c.name === null || !pgNameOf.has(c.name));
    if (missing) {
      skippedIndexes.push({ name: index.name, reason: 'functional index (expression) is not translated' });
      continue;
    }
    if (index.primary) {
      // a primary key on a prefix still identifies rows: PostgreSQL keys the whole column;
      // a constraint has no column order, and uniqueness does not depend on it
      const cols = index.columns.map((c) => quoteIdent(pgNameOf.get(c.name)!)).join(', ');
      planned.unshift({ kind: 'primary', name: names.take(`${opts.table}_pkey`), cols });
    } else {
      const gist = spatial;
      const cols = index.columns
        .map((c) => quoteIdent(pgNameOf.get(c.name)!) + (c.descending && !gist ? ' DESC' : ''))
        .join(', ');
      planned.push({ kind: 'index', name: names.take(`${opts.table}_${index.name}`), cols, unique: index.unique, gist });
    }
  }

  const render = (schema: string): TableDdl => {
    const target = qualified(schema, opts.table);
    const sequences: string[] = [];
    const owners: string[] = [];
    const colDefs = columns.map((c) => {
      const parts = [quoteIdent(c.pgName), c.mapping.pgType];
      const seq = sequenceOf.get(c.name);
      if (seq?.identity) parts.push(`GENERATED BY DEFAULT AS IDENTITY (SEQUENCE NAME ${qualified(schema, seq.name)})`);
      else if (seq) {
        const name = qualified(schema, seq.name);
        sequences.push(`CREATE SEQUENCE ${name} AS bigint`);
        owners.push(`ALTER SEQUENCE ${name} OWNED BY ${target}.${quoteIdent(c.pgName)}`);
        parts.push(`DEFAULT nextval(${quoteLiteral(name)}::regclass)`);
      } else if (c.mapping.pgDefault !== null) parts.push(`DEFAULT ${c.mapping.pgDefault}`);
      if (!c.nullable && !c.mapping.nullableInTarget) parts.push('NOT NULL');
      return parts.join(' ');
    });
    // fillfactor leaves room on heap pages for HOT updates; indexes keep PostgreSQL's own default
    const withClause = fillfactor ? ` WITH (fillfactor = ${fillfactor})` : '';
    const createTable = [...sequences, `CREATE TABLE ${target} (\n    ${colDefs.join(',\n    ')}\n)${withClause}`, ...owners].join(';\n');

    const indexes = planned.map((i) =>
      i.kind === 'primary'
        ? `ALTER TABLE ${target} ADD CONSTRAINT ${quoteIdent(i.name)} PRIMARY KEY (${i.cols})`
        : `CREATE ${i.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(i.name)} ON ${target}${i.gist ? ' USING gist' : ''} (${i.cols})`,
    );

    const comments: string[] = [];
    if (table.comment) comments.push(`COMMENT ON TABLE ${target} IS ${quoteLiteral(table.comment)}`);
    for (const c of columns) {
      if (c.comment) comments.push(`COMMENT ON COLUMN ${target}.${quoteIdent(c.pgName)} IS ${quoteLiteral(c.comment)}`);
    }

    const floor = table.autoIncrement ? BigInt(table.autoIncrement) - 1n : 0n;
    const identityRestart = columns.filter((c) => sequenceOf.has(c.name)).map((c) => sequenceRestart(target, c.pgName, floor));
    return { createTable, indexes, skippedIndexes, comments, identityRestart };
  };

  return { ...render(opts.schema), inSchema: render };
}
