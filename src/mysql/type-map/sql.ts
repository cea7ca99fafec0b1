/**
 * MySQL SQL fragments for the snapshot path. Every fragment is evaluated
 * with sql_mode NO_BACKSLASH_ESCAPES, so a backslash inside a string
 * literal here is a backslash in MySQL, never an escape.
 */

/** The COPY text field that means NULL. */
export const COPY_NULL = String.raw`'\N'`;

// Introduced hex literals rather than CHAR(n): they carry the coercible
// collation of a literal, so they never clash with a column's collation.
export const SQL_TAB = "_utf8mb4 X'09'";
const SQL_LF = "_utf8mb4 X'0A'";
const SQL_CR = "_utf8mb4 X'0D'";

export function quoteMysqlIdent(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

/** A string literal under NO_BACKSLASH_ESCAPES (backslashes are plain characters). */
export function mysqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * A text value as text-COPY writes it: backslash, tab, newline and carriage
 * return escaped. Unguarded, so every value pays four scans, and REPLACE
 * moves the rest of the string at every match: use copyText for column
 * values; this is for expressions too costly to evaluate twice.
 */
export function copyEscape(expr: string): string {
  // The backslash goes first, or the escapes added after it would be doubled.
  return (
    `REPLACE(REPLACE(REPLACE(REPLACE(${expr}, '\\', '\\\\'), ` +
    `${SQL_TAB}, '\\t'), ${SQL_LF}, '\\n'), ${SQL_CR}, '\\r')`
  );
}

// REGEXP patterns as introduced hex literals, with the control characters
// themselves rather than \t-style escapes, which MySQL 5.7's POSIX regex
// would read as letters; "\\" is one backslash for PCRE, ICU and POSIX alike.
/** [\\<TAB><LF><CR>]: a character text-COPY must escape. */
const NEEDS_ESCAPE = "_utf8mb4 X'5B5C5C090A0D5D'";
/** [\x01-\x08\x0B\x0C\x0E-\x1F]: a control character other than tab, LF and CR. */
const OTHER_CONTROL = "_utf8mb4 X'5B012D080B0C0E2D1F5D'";

/**
 * JSON_QUOTE's escaping without the quotes. It escapes only `"`, `\` and
 * the control characters, in one pass; `\\` `\t` `\n` `\r` are COPY's own
 * escapes and COPY reads `\"` as `"`; the \u00XX escapes, which COPY would
 * misread, cannot occur where this is used (no OTHER_CONTROL). The 'x'
 * sentinel makes the closing quote removable with TRIM: escaped text never
 * ends in x" (a quote in it is always preceded by a backslash), nor starts
 * with one.
 */
function jsonEscape(expr: string): string {
  return `TRIM(TRAILING 'x"' FROM TRIM(LEADING '"' FROM JSON_QUOTE(CONCAT(${expr}, 'x'))))`;
}

/**
 * A UTF-8 text value as a COPY field (NULL stays NULL). Most values hold
 * nothing to escape and pay only one regular-expression scan; the others
 * are escaped in one linear pass (JSON_QUOTE) rather than by the REPLACE
 * chain, which moves the tail of the string at every match. `guard` is
 * tested for the characters to escape instead of `expr` when it holds them
 * exactly where `expr` does (the column before its conversion to utf8mb4).
 * `expr` is evaluated up to three times: keep it a column or a cheap
 * conversion of one.
 */
export function copyText(expr: string, guard: string = expr): string {
  return (
    `IF(${guard} REGEXP ${NEEDS_ESCAPE}, ` +
    `IF(${expr} REGEXP ${OTHER_CONTROL}, ${copyEscape(expr)}, ${jsonEscape(expr)}), ${expr})`
  );
}

/** Character sets whose stored bytes are already UTF-8. */
const UTF8_CHARSETS = new Set(['utf8mb4', 'utf8mb3', 'utf8']);

/**
 * Single-byte character sets in which bytes 0x00-0x7F are ASCII and no
 * other byte converts to an ASCII character (checked byte by byte against
 * MariaDB's conversion to utf8mb4; swe7 is not one: 0x5C is Ö). A
 * backslash, control character or NUL is found in their bytes as it is in
 * the converted text.
 */
const ASCII_SUPERSETS = new Set([
  'ascii', 'latin1', 'latin2', 'latin5', 'latin7', 'cp1250', 'cp1251', 'cp1256', 'cp1257', 'greek', 'hebrew',
  'koi8r', 'koi8u', 'dec8', 'hp8', 'cp850', 'cp852', 'cp866', 'macroman', 'macce', 'armscii8', 'geostd8',
  'keybcs2', 'tis620',
]);

function charsetIn(set: Set<string>, charset: string | null): boolean {
  return charset !== null && set.has(charset.toLowerCase());
}

/**
 * A text column read as utf8mb4, whatever its own character set. The
 * conversion is skipped where the bytes are already UTF-8: it would copy
 * every value for nothing. Not for ascii: a byte above 0x7F that got into
 * such a column becomes '?' only through the conversion.
 */
export function asUtf8(col: string, charset: string | null = null): string {
  return charsetIn(UTF8_CHARSETS, charset) ? col : `CONVERT(${col} USING utf8mb4)`;
}

/** A text column's value as a COPY field (NULL stays NULL), in UTF-8. */
export function copyTextColumn(col: string, charset: string | null): string {
  const utf8 = asUtf8(col, charset);
  // Testing the stored bytes spares the conversion of the values that need no escaping.
  return copyText(utf8, charsetIn(ASCII_SUPERSETS, charset) ? col : utf8);
}

/**
 * The COPY field of an expression that is NULL only for a NULL column:
 * '\N' then. Unlike orCopyNull, an expression that is NULL for a non-NULL
 * column (a result that outgrew max_allowed_packet) stays NULL, and makes
 * the whole line NULL, which the reader reports, instead of a silent \N.
 */
export function copyField(col: string, expr: string): string {
  return `IF(${col} IS NULL, ${COPY_NULL}, ${expr})`;
}

/**
 * A MySQL expression that yields NULL for NULL, else the field text; NULL
 * becomes '\N'. Only for expressions that cannot outgrow max_allowed_packet
 * (see copyField).
 */
export function orCopyNull(expr: string): string {
  return `COALESCE(${expr}, ${COPY_NULL})`;
}

/** Never NULL, so `NOT unfitExpr` keeps rows whose column is NULL. */
export function neverNull(cond: string): string {
  return `COALESCE(${cond}, FALSE)`;
}

/** A zero or partially zero date ('0000-00-00', '2020-00-15', '2020-05-00', '0000-01-01'). */
export function zeroDateCond(col: string): string {
  return `(YEAR(${col}) = 0 OR MONTH(${col}) = 0 OR DAYOFMONTH(${col}) = 0)`;
}

/**
 * A day beyond the end of its month ('2020-02-30'), which only
 * ALLOW_INVALID_DATES lets MySQL store; LAST_DAY() normalises the month.
 * Every month has 28 days: most rows are settled by the first test.
 */
export function invalidDateCond(col: string): string {
  return neverNull(
    `DAYOFMONTH(${col}) > 28 AND YEAR(${col}) <> 0 AND MONTH(${col}) <> 0 AND DAYOFMONTH(${col}) > DAYOFMONTH(LAST_DAY(${col}))`,
  );
}

/** A NUL character in a text value; searched in bytes, because UCA collations ignore U+0000. */
export function nulCond(col: string, charset: string | null = null): string {
  // A 0 byte is U+0000 in UTF-8 and in the single-byte sets; elsewhere (UTF-16, ...) the text is converted first.
  const bytes = charsetIn(UTF8_CHARSETS, charset) || charsetIn(ASCII_SUPERSETS, charset) ? col : asUtf8(col, charset);
  return neverNull(`INSTR(CAST(${bytes} AS BINARY), X'00') > 0`);
}

/**
 * A \u0000 escape in JSON text: a backslash that is itself not escaped,
 * followed by u0000 (the JSON grammar allows only a lower-case u).
 */
export function jsonNulEscapeCond(col: string, charset: string | null = null): string {
  const text = asUtf8(col, charset);
  // The pattern has no literal start for the regex engine to search for, so it is tried at
  // every position of every document; the byte search for \u0000 leaves it only the suspects.
  return neverNull(
    `INSTR(CAST(${text} AS BINARY), X'5C7530303030') > 0 AND ` +
      `${text} REGEXP ${mysqlString(String.raw`(^|[^\\])(\\\\)*\\u0000`)}`,
  );
}
