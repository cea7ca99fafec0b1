import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Connection } from 'mysql2';
import { queryRawRows } from '../../src/mysql/raw-rows.js';

/**
 * A stand-in for mysql2's connection that drives a query the way mysql2 3.x
 * does: the row parser it installs is called with each row packet, and what
 * it returns is emitted as 'result'. `useParser: false` is a mysql2 that
 * decodes rows itself.
 */
function fakeConnection(packets: Buffer[], useParser = true): Connection {
  const conn = new EventEmitter() as EventEmitter & { query(o: unknown): EventEmitter; pause(): void; resume(): void };
  conn.query = () => {
    const q = new EventEmitter() as EventEmitter & { _rowParser?: { next(p: unknown, f: unknown[]): unknown } };
    setImmediate(() => {
      q._rowParser = { next: () => ['decoded'] };
      for (const b of packets) {
        const row = useParser ? q._rowParser.next({ buffer: b, offset: 4, end: b.length }, [{}, {}]) : ['decoded'];
        q.emit('result', row);
      }
      q.emit('end');
    });
    return q;
  };
  conn.pause = () => undefined;
  conn.resume = () => undefined;
  return conn as unknown as Connection;
}

const packet = (payload: number[]): Buffer => Buffer.from([payload.length, 0, 0, 1, ...payload]);

describe('queryRawRows', () => {
  test('hands over each row packet undecoded', async () => {
    const seen: string[] = [];
    const q = queryRawRows(fakeConnection([packet([1, 0x31, 0xfb]), packet([1, 0x32, 1, 0x78])]), 'SELECT', 2, (buf, start, end) => {
      seen.push(buf.subarray(start, end).toString('hex'));
    });
    await q.done;
    assert.deepEqual(seen, ['0131fb', '01320178']);
  });

  test('a mysql2 that decodes rows itself fails the read instead of losing them', async () => {
    const seen: unknown[] = [];
    const q = queryRawRows(fakeConnection([packet([1, 0x31, 0xfb])], false), 'SELECT', 2, (...row) => seen.push(row));
    await assert.rejects(q.done, /raw row hook is not in place/);
    assert.deepEqual(seen, []);
  });

  test('a result with another number of columns than the select list fails the read', async () => {
    const q = queryRawRows(fakeConnection([packet([1, 0x31, 0xfb])]), 'SELECT', 3, () => assert.fail('no row expected'));
    await assert.rejects(q.done, /returned 2 columns, expected 3/);
  });
});
