import type { Codec } from './codec.js';
import { ipv6FromBytes, ipv6ToBytes } from './ip-address.js';
import { Reader } from './reader.js';
import { checkUint } from './uint-field.js';

/** IANA protocol number of ICMPv6 in Next Header (RFC 4443 1). */
export const NEXT_HEADER_ICMPV6 = 58;

/** Extension headers are not parsed: `payload` is everything after the fixed header, and
 *  `nextHeader` says what it starts with. */
export interface Ipv6Packet {
  trafficClass: number;
  flowLabel: number;
  nextHeader: number;
  hopLimit: number;
  source: string;
  destination: string;
  payload: Buffer;
}

/*
 * IPv6 fixed header (RFC 8200 3):
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version| Traffic Class |           Flow Label                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  Source Address (128 bits)                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                Destination Address (128 bits)                 |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Bytes past Payload Length are Ethernet padding and are ignored.
 */
const HEADER_LENGTH = 40;

export const ipv6: Codec<Ipv6Packet> = {
  encode(packet) {
    const bytes = Buffer.alloc(ipv6.encodingLength(packet));
    const versionClassFlow =
      ((6 << 28) |
        (checkUint('ipv6', 'traffic class', packet.trafficClass, 8) << 20) |
        checkUint('ipv6', 'flow label', packet.flowLabel, 20)) >>>
      0;
    bytes.writeUInt32BE(versionClassFlow, 0);
    bytes.writeUInt16BE(checkUint('ipv6', 'payload length', packet.payload.length, 16), 4);
    bytes.writeUInt8(checkUint('ipv6', 'next header', packet.nextHeader, 8), 6);
    bytes.writeUInt8(checkUint('ipv6', 'hop limit', packet.hopLimit, 8), 7);
    ipv6ToBytes(packet.source).copy(bytes, 8);
    ipv6ToBytes(packet.destination).copy(bytes, 24);
    packet.payload.copy(bytes, HEADER_LENGTH);
    return bytes;
  },

  decode(buffer) {
    const reader = new Reader(buffer, 'ipv6');
    const versionClassFlow = reader.u32('version, traffic class, flow label');
    const version = versionClassFlow >>> 28;
    if (version !== 6) reader.fail(`version ${version}, expected 6`);
    const payloadLength = reader.u16('payload length');
    const nextHeader = reader.u8('next header');
    const hopLimit = reader.u8('hop limit');
    const source = ipv6FromBytes(reader.bytes(16, 'source address'));
    const destination = ipv6FromBytes(reader.bytes(16, 'destination address'));
    return {
      trafficClass: (versionClassFlow >>> 20) & 0xff,
      flowLabel: versionClassFlow & 0xfffff,
      nextHeader,
      hopLimit,
      source,
      destination,
      payload: reader.bytes(payloadLength, 'payload (Payload Length)'),
    };
  },

  encodingLength(packet) {
    return HEADER_LENGTH + packet.payload.length;
  },
};
