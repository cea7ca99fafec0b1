import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MysqlColumn } from '../../src/mysql/column.js';
import type { MysqlTable } from '../../src/mysql/metadata.js';
import { mysqlLiteral } from '../../src/mysql/connection.js';
import { rangeKey, splitTableName, type TablePlan } from '../../src/snapshot/plan.js';
import { copyFields } from '../../src/snapshot/copy-text.js';
import { copyLayout, CopyEncoder, type CopyLayout } from '../../src/snapshot/copy-encoder.js';
import { mapColumn } from '../../src/mysql/type-map.js';

function column(name: string, dataType: string): MysqlColumn {
  return {
    name, ordinal: 1, dataType, columnType: dataType, nullable: false, defaultValue: null, numericPrecision: null, numericScale: null,
    datetimePrecision: null, charMaxLength: null, charset: null, collation: null, extra: '', generationExpression: null, comment: '', isJson: false,
  };
}

function plan(primaryKey: string[], columns: MysqlColumn[], rowsEstimate: number): TablePlan {
  const mysql: MysqlTable = {
    schema: 'db', name: 't', engine: 'InnoDB', rowsEstimate, comment: '', autoIncrement: null, columns, indexes: [], primaryKey,
  };
  return { mysql } as TablePlan;
}

describe('rangeKey', () => {
  test('a large table with a single integer key goes by ranges of that key', () => {
    for (const type of ['tinyint', 'smallint', 'mediumint', 'int', 'bigint']) {
      assert.equal(rangeKey(plan(['id'], [column('id', type), column('v', 'text')], 1_000_001), 1_000_000), 'id', type);
    }
  });
  test('small tables, composite, non-integer or missing keys are read whole', () => {
    assert.equal(rangeKey(plan(['id'], [column('id', 'int')], 1_000_000), 1_000_000), null, 'not larger than one range');
    assert.equal(rangeKey(plan(['a', 'b'], [column('a', 'int'), column('b', 'int')], 5e6), 1000), null);
    assert.equal(rangeKey(plan(['code'], [column('code', 'varchar')], 5e6), 1000), null);
    assert.equal(rangeKey(plan(['d'], [column('d', 'decimal')], 5e6), 1000), null);
    assert.equal(rangeKey(plan([], [column('id', 'int')], 5e6), 1000), null);
  });
});

describe('splitTableName', () => {
  test('the database is the longest mapped name the entry starts with', () => {
    assert.deepEqual(splitTableName('shop.items', ['shop', 'crm']), { schema: 'shop', table: 'items' });
    assert.deepEqual(splitTableName('a.b.c', ['a', 'a.b']), { schema: 'a.b', table: 'c' });
    assert.deepEqual(splitTableName('a.b.c', ['a']), { schema: 'a', table: 'b.c' });
    assert.deepEqual(splitTableName(`it's "q".\`t\` x`, [`it's "q"`]), { schema: `it's "q"`, table: '`t` x' });
  });
  test('no mapped database, or nothing after it: null', () => {
    assert.equal(splitTableName('other.items', ['shop']), null);
    assert.equal(splitTableName('shop.', ['shop']), null);
    assert.equal(splitTableName('shop', ['shop']), null);
  });
});

describe('mysqlLiteral (the session runs with NO_BACKSLASH_ESCAPES)', () => {
  test('quotes are doubled and backslashes left alone', () => {
    assert.equal(mysqlLiteral(`a'b\\c`), `'a''b\\c'`);
    assert.equal(mysqlLiteral(`chm "q" 'a' \`b\` é`), `'chm "q" ''a'' \`b\` é'`);
  });
  test('numbers, null, booleans, buffers and lists', () => {
    assert.equal(mysqlLiteral(42), '42');
    assert.equal(mysqlLiteral(18446744073709551615n), '18446744073709551615');
    assert.equal(mysqlLiteral(null), 'NULL');
    assert.equal(mysqlLiteral(undefined), 'NULL');
    assert.equal(mysqlLiteral(true), 'TRUE');
    assert.equal(mysqlLiteral(Buffer.from([0, 255])), "X'00ff'");
    assert.equal(mysqlLiteral(['a', "b'c", 3]), "'a', 'b''c', 3");
    assert.equal(mysqlLiteral([]), 'NULL');
  });
});

/** A text-protocol row as the server sends it: each field NULL (0xfb) or length-encoded bytes. */
function rawRow(fields: (string | Buffer | null)[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of fields) {
    if (f === null) {
      parts.push(Buffer.from([0xfb]));
      continue;
    }
    const b = Buffer.isBuffer(f) ? f : Buffer.from(f);
    if (b.length < 0xfb) parts.push(Buffer.from([b.length]));
    else if (b.length < 0x10000) parts.push(Buffer.from([0xfc, b.length & 0xff, b.length >> 8]));
    else parts.push(Buffer.from([0xfd, b.length & 0xff, (b.length >> 8) & 0xff, b.length >> 16]));
    parts.push(b);
  }
  return Buffer.concat(parts);
}

function encode(layout: CopyLayout, rows: (string | Buffer | null)[][], chunkBytes = 1 << 20): { text: string; chunks: Buffer[]; encoder: CopyEncoder } {
  const chunks: Buffer[] = [];
  const encoder = new CopyEncoder(layout, chunkBytes, (c) => chunks.push(Buffer.from(c)));
  for (const r of rows) {
    // the row sits inside a larger packet buffer, as mysql2 hands it over
    const raw = Buffer.concat([Buffer.from('hdr'), rawRow(r), Buffer.from('tail')]);
    encoder.row(raw, 3, raw.length - 4);
  }
  encoder.flush();
  return { text: Buffer.concat(chunks).toString('latin1'), chunks, encoder };
}

describe('CopyEncoder', () => {
  const cols = [
    { col: column('id', 'int'), map: mapColumn(column('id', 'int'), { table: 'db.t', postgis: false, typeOverride: {} }) },
    { col: column('t', 'text'), map: mapColumn(column('t', 'text'), { table: 'db.t', postgis: false, typeOverride: {} }) },
    { col: column('b', 'blob'), map: mapColumn(column('b', 'blob'), { table: 'db.t', postgis: false, typeOverride: {} }) },
    { col: column('d', 'date'), map: mapColumn(column('d', 'date'), { table: 'db.t', postgis: false, typeOverride: {} }) },
  ];

  test('selects bare columns where the agent formats the field, the server expression elsewhere, then the reason and the key', () => {
    const layout = copyLayout(cols, 'id');
    assert.deepEqual(layout.kinds, ['as-is', 'text', 'hex', 'server']);
    assert.ok(layout.select.startsWith('`id`, `t`, `b`, COALESCE('), layout.select);
    assert.equal(layout.fieldCount, 6);
    assert.equal(layout.reasonField, 4);
    assert.equal(layout.keyField, 5);
    assert.match(layout.select, /invalid date.*\(column d\)/);
    assert.doesNotMatch(layout.select, /NUL character/, 'NULs in text are found by the agent');
  });

  test('writes COPY text: escapes, NULL, bytea hex of short and long values, server fields as they are', () => {
    const layout = copyLayout(cols, 'id');
    const long = Buffer.alloc(300, 0xab);
    const { text, encoder } = encode(layout, [
      ['1', 'plain', Buffer.from([0x00, 0xff, 0x5c]), '2020-01-02', '', '1'],
      ['2', 'back\\slash\ttab\nnl\rcr \\N \\.', null, '\\N', null, '2'],
      ['3', null, long, '\\N', '', '3'],
      ['-4', '', Buffer.alloc(0), '\\N', null, '-4'],
    ]);
    assert.equal(
      text,
      '1\tplain\t\\\\x00ff5c\t2020-01-02\n' +
        '2\tback\\\\slash\\ttab\\nnl\\rcr \\\\N \\\\.\t\\N\t\\N\n' +
        `3\t\\N\t\\\\x${'ab'.repeat(300)}\t\\N\n` +
        '-4\t\t\\\\x\t\\N\n',
    );
    assert.equal(encoder.rows, 4);
    assert.equal(encoder.bytes, Buffer.byteLength(text, 'latin1'));
    assert.equal(encoder.lastKey, '-4');
  });

  test('round trip: every byte value of text comes back from the COPY fields', () => {
    const layout = copyLayout(cols.slice(0, 2));
    const all = Buffer.from(Array.from({ length: 255 }, (_, i) => i + 1));
    const { text } = encode(layout, [['7', all]]);
    assert.deepEqual(copyFields(Buffer.from(text.slice(0, -1), 'latin1')), ['7', all.toString('utf8')]);
  });

  test('sets aside rows with a NUL in text or a server reason, with their fields', () => {
    const layout = copyLayout(cols, 'id');
    const { text, encoder } = encode(layout, [
      ['1', 'fine', null, '\\N', '', '1'],
      ['2', 'nul\u0000\\x\tz', null, '\\N', null, '2'],
      ['3', 'ok', null, '2020-02-30', 'invalid date (column d)', '3'],
      ['4', 'ok', null, '\\N', '', '4'],
    ]);
    assert.equal(text, '1\tfine\t\\N\t\\N\n4\tok\t\\N\t\\N\n');
    assert.equal(encoder.rows, 2);
    assert.equal(encoder.lastKey, '4');
    assert.equal(encoder.unfit.length, 2);
    assert.match(encoder.unfit[0].reason, /NUL character.*\(column t\)/);
    assert.deepEqual(copyFields(encoder.unfit[0].line), ['2', 'nul\u0000\\x\tz', null, null]);
    assert.equal(encoder.unfit[1].reason, 'invalid date (column d)');
  });

  test('a server field that came back NULL (it outgrew max_allowed_packet) is an error, not a silent NULL', () => {
    const layout = copyLayout(cols);
    assert.throws(() => encode(layout, [['1', 'x', null, null]]), /max_allowed_packet/);
  });

  test('rows copied in one piece: length bytes that look like bytes to escape (0, 9, 10, 13, 92) are not escaped', () => {
    const layout = copyLayout(cols.slice(0, 2));
    const rows = [0, 9, 10, 13, 92, 250].map((n, i) => [String(i), 'y'.repeat(n)]);
    // and rows the one-piece path must leave: a value to escape, a NULL, a value of 251 bytes or more
    rows.push(['6', 'tab\there'], ['7', null as unknown as string], ['8', 'z'.repeat(300)]);
    const { text, encoder } = encode(layout, rows);
    const want = rows.map(([a, b]) => `${a}\t${b === null ? '\\N' : b.replace(/\t/g, '\\t')}\n`).join('');
    assert.equal(text, want);
    assert.equal(encoder.rows, rows.length);
  });

  test('a socket chunk dense with bytes to escape is encoded byte by byte, the same', () => {
    const layout = copyLayout(cols.slice(0, 2));
    const rows = Array.from({ length: 300 }, (_, i) => [String(i), '\\\t\n\r'.repeat(20)]);
    const { text } = encode(layout, rows);
    assert.equal(text, rows.map(([a]) => `${a}\t${'\\\\\\t\\n\\r'.repeat(20)}\n`).join(''));
  });

  test('chunks of about chunkBytes; a row larger than a chunk still goes whole', () => {
    const layout = copyLayout(cols.slice(0, 2));
    const rows = Array.from({ length: 1000 }, (_, i) => [String(i), `value ${i}`]);
    rows.push(['big', 'x'.repeat(70_000)]);
    const { text, chunks } = encode(layout, rows, 1024);
    assert.equal(text, rows.map((r) => `${r[0]}\t${r[1]}\n`).join(''));
    assert.ok(chunks.length > 5 && chunks.slice(0, -1).every((c) => c.length < 1024 + 32), 'chunks of about chunkBytes');
  });
});
