/**
 * Text built field by field straight into bytes (row images, COPY rows).
 * Built as JavaScript strings, the same text was concatenated, flattened
 * and encoded again before it reached the socket, and every step left
 * garbage behind; written here, each byte is written once.
 */

const DIGITS = Array.from({ length: 100 }, (_, i) => [0x30 + Math.floor(i / 10), 0x30 + (i % 10)]);

/** Bytes written at the end of a buffer that grows as needed. */
export class ByteWriter {
  protected buf: Buffer;
  protected pos = 0;

  constructor(protected readonly size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Room for n more bytes at pos. */
  protected room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  get length(): number {
    return this.pos;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  bytes(src: Buffer, start = 0, end = src.length): void {
    const n = end - start;
    this.room(n);
    const buf = this.buf;
    if (n <= 32) {
      // a few bytes: copied here costs less than a call into Buffer.copy
      let at = this.pos;
      for (let i = start; i < end; i++) buf[at++] = src[i];
    } else {
      buf.set(start === 0 && end === src.length ? src : src.subarray(start, end), this.pos);
    }
    this.pos += n;
  }

  /**
   * src[start, end) between double quotes, when every byte of it is
   * printable ASCII other than '"' and '\\': text that is its own JSON
   * string and its own COPY field. Otherwise false, and nothing written.
   */
  quotedPlain(src: Buffer, start: number, end: number): boolean {
    this.room(end - start + 2);
    const buf = this.buf;
    const from = this.pos;
    let at = from;
    buf[at++] = 0x22;
    for (let i = start; i < end; i++) {
      const b = src[i];
      if (b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c) {
        this.pos = from;
        return false;
      }
      buf[at++] = b;
    }
    buf[at++] = 0x22;
    this.pos = at;
    return true;
  }

  /** A string of code units below 0x100 (digits, hex, names checked to be so): one byte each. */
  latin1(s: string): void {
    this.room(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  utf8(s: string): void {
    // at most three bytes per UTF-16 code unit
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** An integer in decimal; without a string for the common, 32-bit ones. */
  int(n: number): void {
    if (n !== (n | 0)) {
      this.latin1(String(n));
      return;
    }
    this.room(11);
    const buf = this.buf;
    if (n < 0) {
      if (n === -2147483648) {
        this.latin1('-2147483648');
        return;
      }
      buf[this.pos++] = 0x2d;
      n = -n;
    }
    if (n < 10) {
      buf[this.pos++] = 0x30 + n;
      return;
    }
    let digits = 2;
    for (let m = n; m >= 100; m = Math.floor(m / 10)) digits++;
    let at = this.pos + digits;
    this.pos = at;
    while (n >= 100) {
      const d = DIGITS[n % 100];
      n = Math.floor(n / 100);
      buf[--at] = d[1];
      buf[--at] = d[0];
    }
    if (n >= 10) {
      const d = DIGITS[n];
      buf[--at] = d[1];
      buf[--at] = d[0];
    } else {
      buf[--at] = 0x30 + n;
    }
  }

  /** The bytes written, in a buffer of their own; the writer starts again empty. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.pos = 0;
    return out;
  }

  reset(): void {
    this.pos = 0;
  }
}

/**
 * Pieces of text (row images) written one after the other into large
 * buffers, each taken out as a view of its own bytes, without a copy. A
 * piece that outgrows its buffer moves to a new one; a buffer is freed once
 * no piece of it is referenced any more.
 */
export class PieceWriter extends ByteWriter {
  /** Where the piece being written began. */
  private mark = 0;

  protected override room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const piece = this.pos - this.mark;
    const next = Buffer.allocUnsafe(Math.max(this.size, 2 * (piece + n)));
    this.buf.copy(next, 0, this.mark, this.pos);
    this.buf = next;
    this.mark = 0;
    this.pos = piece;
  }

  /** Bytes of the piece so far. */
  override get length(): number {
    return this.pos - this.mark;
  }

  /** The piece: a view of its bytes, which are never written again. The next piece begins. */
  override take(): Buffer {
    const out = this.buf.subarray(this.mark, this.pos);
    this.mark = this.pos;
    return out;
  }

  /** Drops the piece being written. */
  override reset(): void {
    this.pos = this.mark;
  }
}

/**
 * Bytes for a stream, in chunks of about `size` bytes: a full chunk is set
 * aside and a new one begun, anywhere, even within a field (a COPY stream
 * is bytes; its rows need not end with its chunks).
 */
export class ChunkWriter extends ByteWriter {
  private readonly chunks: Buffer[] = [];

  protected override room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) this.chunks.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(Math.max(this.size, n));
    this.pos = 0;
  }

  /** Every chunk, the last one included; the writer is done with. */
  finish(): Buffer[] {
    if (this.pos > 0) this.chunks.push(this.buf.subarray(0, this.pos));
    this.pos = 0;
    this.buf = Buffer.alloc(0);
    return this.chunks;
  }
}
