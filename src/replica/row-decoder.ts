/**
 * A table's rows decoder: binlog row bytes → row-image JSON text, keyed by
 * PostgreSQL column name, in one pass and without a JavaScript value per
 * field for the common column types (integers, text and bytes). Every
 * other column type is read by zongji's own field decoder and converted by
 * the type map's fromBinlog, exactly as the generic path does it; the
 * images are the same text either way (test/integration/replica-row-decoder).
 * Images are written as bytes, in the form the log's COPY takes them
 * (UTF-8, COPY's escapes applied), and copied into the log rows as they are.
 */
import type { ColumnMapping, MysqlColumn } from '../mysql/column.js';
import { UnfitValueError } from '../mysql/column.js';
import { RawJson } from '../mysql/type-map.js';
import { NUL_REASON } from '../mysql/type-map/values.js';
import { decodeMysqlText } from '../mysql/type-map/charset.js';
import { ZongjiFieldReader, type RowKind, type RowsDecoder, type ZongjiColumn, type ZongjiTableMapEntry } from '../binlog/rows-hook.js';
import type { ImageResult } from '../binlog/stream.js';
import { PieceWriter, type ByteWriter } from '../bytes.js';
import { copyEscape } from '../catalog/batches.js';

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
  /** '"pg_name":' as UTF-8, ready to write; null for a column left out of the image. */
  keyText: Buffer | null;
  codec: Codec;
  map: ColumnMapping | null;
  inKey: boolean;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const NULL_JSON = Buffer.from('null');
/** '"\\x' (the start of bytea hex input in a JSON string), COPY-escaped. */
const BYTEA_START = Buffer.from('"\\\\\\\\x');

/**
 * Where the images are written, one after the other, each taken out as a
 * view of its bytes: one writer for every decoder, which runs synchronously,
 * row by row.
 */
const scratch = new PieceWriter(256 * 1024);

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
        keyText: sc.map.generated ? null : Buffer.from(copyEscape(`${JSON.stringify(sc.pgName)}:`)),
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
          off = this.row(buf, off, present, this.hasKey);
          const before = scratch.take();
          off = this.row(buf, off, presentAfter!, false);
          out.push({ ok: true, before, after: scratch.take() });
        } else {
          off = this.row(buf, off, present, kind === 'delete' && this.hasKey);
          const image = scratch.take();
          out.push(kind === 'insert' ? { ok: true, after: image, before: null } : { ok: true, after: null, before: image });
        }
      } catch (err) {
        if (!(err instanceof UnfitValueError)) throw err;
        scratch.reset();
        const printable = this.printable(kind, buf, rowStart, present, presentAfter);
        off = printable.next;
        out.push({ ok: false, reason: err.message, image: printable.image });
      }
    }
    return out;
  }

  /**
   * One row image from buf at off, written into the scratch writer as JSON
   * text in COPY form; keyOnly writes only the primary key (a before image).
   * Returns the offset after the row.
   */
  private row(buf: Buffer, off: number, present: Buffer, keyOnly: boolean): number {
    const w = scratch;
    const fields = this.fields;
    let presentCount = 0;
    for (let i = 0; i < fields.length; i++) if (present[i >> 3] & (1 << (i & 7))) presentCount++;
    const nullAt = off;
    off += (presentCount + 7) >> 3;
    w.byte(0x7b);
    let nullBit = 0;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      const write = f.keyText !== null && (!keyOnly || f.inKey);
      // not in the image (binlog_row_image other than FULL): null, as the generic path gives it
      let isNull = true;
      if (present[i >> 3] & (1 << (i & 7))) {
        isNull = (buf[nullAt + (nullBit >> 3)] & (1 << (nullBit & 7))) !== 0;
        nullBit++;
      }
      if (isNull) {
        if (write) {
          key(w, f);
          w.bytes(NULL_JSON);
        }
        continue;
      }
      try {
        off = this.field(f, i, buf, off, write ? w : null);
      } catch (err) {
        if (err instanceof UnfitValueError) throw new UnfitValueError(`${err.message} (column ${f.name})`);
        throw err;
      }
    }
    w.byte(0x7d);
    return off;
  }

  /** One field: its key and JSON text written to w (when given); returns the offset after it. */
  private field(f: Field, i: number, buf: Buffer, off: number, w: ByteWriter | null): number {
    const c = f.codec;
    switch (c.kind) {
      case 'int':
        if (w) writeInt(key(w, f), buf, off, c.size, c.unsigned);
        return off + c.size;
      case 'year': {
        const v = buf[off];
        if (w) key(w, f).int(v === 0 ? 0 : v + 1900);
        return off + 1;
      }
      case 'float':
      case 'double': {
        const size = c.kind === 'float' ? 4 : 8;
        if (w) {
          const v = c.kind === 'float' ? buf.readFloatLE(off) : buf.readDoubleLE(off);
          // MySQL keeps the sign of zero; JSON.stringify(-0) would not
          key(w, f).latin1(Object.is(v, -0) ? '"-0"' : JSON.stringify(v));
        }
        return off + size;
      }
      case 'text': {
        const len = readLength(buf, off, c.prefix);
        const s = off + c.prefix;
        const e = s + len;
        if (w) writeText(key(w, f), buf, s, e, c);
        return e;
      }
      case 'bytes': {
        const len = readLength(buf, off, c.prefix);
        const s = off + c.prefix;
        const e = s + len;
        if (w) writeBytes(key(w, f), buf, s, e, c.padTo);
        return e;
      }
      default: {
        const r = this.reader.read(buf, off, i);
        if (w) {
          const text = r.value === null ? 'null' : jsonOf(f.map!.fromBinlog(r.value));
          // undefined: a value JSON has no text for, left out as JSON.stringify leaves it out on the generic path;
          // JSON documents are their own text, raw newlines and tabs included
          if (text !== undefined) key(w, f).utf8(copyEscape(text));
        }
        return r.next;
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

/** Starts a field of the image in w: a comma after the fields before it, then its key. */
function key(w: ByteWriter, f: Field): ByteWriter {
  // the image so far is '{' alone before its first field
  if (w.length > 1) w.byte(COMMA);
  w.bytes(f.keyText!);
  return w;
}

function writeInt(w: ByteWriter, buf: Buffer, off: number, size: 1 | 2 | 3 | 4 | 8, unsigned: boolean): void {
  switch (size) {
    case 1:
      w.int(unsigned ? buf[off] : (buf[off] << 24) >> 24);
      return;
    case 2:
      w.int(unsigned ? buf.readUInt16LE(off) : buf.readInt16LE(off));
      return;
    case 3: {
      const v = buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16);
      w.int(unsigned ? v : (v << 8) >> 8);
      return;
    }
    case 4:
      w.int(unsigned ? buf.readUInt32LE(off) : buf.readInt32LE(off));
      return;
    default: {
      const lo = buf.readUInt32LE(off);
      const hi = unsigned ? buf.readUInt32LE(off + 4) : buf.readInt32LE(off + 4);
      // a double is exact within ±(2^53 - 1); beyond, zongji gives an exact string, and so do we
      if (hi < 0x200000 && (hi > -0x200000 || (hi === -0x200000 && lo > 0))) {
        w.int(hi * 4294967296 + lo);
        return;
      }
      const big = unsigned ? buf.readBigUInt64LE(off) : buf.readBigInt64LE(off);
      w.latin1(`"${big.toString()}"`);
    }
  }
}

/**
 * A text value as a JSON string. Printable ASCII without '"' and '\' (most
 * text) is its own JSON, copied as it is; anything else goes the generic
 * way: decoded in the column's character set, NUL refused, JSON.stringify.
 */
function writeText(w: ByteWriter, buf: Buffer, s: number, e: number, c: { trim: boolean; charset: string | null }): void {
  if (c.charset === null || ASCII_COMPATIBLE.has(c.charset)) {
    let end = e;
    if (c.trim) while (end > s && buf[end - 1] === 0x20) end--;
    if (w.quotedPlain(buf, s, end)) return;
  }
  let text = decodeMysqlText(buf.subarray(s, e), c.charset);
  if (text.includes('\u0000')) throw new UnfitValueError(NUL_REASON);
  // MySQL strips the pad spaces of CHAR(n) on every read
  if (c.trim) text = text.replace(/ +$/, '');
  // JSON's escapes are backslashes, which COPY doubles; JSON leaves no raw control character
  const json = JSON.stringify(text);
  w.utf8(json.indexOf('\\') === -1 ? json : json.replace(/\\/g, '\\\\'));
}

/** Bytes as bytea hex input in a JSON string ("\\x..."); binary(n) gets back the zero padding the binlog drops. */
function writeBytes(w: ByteWriter, buf: Buffer, s: number, e: number, padTo: number | undefined): void {
  w.bytes(BYTEA_START);
  w.latin1(buf.toString('hex', s, e));
  const len = e - s;
  if (padTo !== undefined && len < padTo) w.latin1('00'.repeat(padTo - len));
  w.byte(QUOTE);
}
