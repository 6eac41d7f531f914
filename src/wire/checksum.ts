import { ipv6ToBytes } from './ip-address.js';

/**
 * The Internet checksum (RFC 1071): the one's complement of the one's complement sum of
 * 16-bit words, an odd last byte padded with zero. Over a message whose checksum field is
 * zero this is the value to store; over a received message it is 0 exactly when the stored
 * checksum is right (RFC 1071 1).
 */
export function internetChecksum(data: Buffer): number {
  let sum = 0;
  for (let index = 0; index + 1 < data.length; index += 2) {
    sum += data.readUInt16BE(index);
  }
  if (data.length % 2 === 1) {
    sum += data[data.length - 1]! << 8;
  }
  while (sum > 0xffff) {
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}

/**
 * Checksum of an upper-layer message carried in IPv6, covering the RFC 8200 8.1
 * pseudo-header:
 *
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                     Source Address (128 bits)                 |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                  Destination Address (128 bits)               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                   Upper-Layer Packet Length                   |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                      zero                     |  Next Header  |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export function ipv6UpperLayerChecksum(source: string, destination: string, nextHeader: number, message: Buffer): number {
  const lengthAndNextHeader = Buffer.alloc(8);
  lengthAndNextHeader.writeUInt32BE(message.length, 0);
  lengthAndNextHeader.writeUInt8(nextHeader, 7);
  return internetChecksum(Buffer.concat([ipv6ToBytes(source), ipv6ToBytes(destination), lengthAndNextHeader, message]));
}
