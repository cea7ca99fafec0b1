/**
 * Value conversions in JavaScript: binlog values as zongji decodes them
 * (mysql2 options dateStrings: true, timezone 'Z', jsonStrings: true) and
 * MySQL literal text from COLUMN_DEFAULT, both into PostgreSQL input text.
 * Each must give exactly what the snapshot's SQL expressions give.
 */
import { UnfitValueError } from '../column.js';
import { decodeMysqlText } from './charset.js';

export const NUL_REASON = 'text contains a NUL character (0x00), which PostgreSQL text cannot hold';
export const JSON_NUL_REASON = 'JSON contains a NUL character (\\u0000), which jsonb cannot hold';
export const INVALID_DATE_REASON = 'invalid date (day past the end of its month), which PostgreSQL cannot hold';

/**
 * JSON text to be embedded as is in a row image. JSON.stringify cannot
 * embed raw text on Node 20 (no JSON.rawJSON), so toJSON() falls back to
 * the parsed value, which loses what JavaScript numbers cannot carry
 * (1.50, 1.0, integers past 2^53); stringifyImage() embeds it exactly.
 */
export class RawJson {
  constructor(readonly text: string) {}

  toJSON(): unknown {
    return JSON.parse(this.text) as unknown;
  }
}

/**
 * JSON.stringify for row images, except that RawJson values are written
 * as their own text, so JSON numbers reach jsonb digit for digit.
 */
export function stringifyImage(image: unknown): string {
  const raws: string[] = [];
  // The marker holds a NUL, which a real value never reaches us with
  // (NUL text is unfit), plus a nonce against any coincidence.
  const nonce = Math.random().toString(36).slice(2);
  const json = JSON.stringify(image, function (this: unknown, key: string, value: unknown) {
    const original = (this as Record<string, unknown>)[key];
    if (original instanceof RawJson) {
      raws.push(original.text);
      return `\u0000${nonce}:${raws.length - 1}`;
    }
    return value;
  });
  if (raws.length === 0) return json;
  const marker = new RegExp(`"\\\\u0000${nonce}:(\\d+)"`, 'g');
  return json.replace(marker, (_m, i: string) => raws[Number(i)]);
}

interface ZongjiTableMap {
  columns?: { type: number; charset: string | null }[];
  columnSchemas?: { COLUMN_TYPE: string; LOGGED_COLUMN_TYPE?: string }[];
}

const T_VARCHAR = 15;
const T_VAR_STRING = 253;
const T_STRING = 254;
const T_VARCHAR_COMPRESSED = 141;
const T_BLOB_COMPRESSED = 140;
const BLOB_TYPES = new Set([249, 250, 251, 252]);
const T_BLOB = 252;
const T_GEOMETRY = 255;

/**
 * Makes zongji deliver the stored bytes of string and spatial columns, for
 * fromBinlog to decode with the column's character set from
 * information_schema. Call it from the 'binlog' handler for every TableMap
 * event, with zongji.tableMap[event.tableId]: row events are parsed after
 * the handler returns.
 *
 * Why: zongji 0.9 parses geometry into {x, y} objects (the SRID lost,
 * multipoint indistinguishable from linestring); and with MariaDB's FULL
 * row metadata, which lists spatial columns among the character columns,
 * it assigns every string column after a spatial one the character set of
 * its predecessor: text then decodes in the wrong charset or arrives as
 * bytes. Reading the bytes and decoding them ourselves is right either way.
 *
 * How: a geometry column is read as a BLOB (same length-prefixed payload and
 * metadata); BLOB/TEXT columns without a charset are returned raw; CHAR and
 * VARCHAR whose column type reads 'varbinary' are returned raw (binary(n)
 * comes without its zero padding, which fromBinlog restores).
 */
export function keepRawBytes(entry: ZongjiTableMap | undefined): void {
  const columns = entry?.columns ?? [];
  columns.forEach((col, i) => {
    if (col.type === T_GEOMETRY) col.type = T_BLOB;
    if (BLOB_TYPES.has(col.type) || col.type === T_BLOB_COMPRESSED) {
      col.charset = null;
    } else if ([T_VARCHAR, T_VAR_STRING, T_STRING, T_VARCHAR_COMPRESSED].includes(col.type)) {
      const schema = entry?.columnSchemas?.[i];
      // Keep MariaDB's own uuid/inet4/inet6 formatting (they only exist in the I_S path).
      if (schema && !/^(uuid|inet4|inet6)$/.test(schema.COLUMN_TYPE)) {
        // the type the binlog gave stays known (RowImager compares it with INFORMATION_SCHEMA's)
        schema.LOGGED_COLUMN_TYPE ??= schema.COLUMN_TYPE;
        schema.COLUMN_TYPE = col.type === T_VARCHAR_COMPRESSED ? 'varbinary /*M!100301 COMPRESSED*/' : 'varbinary';
      }
      col.charset = null;
    }
  });
}

function describe(value: unknown): string {
  if (Buffer.isBuffer(value)) return `Buffer(${value.length})`;
  if (value instanceof Date) return 'a Date';
  return `${typeof value} ${JSON.stringify(value)?.slice(0, 60) ?? String(value)}`;
}

export function unexpected(what: string, value: unknown, hint = ''): Error {
  return new Error(`unexpected binlog value for ${what}: ${describe(value)}${hint ? ` (${hint})` : ''}`);
}

export function integerValue(value: unknown): unknown {
  if (typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  throw unexpected('an integer column', value);
}

/** YEAR: zongji adds 1900 to the stored byte, so the zero year '0000' arrives as 1900, a year YEAR cannot hold. */
export function yearValue(value: unknown): unknown {
  if (value === 1900) return 0;
  return integerValue(value);
}

export function decimalValue(value: unknown): unknown {
  // zongji gives exact strings unless mysql2's decimalNumbers is on.
  if (typeof value === 'string' || typeof value === 'number') return value;
  throw unexpected('a decimal column', value);
}

export function floatValue(value: unknown): unknown {
  if (typeof value !== 'number') throw unexpected('a floating-point column', value);
  // JSON.stringify(-0) is "0"; MySQL 8 keeps the sign of zero.
  if (Object.is(value, -0)) return '-0';
  return value;
}

/** bit(n): zongji gives the big-endian bytes; PostgreSQL wants exactly n binary digits. */
export function bitValue(value: unknown, bits: number): string {
  let bytes: Buffer;
  if (Buffer.isBuffer(value)) bytes = value;
  else if (typeof value === 'number' || typeof value === 'bigint') {
    return BigInt(value).toString(2).padStart(bits, '0').slice(-bits);
  } else throw unexpected('a bit column', value);
  let digits = '';
  for (const b of bytes) digits += b.toString(2).padStart(8, '0');
  return digits.padStart(bits, '0').slice(-bits);
}

const DATE_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?)?$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * A MySQL DATE / DATETIME / TIMESTAMP text ('YYYY-MM-DD[ HH:MM:SS[.ffffff]]')
 * as PostgreSQL input: null for zero and partly zero dates, UnfitValueError
 * for a day past the end of its month, an offset for TIMESTAMP (the text is
 * UTC: time_zone '+00:00' in the snapshot, timezone 'Z' in zongji).
 */
export function temporalText(text: string, kind: 'date' | 'datetime' | 'timestamp'): string | null {
  const m = DATE_TIME_RE.exec(text);
  if (!m) throw unexpected(`a ${kind} column`, text);
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year === 0 || month === 0 || day === 0) return null;
  if (month > 12 || day > daysInMonth(year, month)) throw new UnfitValueError(`${INVALID_DATE_REASON}: ${text}`);
  const out = kind === 'date' ? `${m[1]}-${m[2]}-${m[3]}` : text.replace('T', ' ');
  return kind === 'timestamp' ? `${out}+00` : out;
}

export function temporalValue(value: unknown, kind: 'date' | 'datetime' | 'timestamp'): string | null {
  if (typeof value !== 'string') {
    throw unexpected(`a ${kind} column`, value, 'the binlog reader must run zongji with dateStrings: true');
  }
  return temporalText(value, kind);
}

const TIME_RE = /^(-?)(\d+):(\d+):(\d+)(\.\d+)?$/;

/**
 * TIME as a PostgreSQL interval. zongji 0.9 decodes negative TIME2 values
 * without a fraction one unit short and then adds one second without carry:
 * '-12:00:00' arrives as '-11:63:64'. The fields are bit fields of the
 * packed value (hour << 12 | minute << 6 | second), so adding them back up
 * in that radix and splitting again gives the true time. Correct values
 * never have a minute or second of 60 or more, so they pass unchanged.
 */
export function timeText(text: string): string {
  const m = TIME_RE.exec(text);
  if (!m) throw unexpected('a time column', text);
  let hour = Number(m[2]);
  let minute = Number(m[3]);
  let second = Number(m[4]);
  if (minute >= 60 || second >= 60) {
    const packed = hour * 4096 + minute * 64 + second;
    hour = Math.floor(packed / 4096);
    minute = Math.floor(packed / 64) % 64;
    second = packed % 64;
  }
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${m[1]}${two(hour)}:${two(minute)}:${two(second)}${m[5] ?? ''}`;
}

export function timeValue(value: unknown): string {
  if (typeof value !== 'string') throw unexpected('a time column', value);
  return timeText(value);
}

export function textValue(value: unknown, opts: { trimTrailingSpaces: boolean; charset: string | null }): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (Buffer.isBuffer(value)) text = decodeMysqlText(value, opts.charset);
  else throw unexpected('a text column', value);
  if (text.includes('\u0000')) throw new UnfitValueError(NUL_REASON);
  // MySQL strips the pad spaces of CHAR(n) on every read; do the same so both paths agree.
  return opts.trimTrailingSpaces ? text.replace(/ +$/, '') : text;
}

/** ENUM: the invalid-value index 0 reads as '' in MySQL; zongji looks up index -1 and gives undefined. */
export function enumValue(value: unknown): string {
  if (value === undefined) return '';
  return textValue(value, { trimTrailingSpaces: false, charset: null });
}

export function setValue(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== 'string') throw unexpected('a set column', value);
  if (value === '') return [];
  if (value.includes('\u0000')) throw new UnfitValueError(NUL_REASON);
  return value.split(',');
}

/** PostgreSQL array input for text elements, each quoted. */
export function pgTextArray(items: string[]): string {
  return `{${items.map((s) => `"${s.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}

/** \u0000 escapes that are not themselves escaped backslashes. */
const JSON_NUL_ESCAPE = /(^|[^\\])(\\\\)*\\u0000/;

/** JSON text as a row-image value; the document null is SQL NULL, as in the snapshot. */
export function jsonText(text: string): RawJson | null {
  if (text.includes('\u0000') || JSON_NUL_ESCAPE.test(text)) throw new UnfitValueError(JSON_NUL_REASON);
  if (/^[ \t\n\r]*null[ \t\n\r]*$/.test(text)) return null;
  return new RawJson(text);
}

/**
 * JSON: MariaDB's JSON is LONGTEXT and always arrives as text; MySQL's
 * binary JSON arrives as text with jsonStrings: true. Without that option
 * a top-level JSON string would be indistinguishable from JSON text, so a
 * string is always taken as JSON text.
 */
export function jsonValue(value: unknown, charset: string | null): unknown {
  if (typeof value === 'string') return jsonText(value);
  if (Buffer.isBuffer(value)) return jsonText(decodeMysqlText(value, charset));
  // jsonStrings off: a parsed value; large integers come as strings and stay strings.
  return value;
}

export function byteaHex(bytes: Buffer): string {
  return `\\x${bytes.toString('hex')}`;
}

/** binary(n) is zero-padded by MySQL; the row image (and keepRawBytes) drops the padding. */
export function binaryValue(value: unknown, padTo?: number): string {
  if (!Buffer.isBuffer(value)) throw unexpected('a binary column', value);
  if (padTo !== undefined && value.length < padTo) return byteaHex(Buffer.concat([value, Buffer.alloc(padTo - value.length)]));
  return byteaHex(value);
}

/** MySQL's stored geometry: little-endian SRID, then WKB. */
export function geometryValue(value: unknown, postgis: boolean): string {
  if (!Buffer.isBuffer(value)) {
    throw unexpected('a spatial column', value, 'call keepRawBytes() on every TableMap so zongji keeps the stored bytes');
  }
  if (value.length < 4) throw unexpected('a spatial column', value);
  const wkb = value.subarray(4);
  if (!postgis) return byteaHex(wkb);
  return `SRID=${value.readUInt32LE(0)};${wkb.toString('hex')}`;
}
