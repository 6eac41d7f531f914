import { DecodeError } from '../decode-error.js';
import { Reader } from '../reader.js';
import { BgpError } from './bgp-error.js';
import { ErrorCode, HeaderSubcode } from './notification-codes.js';
import { HEADER_LENGTH, MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH, MessageType } from './registry.js';

/*
 * Message header (RFC 4271 4.1):
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                                               |
 * +                                                               +
 * |                                                               |
 * +                                                               +
 * |                           Marker                              |
 * +                                                               +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Length               |      Type     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Marker is all ones; Length counts the whole message, header included, 19..4096
 * (65535 once extended messages are negotiated, RFC 8654).
 */
export interface MessageHeader {
  length: number;
  type: number;
}

const MARKER = Buffer.alloc(16, 0xff);
const MINIMUM_LENGTH: Record<number, number> = {
  [MessageType.Open]: 29,
  [MessageType.Update]: 23,
  [MessageType.Notification]: 21,
};
const KNOWN_TYPES = new Set<number>(Object.values(MessageType));

export function encodeHeader(header: MessageHeader): Buffer {
  const bytes = Buffer.alloc(HEADER_LENGTH);
  MARKER.copy(bytes);
  bytes.writeUInt16BE(header.length, 16);
  bytes.writeUInt8(header.type, 18);
  return bytes;
}

/** Bad Message Length carries the erroneous Length field as its data (RFC 4271 6.1). */
export function badMessageLength(length: number, reason: string): BgpError {
  const data = Buffer.alloc(2);
  data.writeUInt16BE(length & 0xffff);
  return new BgpError(ErrorCode.MessageHeader, HeaderSubcode.BadMessageLength, reason, { data });
}

/**
 * Reads and checks the header at the start of `buffer` (RFC 4271 6.1): marker all ones,
 * Length within 19..`maxLength`, a known Type (data: the type octet).
 */
export function decodeHeader(buffer: Buffer, maxLength = MAX_MESSAGE_LENGTH): MessageHeader {
  if (buffer.length < HEADER_LENGTH) {
    throw badMessageLength(buffer.length, `${buffer.length} bytes, a header needs ${HEADER_LENGTH}`);
  }
  const reader = new Reader(buffer, 'bgp');
  if (!reader.bytes(16, 'marker').equals(MARKER)) {
    throw new BgpError(ErrorCode.MessageHeader, HeaderSubcode.ConnectionNotSynchronized, 'marker is not all ones');
  }
  const length = reader.u16('length');
  const type = reader.u8('type');
  if (length < HEADER_LENGTH || length > maxLength) {
    throw badMessageLength(length, `length ${length} outside ${HEADER_LENGTH}..${maxLength}`);
  }
  if (!KNOWN_TYPES.has(type)) {
    throw new BgpError(ErrorCode.MessageHeader, HeaderSubcode.BadMessageType, `unknown message type ${type}`, {
      data: Buffer.from([type]),
    });
  }
  return { length, type };
}

/**
 * Splits a TCP byte stream into whole BGP messages. `push` returns every message the
 * bytes so far complete (each a Buffer of its own, header included) and keeps the rest
 * until more arrives; a bad header throws BgpError (the session must then send that
 * NOTIFICATION and close). Set `extendedMessage` once negotiated (RFC 8654).
 */
export class BgpFramer {
  private pending: Buffer = Buffer.alloc(0);
  extendedMessage = false;

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const messages: Buffer[] = [];
    const maxLength = this.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
    let start = 0;
    while (this.pending.length - start >= HEADER_LENGTH) {
      const { length } = decodeHeader(this.pending.subarray(start, start + HEADER_LENGTH), maxLength);
      if (this.pending.length - start < length) break;
      messages.push(Buffer.from(this.pending.subarray(start, start + length)));
      start += length;
    }
    this.pending = this.pending.subarray(start);
    return messages;
  }

  /** Bytes held back waiting for the rest of a message. */
  get buffered(): number {
    return this.pending.length;
  }
}

/** An encoder asked to write a message over the negotiated limit (RFC 4271 4.1,
 *  RFC 8654 4): nothing is written; the packers in pack.ts split before this happens. */
export class MessageTooLongError extends DecodeError {
  constructor(
    readonly length: number,
    readonly limit: number,
    what: string,
  ) {
    super('bgp', `${what} would be ${length} bytes, over the ${limit}-byte limit`);
  }
}

/** Header + body, refused (MessageTooLongError) when over `maxLength`. */
export function wrapMessage(type: number, body: Buffer, maxLength: number, what: string): Buffer {
  const length = HEADER_LENGTH + body.length;
  if (length > maxLength) throw new MessageTooLongError(length, maxLength, what);
  return Buffer.concat([encodeHeader({ length, type }), body]);
}

/**
 * Checks the header of one whole message of `type` (as the framer hands them out) and
 * returns a reader over its body. The Length field must equal the buffer's length.
 */
export function messageBody(buffer: Buffer, type: number, maxLength: number, codec: string): Reader {
  const header = decodeHeader(buffer, maxLength);
  if (header.type !== type) {
    throw new BgpError(ErrorCode.MessageHeader, HeaderSubcode.BadMessageType, `type ${header.type} where ${codec} (${type}) was expected`, {
      data: Buffer.from([header.type]),
    });
  }
  // RFC 4271 6.1: shorter than the type's minimum is Bad Message Length. ROUTE-REFRESH has
  // its own error for that (RFC 7313 5), raised by its decoder.
  const minimum = MINIMUM_LENGTH[type] ?? HEADER_LENGTH;
  if (header.length < minimum) throw badMessageLength(header.length, `${header.length} bytes, the minimum for ${codec} is ${minimum}`);
  if (header.length !== buffer.length) {
    throw badMessageLength(header.length, `length field says ${header.length}, the message has ${buffer.length} bytes`);
  }
  return new Reader(buffer, codec, HEADER_LENGTH);
}
