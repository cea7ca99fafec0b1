import { Readable } from 'node:stream';
import type { Connection } from 'mysql2';
import { queryRawRows, type RawRowsQuery } from '../mysql/raw-rows.js';
import { CopyEncoder, type CopyLayout } from './copy-encoder.js';

export interface CopyStream {
  /** COPY text in chunks of about chunkBytes; fails when the read or the encoding fails. */
  chunks: Readable;
  /** Rows, bytes, last key and set-aside rows, as the chunks pass. */
  encoder: CopyEncoder;
}

/**
 * Runs the snapshot SELECT (its select list from `layout`) and streams its
 * rows as COPY text. A few chunks are in flight at most: past that the
 * MySQL socket is paused until COPY takes them, so memory stays bounded
 * whatever the table size.
 */
export function streamCopyText(conn: Connection, sql: string, layout: CopyLayout, chunkBytes: number): CopyStream {
  let query: RawRowsQuery | null = null;
  let failed = false;
  const chunks = new Readable({ highWaterMark: 2 * chunkBytes, read: () => query?.resume() });
  // The COPY's pipeline listens for this stream's errors while it runs. A row
  // that fails to encode after the pipeline was torn down (the COPY failed or
  // was cancelled first) destroys the stream with nobody listening, which
  // would be an uncaught exception that ends the agent: that copy has failed
  // already, and its own error is the one reported.
  chunks.on('error', () => undefined);
  const encoder = new CopyEncoder(layout, chunkBytes, (chunk) => {
    if (!chunks.push(chunk)) query?.pause();
  });
  query = queryRawRows(conn, sql, layout.fieldCount, (buf, start, end) => {
    if (failed) return;
    try {
      encoder.row(buf, start, end);
    } catch (err) {
      failed = true;
      chunks.destroy(err as Error);
    }
  });
  // a lost MySQL connection must fail the COPY, not stall it
  query.done.then(
    () => {
      if (failed) return;
      encoder.flush();
      chunks.push(null);
    },
    (err: Error) => chunks.destroy(err),
  );
  return { chunks, encoder };
}
