import type { Codec } from './codec.js';
import { internetChecksum } from './checksum.js';
import { ipv4FromBytes, ipv4ToBytes } from './ip-address.js';
import { Reader } from './reader.js';
import { checkUint } from './uint-field.js';

/** IANA protocol numbers (RFC 790 and its registry) the project reads in IPv4 and IPv6. */
export const IpProtocol = { Tcp: 6, Udp: 17 } as const;

/** Options are kept raw; `payload` is what Total Length says follows the header. */
export interface Ipv4Packet {
  typeOfService: number;
  identification: number;
  /** The three flag bits (reserved, DF, MF). */
  flags: number;
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  source: string;
  destination: string;
  options: Buffer;
  payload: Buffer;
}

/*
 * IPv4 header (RFC 791 3.1):
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |Type of Service|          Total Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Identification        |Flags|      Fragment Offset    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Source Address                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination Address                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options                    |    Padding    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The header checksum is written on encode and not verified on decode: a capture on the
 * sending host sees it before the NIC fills it in (offload). Bytes past Total Length are
 * Ethernet padding and are ignored.
 */
const MIN_HEADER_LENGTH = 20;

export const ipv4: Codec<Ipv4Packet> = {
  encode(packet) {
    if (packet.options.length % 4 !== 0) throw new RangeError('ipv4: options must fill whole 32-bit words');
    const headerLength = MIN_HEADER_LENGTH + packet.options.length;
    const bytes = Buffer.alloc(ipv4.encodingLength(packet));
    bytes.writeUInt8((4 << 4) | checkUint('ipv4', 'IHL', headerLength / 4, 4), 0);
    bytes.writeUInt8(checkUint('ipv4', 'type of service', packet.typeOfService, 8), 1);
    bytes.writeUInt16BE(checkUint('ipv4', 'total length', bytes.length, 16), 2);
    bytes.writeUInt16BE(checkUint('ipv4', 'identification', packet.identification, 16), 4);
    bytes.writeUInt16BE((checkUint('ipv4', 'flags', packet.flags, 3) << 13) | checkUint('ipv4', 'fragment offset', packet.fragmentOffset, 13), 6);
    bytes.writeUInt8(checkUint('ipv4', 'TTL', packet.ttl, 8), 8);
    bytes.writeUInt8(checkUint('ipv4', 'protocol', packet.protocol, 8), 9);
    ipv4ToBytes(packet.source).copy(bytes, 12);
    ipv4ToBytes(packet.destination).copy(bytes, 16);
    packet.options.copy(bytes, MIN_HEADER_LENGTH);
    bytes.writeUInt16BE(internetChecksum(bytes.subarray(0, headerLength)), 10);
    packet.payload.copy(bytes, headerLength);
    return bytes;
  },

  decode(buffer) {
    const reader = new Reader(buffer, 'ipv4');
    const versionAndLength = reader.u8('version and IHL');
    if (versionAndLength >> 4 !== 4) reader.fail(`version ${versionAndLength >> 4}, expected 4`);
    const headerLength = (versionAndLength & 0x0f) * 4;
    if (headerLength < MIN_HEADER_LENGTH) reader.fail(`header length ${headerLength} is under ${MIN_HEADER_LENGTH} bytes`);
    const typeOfService = reader.u8('type of service');
    const totalLength = reader.u16('total length');
    if (totalLength < headerLength) reader.fail(`total length ${totalLength} is shorter than the ${headerLength}-byte header`);
    const identification = reader.u16('identification');
    const flagsAndOffset = reader.u16('flags and fragment offset');
    const ttl = reader.u8('time to live');
    const protocol = reader.u8('protocol');
    reader.skip(2, 'header checksum');
    const source = ipv4FromBytes(reader.bytes(4, 'source address'));
    const destination = ipv4FromBytes(reader.bytes(4, 'destination address'));
    const options = reader.bytes(headerLength - MIN_HEADER_LENGTH, 'options');
    const payload = reader.bytes(totalLength - headerLength, 'payload (Total Length)');
    return { typeOfService, identification, flags: flagsAndOffset >> 13, fragmentOffset: flagsAndOffset & 0x1fff, ttl, protocol, source, destination, options, payload };
  },

  encodingLength(packet) {
    return MIN_HEADER_LENGTH + packet.options.length + packet.payload.length;
  },
};
