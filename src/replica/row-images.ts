import type mysql from 'mysql2/promise';
import type { ColumnMapping, MysqlColumn, TypeMapContext } from '../mysql/column.js';
import { UnfitValueError } from '../mysql/column.js';
import { readTables } from '../mysql/metadata.js';
import { mapColumn, RawJson, stringifyImage } from '../mysql/type-map.js';
import { pgColumnNames } from '../ddl/identifiers.js';
import type { ImageResult, RowChange, RowsDecoderSource } from '../binlog/stream.js';
import type { RowsDecoder, ZongjiTableMapEntry } from '../binlog/rows-hook.js';
import { TableRowsDecoder } from './row-decoder.js';

interface TableShape {
  columns: Map<string, { pgName: string; map: ColumnMapping; column: MysqlColumn }>;
  /** MySQL names of the primary key; empty when the table has none. */
  key: string[];
  /** The engine rolls back: MyISAM, MEMORY, Aria, ARCHIVE, CSV and the like do not. */
  transactional: boolean;
}

const TRANSACTIONAL_ENGINES = new Set(['innodb', 'xtradb', 'rocksdb', 'tokudb', 'ndbcluster', 'ndb']);

export type { ImageResult } from '../binlog/stream.js';

/** Rows of tables the source does not replicate: read past, never decoded. */
const SKIP_ROWS: RowsDecoder = { decode: () => [] };

/**
 * Turns binlog row values into jsonb row images in PostgreSQL input format,
 * keyed by the PostgreSQL column names the snapshot gave the table.
 */
export class RowImager implements RowsDecoderSource {
  private readonly shapes = new Map<string, TableShape | null>();
  /** The decoder last built per database and table, or SKIP_ROWS; cleared with the shapes. */
  private readonly lastDecoders = new Map<string, Map<string, RowsDecoder | undefined>>();

  constructor(
    private readonly conn: mysql.Connection,
    private readonly context: (table: string) => TypeMapContext,
    /** The source replicates the table; rows of other tables are not decoded. */
    private readonly selected: (schema: string, table: string) => boolean = () => true,
  ) {}

  decoderFor(entry: ZongjiTableMapEntry, zongji: unknown): RowsDecoder | null | 'load' {
    // called for every TableMap event, one per statement: the common case is two map lookups
    let tables = this.lastDecoders.get(entry.parentSchema);
    if (tables === undefined) this.lastDecoders.set(entry.parentSchema, (tables = new Map()));
    const last = tables.get(entry.tableName);
    if (last === SKIP_ROWS) return SKIP_ROWS;
    if (last instanceof TableRowsDecoder && last.fits(entry)) return last.rebind(entry, zongji);
    if (!this.selected(entry.parentSchema, entry.tableName)) {
      tables.set(entry.tableName, SKIP_ROWS);
      return SKIP_ROWS;
    }
    const key = `${entry.parentSchema}.${entry.tableName}`;
    const loaded = this.shapes.get(key);
    if (loaded === undefined) return 'load';
    const shape = this.asLogged(key, loaded, entry);
    if (shape !== loaded) this.shapes.set(key, shape);
    if (shape === null) return null;
    const built = TableRowsDecoder.build(entry, shape, zongji);
    tables.set(entry.tableName, built ?? undefined);
    return built;
  }

  transactional(schema: string, table: string): boolean {
    return this.shapes.get(`${schema}.${table}`)?.transactional ?? true;
  }

  async load(schema: string, table: string): Promise<void> {
    const key = `${schema}.${table}`;
    if (this.shapes.has(key)) return;
    // one read for the whole database: its other tables' row events usually follow
    const tables = await readTables(this.conn, [schema]);
    for (const t of tables) {
      const k = `${t.schema}.${t.name}`;
      if (!this.shapes.has(k)) this.shapes.set(k, this.shapeOf(k, t.columns, t.primaryKey, t.engine));
    }
    if (!this.shapes.has(key)) this.shapes.set(key, null);
    this.lastDecoders.get(schema)?.delete(table);
  }

  /** Forget cached metadata (after DDL). */
  invalidate(schema?: string, table?: string): void {
    if (!schema) {
      this.shapes.clear();
      this.lastDecoders.clear();
    } else {
      this.shapes.delete(`${schema}.${table}`);
      if (table !== undefined) this.lastDecoders.get(schema)?.delete(table);
    }
  }

  /**
   * The table as the binlog describes it at this event. The shape loaded from
   * INFORMATION_SCHEMA is the table as it is now; when the reader is behind
   * DDL (a backlog, or simply a statement just run), columns may have been
   * added, dropped, renamed, retyped, or the key changed since the event was
   * written. With binlog_row_metadata=FULL the TableMap carries names, types
   * and the key of its time: every column whose name and type agree keeps
   * what INFORMATION_SCHEMA says of it (MariaDB's JSON, for one, is only
   * known there); the others, and the key, are taken from the binlog.
   */
  private asLogged(key: string, shape: TableShape | null, entry: ZongjiTableMapEntry): TableShape | null {
    const cols = entry.columns;
    const schemas = entry.columnSchemas as { COLUMN_TYPE?: unknown; LOGGED_COLUMN_TYPE?: unknown; CHARACTER_SET_NAME?: unknown }[] | undefined;
    if (!Array.isArray(cols) || !Array.isArray(schemas) || schemas.length !== cols.length || entry.primaryKey === undefined) return shape;
    if (schemas.some((s) => typeof s.COLUMN_TYPE !== 'string' || s.COLUMN_TYPE === '')) return shape;
    const logKey = entry.primaryKey.map((i) => cols[i]?.name);
    // keepRawBytes rewrites string columns' COLUMN_TYPE to 'varbinary' and keeps the logged one
    const typeOf = (i: number): string => (schemas[i].LOGGED_COLUMN_TYPE ?? schemas[i].COLUMN_TYPE) as string;
    if (shape && cols.length === shape.columns.size && logKey.join('\u0000') === shape.key.join('\u0000')
        && cols.every((c, i) => sameColumnType(shape.columns.get(c.name)?.column.columnType, typeOf(i)))) {
      return shape;
    }
    const ctx = this.context(key);
    const names = pgColumnNames(cols.map((c) => c.name));
    const columns: TableShape['columns'] = new Map();
    cols.forEach((c, i) => {
      const known = shape?.columns.get(c.name);
      if (known && sameColumnType(known.column.columnType, typeOf(i))) {
        columns.set(c.name, { ...known, pgName: names[i] });
        return;
      }
      // MariaDB's FULL metadata can give a string column after a spatial one the wrong charset:
      // INFORMATION_SCHEMA's, when it knows the column, is the better word
      const logged = typeof schemas[i].CHARACTER_SET_NAME === 'string' ? (schemas[i].CHARACTER_SET_NAME as string) : null;
      const column = columnFromBinlog(c.name, i + 1, typeOf(i), known?.column.charset ?? logged);
      columns.set(c.name, { pgName: names[i], map: mapColumn(column, ctx), column });
    });
    return { columns, key: logKey.filter((k): k is string => k !== undefined), transactional: shape?.transactional ?? true };
  }

  private shapeOf(key: string, columns: MysqlColumn[], primaryKey: string[], engine: string | null): TableShape {
    const ctx = this.context(key);
    const names = pgColumnNames(columns.map((c) => c.name));
    return {
      columns: new Map(columns.map((c, i) => [c.name, { pgName: names[i], map: mapColumn(c, ctx), column: c }])),
      key: primaryKey,
      transactional: engine === null || TRANSACTIONAL_ENGINES.has(engine.toLowerCase()),
    };
  }

  /** The decoder needs only the key of a before image when the table has one: half the log for updates. */
  private keyOnly(shape: TableShape | null, row: Record<string, unknown>): Record<string, unknown> {
    if (!shape || shape.key.length === 0) return row;
    const out: Record<string, unknown> = {};
    for (const k of shape.key) {
      if (!(k in row)) return row;
      out[k] = row[k];
    }
    return out;
  }

  image(change: RowChange): ImageResult {
    if (change.image) return change.image;
    const shape = this.shapes.get(`${change.schema}.${change.table}`);
    try {
      return {
        ok: true,
        after: change.after ? this.stringify(this.convert(shape ?? null, change.after)) : null,
        before: change.before ? this.stringify(this.convert(shape ?? null, this.keyOnly(shape ?? null, change.before))) : null,
      };
    } catch (err) {
      if (err instanceof UnfitValueError) {
        return { ok: false, reason: err.message, image: printable(change.after ?? change.before) };
      }
      throw err;
    }
  }

  /** Set by convert() when the image holds JSON text that must be embedded as is. */
  private sawRawJson = false;

  private stringify(image: Record<string, unknown>): string {
    // the plain serializer is several times faster; only JSON columns need the exact one
    if (!this.sawRawJson) return JSON.stringify(image);
    this.sawRawJson = false;
    return stringifyImage(image);
  }

  private convert(shape: TableShape | null, row: Record<string, unknown>): Record<string, unknown> {
    this.sawRawJson = false;
    const out: Record<string, unknown> = {};
    for (const name in row) {
      const value = row[name];
      const col = shape?.columns.get(name);
      if (!col) {
        // a table the catalogue does not know: the decoder skips it, keep the image readable
        out[name] = Buffer.isBuffer(value) ? `\\x${value.toString('hex')}` : value;
        continue;
      }
      if (col.map.generated) continue;
      try {
        // undefined is how zongji reports an invalid enum value: the type map turns it into ''
        const v = value === null ? null : col.map.fromBinlog(value);
        if (v instanceof RawJson) this.sawRawJson = true;
        out[col.pgName] = v;
      } catch (err) {
        if (err instanceof UnfitValueError) throw new UnfitValueError(`${err.message} (column ${name})`);
        throw err;
      }
    }
    return out;
  }
}

function printable(row: Record<string, unknown> | null): unknown {
  if (!row) return null;
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [k, Buffer.isBuffer(v) ? `\\x${v.toString('hex')}` : typeof v === 'string' ? v.replace(/\u0000/g, '\\0') : v]),
  );
}

/** Two COLUMN_TYPEs describe the same binlog values (integer display widths and comments aside). */
function sameColumnType(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const norm = (t: string): string =>
    t.toLowerCase().replace(/\/\*.*?\*\//g, '').replace(/^(tinyint|smallint|mediumint|int|bigint|char|varchar|binary|varbinary)\(\d+\)/, '$1')
      .replace(/\s+zerofill/, '').trim();
  return norm(a) === norm(b);
}

/** A column known only from its binlog description (COLUMN_TYPE as zongji builds it from FULL metadata). */
function columnFromBinlog(name: string, ordinal: number, columnType: string, charset: string | null): MysqlColumn {
  const type = columnType.toLowerCase();
  const dataType = /^[a-z]+/.exec(type)?.[0] ?? type;
  const args = /^[a-z]+\((\d+)(?:,(\d+))?\)/.exec(type);
  const first = args ? Number(args[1]) : null;
  return {
    name,
    ordinal,
    dataType,
    columnType: type,
    nullable: true,
    defaultValue: null,
    numericPrecision: dataType === 'decimal' ? first : null,
    numericScale: dataType === 'decimal' && args?.[2] !== undefined ? Number(args[2]) : null,
    datetimePrecision: ['datetime', 'timestamp', 'time'].includes(dataType) ? (first ?? 0) : null,
    charMaxLength: ['char', 'varchar', 'binary', 'varbinary'].includes(dataType) ? first : null,
    charset,
    collation: null,
    extra: '',
    generationExpression: null,
    comment: '',
    isJson: dataType === 'json',
  };
}
