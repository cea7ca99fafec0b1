import { Transform, type TransformCallback } from 'node:stream';

export interface LineLayout {
  /** Column index of the unfit reason ('' when the row fits), or null when no column can be unfit. */
  reason: number | null;
  /** Column index of the range key, or null. */
  key: number | null;
}

/** A row kept out of the COPY: its COPY text line and why. */
export interface UnfitLine {
  line: Buffer;
  reason: string;
}

/**
 * Joins rows whose first column is a COPY text line without its newline (a
 * Buffer) into chunks of about `chunkBytes`, so COPY gets few large writes.
 * Counts rows and bytes as they pass; keeps the range key of the last row;
 * sets aside the rows whose reason column says PostgreSQL cannot hold them,
 * so that one read of the table serves both the copy and the discarded rows.
 */
export class LineChunker extends Transform {
  rows = 0;
  bytes = 0;
  lastKey: Buffer | null = null;
  readonly unfit: UnfitLine[] = [];
  private parts: Buffer[] = [];
  private size = 0;
  private static readonly NL = Buffer.from('\n');

  constructor(
    private readonly chunkBytes: number,
    private readonly layout: LineLayout = { reason: null, key: 1 },
  ) {
    super({ writableObjectMode: true, readableHighWaterMark: chunkBytes });
  }

  override _transform(row: unknown, _enc: BufferEncoding, done: TransformCallback): void {
    const value = Array.isArray(row) ? row[0] : row;
    if (Array.isArray(row) && this.layout.key !== null && row.length > this.layout.key) this.lastKey = row[this.layout.key] as Buffer | null;
    if (Array.isArray(row) && this.layout.reason !== null) {
      const reason = row[this.layout.reason] as Buffer | null;
      if (reason && reason.length > 0) {
        this.unfit.push({ line: Buffer.isBuffer(value) ? value : Buffer.alloc(0), reason: reason.toString('utf8') });
        done();
        return;
      }
    }
    if (value === null || value === undefined) {
      // the line is NULL only when a field outgrew max_allowed_packet
      done(new Error(`row ${this.rows + 1} is larger than the MySQL server's max_allowed_packet; raise it to copy this table`));
      return;
    }
    const line = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
    this.parts.push(line, LineChunker.NL);
    this.size += line.length + 1;
    this.rows++;
    if (this.size >= this.chunkBytes) this.flushChunk();
    done();
  }

  override _flush(done: TransformCallback): void {
    this.flushChunk();
    done();
  }

  private flushChunk(): void {
    if (this.size === 0) return;
    const chunk = Buffer.concat(this.parts, this.size);
    this.bytes += chunk.length;
    this.parts = [];
    this.size = 0;
    this.push(chunk);
  }
}

/** copy_max_memory ("300M", "64K", "1G", bytes) in bytes. */
export function parseSize(text: string): number {
  const m = /^([0-9]+)([KMG]?)$/i.exec(text.trim());
  if (!m) throw new Error(`not a size: ${text}`);
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(m[1]) * mult;
}

const UNESCAPE: Record<string, string> = { '\\': '\\', t: '\t', n: '\n', r: '\r', b: '\b', f: '\f', v: '\v' };

/** The fields of a text-format COPY line, unescaped; \N is null. */
export function copyFields(line: Buffer): (string | null)[] {
  return line
    .toString('utf8')
    .split('\t')
    .map((f) => (f === '\\N' ? null : f.replace(/\\(.)/g, (_m, c: string) => UNESCAPE[c] ?? c)));
}
