import { DecodeError } from './decode-error.js';

/**
 * Bounds-checked cursor over a Buffer. Every decoder reads through one of these, so a
 * short or lying input becomes a DecodeError, never a RangeError or a silent slice.
 */
export class Reader {
  private position: number;

  constructor(
    private readonly buffer: Buffer,
    private readonly codec: string,
    start = 0,
    private readonly end = buffer.length,
  ) {
    if (start < 0 || end > buffer.length || start > end) {
      throw new DecodeError(codec, `window ${start}..${end} outside a ${buffer.length}-byte buffer`, start);
    }
    this.position = start;
  }

  get offset(): number {
    return this.position;
  }

  get remaining(): number {
    return this.end - this.position;
  }

  fail(message: string): never {
    throw new DecodeError(this.codec, message, this.position);
  }

  private need(length: number, what: string): void {
    if (length < 0 || this.position + length > this.end) {
      this.fail(`${what} needs ${length} bytes, ${this.remaining} left`);
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buffer[this.position++]!;
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const value = this.buffer.readUInt16BE(this.position);
    this.position += 2;
    return value;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const value = this.buffer.readUInt32BE(this.position);
    this.position += 4;
    return value;
  }

  /** A copy of the next `length` bytes (frames from pcap live in a reused buffer). */
  bytes(length: number, what = 'bytes'): Buffer {
    this.need(length, what);
    const slice = Buffer.from(this.buffer.subarray(this.position, this.position + length));
    this.position += length;
    return slice;
  }

  skip(length: number, what = 'padding'): void {
    this.need(length, what);
    this.position += length;
  }

  /** A reader over the next `length` bytes, for length-prefixed sub-structures. */
  sub(length: number, codec = this.codec, what = 'sub-structure'): Reader {
    this.need(length, what);
    const reader = new Reader(this.buffer, codec, this.position, this.position + length);
    this.position += length;
    return reader;
  }

  rest(): Buffer {
    return this.bytes(this.remaining, 'rest');
  }
}
