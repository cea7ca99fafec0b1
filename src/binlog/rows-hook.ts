/**
 * Lets a table's row events be decoded by a decoder of ours instead of
 * zongji's generic one. zongji builds a JavaScript object per row and a
 * value per field, which the replica then converts and serializes again;
 * for a table with a decoder, the rows of an event go from the binlog
 * bytes straight to row-image text in one pass.
 *
 * How: zongji parses a rows event in its constructor, calling
 * _fetchOneRow(parser) until the packet ends. The hook replaces that
 * method on the three rows event classes: when the event's TableMap entry
 * carries a decoder (ROWS_DECODER, attached from the 'tablemap' handler,
 * which runs before the table's row events are parsed), the decoder reads
 * every row of the event at once and the event's rows become a single
 * DecodedRows. Otherwise zongji's own parsing runs unchanged.
 *
 * zongji 0.9 exports only its entry point, so its modules are loaded by
 * file URL; they are the same module instances zongji itself uses.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export type RowKind = 'insert' | 'update' | 'delete';

/** A column of a zongji TableMap entry: binlog type code and metadata, as zongji parsed them. */
export interface ZongjiColumn {
  name: string;
  type: number;
  charset: string | null;
  metadata: Record<string, number> | undefined;
}

export interface ZongjiTableMapEntry {
  parentSchema: string;
  tableName: string;
  columns: ZongjiColumn[];
  columnSchemas: Record<string, unknown>[];
  /**
   * Indexes of the primary-key columns as the binlog describes the table
   * (binlog_row_metadata=FULL; none for a table without a key). Absent when
   * zongji read the table from INFORMATION_SCHEMA.
   */
  primaryKey?: number[];
  [ROWS_DECODER]?: RowsDecoder | null;
}

export const ROWS_DECODER: unique symbol = Symbol('chameleon rows decoder');

/** The rows of one rows event as a decoder returned them. */
export class DecodedRows<T = unknown> {
  constructor(readonly rows: T[]) {}
}

export interface RowsDecoder {
  /**
   * Decodes every row of a rows event: buf[start, end) is the row area
   * (after the columns-present bitmaps, checksum excluded). present is the
   * columns-present bitmap (presentAfter the second one, for updates).
   */
  decode(kind: RowKind, buf: Buffer, start: number, end: number, present: Buffer, presentAfter: Buffer | null): unknown[];
}

interface ZongjiParser {
  _buffer: Buffer;
  _offset: number;
  _packetEnd: number;
  append(buf: Buffer): void;
}

interface RowsEventThis {
  tableMap: Record<number, ZongjiTableMapEntry | undefined>;
  tableId: number;
  columns_present_bitmap: Buffer;
  columns_present_bitmap2?: Buffer;
}

type FetchOneRow = (this: RowsEventThis, parser: ZongjiParser) => unknown;

interface RowsEventClass {
  prototype: { _fetchOneRow: FetchOneRow };
}

const require = createRequire(import.meta.url);
const libDir = join(dirname(require.resolve('@vlasky/zongji')), 'lib');
const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(join(libDir, file)).href)) as T;

const rowsEvents = await load<{ WriteRows: RowsEventClass; UpdateRows: RowsEventClass; DeleteRows: RowsEventClass }>('rows_event.js');
const common = await load<{
  readMysqlValue(parser: ZongjiParser, column: ZongjiColumn, columnSchema: unknown, tableMap: unknown, zongji: unknown): unknown;
}>('common.js');
const reader = await load<{ Parser: { new (): ZongjiParser; prototype: ParserMethods } }>('reader.js');
const binlogEvents = await load<{ TableMap: { prototype: TableMapMethods } }>('binlog_event.js');

interface ParserMethods {
  parseUnsignedNumber(this: ParserState, bytes: number): number;
  parseString(this: ParserState, length?: number): string;
}

interface ParserState {
  packet: { offset: number; end: number } | null;
  _buffer: Buffer;
  _offsetValue: number;
  _offset: number;
  _packetEnd: number;
}

interface TableMapThis {
  tableId: number;
  tableMap: Record<number, ZongjiTableMapEntry | undefined>;
  columnCount: number;
  columnTypes: number[];
  columnsMetadata: (Record<string, number> | undefined)[];
  [TABLE_MAP_START]?: number;
  [TABLE_MAP_SEEN]?: ParsedTableMap;
  [key: string]: unknown;
}

interface TableMapMethods {
  _readTableId(this: TableMapThis, parser: ZongjiParser): void;
  _readOptionalMetadata(this: TableMapThis, parser: ZongjiParser, zongji: { useChecksum?: boolean } | undefined): void;
  buildColumnSchemas(this: TableMapThis): Record<string, unknown>[];
  updateColumnInfo(this: TableMapThis): void;
}

/** A TableMap event as zongji parsed it, kept to stand for the identical TableMaps that follow. */
interface ParsedTableMap {
  /** The event's bytes from its table id to its end, checksum excluded. */
  bytes: Buffer;
  /** What _readOptionalMetadata set on the event. */
  optional: Record<string, unknown>;
  columnSchemas: Record<string, unknown>[] | null;
  /** The table map entry zongji built from it, as the consumers left it. */
  entry: ZongjiTableMapEntry | null;
}

const TABLE_MAP_START: unique symbol = Symbol('chameleon table map start');
const TABLE_MAP_SEEN: unique symbol = Symbol('chameleon table map seen before');
const OPTIONAL_METADATA = ['columnNames', 'signedness', 'primaryKey', 'columnVisibility', 'geometryTypes', '_columnCharsetIds', '_enumSetValues'];
/**
 * By zongji's table map object (one per zongji instance, replaced when it
 * starts afresh), then table id: each server numbers its tables itself.
 */
const parsedTableMaps = new WeakMap<object, Map<number, ParsedTableMap>>();
const MAX_TABLE_IDS = 4096;

let installed = false;

/**
 * MySQL writes a TableMap before every statement's row events, the same
 * bytes again and again for a table, and zongji parses each one in full
 * (its optional metadata, column schemas and entry): a tenth of the
 * reader's time on a backlog of single-row transactions. A TableMap whose
 * bytes equal the last one of its table id is the same table with the
 * same columns: its parse is taken from that one, and the entry built
 * then (with the rows decoder the stream attached to it) stands again.
 * A different TableMap (ALTER TABLE, a reused id) is parsed as ever.
 */
function reuseTableMaps(): void {
  const proto = binlogEvents.TableMap.prototype;
  const readTableId = proto._readTableId;
  const readOptionalMetadata = proto._readOptionalMetadata;
  const buildColumnSchemas = proto.buildColumnSchemas;
  const updateColumnInfo = proto.updateColumnInfo;
  proto._readTableId = function (parser) {
    this[TABLE_MAP_START] = parser._offset;
    readTableId.call(this, parser);
  };
  proto._readOptionalMetadata = function (parser, zongji) {
    const start = this[TABLE_MAP_START];
    const end = parser._packetEnd - (zongji?.useChecksum ? 4 : 0);
    if (start === undefined || !zongji || end <= start || typeof this.tableMap !== 'object') {
      readOptionalMetadata.call(this, parser, zongji);
      return;
    }
    const buf = parser._buffer;
    const seen = parsedTableMaps.get(this.tableMap)?.get(this.tableId);
    if (seen && seen.entry && seen.bytes.length === end - start && buf.compare(seen.bytes, 0, seen.bytes.length, start, end) === 0) {
      Object.assign(this, seen.optional);
      this[TABLE_MAP_SEEN] = seen;
      parser._offset = end;
      return;
    }
    readOptionalMetadata.call(this, parser, zongji);
    const optional: Record<string, unknown> = {};
    for (const k of OPTIONAL_METADATA) optional[k] = this[k];
    // a stand-in only once zongji built its entry from the event's own metadata (updateColumnInfo below)
    parsedTableMaps.get(this.tableMap)?.delete(this.tableId);
    this[TABLE_MAP_SEEN] = { bytes: Buffer.from(buf.subarray(start, end)), optional, columnSchemas: null, entry: null };
  };
  proto.buildColumnSchemas = function () {
    const seen = this[TABLE_MAP_SEEN];
    if (seen?.entry) return seen.columnSchemas!;
    const schemas = buildColumnSchemas.call(this);
    if (seen) seen.columnSchemas = schemas;
    return schemas;
  };
  proto.updateColumnInfo = function () {
    const seen = this[TABLE_MAP_SEEN];
    const entry = this.tableMap[this.tableId];
    if (seen?.entry && entry && entry.columnSchemas === seen.columnSchemas) {
      // the event's own column types, as updateColumnInfo sets them; the entry is the one built before
      for (let i = 0; i < this.columnCount; i++) {
        const m = this.columnsMetadata[i];
        if (m && m.type) {
          this.columnTypes[i] = m.type;
          delete m.type;
        }
      }
      this.tableMap[this.tableId] = seen.entry;
      return;
    }
    updateColumnInfo.call(this);
    // only the self-describing path builds column schemas: an entry read from INFORMATION_SCHEMA is not kept
    const built = this.tableMap[this.tableId];
    if (seen && built && built.columnSchemas === seen.columnSchemas) {
      // the key as the event describes it: the table may have been altered since
      const key = this.primaryKey;
      built.primaryKey = Array.isArray(key) ? (key as number[]).slice() : [];
    }
    if (seen && !seen.entry && seen.columnSchemas && built && built.columnSchemas === seen.columnSchemas) {
      seen.entry = built;
      let byId = parsedTableMaps.get(this.tableMap);
      if (!byId) parsedTableMaps.set(this.tableMap, (byId = new Map()));
      if (byId.size >= MAX_TABLE_IDS) byId.clear();
      byId.set(this.tableId, seen);
    }
  };
}

/**
 * zongji reads every event header field and length through
 * Parser.parseUnsignedNumber (Buffer.readUIntLE behind two property
 * accessors) and names through parseString (a Buffer view per string):
 * several million calls for a few hundred thousand events. The same
 * results, without the view and the generic read, except near the end of
 * the buffer, where the original runs and fails as it always did.
 */
function speedUpParser(): void {
  const proto = reader.Parser.prototype;
  const parseUnsignedNumber = proto.parseUnsignedNumber;
  proto.parseUnsignedNumber = function (this: ParserState, bytes: number): number {
    const packet = this.packet;
    const offset = packet ? packet.offset : this._offsetValue;
    const b = this._buffer;
    if (offset + bytes > b.length) return parseUnsignedNumber.call(this, bytes);
    let value: number;
    switch (bytes) {
      case 1:
        value = b[offset];
        break;
      case 2:
        value = b[offset] | (b[offset + 1] << 8);
        break;
      case 3:
        value = b[offset] | (b[offset + 1] << 8) | (b[offset + 2] << 16);
        break;
      case 4:
        value = b.readUInt32LE(offset);
        break;
      case 8:
        value = b.readUInt32LE(offset + 4) * 0x100000000 + b.readUInt32LE(offset);
        break;
      default:
        return parseUnsignedNumber.call(this, bytes);
    }
    if (packet) packet.offset = offset + bytes;
    else this._offsetValue = offset + bytes;
    return value;
  };
  proto.parseString = function (this: ParserState, length?: number): string {
    const start = this._offset;
    const n = length === undefined ? this._packetEnd - start : length;
    this._offset = start + n;
    return this._buffer.toString('utf8', start, start + n);
  };
}

/** Installs the hook (once per process; events of tables without a decoder are not affected). */
export function installRowsHook(): void {
  if (installed) return;
  installed = true;
  speedUpParser();
  reuseTableMaps();
  const classes: [RowsEventClass, RowKind][] = [
    [rowsEvents.WriteRows, 'insert'],
    [rowsEvents.UpdateRows, 'update'],
    [rowsEvents.DeleteRows, 'delete'],
  ];
  for (const [cls, kind] of classes) {
    const original = cls.prototype._fetchOneRow;
    cls.prototype._fetchOneRow = function (this: RowsEventThis, parser: ZongjiParser): unknown {
      const decoder = this.tableMap[this.tableId]?.[ROWS_DECODER];
      if (!decoder) return original.call(this, parser);
      const start = parser._offset;
      const end = parser._packetEnd;
      // the whole row area at once: zongji's loop ends after this call
      parser._offset = end;
      const present = this.columns_present_bitmap;
      return new DecodedRows(decoder.decode(kind, parser._buffer, start, end, present, kind === 'update' ? (this.columns_present_bitmap2 ?? present) : null));
    };
  }
}

/**
 * Reads one field with zongji's own value decoder, for the column types a
 * decoder leaves to zongji: the value exactly as zongji would have given
 * it, and the offset after the field.
 */
export class ZongjiFieldReader {
  private readonly parser = new reader.Parser();
  private buf: Buffer | null = null;

  constructor(
    private readonly entry: ZongjiTableMapEntry,
    private readonly zongji: unknown,
  ) {}

  read(buf: Buffer, offset: number, column: number): { value: unknown; next: number } {
    if (this.buf !== buf) {
      this.parser.append(buf);
      this.buf = buf;
    }
    this.parser._offset = offset;
    const value = common.readMysqlValue(this.parser, this.entry.columns[column], this.entry.columnSchemas[column], this.entry, this.zongji);
    return { value, next: this.parser._offset };
  }
}
