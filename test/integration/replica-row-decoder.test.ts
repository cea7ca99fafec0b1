/**
 * The rows decoder (binlog bytes → row-image text) against the generic path
 * (zongji's values → fromBinlog → JSON), on the same binlog of a real
 * MariaDB: every image must be the same text, every unfit row the same
 * discarded record, for every column type and its edge values.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createMysqlDatabase, type MysqlTestDatabase } from '../harness/db.js';
import { BinlogStream, type BinlogTransaction } from '../../src/binlog/stream.js';
import { RowImager } from '../../src/replica/row-images.js';

const TIMEOUT = 120_000;

let my: MysqlTestDatabase;

before(async () => {
  my = await createMysqlDatabase('row_decoder');
});

after(async () => {
  await my?.drop();
});

/** Column definitions and, per row, a MySQL literal (NULL when absent). */
const COLUMNS: [name: string, def: string, values: string[]][] = [
  ['ti', 'tinyint', ['-128', '127', '0']],
  ['tiu', 'tinyint unsigned', ['0', '255', '1']],
  ['si', 'smallint', ['-32768', '32767', '-1']],
  ['siu', 'smallint unsigned', ['0', '65535', '2']],
  ['mi', 'mediumint', ['-8388608', '8388607', '-3']],
  ['miu', 'mediumint unsigned', ['0', '16777215', '3']],
  ['i', 'int', ['-2147483648', '2147483647', '-4']],
  ['iu', 'int unsigned', ['0', '4294967295', '4']],
  ['bi', 'bigint', ['-9223372036854775808', '9223372036854775807', '-9007199254740992']],
  ['bi2', 'bigint', ['-9007199254740991', '9007199254740991', '9007199254740992']],
  ['biu', 'bigint unsigned', ['0', '18446744073709551615', '9007199254740993']],
  ['bool1', 'tinyint(1)', ['1', '0', 'NULL']],
  ['yr', 'year', ['1901', '2155', '0']],
  ['fl', 'float', ['-0.0', '3.40282e38', '0.1']],
  ['db', 'double', ['-0.0', '1.7976931348623157e308', '0.1']],
  ['dec', 'decimal(65,30)', ['-99999999999999999999999999999999999.999999999999999999999999999999', '0.1', '0']],
  ['dec2', 'decimal(10,2)', ['-0.50', '12345678.90', '1']],
  ['ch', 'char(10)', [`'pad   '`, `''`, `'   '`]],
  ['vc', 'varchar(300)', [`'plain ascii'`, `'quote " and \\\\ backslash'`, `'tab\\tnew\\nline\\rx'`]],
  ['vc_l1', 'varchar(10) CHARACTER SET latin1', [`'café'`, `'ascii'`, `'€uro'`]],
  ['tx', 'text', [`'emoji 😀 and é'`, `''`, `'\\\\N and \\\\.'`]],
  ['ttx', 'tinytext', [`'a'`, `CONCAT('ctl ', CHAR(1), CHAR(31), ' ', CHAR(127))`, 'NULL']],
  ['mtx', 'mediumtext', [`REPEAT('x', 70000)`, `'m'`, 'NULL']],
  ['ltx', 'longtext', [`'long'`, `REPEAT('é', 1000)`, 'NULL']],
  ['bn', 'binary(4)', [`X'00FF'`, `X'FFFFFFFF'`, `X''`]],
  ['vb', 'varbinary(10)', [`X'00'`, `X'5C4E'`, `X''`]],
  ['bl', 'blob', [`X'00FF00'`, `X''`, 'NULL']],
  ['tbl', 'tinyblob', [`X'7F'`, 'NULL', `X'00'`]],
  ['en', "enum('a','b','c d')", [`'a'`, `'c d'`, 'NULL']],
  ['st', "set('x','y','z')", [`'x,z'`, `''`, `'y'`]],
  ['js', 'json', [`'{"a": 1.50, "b": [1, "é"]}'`, `'null'`, `'"str"'`]],
  ['bt', 'bit(5)', [`b'10101'`, `b'0'`, `b'11111'`]],
  ['dt', 'date', [`'1000-01-01'`, `'9999-12-31'`, `'0000-00-00'`]],
  ['dtm', 'datetime(6)', [`'1000-01-01 00:00:00.000000'`, `'9999-12-31 23:59:59.999999'`, `'2020-02-29 12:34:56.000001'`]],
  ['ts', 'timestamp(3) NULL', [`'1970-01-01 00:00:01.000'`, `'2038-01-19 03:14:07.999'`, 'NULL']],
  ['tm', 'time(2)', [`'-838:59:59.00'`, `'838:59:59.00'`, `'-00:00:01.50'`]],
  ['geo', 'point NULL', ['ST_GeomFromText(\'POINT(1 2)\', 4326)', 'NULL', 'ST_GeomFromText(\'POINT(-1.5 0)\')']],
];

async function readAll(stream: BinlogStream, endPos: number): Promise<BinlogTransaction[]> {
  const txs: BinlogTransaction[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out reading the binlog')), 60_000);
    stream.on('transaction', (tx) => {
      txs.push(tx);
      if (tx.end.pos >= endPos) {
        clearTimeout(timer);
        resolve();
      }
    });
    stream.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    stream.start();
  });
  await stream.stop();
  return txs;
}

/**
 * An image as JSON text: the generic path's strings are; the rows decoder
 * writes the bytes of the image's COPY field, escapes applied, which are undone here.
 */
function jsonText(image: string | Buffer | null): string | null {
  if (!Buffer.isBuffer(image)) return image;
  const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t' };
  return image.toString('utf8').replace(/\\(.)/gs, (_, c: string) => escapes[c] ?? c);
}

test('the rows decoder writes the same images as the generic path, for every type', { timeout: TIMEOUT }, async () => {
  const c = my.conn;
  await c.query("SET SESSION sql_mode='NO_ENGINE_SUBSTITUTION', time_zone='+00:00', NAMES utf8mb4");
  const cols = COLUMNS.map(([n, d]) => `\`${n}\` ${d}`).join(', ');
  await c.query(`CREATE TABLE keyed (id int PRIMARY KEY, ${cols}, gen int AS (i + 1) VIRTUAL)`);
  await c.query(`CREATE TABLE nokey (id int, ${cols})`);
  await c.query('CREATE TABLE latin (id int PRIMARY KEY, name varchar(20), note char(5)) CHARACTER SET latin1');
  await c.query('CREATE TABLE skipped (id int PRIMARY KEY, v varchar(10))');
  const [[start]] = (await c.query('SHOW MASTER STATUS')) as unknown as [{ File: string; Position: number }[]];

  const names = COLUMNS.map(([n]) => `\`${n}\``).join(', ');
  for (const table of ['keyed', 'nokey']) {
    for (let r = 0; r < 3; r++) {
      await c.query(`INSERT INTO ${table} (id, ${names}) VALUES (${r + 1}, ${COLUMNS.map(([, , v]) => v[r] ?? 'NULL').join(', ')})`);
    }
    // several rows per event, an update of every column, a key change, deletes
    await c.query(`INSERT INTO ${table} (id, ti, vc, tx) VALUES (10, 1, 'a', 'x'), (11, 2, 'b', NULL), (12, 3, NULL, 'z')`);
    await c.query(`UPDATE ${table} SET ti = ti - 1, vc = CONCAT('u ', IFNULL(vc, '')), tx = NULL, dtm = '2001-01-01 00:00:00.5' WHERE id <= 11`);
    await c.query(`UPDATE ${table} SET id = id + 100 WHERE id = 12`);
    await c.query(`DELETE FROM ${table} WHERE id IN (2, 10)`);
    // text PostgreSQL cannot hold: the row is unfit, on both paths
    await c.query(`INSERT INTO ${table} (id, vc) VALUES (50, 'nul \\0 inside')`);
    await c.query(`UPDATE ${table} SET tx = 'nul \\0 after' WHERE id = 50`);
  }
  await c.query(`INSERT INTO latin VALUES (1, 'café €', 'ab  '), (2, 'plain', '')`);
  await c.query(`UPDATE latin SET name = 'Straße' WHERE id = 1`);
  await c.query(`INSERT INTO skipped VALUES (1, 'x')`);
  await c.query('BEGIN');
  await c.query(`INSERT INTO latin VALUES (3, 'in tx', 'x')`);
  await c.query('SAVEPOINT sp1');
  await c.query(`INSERT INTO latin VALUES (4, 'rolled back', 'x')`);
  await c.query('ROLLBACK TO SAVEPOINT sp1');
  await c.query(`INSERT INTO latin VALUES (5, 'after savepoint', 'x')`);
  await c.query('COMMIT');
  const [[end]] = (await c.query('SHOW MASTER STATUS')) as unknown as [{ File: string; Position: number }[]];

  const context = (table: string) => ({ table, postgis: true, flavor: 'mariadb' as const, typeOverride: {} });
  const selected = (_schema: string, table: string): boolean => table !== 'skipped';
  const fastImager = new RowImager(c, context, selected);
  const genericImager = new RowImager(c, context);
  const base = { url: my.url, start: { file: start.File, pos: Number(start.Position) }, schemas: [my.name] };
  const [fast, generic] = await Promise.all([
    readAll(new BinlogStream({ ...base, serverId: 4_100_000 + Math.floor(Math.random() * 100_000), rows: fastImager }), Number(end.Position)),
    readAll(new BinlogStream({ ...base, serverId: 4_200_000 + Math.floor(Math.random() * 100_000) }), Number(end.Position)),
  ]);

  const fastChanges = fast.flatMap((tx) => tx.changes);
  assert.ok(fastChanges.every((ch) => ch.image !== undefined), 'every change of the fast stream was decoded by a rows decoder');
  const genericChanges = generic.flatMap((tx) => tx.changes).filter((ch) => ch.table !== 'skipped');
  // what the stream does at each table's first TableMap, done here for the generic stream's tables
  for (const ch of genericChanges) await genericImager.load(ch.schema, ch.table);
  const show = (changes: typeof fastChanges, imager: RowImager) =>
    changes.map((ch) => {
      const image = imager.image(ch);
      return { table: ch.table, kind: ch.kind, image: image.ok ? { ok: true, after: jsonText(image.after), before: jsonText(image.before) } : image };
    });
  const a = show(fastChanges, fastImager);
  const b = show(genericChanges, genericImager);
  assert.equal(a.length, b.length, 'same number of row changes');
  for (let i = 0; i < a.length; i++) assert.deepEqual(a[i], b[i], `row change ${i} (${b[i].table} ${b[i].kind})`);

  // the transactions are the same, whole, with the savepoint's rolled-back row absent
  assert.deepEqual(fast.map((tx) => [tx.end.pos, tx.changes.length]), generic.map((tx) => [tx.end.pos, tx.changes.filter((ch) => ch.table !== 'skipped').length]));
  const last = fast[fast.length - 1];
  assert.deepEqual(last.changes.map((ch) => JSON.parse(jsonText((ch.image as { after: Buffer }).after)!).id), [3, 5]);

  // spot checks of the text itself, against values written down here
  const keyedInserts = a.filter((x) => x.table === 'keyed' && x.kind === 'insert');
  const row2 = JSON.parse((keyedInserts[1].image as { after: string }).after) as Record<string, unknown>;
  assert.equal(row2.biu, '18446744073709551615');
  assert.equal(row2.bi, 9223372036854775807n.toString());
  assert.equal(row2.iu, 4294967295);
  assert.equal(row2.ch, '');
  assert.equal(row2.vc, 'quote " and \\ backslash');
  assert.equal(row2.bn, '\\xffffffff');
  assert.equal(row2.vb, '\\x5c4e');
  assert.equal(row2.yr, 2155);
  const row1 = JSON.parse((keyedInserts[0].image as { after: string }).after) as Record<string, unknown>;
  assert.equal(row1.ch, 'pad');
  assert.equal(row1.bn, '\\x00ff0000');
  assert.equal(row1.vc_l1, 'café');
  assert.equal(row1.tx, 'emoji 😀 and é');
  const keyedUpdate = a.find((x) => x.table === 'keyed' && x.kind === 'update')!;
  assert.deepEqual(JSON.parse((keyedUpdate.image as { before: string }).before), { id: 1 }, 'a keyed table logs only the key of a before image');
  const nokeyDelete = a.find((x) => x.table === 'nokey' && x.kind === 'delete')!;
  assert.equal(Object.keys(JSON.parse((nokeyDelete.image as { before: string }).before)).length, COLUMNS.length + 1, 'a table without a key logs the whole before image');
  const unfit = a.filter((x) => !x.image.ok);
  assert.equal(unfit.length, 4, 'the NUL rows of both tables, insert and update');
  for (const u of unfit) assert.match((u.image as { reason: string }).reason, /NUL/);
});

test('a TableMap seen before stands for its repeats, and a changed one is parsed afresh', { timeout: TIMEOUT }, async () => {
  const c = my.conn;
  await c.query('CREATE TABLE remap (id int PRIMARY KEY, v varchar(10), n int)');
  const [[start]] = (await c.query('SHOW MASTER STATUS')) as unknown as [{ File: string; Position: number }[]];
  const expected: Record<string, unknown>[] = [];
  for (let i = 1; i <= 20; i++) {
    await c.query('INSERT INTO remap VALUES (?, ?, ?)', [i, `v${i}`, -i]);
    expected.push({ id: i, v: `v${i}`, n: -i });
  }
  // a length prefix of two bytes instead of one, a renamed column, a new table id: each a TableMap of its own
  await c.query('ALTER TABLE remap MODIFY v varchar(300)');
  await c.query('INSERT INTO remap VALUES (21, ?, 21)', ['w'.repeat(300)]);
  expected.push({ id: 21, v: 'w'.repeat(300), n: 21 });
  await c.query('ALTER TABLE remap CHANGE n m int unsigned');
  await c.query('INSERT INTO remap VALUES (22, ?, 4294967295)', ['x']);
  expected.push({ id: 22, v: 'x', m: 4294967295 });
  await c.query('FLUSH TABLES');
  for (let i = 23; i <= 30; i++) {
    await c.query('INSERT INTO remap VALUES (?, ?, ?)', [i, i % 2 ? null : `y${i}`, i * 1000]);
    expected.push({ id: i, v: i % 2 ? null : `y${i}`, m: i * 1000 });
  }
  const [[end]] = (await c.query('SHOW MASTER STATUS')) as unknown as [{ File: string; Position: number }[]];

  const context = (table: string) => ({ table, postgis: true, flavor: 'mariadb' as const, typeOverride: {} });
  const base = { url: my.url, start: { file: start.File, pos: Number(start.Position) }, schemas: [my.name] };
  const imager = new RowImager(c, context, (_s, table) => table === 'remap');
  const stream = new BinlogStream({ ...base, serverId: 4_300_000 + Math.floor(Math.random() * 100_000) });
  const generic = await readAll(stream, Number(end.Position));
  const genericChanges = generic.flatMap((tx) => tx.changes).filter((ch) => ch.table === 'remap');
  // text arrives as its bytes (keepRawBytes): utf8 here
  const plain = (row: Record<string, unknown> | null) =>
    row && Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('utf8') : v]));
  // the generic path (zongji's values) of every event, the alterations included
  assert.deepEqual(genericChanges.map((ch) => plain(ch.after)), expected);
  // The rows decoder reads the table's shape when it first meets it: its definition now, which
  // the TableMaps before the alterations do not fit; their own FULL metadata says what the
  // table was then, and that is the shape their rows are decoded with
  const fast = await readAll(new BinlogStream({ ...base, serverId: 4_400_000 + Math.floor(Math.random() * 100_000), rows: imager }), Number(end.Position));
  const fastChanges = fast.flatMap((tx) => tx.changes).filter((ch) => ch.table === 'remap');
  assert.equal(fastChanges.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const ch = fastChanges[i];
    const row = ch.image ? (ch.image.ok ? (JSON.parse(jsonText(ch.image.after)!) as unknown) : null) : plain(ch.after);
    assert.deepEqual(row, expected[i], `row ${i + 1}`);
  }
  assert.deepEqual(fastChanges.map((ch) => ch.image !== undefined), expected.map(() => true), 'every row is decoded by the rows decoder, with the shape of its time');
});
