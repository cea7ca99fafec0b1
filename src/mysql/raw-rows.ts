import type { Connection } from 'mysql2';

/**
 * One row of a text-protocol result set as the server sent it: a run of
 * fields, each 0xFB for NULL or a length-encoded byte string, in
 * `buf[start..end)`. Valid only during the call.
 */
export type RawRowHandler = (buf: Buffer, start: number, end: number) => void;

export interface RawRowsQuery {
  /** Settles when the result set has been read (or failed). */
  readonly done: Promise<void>;
  /** Stops reading the socket; the server waits (up to net_write_timeout). */
  pause(): void;
  resume(): void;
}

interface RowPacket {
  buffer: Buffer;
  offset: number;
  end: number;
}

/**
 * Runs `sql` and hands each row's bytes to `onRow` undecoded. mysql2 would
 * build a JavaScript value per field; the snapshot only needs the bytes,
 * which it turns into COPY text itself. mysql2 has no public hook for that:
 * the query's row parser, which it installs once the column definitions have
 * arrived, is replaced by one that passes the packet through.
 */
export function queryRawRows(conn: Connection, sql: string, expectedFields: number, onRow: RawRowHandler): RawRowsQuery {
  let failure: Error | null = null;
  const rawParser = {
    next(packet: RowPacket, fields: unknown[]): null {
      if (fields.length !== expectedFields) {
        failure ??= new Error(`the query returned ${fields.length} columns, expected ${expectedFields}`);
        return null;
      }
      onRow(packet.buffer, packet.offset, packet.end);
      return null;
    },
  };
  const query = conn.query({ sql, rowsAsArray: true });
  Object.defineProperty(query, '_rowParser', { get: () => rawParser, set: () => undefined, configurable: true });
  const done = new Promise<void>((resolve, reject) => {
    // a lost connection is reported to the connection, not to a query without a callback
    const lost = (err: Error): void => {
      failure ??= err;
      settle();
    };
    const settle = (): void => {
      conn.off('error', lost);
      if (failure) reject(failure);
      else resolve();
    };
    conn.on('error', lost);
    // the hook relies on mysql2's internals: if a row ever comes out parsed by
    // mysql2 itself, the rows would be lost silently, so the read fails instead
    query.once('result', (row: unknown) => {
      if (row !== null) failure ??= new Error('mysql2 decoded a row itself: the raw row hook is not in place (unsupported mysql2 version)');
    });
    query.on('error', (err: Error) => {
      failure ??= err;
    });
    query.on('end', settle);
  });
  return {
    done,
    pause: () => conn.pause(),
    resume: () => conn.resume(),
  };
}
