import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UnfitValueError, type MysqlColumn, type TypeMapContext } from '../../src/mysql/column.js';
import { copyLayout } from '../../src/snapshot/copy-encoder.js';
import { keepRawBytes, mapColumn, quoteMysqlIdent, RawJson, stringifyImage } from '../../src/mysql/type-map.js';
import { decodeMysqlText } from '../../src/mysql/type-map/charset.js';
import { pgLiteral, unquoteMariadbLiteral } from '../../src/mysql/type-map/defaults.js';
import { pgTextArray, timeText } from '../../src/mysql/type-map/values.js';

const CTX: TypeMapContext = { table: 'shop.items', postgis: true, typeOverride: {} };

/** A column as information_schema would describe it, from its COLUMN_TYPE. */
function col(columnType: string, extra: Partial<MysqlColumn> = {}): MysqlColumn {
  const dataType = /^[a-z ]+/.exec(columnType)![0].trim().replace(/ unsigned$/, '');
  const nums = /\((\d+)(?:,(\d+))?\)/.exec(columnType);
  const isText = /char|text|enum|set/.test(dataType);
  const isBinary = /binary|blob/.test(dataType);
  return {
    name: 'c',
    ordinal: 1,
    dataType,
    columnType,
    nullable: true,
    defaultValue: null,
    numericPrecision: /int|decimal|bit/.test(dataType) && nums ? Number(nums[1]) : null,
    numericScale: dataType === 'decimal' && nums ? Number(nums[2] ?? 0) : null,
    datetimePrecision: /time/.test(dataType) ? Number(nums?.[1] ?? 0) : null,
    charMaxLength: (isText || isBinary) && nums ? Number(nums[1]) : null,
    charset: isText ? 'utf8mb4' : null,
    collation: isText ? 'utf8mb4_general_ci' : null,
    extra: '',
    generationExpression: null,
    comment: '',
    isJson: dataType === 'json',
    ...extra,
  };
}

const map = (columnType: string, extra: Partial<MysqlColumn> = {}, ctx: Partial<TypeMapContext> = {}) =>
  mapColumn(col(columnType, extra), { ...CTX, ...ctx });

describe('quoteMysqlIdent', () => {
  test('backticks, doubled inside', () => {
    assert.equal(quoteMysqlIdent('plain'), '`plain`');
    assert.equal(quoteMysqlIdent('we`ird'), '`we``ird`');
    assert.equal(quoteMysqlIdent('sp ace'), '`sp ace`');
  });
});

describe('PostgreSQL types', () => {
  const cases: [string, string][] = [
    ['tinyint(4)', 'smallint'],
    ['tinyint(3) unsigned', 'smallint'],
    ['tinyint(1)', 'smallint'],
    ['smallint(6)', 'smallint'],
    ['smallint(5) unsigned', 'integer'],
    ['mediumint(9)', 'integer'],
    ['mediumint(8) unsigned', 'integer'],
    ['int(11)', 'integer'],
    ['int(10) unsigned', 'bigint'],
    ['bigint(20)', 'bigint'],
    ['bigint(20) unsigned', 'numeric(20,0)'],
    ['decimal(65,30)', 'numeric(65,30)'],
    ['decimal(10,0) unsigned', 'numeric(10,0)'],
    ['float', 'real'],
    ['double', 'double precision'],
    ['bit(1)', 'bit(1)'],
    ['bit(64)', 'bit(64)'],
    ['year(4)', 'smallint'],
    ['date', 'date'],
    ['datetime', 'timestamp(0) without time zone'],
    ['datetime(6)', 'timestamp(6) without time zone'],
    ['timestamp(3)', 'timestamp(3) with time zone'],
    ['time(6)', 'interval'],
    ['char(5)', 'character varying(5)'],
    ['char(0)', 'character varying'],
    ['varchar(255)', 'character varying(255)'],
    ['tinytext', 'text'],
    ['longtext', 'text'],
    ['binary(16)', 'bytea'],
    ['varbinary(4)', 'bytea'],
    ['longblob', 'bytea'],
    ["enum('a','b')", 'text'],
    ["set('a','b')", 'text[]'],
    ['json', 'jsonb'],
    ['geometry', 'geometry'],
    ['point', 'geometry'],
    ['multipolygon', 'geometry'],
    ['uuid', 'text'],
  ];
  for (const [mysqlType, pgType] of cases) {
    test(`${mysqlType} → ${pgType}`, () => assert.equal(map(mysqlType).pgType, pgType));
  }

  test("MariaDB's JSON (longtext with a json_valid check) is jsonb", () => {
    assert.equal(map('longtext', { isJson: true }).pgType, 'jsonb');
  });

  test('spatial without PostGIS is bytea', () => {
    assert.equal(map('point', {}, { postgis: false }).pgType, 'bytea');
  });

  test('date, datetime and timestamp columns must be nullable in the target (zero dates)', () => {
    for (const t of ['date', 'datetime(6)', 'timestamp']) assert.equal(map(t, { nullable: false }).nullableInTarget, true, t);
    for (const t of ['int(11)', 'time', 'varchar(3)', 'year(4)']) assert.equal(map(t).nullableInTarget, undefined, t);
  });

  test('generated columns become plain copied columns', () => {
    const m = map('int(11)', { extra: 'VIRTUAL GENERATED', generationExpression: '`a` * 2' });
    assert.equal(m.generated, false);
    assert.equal(m.pgType, 'integer');
    assert.equal(m.pgDefault, null);
  });
});

describe('type_override', () => {
  const override = (rules: TypeMapContext['typeOverride'], table = 'shop.items') =>
    mapColumn(col('tinyint(1)'), { ...CTX, table, typeOverride: rules });

  test('by column type, all tables', () => {
    assert.equal(override({ 'tinyint(1)': { override_to: 'boolean' } }).pgType, 'boolean');
    assert.equal(override({ 'tinyint(1)': { override_to: 'boolean', override_tables: ['*'] } }).pgType, 'boolean');
  });

  test('by data type', () => {
    assert.equal(override({ tinyint: { override_to: 'integer' } }).pgType, 'integer');
  });

  test('only for the tables listed', () => {
    const rules = { 'tinyint(1)': { override_to: 'boolean', override_tables: ['shop.items'] } };
    assert.equal(override(rules).pgType, 'boolean');
    assert.equal(override(rules, 'shop.other').pgType, 'smallint');
  });

  test('the copy expression stays the natural one', () => {
    const natural = map('tinyint(1)');
    const overridden = override({ 'tinyint(1)': { override_to: 'boolean' } });
    assert.equal(overridden.copyExpr, natural.copyExpr);
    assert.equal(overridden.fromBinlog(1), 1);
  });

  test('spelling differences in the key do not matter', () => {
    assert.equal(override({ ' TINYINT( 1 ) ': { override_to: 'boolean' } }).pgType, 'boolean');
  });
});

describe('snapshot expressions', () => {
  test('every copy expression turns NULL into \\N', () => {
    for (const t of ['int(11)', 'varchar(3)', 'date', 'bit(3)', "set('a')", 'json', 'point', 'longblob', 'text', "enum('a')", 'uuid']) {
      assert.match(map(t).copyExpr, /^(COALESCE\(.*, '\\N'\)|IF\(`c` IS NULL( OR .*)?, '\\N', .*\))$/s, t);
    }
  });

  test('a value that can outgrow max_allowed_packet is not turned into \\N', () => {
    // its function returns NULL then: the field must stay NULL, for the line to be NULL and the copy to fail
    for (const t of ['varchar(3)', 'text', 'longtext', "set('a')", "enum('a')", 'json', 'point', 'longblob', 'binary(4)', 'uuid']) {
      const e = map(t).copyExpr;
      assert.match(e, /^IF\(`c` IS NULL/, t);
      assert.doesNotMatch(e, /^COALESCE/, t);
    }
  });

  test('unfit expressions exist only where PostgreSQL can refuse a value, and are never NULL', () => {
    for (const t of ['int(11)', 'double', 'bit(3)', 'time', 'longblob', "enum('a')", 'timestamp']) assert.equal(map(t).unfitExpr, null, t);
    for (const t of ['varchar(3)', 'text', 'char(2)', 'json', 'date', 'datetime']) {
      const m = map(t);
      assert.match(m.unfitExpr ?? '', /COALESCE\(/, t);
      assert.ok(m.unfitReason, t);
    }
  });

  test('the snapshot SELECT leaves generated-in-PostgreSQL columns out and quotes names', () => {
    const a = { col: col('int(11)', { name: 'a' }), map: mapColumn(col('int(11)', { name: 'a' }), CTX) };
    const b = { col: col('int(11)', { name: 'b' }), map: { ...mapColumn(col('int(11)', { name: 'b' }), CTX), generated: true } };
    const c = { col: col('text', { name: 'c`x' }), map: mapColumn(col('text', { name: 'c`x' }), CTX) };
    const d = { col: col('date', { name: 'd' }), map: mapColumn(col('date', { name: 'd' }), CTX) };
    const layout = copyLayout([a, b, c, d]);
    assert.equal(layout.select.split(', ', 2).join(', '), '`a`, `c``x`');
    assert.ok(!layout.select.includes('`b`'));
    assert.ok(layout.select.includes(d.map.copyExpr));
    assert.deepEqual(layout.names, ['a', 'c`x', 'd']);
    assert.equal(copyLayout([]).select, "''");
  });

  test('the agent formats integers, decimals, text and bytes; the server the rest', () => {
    const formats = Object.fromEntries(
      ['int(11)', 'bigint(20) unsigned', 'decimal(65,30)', 'varchar(3)', 'char(2)', 'longtext', 'varbinary(3)', 'longblob', 'binary(4)',
        'double', 'float', 'bit(3)', 'date', 'datetime(6)', 'time', 'year', "enum('a')", "set('a')", 'json', 'point', 'uuid']
        .map((t) => [t, map(t).fieldFormat ?? 'server']),
    );
    assert.deepEqual(formats, {
      'int(11)': 'as-is', 'bigint(20) unsigned': 'as-is', 'decimal(65,30)': 'as-is', 'varchar(3)': 'text', 'char(2)': 'text',
      longtext: 'text', 'varbinary(3)': 'hex', longblob: 'hex', 'binary(4)': 'hex', double: 'server', float: 'server', 'bit(3)': 'server',
      date: 'server', 'datetime(6)': 'server', time: 'server', year: 'server', "enum('a')": 'server', "set('a')": 'server',
      json: 'server', point: 'server', uuid: 'server',
    });
  });
});

/** The regular expressions a copy expression uses, decoded from their introduced hex literals. */
function regexps(expr: string): RegExp[] {
  return [...expr.matchAll(/REGEXP _utf8mb4 X'([0-9A-F]+)'/g)].map((m) => new RegExp(Buffer.from(m[1], 'hex').toString('latin1')));
}

describe('snapshot text expressions', () => {
  const ascii = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i));

  test('the escape guard matches exactly backslash, tab, newline and carriage return', () => {
    const [needsEscape] = regexps(map('text').copyExpr);
    assert.deepEqual(ascii.filter((ch) => needsEscape.test(ch)), ['\t', '\n', '\r', '\\']);
    assert.equal(needsEscape.test('é😀"x'), false);
  });

  test('JSON_QUOTE escapes only where no control character other than tab, newline and carriage return is', () => {
    // JSON_QUOTE writes those as \u00XX, which COPY would read as "u00XX"
    const [, otherControl] = regexps(map('text').copyExpr);
    const want = ascii.filter((ch) => ch.charCodeAt(0) >= 1 && ch.charCodeAt(0) < 0x20 && !'\t\n\r'.includes(ch));
    assert.deepEqual(ascii.filter((ch) => otherControl.test(ch)), want);
    const e = map('text').copyExpr;
    assert.ok(e.includes("JSON_QUOTE(CONCAT(`c`, 'x'))"), e);
    assert.ok(e.includes("REPLACE(REPLACE(REPLACE(REPLACE(`c`, '\\', '\\\\')"), e);
  });

  test('UTF-8 columns are read as they are stored: no conversion', () => {
    for (const charset of ['utf8mb4', 'utf8mb3', 'utf8', 'UTF8MB4']) {
      for (const t of ['varchar(10)', 'char(3)', 'text', "enum('a')", "set('a')", 'json']) {
        const m = map(t, { charset });
        assert.doesNotMatch(m.copyExpr, /CONVERT/, `${t} ${charset}`);
        if (m.unfitExpr) assert.doesNotMatch(m.unfitExpr, /CONVERT/, `${t} ${charset}`);
      }
    }
  });

  test('other character sets are converted; single-byte ones are tested for escapes and NULs before the conversion', () => {
    const latin1 = map('varchar(10)', { charset: 'latin1' });
    assert.match(latin1.copyExpr, /^IF\(`c` IS NULL, '\\N', IF\(`c` REGEXP /);
    assert.match(latin1.copyExpr, /CONVERT\(`c` USING utf8mb4\) REGEXP /);
    assert.match(latin1.copyExpr, /, CONVERT\(`c` USING utf8mb4\)\)\)$/);
    assert.equal(latin1.unfitExpr, "COALESCE(INSTR(CAST(`c` AS BINARY), X'00') > 0, FALSE)");
    // ascii keeps its conversion, which turns a stray byte above 0x7F into '?'
    assert.match(map('text', { charset: 'ascii' }).copyExpr, /, CONVERT\(`c` USING utf8mb4\)\)\)$/);
    // in these a backslash or a 0 byte may be part of another character: everything on the converted text
    for (const charset of ['sjis', 'gbk', 'ucs2', 'utf16', 'utf32', 'swe7']) {
      const m = map('varchar(10)', { charset });
      assert.match(m.copyExpr, /^IF\(`c` IS NULL, '\\N', IF\(CONVERT\(`c` USING utf8mb4\) REGEXP /, charset);
      assert.doesNotMatch(m.copyExpr, /`c` REGEXP/, charset);
      assert.equal(m.unfitExpr, "COALESCE(INSTR(CAST(CONVERT(`c` USING utf8mb4) AS BINARY), X'00') > 0, FALSE)", charset);
    }
    // MySQL's JSON type has no character set: converted
    assert.match(map('json', { charset: null }).copyExpr, /CONVERT\(`c` USING utf8mb4\)/);
  });

  test('JSON: the \\u0000 pattern runs only on documents holding the bytes \\u0000', () => {
    // MariaDB's JSON: a utf8mb4 LONGTEXT
    const u = map('json', { charset: 'utf8mb4' }).unfitExpr ?? '';
    assert.ok(u.includes("INSTR(CAST(`c` AS BINARY), X'5C7530303030') > 0 AND `c` REGEXP"), u);
    assert.equal(Buffer.from('5C7530303030', 'hex').toString(), '\\u0000');
  });

  test('impossible dates: the cheap test of the day comes first', () => {
    assert.match(map('date').unfitExpr ?? '', /^COALESCE\(DAYOFMONTH\(`c`\) > 28 AND /);
  });
});

describe('fromBinlog', () => {
  test('integers: numbers, and exact strings beyond 2^53', () => {
    assert.equal(map('bigint(20) unsigned').fromBinlog('18446744073709551615'), '18446744073709551615');
    assert.equal(map('bigint(20)').fromBinlog(-5), -5);
    assert.equal(map('bigint(20)').fromBinlog(12n), '12');
  });

  test('year: zongji reads the zero year as 1900', () => {
    const m = map('year(4)');
    assert.equal(m.fromBinlog(1900), 0);
    assert.equal(m.fromBinlog(2155), 2155);
  });

  test('decimal stays an exact string', () => {
    assert.equal(map('decimal(65,30)').fromBinlog('0.100000000000000000000000000000'), '0.100000000000000000000000000000');
  });

  test('float and double keep the sign of zero', () => {
    assert.equal(map('double').fromBinlog(-0), '-0');
    assert.equal(map('float').fromBinlog(0.1), 0.1);
    assert.equal(JSON.stringify(map('double').fromBinlog(5e-324)), '5e-324');
  });

  test('bit: exactly n digits from the big-endian bytes', () => {
    assert.equal(map('bit(10)').fromBinlog(Buffer.from([0x00, 0x05])), '0000000101');
    assert.equal(map('bit(1)').fromBinlog(Buffer.from([1])), '1');
    assert.equal(map('bit(64)').fromBinlog(Buffer.alloc(8, 0xff)), '1'.repeat(64));
  });

  test('dates: zero and partly zero → null, impossible → unfit', () => {
    const d = map('date');
    assert.equal(d.fromBinlog('0000-00-00'), null);
    assert.equal(d.fromBinlog('2020-00-15'), null);
    assert.equal(d.fromBinlog('2020-05-00'), null);
    assert.equal(d.fromBinlog('0000-01-01'), null);
    assert.equal(d.fromBinlog('2020-02-29'), '2020-02-29');
    assert.throws(() => d.fromBinlog('2021-02-29'), UnfitValueError);
    assert.throws(() => d.fromBinlog(new Date()), /dateStrings/);
  });

  test('datetime keeps microseconds; timestamp is UTC', () => {
    assert.equal(map('datetime(6)').fromBinlog('9999-12-31 23:59:59.999999'), '9999-12-31 23:59:59.999999');
    assert.equal(map('datetime(6)').fromBinlog('0000-00-00 00:00:00.000000'), null);
    assert.equal(map('timestamp(6)').fromBinlog('2038-01-19 03:14:07.999999'), '2038-01-19 03:14:07.999999+00');
    assert.equal(map('timestamp(6)').fromBinlog('0000-00-00 00:00:00.000000'), null);
  });

  test("time: zongji's negative TIME2 values are repaired", () => {
    const cases: [string, string][] = [
      ['-11:63:64', '-12:00:00'],
      ['-00:00:64', '-00:01:00'],
      ['-00:63:64.000000', '-01:00:00.000000'],
      ['-10:58:64', '-10:59:00'],
      ['-99:63:64', '-100:00:00'],
      ['-255:63:64.0', '-256:00:00.0'],
      ['-838:59:59', '-838:59:59'],
      ['-00:00:01.500', '-00:00:01.500'],
      ['838:59:59.999999', '838:59:59.999999'],
      ['00:00:00', '00:00:00'],
    ];
    for (const [zongji, want] of cases) assert.equal(map('time(6)').fromBinlog(zongji), want, zongji);
    assert.equal(timeText('-100:00:00'), '-100:00:00');
  });

  test('text: NUL is unfit, CHAR loses its pad spaces, bytes decode in the column charset', () => {
    assert.throws(() => map('text').fromBinlog('a\u0000b'), UnfitValueError);
    assert.equal(map('char(5)').fromBinlog('ab  '), 'ab');
    assert.equal(map('varchar(5)').fromBinlog('ab  '), 'ab  ');
    assert.equal(map('varchar(5)', { charset: 'latin1' }).fromBinlog(Buffer.from([0x80, 0xe9])), '€é');
    assert.equal(map('text').fromBinlog(Buffer.from('😀', 'utf8')), '😀');
    assert.throws(() => map('varchar(5)').fromBinlog(Buffer.from([0x61, 0x00])), UnfitValueError);
  });

  test('enum: the invalid value reads as the empty string', () => {
    assert.equal(map("enum('a','b')").fromBinlog(undefined), '');
    assert.equal(map("enum('a','b')").fromBinlog('b'), 'b');
  });

  test('set: a text array', () => {
    const m = map("set('a','b c')");
    assert.deepEqual(m.fromBinlog(''), []);
    assert.deepEqual(m.fromBinlog('a,b c'), ['a', 'b c']);
  });

  test('json: raw text, the null document as NULL, \\u0000 unfit', () => {
    const m = map('json');
    const v = m.fromBinlog('{"a": 1.50}');
    assert.ok(v instanceof RawJson);
    assert.equal((v as RawJson).text, '{"a": 1.50}');
    assert.equal(m.fromBinlog(' null '), null);
    assert.throws(() => m.fromBinlog('["\\u0000"]'), UnfitValueError);
    assert.ok(m.fromBinlog('["\\\\u0000"]') instanceof RawJson);
    assert.throws(() => m.fromBinlog('["\\\\\\u0000"]'), UnfitValueError);
  });

  test('binary: \\x hex, binary(n) padded back to n bytes', () => {
    assert.equal(map('varbinary(4)').fromBinlog(Buffer.from([0x00, 0xff])), '\\x00ff');
    assert.equal(map('binary(4)').fromBinlog(Buffer.from([0x00, 0xff])), '\\x00ff0000');
    assert.equal(map('blob').fromBinlog(Buffer.alloc(0)), '\\x');
  });

  test('geometry: SRID and WKB from the stored bytes', () => {
    const stored = Buffer.from('E61000000101000000000000000000F03F0000000000000040', 'hex');
    assert.equal(map('point').fromBinlog(stored), 'SRID=4326;0101000000000000000000f03f0000000000000040');
    assert.equal(map('point', {}, { postgis: false }).fromBinlog(stored), '\\x0101000000000000000000f03f0000000000000040');
    assert.throws(() => map('point').fromBinlog({ x: 1, y: 2 }), /keepRawBytes/);
  });

  test('unknown types in bytes are unfit, not guessed', () => {
    assert.throws(() => map('uuid').fromBinlog(Buffer.alloc(16)), UnfitValueError);
    assert.equal(map('uuid').fromBinlog('123e4567-e89b-12d3-a456-426614174000'), '123e4567-e89b-12d3-a456-426614174000');
  });
});

describe('row images', () => {
  test('stringifyImage embeds RawJson text as it is', () => {
    const image = { j: new RawJson('{"n": 1.50, "big": 12345678901234567890}'), s: 'x"y', n: null, a: ['1'] };
    assert.equal(stringifyImage(image), '{"j":{"n": 1.50, "big": 12345678901234567890},"s":"x\\"y","n":null,"a":["1"]}');
    assert.deepEqual(JSON.parse(JSON.stringify(image)).j, { n: 1.5, big: 12345678901234567000 });
  });

  test('stringifyImage without RawJson is JSON.stringify', () => {
    const image = { a: 'text \u0001 \\u0000', b: 1, c: '\\x00ff' };
    assert.equal(stringifyImage(image), JSON.stringify(image));
  });

  test('keepRawBytes turns geometry into blobs and string columns raw', () => {
    const entry = {
      columns: [
        { type: 255, charset: null },
        { type: 15, charset: 'utf8mb4' },
        { type: 252, charset: 'latin1' },
        { type: 3, charset: null },
        { type: 254, charset: null },
      ],
      columnSchemas: [{ COLUMN_TYPE: 'point' }, { COLUMN_TYPE: 'varchar(5)' }, { COLUMN_TYPE: 'text' }, { COLUMN_TYPE: 'int' }, { COLUMN_TYPE: 'uuid' }],
    };
    keepRawBytes(entry);
    assert.deepEqual(entry.columns.map((c) => [c.type, c.charset]), [[252, null], [15, null], [252, null], [3, null], [254, null]]);
    assert.deepEqual(entry.columnSchemas.map((s) => s.COLUMN_TYPE), ['point', 'varbinary', 'text', 'int', 'uuid']);
    keepRawBytes(undefined);
  });
});

describe('character sets', () => {
  test('MySQL latin1 is cp1252; utf16 is big-endian; utf32 decodes', () => {
    assert.equal(decodeMysqlText(Buffer.from([0x80, 0x9f, 0x81]), 'latin1'), '€Ÿ\u0081');
    assert.equal(decodeMysqlText(Buffer.from([0x00, 0x41, 0xd8, 0x3d, 0xde, 0x00]), 'utf16'), 'A😀');
    assert.equal(decodeMysqlText(Buffer.from([0, 1, 0xf6, 0x00]), 'utf32'), '😀');
    assert.equal(decodeMysqlText(Buffer.from([0xef, 0xbb, 0xbf, 0x61]), 'utf8mb4'), '\ufeffa');
    assert.equal(decodeMysqlText(Buffer.from([0xa1]), 'latin2'), 'Ą');
    assert.throws(() => decodeMysqlText(Buffer.from([0x61]), 'dec8'), UnfitValueError);
  });
});

describe('defaults', () => {
  const dflt = (columnType: string, value: string | null, extra: Partial<MysqlColumn> = {}, flavor?: 'mysql' | 'mariadb') =>
    mapColumn(col(columnType, { defaultValue: value, ...extra }), { ...CTX, flavor }).pgDefault;

  test('MariaDB literals', () => {
    assert.equal(dflt('varchar(10)', "'it''s'", {}, 'mariadb'), "'it''s'");
    assert.equal(dflt('varchar(10)', "'a\\\\b\\nc'", {}, 'mariadb'), "E'a\\\\b\nc'");
    assert.equal(dflt('varchar(10)', "'NULL'", {}, 'mariadb'), "'NULL'");
    assert.equal(dflt('varchar(10)', 'NULL', {}, 'mariadb'), null);
    assert.equal(dflt('int(11)', '5', {}, 'mariadb'), "'5'");
    assert.equal(dflt('int(11)', '(1 + 1)', {}, 'mariadb'), null);
    assert.equal(dflt('varchar(36)', 'uuid()', {}, 'mariadb'), null);
    assert.equal(dflt('varchar(5)', "'\\0'", {}, 'mariadb'), null);
  });

  test('MySQL literals are bare', () => {
    assert.equal(dflt('varchar(10)', "it's", {}, 'mysql'), "'it''s'");
    assert.equal(dflt('varchar(10)', 'NULL', {}, 'mysql'), "'NULL'");
    assert.equal(dflt('varchar(10)', "'q'", {}, 'mysql'), "'''q'''");
    assert.equal(dflt('varbinary(4)', '0x6162', {}, 'mysql'), "E'\\\\x6162'");
    assert.equal(dflt('datetime', 'now()', { extra: 'DEFAULT_GENERATED' }, 'mysql'), 'LOCALTIMESTAMP');
    assert.equal(dflt('int(11)', '(`a` + 1)', { extra: 'DEFAULT_GENERATED' }, 'mysql'), null);
  });

  test('flavour unknown: quoting guessed from the text', () => {
    assert.equal(dflt('varchar(10)', "'abc'"), "'abc'");
    assert.equal(dflt('varchar(10)', 'abc'), "'abc'");
    assert.equal(dflt('varchar(10)', 'NULL'), null);
    assert.equal(dflt('varchar(10)', 'curdate()'), null);
  });

  test('the current time and date', () => {
    assert.equal(dflt('timestamp(6)', 'current_timestamp(6)'), 'CURRENT_TIMESTAMP');
    assert.equal(dflt('timestamp', 'CURRENT_TIMESTAMP'), 'CURRENT_TIMESTAMP');
    assert.equal(dflt('datetime', 'current_timestamp()'), 'LOCALTIMESTAMP');
    assert.equal(dflt('date', 'curdate()'), 'CURRENT_DATE');
    assert.equal(dflt('varchar(30)', 'current_timestamp()'), null);
  });

  test('typed literals', () => {
    assert.equal(dflt('bit(5)', "b'101'"), "'00101'");
    assert.equal(dflt('datetime', "'0000-00-00 00:00:00'"), null);
    assert.equal(dflt('timestamp', "'2001-02-03 04:05:06'"), "'2001-02-03 04:05:06+00'");
    assert.equal(dflt('time', "'-01:00:00'"), "'-01:00:00'");
    assert.equal(dflt("set('a','b c')", "'a,b c'"), `'{"a","b c"}'`);
    assert.equal(dflt("set('a','b c')", "''"), "'{}'");
    assert.equal(dflt('binary(3)', "'a'", {}, 'mariadb'), "E'\\\\x610000'");
    assert.equal(dflt('json', "'{\"a\":1}'", { isJson: true }), `'{"a":1}'`);
    assert.equal(dflt('int(11)', 'abc'), null);
  });

  test('no default for auto_increment and generated columns', () => {
    assert.equal(dflt('int(11)', '0', { extra: 'auto_increment' }), null);
    assert.equal(dflt('int(11)', '0', { extra: 'STORED GENERATED' }), null);
  });

  test('helpers', () => {
    assert.equal(unquoteMariadbLiteral("'a''b\\\\c\\Z\\t'"), "a'b\\c\u001a\t");
    assert.equal(pgLiteral("it's"), "'it''s'");
    assert.equal(pgLiteral('a\\b'), "E'a\\\\b'");
    assert.equal(pgTextArray(['x', 'y z', 'q"r', 'w\\v', '']), '{"x","y z","q\\"r","w\\\\v",""}');
  });
});
