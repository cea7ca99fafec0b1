import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { MysqlColumn } from '../../src/mysql/column.js';
import type { MysqlTable } from '../../src/mysql/metadata.js';
import { mysqlLiteral } from '../../src/mysql/connection.js';
import { rangeKey, splitTableName, type TablePlan } from '../../src/snapshot/plan.js';
import { copyFields, LineChunker } from '../../src/snapshot/line-chunker.js';

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

describe('LineChunker', () => {
  test('joins lines into chunks, counts rows and bytes, and keeps the last range key', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => [Buffer.from(`${i}\tvalue ${i}`), Buffer.from(String(i * 2))]);
    const chunker = new LineChunker(1024);
    const chunks: Buffer[] = [];
    await pipeline(Readable.from(rows), chunker, new Writable({ write(chunk: Buffer, _e, done) { chunks.push(chunk); done(); } }));
    const text = Buffer.concat(chunks).toString();
    assert.equal(text, rows.map((r) => `${r[0].toString()}\n`).join(''));
    assert.equal(chunker.rows, 1000);
    assert.equal(chunker.bytes, Buffer.byteLength(text));
    assert.ok(chunks.length > 5 && chunks.every((c) => c.length < 1024 + 32), 'chunks of about chunkBytes');
    assert.equal(chunker.lastKey?.toString(), '1998');
  });

  test('sets aside the rows with a reason, and gives back their fields', async () => {
    const rows = [
      [Buffer.from('1\tfine'), Buffer.from(''), Buffer.from('1')],
      [Buffer.from('2\tnul\u0000\\\\x\\tz\t\\N'), Buffer.from('NUL (column b)'), Buffer.from('2')],
      [Buffer.from('3\tok'), Buffer.from(''), Buffer.from('3')],
    ];
    const chunker = new LineChunker(1024, { reason: 1, key: 2 });
    const chunks: Buffer[] = [];
    await pipeline(Readable.from(rows), chunker, new Writable({ write(chunk: Buffer, _e, done) { chunks.push(chunk); done(); } }));
    assert.equal(Buffer.concat(chunks).toString(), '1\tfine\n3\tok\n');
    assert.equal(chunker.rows, 2);
    assert.equal(chunker.lastKey?.toString(), '3');
    assert.equal(chunker.unfit.length, 1);
    assert.equal(chunker.unfit[0].reason, 'NUL (column b)');
    assert.deepEqual(copyFields(chunker.unfit[0].line), ['2', 'nul\u0000\\x\tz', null]);
  });
});
