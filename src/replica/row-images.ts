import type mysql from 'mysql2/promise';
import type { ColumnMapping, MysqlColumn, TypeMapContext } from '../mysql/column.js';
import { UnfitValueError } from '../mysql/column.js';
import { readTables } from '../mysql/metadata.js';
import { mapColumn, RawJson, stringifyImage } from '../mysql/type-map.js';
import { pgColumnNames } from '../ddl/identifiers.js';
import type { RowChange } from '../binlog/stream.js';

interface TableShape {
  columns: Map<string, { pgName: string; map: ColumnMapping }>;
  /** MySQL names of the primary key; empty when the table has none. */
  key: string[];
}

export type ImageResult =
  | { ok: true; after: string | null; before: string | null }
  | { ok: false; reason: string; image: unknown };

/**
 * Turns binlog row values into jsonb row images in PostgreSQL input format,
 * keyed by the PostgreSQL column names the snapshot gave the table.
 */
export class RowImager {
  private readonly shapes = new Map<string, TableShape | null>();

  constructor(
    private readonly conn: mysql.Connection,
    private readonly context: (table: string) => TypeMapContext,
  ) {}

  /** Loads the column metadata of tables seen for the first time. */
  async prepare(changes: RowChange[]): Promise<void> {
    const missing = new Map<string, Set<string>>();
    for (const c of changes) {
      const key = `${c.schema}.${c.table}`;
      if (this.shapes.has(key)) continue;
      if (!missing.has(c.schema)) missing.set(c.schema, new Set());
      missing.get(c.schema)!.add(c.table);
    }
    if (missing.size === 0) return;
    const tables = await readTables(this.conn, [...missing.keys()]);
    for (const [schema, names] of missing) {
      for (const name of names) {
        const t = tables.find((x) => x.schema === schema && x.name === name);
        this.shapes.set(`${schema}.${name}`, t ? this.shapeOf(`${schema}.${name}`, t.columns, t.primaryKey) : null);
      }
    }
  }

  /** Forget cached metadata (after DDL). */
  invalidate(schema?: string, table?: string): void {
    if (!schema) this.shapes.clear();
    else this.shapes.delete(`${schema}.${table}`);
  }

  private shapeOf(key: string, columns: MysqlColumn[], primaryKey: string[]): TableShape {
    const ctx = this.context(key);
    const names = pgColumnNames(columns.map((c) => c.name));
    return {
      columns: new Map(columns.map((c, i) => [c.name, { pgName: names[i], map: mapColumn(c, ctx) }])),
      key: primaryKey,
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
