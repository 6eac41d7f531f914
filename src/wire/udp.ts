import type { Codec } from './codec.js';
import { Reader } from './reader.js';
import { checkUint } from './uint-field.js';

/** The checksum is kept as received and written as given: it covers the IP pseudo-header, which this codec does not see. */
export interface UdpDatagram {
  sourcePort: number;
  destinationPort: number;
  checksum: number;
  payload: Buffer;
}

/*
 * UDP header (RFC 768):
 *
 *  0      7 8     15 16    23 24    31
 * +--------+--------+--------+--------+
 * |     Source      |   Destination   |
 * |      Port       |      Port       |
 * +--------+--------+--------+--------+
 * |                 |                 |
 * |     Length      |    Checksum     |
 * +--------+--------+--------+--------+
 *
 * Length counts the header too; bytes past it are ignored.
 */
const HEADER_LENGTH = 8;

export const udp: Codec<UdpDatagram> = {
  encode(datagram) {
    const bytes = Buffer.alloc(udp.encodingLength(datagram));
    bytes.writeUInt16BE(checkUint('udp', 'source port', datagram.sourcePort, 16), 0);
    bytes.writeUInt16BE(checkUint('udp', 'destination port', datagram.destinationPort, 16), 2);
    bytes.writeUInt16BE(checkUint('udp', 'length', bytes.length, 16), 4);
    bytes.writeUInt16BE(checkUint('udp', 'checksum', datagram.checksum, 16), 6);
    datagram.payload.copy(bytes, HEADER_LENGTH);
    return bytes;
  },

  decode(buffer) {
    const reader = new Reader(buffer, 'udp');
    const sourcePort = reader.u16('source port');
    const destinationPort = reader.u16('destination port');
    const length = reader.u16('length');
    if (length < HEADER_LENGTH) reader.fail(`length ${length} is shorter than the header`);
    const checksum = reader.u16('checksum');
    return { sourcePort, destinationPort, checksum, payload: reader.bytes(length - HEADER_LENGTH, 'payload (Length)') };
  },

  encodingLength(datagram) {
    return HEADER_LENGTH + datagram.payload.length;
  },
};
