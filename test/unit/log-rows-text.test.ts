/**
 * The log rows' COPY text as the reader writes it: bytes written field by
 * field (src/bytes.ts), row images given as strings (the generic path) or
 * as the bytes of their COPY fields (the rows decoder): the same text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteWriter, ChunkWriter } from '../../src/bytes.js';
import { copyEscape, LogEventsEncoder, type RowImage } from '../../src/catalog/batches.js';

test('integers are written in decimal, the 32-bit ones without a string, every other one as String() writes it', () => {
  const values = [0, 7, 9, 10, 42, 99, 100, 101, 999, 1000, 65535, 1_000_000, 2147483647, -1, -9, -10, -99, -100, -2147483647,
    -2147483648, 2147483648, 4294967295, 9007199254740991, -9007199254740991, 1e21, 0.5];
  for (const n of values) {
    const w = new ByteWriter(2);
    w.int(n);
    assert.equal(w.take().toString('latin1'), String(n), `int ${n}`);
  }
});

test('a writer grows to what it is given, and a chunk writer cuts its bytes anywhere without losing or reordering one', () => {
  const text = 'field one\tfield two é 😀\n'.repeat(50);
  const grown = new ByteWriter(4);
  const chunked = new ChunkWriter(16);
  for (const part of text.match(/.{1,7}/gsu)!) {
    grown.utf8(part);
    chunked.utf8(part);
    chunked.byte(0x7c);
  }
  assert.equal(grown.take().toString('utf8'), text);
  assert.equal(grown.length, 0, 'take() empties the writer');
  const chunks = chunked.finish();
  assert.ok(chunks.length > 10, `many chunks (${chunks.length})`);
  assert.equal(Buffer.concat(chunks).toString('utf8'), text.match(/.{1,7}/gsu)!.map((p) => `${p}|`).join(''));
});

const EVENTS: { kind: 'insert' | 'update' | 'delete' | 'ddl'; after: string | null; before: string | null; ddl?: string; plan?: string }[] = [
  { kind: 'insert', after: '{"id":1,"c":"plain"}', before: null },
  // JSON escapes (backslashes), an embedded JSON document's raw newline, tab and carriage return, non-ASCII
  { kind: 'update', after: '{"id":2,"c":"quote \\" backslash \\\\ é 😀","j":{"a":\n\t"b"\r}}', before: '{"id":2}' },
  { kind: 'insert', after: '{"id":3,"b":"\\\\x00ff"}', before: null },
  { kind: 'delete', after: null, before: '{"id":3}' },
  { kind: 'ddl', after: null, before: null, ddl: 'ALTER TABLE t\n  ADD c\tint -- back\\slash', plan: '{"action":"alter","steps":["ALTER TABLE %1$I.%2$I ADD COLUMN \\"c\\" integer"]}' },
];

function encode(asBytes: boolean): string {
  const enc = new LogEventsEncoder('12');
  // as bytes, an image is its COPY field already (the rows decoder writes it so)
  const image = (s: string | null): RowImage | null => (s === null || !asBytes ? s : Buffer.from(copyEscape(s), 'utf8'));
  for (const [i, e] of EVENTS.entries()) {
    enc.add('shop', i === 4 ? 'other' : 'orders', e.kind, image(e.after), image(e.before), 'binlog.000007', 4_000_000_000 + i, i + 1, e.ddl ?? null, e.plan ?? null);
  }
  return Buffer.concat(enc.finish()).toString('utf8');
}

test('log rows are the same COPY text whether their images come as strings or as bytes, escapes and all', () => {
  const expected =
    '12\t1\t1\tshop\torders\tinsert\t{"id":1,"c":"plain"}\t\\N\tbinlog.000007\t4000000000\t1\t\\N\t\\N\n' +
    '12\t2\t1\tshop\torders\tupdate\t{"id":2,"c":"quote \\\\" backslash \\\\\\\\ é 😀","j":{"a":\\n\\t"b"\\r}}\t{"id":2}\tbinlog.000007\t4000000001\t2\t\\N\t\\N\n' +
    '12\t3\t1\tshop\torders\tinsert\t{"id":3,"b":"\\\\\\\\x00ff"}\t\\N\tbinlog.000007\t4000000002\t3\t\\N\t\\N\n' +
    '12\t4\t1\tshop\torders\tdelete\t\\N\t{"id":3}\tbinlog.000007\t4000000003\t4\t\\N\t\\N\n' +
    // another table: its own number, its rows after the first table's
    '12\t5\t2\tshop\tother\tddl\t\\N\t\\N\tbinlog.000007\t4000000004\t5\tALTER TABLE t\\n  ADD c\\tint -- back\\\\slash\t' +
    '{"action":"alter","steps":["ALTER TABLE %1$I.%2$I ADD COLUMN \\\\"c\\\\" integer"]}\n';
  assert.equal(encode(false), expected);
  assert.equal(encode(true), expected);
});

test('a batch of many rows is cut into chunks, and their text is the rows in order', () => {
  const enc = new LogEventsEncoder('3');
  const big = 'x'.repeat(1000);
  for (let i = 1; i <= 500; i++) enc.add('s', `t${i % 2}`, 'insert', Buffer.from(`{"id":${i},"c":"${big}"}`), null, 'b.1', i, i, null);
  const chunks = enc.finish();
  assert.ok(chunks.length >= 8, `several chunks (${chunks.length})`);
  assert.ok(chunks.every((c) => c.length <= 64 * 1024), 'none above the chunk size');
  const rows = Buffer.concat(chunks).toString('utf8').split('\n').slice(0, -1).map((r) => r.split('\t'));
  assert.equal(rows.length, 500);
  // table t1 (first seen) first, then t0, each in event order
  const ids = rows.map((r) => (JSON.parse(r[6]) as { id: number }).id);
  assert.deepEqual(ids, [...Array.from({ length: 250 }, (_, i) => 2 * i + 1), ...Array.from({ length: 250 }, (_, i) => 2 * i + 2)]);
  assert.deepEqual(rows.map((r) => r[1]), ids.map(String), 'the event number is the order of arrival');
  assert.deepEqual(enc.tables(), [{ schema: 's', table: 't1', events: 250, ddl: 0 }, { schema: 's', table: 't0', events: 250, ddl: 0 }]);
});
