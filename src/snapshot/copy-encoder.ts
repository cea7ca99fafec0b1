import type { ColumnMapping, MysqlColumn } from '../mysql/column.js';
import { quoteMysqlIdent } from '../mysql/type-map.js';
import { mysqlString } from '../mysql/type-map/sql.js';
import { NUL_REASON } from '../mysql/type-map/values.js';

/**
 * How one field of the snapshot's SELECT becomes a COPY field:
 * - 'server': the server wrote the COPY field itself (the column's copyExpr);
 * - the column's fieldFormat ('as-is', 'text', 'hex'): the bare column, which
 *   the agent formats. The server sends these for nothing, where formatting
 *   them in SQL cost it 5× the plain read.
 */
type FieldKind = 'server' | NonNullable<ColumnMapping['fieldFormat']>;

/** The snapshot's SELECT list for a table and how to read its rows. */
export interface CopyLayout {
  /** The select list (without SELECT). */
  select: string;
  /** Fields per row the server sends. */
  fieldCount: number;
  kinds: FieldKind[];
  /** Column names of the copied fields, in order (for discarded rows). */
  names: string[];
  /** Field index of the server's unfit reason ('' or NULL: the row fits), or -1. */
  reasonField: number;
  /** Field index of the range key (its text), or -1. */
  keyField: number;
}

/**
 * The SELECT list of the snapshot: each copied column, bare or as the
 * server's COPY expression, then the server's reason for rows PostgreSQL
 * cannot hold (when a column needs the server to tell), then the range key.
 */
export function copyLayout(columns: { col: MysqlColumn; map: ColumnMapping }[], rangeKey: string | null = null): CopyLayout {
  const copied = columns.filter((c) => !c.map.generated);
  const kinds: FieldKind[] = copied.map((c) => c.map.fieldFormat ?? 'server');
  const exprs = copied.map((c) => (c.map.fieldFormat ? quoteMysqlIdent(c.col.name) : c.map.copyExpr));
  // the agent finds NULs in the text it formats itself; the rest is the server's to say
  const serverUnfit = copied.filter((c) => c.map.unfitExpr !== null && c.map.fieldFormat !== 'text');
  let reasonField = -1;
  if (serverUnfit.length > 0) {
    reasonField = exprs.length;
    exprs.push(
      `CONCAT_WS('; ', ${serverUnfit
        .map((c) => `IF(COALESCE(${c.map.unfitExpr}, 0), ${mysqlString(`${c.map.unfitReason ?? 'value PostgreSQL cannot hold'} (column ${c.col.name})`)}, NULL)`)
        .join(', ')})`,
    );
  }
  let keyField = -1;
  if (rangeKey !== null) {
    keyField = exprs.length;
    exprs.push(`CAST(${quoteMysqlIdent(rangeKey)} AS CHAR)`);
  }
  return {
    select: exprs.length > 0 ? exprs.join(', ') : "''",
    fieldCount: Math.max(exprs.length, 1),
    kinds,
    names: copied.map((c) => c.col.name),
    reasonField,
    keyField,
  };
}

/** A row kept out of the COPY: its COPY text line (without newline) and why. */
export interface UnfitLine {
  line: Buffer;
  reason: string;
}

const ESCAPE = new Uint8Array(256);
ESCAPE[0x5c] = 0x5c; // backslash
ESCAPE[0x09] = 0x74; // tab -> \t
ESCAPE[0x0a] = 0x6e; // newline -> \n
ESCAPE[0x0d] = 0x72; // carriage return -> \r
/** Bytes a text field cannot carry as they are: the four COPY escapes and NUL. */
const SPECIAL_BYTES = [0x00, 0x09, 0x0a, 0x0d, 0x5c];
const SPECIAL = new Uint8Array(256);
for (const b of SPECIAL_BYTES) SPECIAL[b] = 1;
/** Below this length a byte loop is cheaper than Buffer.copy, which allocates a view per call. */
const COPY_CALL_MIN = 64;
const HEX = Buffer.from('0123456789abcdef');
const NULL_FIELD = [0x5c, 0x4e]; // \N

/**
 * Turns text-protocol rows (raw bytes, see queryRawRows) into COPY text, in
 * chunks of about `chunkBytes` handed to `emit`. Counts rows and bytes,
 * keeps the last range key, and sets aside rows PostgreSQL cannot hold
 * (text with a NUL byte, or the server's reason) with their line.
 */
export class CopyEncoder {
  rows = 0;
  bytes = 0;
  lastKey: string | null = null;
  readonly unfit: UnfitLine[] = [];
  private out: Buffer;
  private pos = 0;
  private readonly nulReasons: string[];
  // where scan() found the bytes to escape, in the buffer rows currently come from
  private scanned: Buffer | null = null;
  private scanFrom = 0;
  private specials = new Int32Array(0);
  private specialCount = 0;
  private cursor = 0;
  private dense = false;
  /** The row-in-one-piece path applies: no hex field, whose text is not its bytes. */
  private readonly wholeRows: boolean;
  private readonly hasText: boolean;
  /** Offsets of the length bytes of the current row's columns. */
  private readonly fieldAt: Int32Array;

  constructor(
    private readonly layout: CopyLayout,
    private readonly chunkBytes: number,
    private readonly emit: (chunk: Buffer) => void,
  ) {
    this.out = Buffer.allocUnsafe(chunkBytes + 64 * 1024);
    this.nulReasons = layout.names.map((n) => `${NUL_REASON} (column ${n})`);
    this.wholeRows = layout.kinds.length > 0 && !layout.kinds.includes('hex');
    this.hasText = layout.kinds.includes('text');
    this.fieldAt = new Int32Array(layout.kinds.length);
  }

  /** Encodes one row; throws when a field the server formats came back NULL (it outgrew max_allowed_packet). */
  row(buf: Buffer, start: number, end: number): void {
    // an escaped field is at most twice its bytes, a hex one twice plus 2, and each field adds a separator or \N
    const worst = 2 * (end - start) + 4 * this.layout.fieldCount + 2;
    if (this.pos + worst > this.out.length) this.grow(worst);
    if (this.wholeRows && this.rowAsIs(buf, start, end)) return;
    const kinds = this.layout.kinds;
    const out = this.out;
    const lineStart = this.pos;
    let p = this.pos;
    let i = start;
    let reasons: string[] | null = null;
    for (let f = 0; f < this.layout.fieldCount; f++) {
      // length-encoded field: < 0xfb is the length, 0xfb is NULL, 0xfc/0xfd/0xfe prefix 2/3/8 length bytes
      let len = buf[i++];
      let isNull = false;
      if (len >= 0xfb) {
        if (len === 0xfb) isNull = true;
        else if (len === 0xfc) {
          len = buf[i] | (buf[i + 1] << 8);
          i += 2;
        } else if (len === 0xfd) {
          len = buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16);
          i += 3;
        } else {
          len = buf.readUInt32LE(i) + buf.readUInt32LE(i + 4) * 2 ** 32;
          i += 8;
        }
      }
      if (f >= kinds.length) {
        // the fields after the columns: the server's reason, the range key
        if (f === this.layout.reasonField) {
          if (!isNull && len > 0) (reasons ??= []).push(buf.toString('utf8', i, i + len));
        } else if (f === this.layout.keyField) {
          this.lastKey = isNull ? null : buf.toString('latin1', i, i + len);
        }
        if (!isNull) i += len;
        continue;
      }
      if (f > 0) out[p++] = 0x09;
      if (isNull) {
        if (kinds[f] === 'server') {
          throw new Error(`row ${this.rows + this.unfit.length + 1} has a value larger than the MySQL server's max_allowed_packet once formatted; raise it to copy this table`);
        }
        out[p++] = NULL_FIELD[0];
        out[p++] = NULL_FIELD[1];
        continue;
      }
      const e = i + len;
      switch (kinds[f]) {
        case 'text': {
          if (this.scanned !== buf || start < this.scanFrom) this.scan(buf, start);
          const sp = this.specials;
          let c = this.cursor;
          while (c < this.specialCount && sp[c] < i) c++;
          this.cursor = c;
          if (!this.dense && (c === this.specialCount || sp[c] >= e)) {
            // nothing to escape: the common case, copied whole
            if (len > COPY_CALL_MIN) p += buf.copy(out, p, i, e);
            else for (let j = i; j < e; j++) out[p++] = buf[j];
            break;
          }
          for (let j = i; j < e; j++) {
            const b = buf[j];
            if (SPECIAL[b] === 0) {
              out[p++] = b;
              continue;
            }
            const esc = ESCAPE[b];
            if (esc !== 0) {
              out[p++] = 0x5c;
              out[p++] = esc;
            } else {
              // NUL: kept in the line, the row goes to the discarded rows
              (reasons ??= []).push(this.nulReasons[f]);
              out[p++] = b;
            }
          }
          break;
        }
        case 'hex': {
          // bytea input '\x..', its backslash doubled for COPY
          out[p++] = 0x5c;
          out[p++] = 0x5c;
          out[p++] = 0x78;
          if (len > 64) {
            p += out.write(buf.toString('hex', i, e), p, 'latin1');
          } else {
            for (let j = i; j < e; j++) {
              const b = buf[j];
              out[p++] = HEX[b >> 4];
              out[p++] = HEX[b & 15];
            }
          }
          break;
        }
        default:
          // 'as-is' and 'server': the bytes are COPY text already
          if (len > COPY_CALL_MIN) p += buf.copy(out, p, i, e);
          else for (let j = i; j < e; j++) out[p++] = buf[j];
      }
      i = e;
    }
    if (reasons !== null) {
      this.unfit.push({ line: Buffer.from(out.subarray(lineStart, p)), reason: [...new Set(reasons)].join('; ') });
      this.pos = lineStart;
      return;
    }
    out[p++] = 0x0a;
    this.pos = p;
    this.rows++;
    if (p >= this.chunkBytes) this.flush();
  }

  /**
   * The common row copied in one piece: when no column is NULL, each is
   * shorter than 251 bytes (a one-byte length) and no text needs escaping,
   * the row's bytes are its COPY line once each length byte becomes a tab
   * (the first one dropped) and a newline ends it. Returns false for any
   * other row, having kept nothing of it.
   */
  private rowAsIs(buf: Buffer, start: number, end: number): boolean {
    const kinds = this.layout.kinds;
    const n = kinds.length;
    const at = this.fieldAt;
    let i = start;
    for (let f = 0; f < n; f++) {
      const len = buf[i];
      if (len >= 0xfb) return false;
      at[f] = i;
      i += 1 + len;
    }
    if (i > end) return false;
    if (this.hasText) {
      if (this.scanned !== buf || start < this.scanFrom) this.scan(buf, start);
      if (this.dense) return false;
      const sp = this.specials;
      let c = this.cursor;
      while (c < this.specialCount && sp[c] < start) c++;
      this.cursor = c;
      // a byte to escape in a text field sends the row the long way; elsewhere (a length byte, a server field) it is fine
      for (let f = 0; c < this.specialCount && sp[c] < i; c++) {
        const q = sp[c];
        while (f + 1 < n && at[f + 1] <= q) f++;
        if (kinds[f] === 'text' && q > at[f]) return false;
      }
    }
    const out = this.out;
    const p = this.pos;
    if (i - start - 1 > COPY_CALL_MIN) buf.copy(out, p, start + 1, i);
    else for (let j = start + 1; j < i; j++) out[p + j - start - 1] = buf[j];
    for (let f = 1; f < n; f++) out[p + at[f] - start - 1] = 0x09;
    let q = p + i - start - 1;
    // the fields after the columns: the server's reason (the row is unfit if it has one), the range key
    for (let f = n; f < this.layout.fieldCount; f++) {
      const len = buf[i++];
      if (len >= 0xfb) {
        if (len !== 0xfb) return false;
        continue;
      }
      if (f === this.layout.reasonField && len > 0) return false;
      if (f === this.layout.keyField) this.lastKey = buf.toString('latin1', i, i + len);
      i += len;
    }
    out[q++] = 0x0a;
    this.pos = q;
    this.rows++;
    if (q >= this.chunkBytes) this.flush();
    return true;
  }

  /**
   * Finds the bytes text fields cannot carry as they are in the rest of
   * `buf` (the socket chunk mysql2 cut the row from, which holds the rows
   * that follow too), with the native byte search: a JavaScript loop over
   * every byte costs far more. Where they are dense, the loop is used instead.
   */
  private scan(buf: Buffer, from: number): void {
    this.scanned = buf;
    this.scanFrom = from;
    this.cursor = 0;
    this.dense = false;
    const limit = Math.max(64, (buf.length - from) >> 5);
    let n = 0;
    if (this.specials.length < limit) this.specials = new Int32Array(limit);
    const sp = this.specials;
    for (let k = 0; k < SPECIAL_BYTES.length && !this.dense; k++) {
      for (let at = buf.indexOf(SPECIAL_BYTES[k], from); at !== -1; at = buf.indexOf(SPECIAL_BYTES[k], at + 1)) {
        if (n === limit) {
          this.dense = true;
          break;
        }
        sp[n++] = at;
      }
    }
    this.specialCount = this.dense ? 0 : n;
    if (!this.dense && n > 1) sp.subarray(0, n).sort();
  }

  /** Hands over what is encoded so far. */
  flush(): void {
    if (this.pos === 0) return;
    // handed over whole, not copied: the next rows go to a fresh buffer (of
    // the usual size again after a row that made this one grow)
    const chunk = this.out.subarray(0, this.pos);
    this.out = Buffer.allocUnsafe(this.chunkBytes + 64 * 1024);
    this.bytes += chunk.length;
    this.pos = 0;
    this.emit(chunk);
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.pos + need));
    this.out.copy(next, 0, 0, this.pos);
    this.out = next;
  }
}
