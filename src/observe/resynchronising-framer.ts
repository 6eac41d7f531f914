/**
 * BGP framing for a passive observer. A session's BgpFramer throws at a bad header,
 * because the session must then send a NOTIFICATION and close (RFC 4271 6.1); an observer
 * that joined a stream mid-message, or lost bytes in a hole the capture never filled,
 * instead skips to the next marker — 16 bytes of ones begin every message (RFC 4271
 * 4.1) — and goes on framing from there, in the same chunk or the next.
 */
import { DecodeError } from '../wire/decode-error.js';
import { decodeHeader, HEADER_LENGTH, MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH } from '../wire/bgp/index.js';

const MARKER = Buffer.alloc(16, 0xff);

export interface FramedChunk {
  /** Whole messages, header included, each a Buffer of its own. */
  messages: Buffer[];
  /** Headers that failed their checks where a message should have begun. */
  framingErrors: number;
  /** Bytes passed over while looking for the next marker. */
  skippedBytes: number;
}

/**
 * Where the held bytes begin: where a message ends (or the stream starts), at a marker
 * found by searching whose header is not checked yet, or nowhere known.
 */
type Position = 'boundary' | 'marker' | 'lost';

export class ResynchronisingFramer {
  private pending: Buffer = Buffer.alloc(0);
  private position: Position = 'boundary';
  /**
   * Whether both OPENs offered extended messages (RFC 8654); unknown until they are seen,
   * and then a message may be as long as RFC 8654 allows: an observer that missed the
   * OPENs cannot know the session's limit.
   */
  extendedMessage: boolean | undefined = undefined;

  push(chunk: Buffer): FramedChunk {
    // A copy: frames may live in a buffer their source reuses.
    this.pending = Buffer.concat([this.pending, chunk]);
    const framed: FramedChunk = { messages: [], framingErrors: 0, skippedBytes: 0 };
    const maxLength = this.extendedMessage === false ? MAX_MESSAGE_LENGTH : MAX_EXTENDED_MESSAGE_LENGTH;
    let start = 0;
    for (;;) {
      if (this.position === 'lost') {
        const marker = this.pending.indexOf(MARKER, start);
        // Without a whole marker, the last 15 bytes stay: they may begin one the next chunk completes.
        const next = marker >= 0 ? marker : Math.max(start, this.pending.length - (MARKER.length - 1));
        framed.skippedBytes += next - start;
        start = next;
        if (marker < 0) break;
        this.position = 'marker';
      }
      if (this.pending.length - start < HEADER_LENGTH) break;
      let length: number;
      try {
        ({ length } = decodeHeader(this.pending.subarray(start, start + HEADER_LENGTH), maxLength));
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        // A marker found by searching may be a run of ones inside a message: no new error.
        if (this.position === 'boundary') framed.framingErrors++;
        this.position = 'lost';
        framed.skippedBytes++;
        start++;
        continue;
      }
      this.position = 'boundary';
      if (this.pending.length - start < length) break;
      framed.messages.push(Buffer.from(this.pending.subarray(start, start + length)));
      start += length;
    }
    this.pending = this.pending.subarray(start);
    return framed;
  }

  /** Bytes of the stream were never captured: what is held cannot be completed, and the
   *  next message is found by its marker. Returns the bytes dropped. */
  lose(): number {
    const dropped = this.pending.length;
    this.pending = Buffer.alloc(0);
    this.position = 'lost';
    return dropped;
  }
}
