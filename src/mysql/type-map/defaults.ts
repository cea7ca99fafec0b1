/**
 * COLUMN_DEFAULT → PostgreSQL DEFAULT expression.
 *
 * MariaDB (10.2.7+) prints a default as SQL: string literals quoted and
 * escaped ('it''s', 'a\\b'), the word NULL, numbers bare, expressions bare
 * (curdate(), (1 + 1)). MySQL prints the bare value (it's, NULL as a real
 * NULL) and flags expressions with DEFAULT_GENERATED in EXTRA; binary
 * defaults show as 0x hex. Without the flavour the quoting is guessed.
 */
import type { MysqlColumn } from '../column.js';
import { pgTextArray, temporalText, timeText } from './values.js';

export type DefaultKind =
  | 'integer'
  | 'decimal'
  | 'float'
  | 'year'
  | 'bit'
  | 'date'
  | 'datetime'
  | 'timestamp'
  | 'time'
  | 'char'
  | 'text'
  | 'enum'
  | 'set'
  | 'json'
  | 'binary'
  | 'none';

const NUMBER_RE = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
const NOW_RE = /^(current_timestamp|now|localtimestamp|localtime)(\s*\(\s*\d*\s*\))?$/i;
const TODAY_RE = /^(curdate|current_date)(\s*\(\s*\))?$/i;
const BIT_RE = /^b'([01]*)'$/i;
const HEX_RE = /^0x([0-9a-f]*)$/i;

/** MariaDB's quoted form: '' for a quote and MySQL backslash escapes. */
export function unquoteMariadbLiteral(quoted: string): string {
  const body = quoted.slice(1, -1);
  const escapes: Record<string, string> = { '0': '\u0000', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\u001a' };
  return body.replace(/''|\\(.)/gs, (m, ch: string | undefined) => {
    if (m === "''") return "'";
    return ch !== undefined && ch in escapes ? escapes[ch] : (ch ?? '');
  });
}

function isQuoted(text: string): boolean {
  return text.length >= 2 && text.startsWith("'") && text.endsWith("'");
}

/** A PostgreSQL string constant; E'' only when a backslash needs to stay a backslash. */
export function pgLiteral(text: string): string {
  const quoted = text.replace(/'/g, "''");
  return text.includes('\\') ? `E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}

type Literal = { kind: 'value'; text: string } | { kind: 'bits'; digits: string } | { kind: 'hex'; hex: string };

/** The default as a literal value, or null for NULL and for expressions. */
function literalOf(col: MysqlColumn, flavor: 'mysql' | 'mariadb' | undefined): Literal | null {
  const raw = col.defaultValue;
  if (raw === null) return null;
  if (/DEFAULT_GENERATED/i.test(col.extra)) return null;
  const bits = BIT_RE.exec(raw);
  if (bits) return { kind: 'bits', digits: bits[1] };
  if (flavor !== 'mariadb') {
    const hex = HEX_RE.exec(raw);
    if (hex && flavor === 'mysql') return { kind: 'hex', hex: hex[1] };
  }
  if (flavor === 'mysql') return { kind: 'value', text: raw };
  // MariaDB, or unknown: quoted text is a string literal, bare text a number, NULL or an expression.
  if (isQuoted(raw)) return { kind: 'value', text: unquoteMariadbLiteral(raw) };
  if (raw === 'NULL') return null;
  if (NUMBER_RE.test(raw)) return { kind: 'value', text: raw };
  if (flavor === 'mariadb') return null;
  // Unknown flavour: a function call or parenthesised expression is not a value; other text is MySQL's bare string.
  if (/^\(|^[a-z_][a-z0-9_]*\s*\(/i.test(raw)) return null;
  return { kind: 'value', text: raw };
}

function bitsToDigits(lit: Literal, width: number): string | null {
  let digits: string;
  if (lit.kind === 'bits') digits = lit.digits;
  else if (lit.kind === 'value' && /^\d+$/.test(lit.text)) digits = BigInt(lit.text).toString(2);
  else return null;
  digits = digits.replace(/^0+(?=.)/, '');
  if (digits.length > width) return null;
  return digits.padStart(width, '0');
}

/**
 * The PostgreSQL DEFAULT for a column, or null when there is none or it
 * does not translate (expressions other than the current time and date).
 */
export function translateDefault(
  col: MysqlColumn,
  kind: DefaultKind,
  opts: { flavor?: 'mysql' | 'mariadb'; bits?: number; binaryLength?: number },
): string | null {
  if (col.defaultValue === null || kind === 'none') return null;
  if (/auto_increment|GENERATED/i.test(col.extra.replace(/DEFAULT_GENERATED/gi, ''))) return null;
  const raw = col.defaultValue.trim();
  if (NOW_RE.test(raw)) {
    if (kind === 'timestamp') return 'CURRENT_TIMESTAMP';
    if (kind === 'datetime') return 'LOCALTIMESTAMP';
    if (kind === 'date') return 'CURRENT_DATE';
    return null;
  }
  if (TODAY_RE.test(raw)) return kind === 'date' ? 'CURRENT_DATE' : null;

  const lit = literalOf(col, opts.flavor);
  if (lit === null) return null;
  if (kind === 'bit') {
    const digits = bitsToDigits(lit, opts.bits ?? 1);
    return digits === null ? null : pgLiteral(digits);
  }
  if (kind === 'binary') {
    let bytes: Buffer;
    if (lit.kind === 'hex') bytes = Buffer.from(lit.hex, 'hex');
    else if (lit.kind === 'value') bytes = Buffer.from(lit.text, 'utf8');
    else return null;
    if (opts.binaryLength !== undefined && bytes.length < opts.binaryLength) {
      bytes = Buffer.concat([bytes, Buffer.alloc(opts.binaryLength - bytes.length)]);
    }
    return pgLiteral(`\\x${bytes.toString('hex')}`);
  }
  if (lit.kind !== 'value') return null;
  const text = lit.text;
  try {
    switch (kind) {
      case 'integer':
      case 'decimal':
      case 'float':
        return NUMBER_RE.test(text) ? pgLiteral(text) : null;
      case 'year':
        return /^\d+$/.test(text) ? pgLiteral(String(Number(text))) : null;
      case 'date':
      case 'datetime':
      case 'timestamp': {
        const pg = temporalText(text, kind);
        return pg === null ? null : pgLiteral(pg);
      }
      case 'time':
        return pgLiteral(timeText(text));
      case 'char':
      case 'text':
      case 'enum':
      case 'json':
        if (text.includes('\u0000')) return null;
        if (kind === 'json' && /(^|[^\\])(\\\\)*\\u0000/.test(text)) return null;
        return pgLiteral(kind === 'char' ? text.replace(/ +$/, '') : text);
      case 'set':
        if (text.includes('\u0000')) return null;
        return pgLiteral(pgTextArray(text === '' ? [] : text.split(',')));
    }
  } catch (err) {
    // A default that is no valid value of its type (an impossible date, a malformed time) has no translation.
    if (err instanceof Error) return null;
    throw err;
  }
  return null;
}
