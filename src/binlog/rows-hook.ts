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

let installed = false;

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
