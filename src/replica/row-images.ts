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
    const shape = this.shapes.get(key);
    if (shape === undefined) return 'load';
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
