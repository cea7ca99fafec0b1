/**
 * A table's rows decoder: binlog row bytes → row-image JSON text, keyed by
 * PostgreSQL column name, in one pass and without a JavaScript value per
 * field for the common column types (integers, text and bytes). Every
 * other column type is read by zongji's own field decoder and converted by
 * the type map's fromBinlog, exactly as the generic path does it; the
 * images are the same text either way (test/integration/replica-row-decoder).
 */
import type { ColumnMapping, MysqlColumn } from '../mysql/column.js';
import { UnfitValueError } from '../mysql/column.js';
import { RawJson } from '../mysql/type-map.js';
import { NUL_REASON } from '../mysql/type-map/values.js';
import { decodeMysqlText } from '../mysql/type-map/charset.js';
import { ZongjiFieldReader, type RowKind, type RowsDecoder, type ZongjiColumn, type ZongjiTableMapEntry } from '../binlog/rows-hook.js';
import type { ImageResult } from '../binlog/stream.js';

export interface ShapeColumn {
  column: MysqlColumn;
  pgName: string;
  map: ColumnMapping;
}

/** What the decoder needs of a table: its columns by MySQL name and its primary key. */
export interface DecoderShape {
  columns: Map<string, ShapeColumn>;
  key: string[];
}

const T = {
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  LONGLONG: 8,
  INT24: 9,
  YEAR: 13,
  VARCHAR: 15,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  STRING: 254,
} as const;

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);
const TEXT_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext']);
const BYTE_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);
/** Character sets whose bytes below 0x80 are ASCII: a value of such bytes only is its own text. */
const ASCII_COMPATIBLE = new Set(['utf8mb4', 'utf8mb3', 'utf8', 'latin1', 'ascii']);

/** How a field is read: a fast reader of ours, or zongji's decoder plus the type map. */
type Codec =
  | { kind: 'int'; size: 1 | 2 | 3 | 4 | 8; unsigned: boolean }
  | { kind: 'year' }
  | { kind: 'float' | 'double' }
  | { kind: 'text'; prefix: number; trim: boolean; charset: string | null }
  | { kind: 'bytes'; prefix: number; padTo: number | undefined }
  | { kind: 'generic' };

interface Field {
  name: string;
  /** '"pg_name":', ready to write; null for a column left out of the image. */
  keyText: string | null;
  codec: Codec;
  map: ColumnMapping | null;
  inKey: boolean;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function intCodec(type: number, col: MysqlColumn): Codec | null {
  if (!INTEGER_TYPES.has(col.dataType)) return null;
  const size = ({ [T.TINY]: 1, [T.SHORT]: 2, [T.INT24]: 3, [T.LONG]: 4, [T.LONGLONG]: 8 } as Record<number, 1 | 2 | 3 | 4 | 8>)[type];
  if (!size) return null;
  return { kind: 'int', size, unsigned: /\bunsigned\b/i.test(col.columnType) };
}

/** The fast codec for a column, or generic when its type is left to zongji. */
function codecFor(zc: ZongjiColumn, col: MysqlColumn): Codec {
  const type = zc.type;
  const meta = zc.metadata ?? {};
  if (col.isJson) return { kind: 'generic' };
  const int = intCodec(type, col);
  if (int) return int;
  if (type === T.YEAR && col.dataType === 'year') return { kind: 'year' };
  if (type === T.FLOAT && col.dataType === 'float') return { kind: 'float' };
  if (type === T.DOUBLE && (col.dataType === 'double' || col.dataType === 'real' || col.dataType === 'double precision')) return { kind: 'double' };
  let prefix = 0;
  if (type === T.VARCHAR || type === T.STRING) prefix = (meta.max_length ?? 0) > 255 ? 2 : 1;
  else if (type === T.BLOB || type === T.TINY_BLOB || type === T.MEDIUM_BLOB || type === T.LONG_BLOB) prefix = meta.length_size ?? 0;
  if (prefix === 0) return { kind: 'generic' };
  if (TEXT_TYPES.has(col.dataType)) {
    return { kind: 'text', prefix, trim: col.dataType === 'char', charset: col.charset ? col.charset.toLowerCase() : null };
  }
  if (BYTE_TYPES.has(col.dataType)) {
    const padTo = col.dataType === 'binary' ? (col.charMaxLength ?? undefined) : undefined;
    return { kind: 'bytes', prefix, padTo };
  }
  return { kind: 'generic' };
}

function readLength(buf: Buffer, off: number, size: number): number {
  switch (size) {
    case 1:
      return buf[off];
    case 2:
      return buf[off] | (buf[off + 1] << 8);
    case 3:
      return buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16);
    default:
      return buf.readUInt32LE(off);
  }
}

/** A generic value as row-image JSON text, as the generic path's serializer writes it. */
function jsonOf(value: unknown): string | undefined {
  if (value instanceof RawJson) return value.text;
  return JSON.stringify(value);
}

export class TableRowsDecoder implements RowsDecoder {
  private readonly fields: Field[];
  private readonly reader: ZongjiFieldReader;
  private readonly hasKey: boolean;
  /** Some field is read by zongji's decoder (every unfit row is, for its record). */
  private readonly usesZongji: boolean;
  /** Layout of the TableMap it was built for: a TableMap with the same layout reuses it. */
  private readonly layout: ZongjiColumn[];

  private constructor(entry: ZongjiTableMapEntry, shape: DecoderShape, zongji: unknown) {
    this.layout = entry.columns.map((c) => ({ name: c.name, type: c.type, charset: c.charset, metadata: c.metadata ? { ...c.metadata } : undefined }));
    this.reader = new ZongjiFieldReader(entry, zongji);
    this.hasKey = shape.key.length > 0;
    const key = new Set(shape.key);
    this.fields = entry.columns.map((zc) => {
      const sc = shape.columns.get(zc.name)!;
      return {
        name: zc.name,
        keyText: sc.map.generated ? null : `${JSON.stringify(sc.pgName)}:`,
        codec: codecFor(zc, sc.column),
        map: sc.map,
        inKey: key.has(zc.name),
      };
    });
    this.usesZongji = this.fields.some((f) => f.codec.kind === 'generic');
  }

  /**
   * The decoder for a TableMap entry, or null when the shape does not
   * describe the same columns (the table changed since it was read): the
   * generic path then decodes its rows.
   */
  static build(entry: ZongjiTableMapEntry, shape: DecoderShape, zongji: unknown): TableRowsDecoder | null {
    const cols = entry.columns;
    if (!Array.isArray(cols) || cols.length !== shape.columns.size) return null;
    for (const c of cols) if (!shape.columns.has(c.name)) return null;
    for (const k of shape.key) if (!cols.some((c) => c.name === k)) return null;
    return new TableRowsDecoder(entry, shape, zongji);
  }

  /** The entry has the layout this decoder was built for (zongji makes a new entry for every TableMap event). */
  fits(entry: ZongjiTableMapEntry): boolean {
    const cols = entry.columns;
    const layout = this.layout;
    if (!Array.isArray(cols) || cols.length !== layout.length) return false;
    for (let i = 0; i < cols.length; i++) {
      const a = cols[i];
      const b = layout[i];
      if (a.type !== b.type || a.name !== b.name || a.charset !== b.charset) return false;
      const am = a.metadata;
      const bm = b.metadata;
      if (am === bm) continue;
      if (!am || !bm) return false;
      // the metadata that shapes a field's bytes
      if (am.max_length !== bm.max_length || am.length_size !== bm.length_size || am.size !== bm.size ||
          am.precision !== bm.precision || am.decimals !== bm.decimals || am.bits !== bm.bits) return false;
    }
    return true;
  }

  /**
   * This decoder for a new entry of the same layout. Fields left to zongji
   * are read through the entry (its column schemas: enum members and the
   * like), so such a decoder follows the new entry; the others read the
   * same through any entry of the layout, records of unfit rows included.
   */
  rebind(entry: ZongjiTableMapEntry, zongji: unknown): TableRowsDecoder {
    if (!this.usesZongji) return this;
    const copy = Object.create(TableRowsDecoder.prototype) as TableRowsDecoder;
    Object.assign(copy, this, { reader: new ZongjiFieldReader(entry, zongji) });
    return copy;
  }

  decode(kind: RowKind, buf: Buffer, start: number, end: number, present: Buffer, presentAfter: Buffer | null): ImageResult[] {
    const out: ImageResult[] = [];
    let off = start;
    while (off < end) {
      const rowStart = off;
      try {
        if (kind === 'update') {
          const before = this.row(buf, off, present, this.hasKey);
          const after = this.row(buf, before.next, presentAfter!, false);
          off = after.next;
          out.push({ ok: true, before: before.json, after: after.json });
        } else {
          const r = this.row(buf, off, present, kind === 'delete' && this.hasKey);
          off = r.next;
          out.push(kind === 'insert' ? { ok: true, after: r.json, before: null } : { ok: true, after: null, before: r.json });
        }
      } catch (err) {
        if (!(err instanceof UnfitValueError)) throw err;
        const printable = this.printable(kind, buf, rowStart, present, presentAfter);
        off = printable.next;
        out.push({ ok: false, reason: err.message, image: printable.image });
      }
    }
    return out;
  }

  /** One row image from buf at off; keyOnly writes only the primary key (a before image). */
  private row(buf: Buffer, off: number, present: Buffer, keyOnly: boolean): { json: string; next: number } {
    const fields = this.fields;
    let presentCount = 0;
    for (let i = 0; i < fields.length; i++) if (present[i >> 3] & (1 << (i & 7))) presentCount++;
    const nullAt = off;
    off += (presentCount + 7) >> 3;
    let json = '{';
    let first = true;
    let nullBit = 0;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      const write = f.keyText !== null && (!keyOnly || f.inKey);
      if (!(present[i >> 3] & (1 << (i & 7)))) {
        // not in the image (binlog_row_image other than FULL): null, as the generic path gives it
        if (write) {
          json += (first ? '' : ',') + f.keyText + 'null';
          first = false;
        }
        continue;
      }
      const isNull = buf[nullAt + (nullBit >> 3)] & (1 << (nullBit & 7));
      nullBit++;
      if (isNull) {
        if (write) {
          json += (first ? '' : ',') + f.keyText + 'null';
          first = false;
        }
        continue;
      }
      let r: { text: string | undefined; next: number };
      try {
        r = this.field(f, i, buf, off, write);
      } catch (err) {
        if (err instanceof UnfitValueError) throw new UnfitValueError(`${err.message} (column ${f.name})`);
        throw err;
      }
      off = r.next;
      if (write && r.text !== undefined) {
        json += (first ? '' : ',') + f.keyText + r.text;
        first = false;
      }
    }
    return { json: json + '}', next: off };
  }

  /** One field: its JSON text (when wanted) and the offset after it. */
  private field(f: Field, i: number, buf: Buffer, off: number, want: boolean): { text: string | undefined; next: number } {
    const c = f.codec;
    switch (c.kind) {
      case 'int':
        return { text: want ? intText(buf, off, c.size, c.unsigned) : undefined, next: off + c.size };
      case 'year': {
        const v = buf[off];
        return { text: want ? String(v === 0 ? 0 : v + 1900) : undefined, next: off + 1 };
      }
      case 'float':
      case 'double': {
        const size = c.kind === 'float' ? 4 : 8;
        if (!want) return { text: undefined, next: off + size };
        const v = c.kind === 'float' ? buf.readFloatLE(off) : buf.readDoubleLE(off);
        // MySQL keeps the sign of zero; JSON.stringify(-0) would not
        return { text: Object.is(v, -0) ? '"-0"' : JSON.stringify(v), next: off + size };
      }
      case 'text': {
        const len = readLength(buf, off, c.prefix);
        const s = off + c.prefix;
        const e = s + len;
        return { text: want ? textJson(buf, s, e, c) : undefined, next: e };
      }
      case 'bytes': {
        const len = readLength(buf, off, c.prefix);
        const s = off + c.prefix;
        const e = s + len;
        return { text: want ? bytesJson(buf, s, e, c.padTo) : undefined, next: e };
      }
      default: {
        const r = this.reader.read(buf, off, i);
        if (!want) return { text: undefined, next: r.next };
        return { text: r.value === null ? 'null' : jsonOf(f.map!.fromBinlog(r.value)), next: r.next };
      }
    }
  }

  /** The row with zongji's values, for the discarded-rows record of an unfit row. */
  private printable(kind: RowKind, buf: Buffer, off: number, present: Buffer, presentAfter: Buffer | null): { image: unknown; next: number } {
    const before = this.values(buf, off, present);
    if (kind !== 'update') return { image: before.values, next: before.next };
    const after = this.values(buf, before.next, presentAfter!);
    return { image: after.values, next: after.next };
  }

  private values(buf: Buffer, off: number, present: Buffer): { values: Record<string, unknown>; next: number } {
    const fields = this.fields;
    let presentCount = 0;
    for (let i = 0; i < fields.length; i++) if (present[i >> 3] & (1 << (i & 7))) presentCount++;
    const nullAt = off;
    off += (presentCount + 7) >> 3;
    const values: Record<string, unknown> = {};
    let nullBit = 0;
    for (let i = 0; i < fields.length; i++) {
      const name = fields[i].name;
      if (!(present[i >> 3] & (1 << (i & 7)))) {
        values[name] = null;
        continue;
      }
      const isNull = buf[nullAt + (nullBit >> 3)] & (1 << (nullBit & 7));
      nullBit++;
      if (isNull) {
        values[name] = null;
        continue;
      }
      const r = this.reader.read(buf, off, i);
      off = r.next;
      const v = r.value;
      values[name] = Buffer.isBuffer(v) ? `\\x${v.toString('hex')}` : typeof v === 'string' ? v.replace(/\u0000/g, '\\0') : v;
    }
    return { values, next: off };
  }
}

function intText(buf: Buffer, off: number, size: 1 | 2 | 3 | 4 | 8, unsigned: boolean): string {
  switch (size) {
    case 1:
      return String(unsigned ? buf[off] : (buf[off] << 24) >> 24);
    case 2:
      return String(unsigned ? buf.readUInt16LE(off) : buf.readInt16LE(off));
    case 3: {
      const v = buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16);
      return String(unsigned ? v : (v << 8) >> 8);
    }
    case 4:
      return String(unsigned ? buf.readUInt32LE(off) : buf.readInt32LE(off));
    default: {
      const lo = buf.readUInt32LE(off);
      const hi = unsigned ? buf.readUInt32LE(off + 4) : buf.readInt32LE(off + 4);
      // a double is exact within ±(2^53 - 1); beyond, zongji gives an exact string, and so do we
      if (hi < 0x200000 && (hi > -0x200000 || (hi === -0x200000 && lo > 0))) return String(hi * 4294967296 + lo);
      const big = unsigned ? buf.readBigUInt64LE(off) : buf.readBigInt64LE(off);
      return `"${big.toString()}"`;
    }
  }
}

/**
 * A text value as a JSON string. Printable ASCII without '"' and '\' (most
 * text) is its own JSON; anything else goes the generic way: decoded in
 * the column's character set, NUL refused, JSON.stringify.
 */
function textJson(buf: Buffer, s: number, e: number, c: { trim: boolean; charset: string | null }): string {
  let plain = c.charset === null || ASCII_COMPATIBLE.has(c.charset);
  if (plain) {
    for (let p = s; p < e; p++) {
      const b = buf[p];
      if (b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c) {
        plain = false;
        break;
      }
    }
  }
  if (plain) {
    let end = e;
    if (c.trim) while (end > s && buf[end - 1] === 0x20) end--;
    return `"${buf.toString('latin1', s, end)}"`;
  }
  let text = decodeMysqlText(buf.subarray(s, e), c.charset);
  if (text.includes('\u0000')) throw new UnfitValueError(NUL_REASON);
  // MySQL strips the pad spaces of CHAR(n) on every read
  if (c.trim) text = text.replace(/ +$/, '');
  return JSON.stringify(text);
}

/** Bytes as bytea hex input in a JSON string ("\\x..."); binary(n) gets back the zero padding the binlog drops. */
function bytesJson(buf: Buffer, s: number, e: number, padTo: number | undefined): string {
  let hex = buf.toString('hex', s, e);
  const len = e - s;
  if (padTo !== undefined && len < padTo) hex += HEX[0].repeat(padTo - len);
  return `"\\\\x${hex}"`;
}
