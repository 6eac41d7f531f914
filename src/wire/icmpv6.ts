import { ipv6UpperLayerChecksum } from './checksum.js';
import type { Codec } from './codec.js';
import { DecodeError } from './decode-error.js';
import { ipv6ToBytes } from './ip-address.js';
import { NEXT_HEADER_ICMPV6 } from './ipv6.js';
import { Reader } from './reader.js';
import { checkUint } from './uint-field.js';

/**
 * One ICMPv6 message, checksum as found on the wire. The codec neither computes nor checks
 * the checksum, because it covers a pseudo-header made of the enclosing IPv6 addresses:
 * `sealIcmpv6` fills it in for sending, `verifyIcmpv6Checksum` checks a received message.
 */
export interface Icmpv6Message {
  type: number;
  code: number;
  checksum: number;
  body: Buffer;
}

/*
 * ICMPv6 message (RFC 4443 2.1):
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Message Body ...                      |
 */
const HEADER_LENGTH = 4;
const CHECKSUM_OFFSET = 2;

export const icmpv6: Codec<Icmpv6Message> = {
  encode(message) {
    const bytes = Buffer.alloc(icmpv6.encodingLength(message));
    bytes.writeUInt8(checkUint('icmpv6', 'type', message.type, 8), 0);
    bytes.writeUInt8(checkUint('icmpv6', 'code', message.code, 8), 1);
    bytes.writeUInt16BE(checkUint('icmpv6', 'checksum', message.checksum, 16), CHECKSUM_OFFSET);
    message.body.copy(bytes, HEADER_LENGTH);
    return bytes;
  },

  decode(buffer) {
    const reader = new Reader(buffer, 'icmpv6');
    return { type: reader.u8('type'), code: reader.u8('code'), checksum: reader.u16('checksum'), body: reader.rest() };
  },

  encodingLength(message) {
    return HEADER_LENGTH + message.body.length;
  },
};

/** Writes the checksum of an encoded ICMPv6 message (RFC 4443 2.3) into it and returns it. */
export function sealIcmpv6(message: Buffer, source: string, destination: string): Buffer {
  message.writeUInt16BE(0, CHECKSUM_OFFSET);
  message.writeUInt16BE(ipv6UpperLayerChecksum(ipv6ToBytes(source), ipv6ToBytes(destination), NEXT_HEADER_ICMPV6, message), CHECKSUM_OFFSET);
  return message;
}

/** Throws DecodeError unless the message's checksum is right for these IPv6 addresses. */
export function verifyIcmpv6Checksum(message: Buffer, source: string, destination: string): void {
  if (message.length < HEADER_LENGTH) {
    throw new DecodeError('icmpv6', `a message needs ${HEADER_LENGTH} bytes, got ${message.length}`);
  }
  if (ipv6UpperLayerChecksum(ipv6ToBytes(source), ipv6ToBytes(destination), NEXT_HEADER_ICMPV6, message) !== 0) {
    const expected = sealIcmpv6(Buffer.from(message), source, destination).readUInt16BE(CHECKSUM_OFFSET);
    const found = message.readUInt16BE(CHECKSUM_OFFSET);
    const explanation = `checksum 0x${found.toString(16)} is wrong, expected 0x${expected.toString(16)}`;
    throw new DecodeError('icmpv6', explanation, CHECKSUM_OFFSET);
  }
}
