/**
 * The type map: how each MySQL / MariaDB column type is stored in
 * PostgreSQL, and the two paths its values take (snapshot: MySQL formats
 * COPY text itself; binlog: zongji values → jsonb row image). docs/types.md
 * explains every choice.
 */
import { UnfitValueError, type ColumnMapping, type MysqlColumn, type TypeMapContext } from './column.js';
import { translateDefault, type DefaultKind } from './type-map/defaults.js';
import {
  asUtf8,
  COPY_NULL,
  copyEscape,
  copyField,
  copyText,
  copyTextColumn,
  invalidDateCond,
  jsonNulEscapeCond,
  nulCond,
  orCopyNull,
  quoteMysqlIdent,
  zeroDateCond,
} from './type-map/sql.js';
import {
  binaryValue,
  bitValue,
  decimalValue,
  enumValue,
  floatValue,
  geometryValue,
  integerValue,
  INVALID_DATE_REASON,
  JSON_NUL_REASON,
  jsonValue,
  NUL_REASON,
  setValue,
  temporalValue,
  textValue,
  timeValue,
  yearValue,
} from './type-map/values.js';

export { quoteMysqlIdent } from './type-map/sql.js';
export { keepRawBytes, RawJson, stringifyImage } from './type-map/values.js';

const SPATIAL = new Set([
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
  'geomcollection',
]);
const TEXT_TYPES = new Set(['tinytext', 'text', 'mediumtext', 'longtext']);
const BINARY_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);

/** [signed, unsigned]: the smallest PostgreSQL type holding the whole range; unsigned needs the next wider one. */
const INTEGERS: Record<string, [signed: string, unsigned: string]> = {
  tinyint: ['smallint', 'smallint'],
  smallint: ['smallint', 'integer'],
  mediumint: ['integer', 'integer'],
  int: ['integer', 'bigint'],
  integer: ['integer', 'bigint'],
  bigint: ['bigint', 'numeric(20,0)'],
};

/** What mapColumn decides before the override and the default are applied. */
interface Natural {
  pgType: string;
  copyExpr: string;
  unfitExpr: string | null;
  unfitReason?: string;
  fieldFormat?: ColumnMapping['fieldFormat'];
  fromBinlog(value: unknown): unknown;
  defaultKind: DefaultKind;
  nullableInTarget?: boolean;
  bits?: number;
  binaryLength?: number;
}

function parenNumbers(columnType: string): number[] {
  const m = /\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)/.exec(columnType);
  if (!m) return [];
  return m[2] === undefined ? [Number(m[1])] : [Number(m[1]), Number(m[2])];
}

function temporalPrecision(col: MysqlColumn): number {
  if (col.datetimePrecision !== null) return col.datetimePrecision;
  return parenNumbers(col.columnType)[0] ?? 0;
}

function natural(col: MysqlColumn, ctx: TypeMapContext): Natural {
  const c = quoteMysqlIdent(col.name);
  const dataType = col.dataType.toLowerCase();
  const unsigned = /\bunsigned\b/i.test(col.columnType);

  if (col.isJson || dataType === 'json') {
    return {
      pgType: 'jsonb',
      // The JSON document null becomes SQL NULL: in a row image jsonb_populate_record cannot tell them apart.
      copyExpr: `IF(${c} IS NULL OR JSON_TYPE(${c}) = 'NULL', ${COPY_NULL}, ${copyTextColumn(c, col.charset)})`,
      unfitExpr: `(${nulCond(c, col.charset)} OR ${jsonNulEscapeCond(c, col.charset)})`,
      unfitReason: JSON_NUL_REASON,
      fromBinlog: (v) => jsonValue(v, col.charset),
      defaultKind: 'json',
    };
  }

  const integer = Object.hasOwn(INTEGERS, dataType) ? INTEGERS[dataType] : undefined;
  if (integer) {
    return {
      pgType: unsigned ? integer[1] : integer[0],
      copyExpr: orCopyNull(`CAST(${c} AS CHAR)`),
      fieldFormat: 'as-is',
      unfitExpr: null,
      fromBinlog: integerValue,
      defaultKind: 'integer',
    };
  }

  switch (dataType) {
    case 'decimal':
    case 'numeric':
    case 'fixed': {
      const declared = parenNumbers(col.columnType);
      const p = col.numericPrecision ?? declared[0] ?? 10;
      const s = col.numericScale ?? declared[1] ?? 0;
      return {
        pgType: `numeric(${p},${s})`,
        copyExpr: orCopyNull(`CAST(${c} AS CHAR)`),
        fieldFormat: 'as-is',
        unfitExpr: null,
        fromBinlog: decimalValue,
        defaultKind: 'decimal',
      };
    }
    case 'float':
      // "* 1e0" widens to DOUBLE exactly (keeping -0, which "+ 0e0" would not), and MySQL prints
      // DOUBLE with the shortest digits that round-trip; FLOAT itself prints only 6 digits.
      return {
        pgType: 'real',
        copyExpr: orCopyNull(`CAST(${c} * 1e0 AS CHAR)`),
        unfitExpr: null,
        fromBinlog: floatValue,
        defaultKind: 'float',
      };
    case 'double':
    case 'real':
    case 'double precision':
      return {
        pgType: 'double precision',
        copyExpr: orCopyNull(`CAST(${c} AS CHAR)`),
        unfitExpr: null,
        fromBinlog: floatValue,
        defaultKind: 'float',
      };
    case 'bit': {
      const bits = col.numericPrecision ?? parenNumbers(col.columnType)[0] ?? 1;
      return {
        pgType: `bit(${bits})`,
        copyExpr: orCopyNull(`LPAD(BIN(${c}), ${bits}, '0')`),
        unfitExpr: null,
        fromBinlog: (v) => bitValue(v, bits),
        defaultKind: 'bit',
        bits,
      };
    }
    case 'year':
      return {
        pgType: 'smallint',
        copyExpr: orCopyNull(`CAST(${c} + 0 AS CHAR)`),
        unfitExpr: null,
        fromBinlog: yearValue,
        defaultKind: 'year',
      };
    case 'date':
      return {
        pgType: 'date',
        copyExpr: orCopyNull(`IF(${zeroDateCond(c)}, NULL, DATE_FORMAT(${c}, '%Y-%m-%d'))`),
        unfitExpr: invalidDateCond(c),
        unfitReason: INVALID_DATE_REASON,
        fromBinlog: (v) => temporalValue(v, 'date'),
        defaultKind: 'date',
        nullableInTarget: true,
      };
    case 'datetime':
    case 'timestamp': {
      const n = temporalPrecision(col);
      const format = n > 0 ? '%Y-%m-%d %H:%i:%s.%f' : '%Y-%m-%d %H:%i:%s';
      const tz = dataType === 'timestamp';
      const text = `DATE_FORMAT(${c}, '${format}')`;
      return {
        pgType: `timestamp(${n}) ${tz ? 'with' : 'without'} time zone`,
        copyExpr: orCopyNull(`IF(${zeroDateCond(c)}, NULL, ${tz ? `CONCAT(${text}, '+00')` : text})`),
        unfitExpr: tz ? null : invalidDateCond(c),
        unfitReason: tz ? undefined : INVALID_DATE_REASON,
        fromBinlog: (v) => temporalValue(v, tz ? 'timestamp' : 'datetime'),
        defaultKind: tz ? 'timestamp' : 'datetime',
        nullableInTarget: true,
      };
    }
    case 'time':
      return {
        pgType: 'interval',
        copyExpr: orCopyNull(`CAST(${c} AS CHAR)`),
        unfitExpr: null,
        fromBinlog: timeValue,
        defaultKind: 'time',
      };
    case 'char':
    case 'varchar': {
      const n = col.charMaxLength ?? parenNumbers(col.columnType)[0] ?? 0;
      const trim = dataType === 'char';
      return {
        // char(0) and varchar(0) exist in MySQL (they hold '' or NULL); PostgreSQL needs n >= 1.
        pgType: n >= 1 ? `character varying(${n})` : 'character varying',
        copyExpr: copyField(c, copyTextColumn(c, col.charset)),
        fieldFormat: 'text',
        unfitExpr: nulCond(c, col.charset),
        unfitReason: NUL_REASON,
        fromBinlog: (v) => textValue(v, { trimTrailingSpaces: trim, charset: col.charset }),
        defaultKind: trim ? 'char' : 'text',
      };
    }
    case 'enum':
      return {
        pgType: 'text',
        copyExpr: copyField(c, copyTextColumn(c, col.charset)),
        unfitExpr: null,
        fromBinlog: enumValue,
        defaultKind: 'enum',
      };
    case 'set': {
      // Members are quoted for array input ('\' and '"' escaped), then the whole array is escaped for COPY.
      // "+ 0" is the member bitmap: 0 is the empty set whatever the collation thinks of ''.
      // The array is built once, so its COPY escaping is the unguarded chain (copyText would build it again per test).
      const elements = `REPLACE(REPLACE(REPLACE(${asUtf8(c, col.charset)}, '\\', '\\\\'), '"', '\\"'), ',', '","')`;
      const array = `IF(${c} + 0 = 0, '{}', CONCAT('{"', ${elements}, '"}'))`;
      return {
        pgType: 'text[]',
        copyExpr: copyField(c, copyEscape(array)),
        unfitExpr: null,
        fromBinlog: setValue,
        defaultKind: 'set',
      };
    }
  }

  if (TEXT_TYPES.has(dataType)) {
    return {
      pgType: 'text',
      copyExpr: copyField(c, copyTextColumn(c, col.charset)),
      fieldFormat: 'text',
      unfitExpr: nulCond(c, col.charset),
      unfitReason: NUL_REASON,
      fromBinlog: (v) => textValue(v, { trimTrailingSpaces: false, charset: col.charset }),
      defaultKind: 'text',
    };
  }

  if (BINARY_TYPES.has(dataType)) {
    // COPY text unescapes the doubled backslash once, leaving bytea's own '\x' hex input.
    const padTo = dataType === 'binary' ? (col.charMaxLength ?? parenNumbers(col.columnType)[0] ?? 1) : undefined;
    return {
      pgType: 'bytea',
      copyExpr: copyField(c, `CONCAT('\\\\x', HEX(${c}))`),
      fieldFormat: 'hex',
      unfitExpr: null,
      fromBinlog: (v) => binaryValue(v, padTo),
      defaultKind: 'binary',
      binaryLength: padTo,
    };
  }

  if (SPATIAL.has(dataType)) {
    // The stored bytes, not ST_AsBinary(): MySQL 8 swaps the axes of geographic SRSs in
    // ST_AsBinary, and the binlog carries the stored bytes too.
    const wkbHex = `HEX(SUBSTRING(${c}, 5))`;
    if (ctx.postgis) {
      const srid = `CONV(HEX(REVERSE(SUBSTRING(${c}, 1, 4))), 16, 10)`;
      return {
        pgType: 'geometry',
        copyExpr: copyField(c, `CONCAT('SRID=', ${srid}, ';', ${wkbHex})`),
        unfitExpr: null,
        fromBinlog: (v) => geometryValue(v, true),
        defaultKind: 'none',
      };
    }
    return {
      pgType: 'bytea',
      copyExpr: copyField(c, `CONCAT('\\\\x', ${wkbHex})`),
      unfitExpr: null,
      fromBinlog: (v) => geometryValue(v, false),
      defaultKind: 'none',
    };
  }

  // Anything else (MariaDB uuid / inet4 / inet6, newer types): the server's own text form. The
  // binlog carries these as bytes whose layout is the server's business: such a row is unfit there.
  return {
    pgType: 'text',
    copyExpr: copyField(c, copyText(`CAST(${c} AS CHAR CHARACTER SET utf8mb4)`)),
    unfitExpr: null,
    fromBinlog: (v) => {
      if (typeof v === 'string') return textValue(v, { trimTrailingSpaces: false, charset: null });
      throw new UnfitValueError(`a binlog value of type ${col.columnType} has no known text form`);
    },
    defaultKind: 'text',
  };
}

function normaliseTypeName(name: string): string {
  return name.trim().toLowerCase().replace(/\s+/g, ' ').replace(/\s*([(),])\s*/g, '$1');
}

/** The override_to of the type_override entry that applies to this column, if any. */
function overrideFor(col: MysqlColumn, ctx: TypeMapContext): string | null {
  const names = new Set([normaliseTypeName(col.columnType), normaliseTypeName(col.dataType)]);
  for (const [key, rule] of Object.entries(ctx.typeOverride ?? {})) {
    if (!names.has(normaliseTypeName(key))) continue;
    const tables = rule.override_tables;
    if (tables === undefined || tables.includes('*') || tables.includes(ctx.table)) return rule.override_to;
  }
  return null;
}

export function mapColumn(col: MysqlColumn, ctx: TypeMapContext): ColumnMapping {
  const n = natural(col, ctx);
  const mapping: ColumnMapping = {
    pgType: overrideFor(col, ctx) ?? n.pgType,
    copyExpr: n.copyExpr,
    unfitExpr: n.unfitExpr,
    fromBinlog: n.fromBinlog,
    ...(n.fieldFormat ? { fieldFormat: n.fieldFormat } : {}),
    // Generated columns become plain columns filled with MySQL's computed values: PostgreSQL
    // cannot evaluate MySQL expressions, and copying the values is exact.
    generated: false,
    pgDefault: translateDefault(col, n.defaultKind, { flavor: ctx.flavor, bits: n.bits, binaryLength: n.binaryLength }),
  };
  if (n.unfitReason !== undefined) mapping.unfitReason = n.unfitReason;
  if (n.nullableInTarget) mapping.nullableInTarget = true;
  return mapping;
}
