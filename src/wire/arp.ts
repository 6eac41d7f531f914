import type { Codec } from './codec.js';
import { EtherType } from './ethernet.js';
import { ipv4FromBytes, ipv4ToBytes } from './ip-address.js';
import { macFromBytes, macToBytes } from './mac.js';
import { Reader } from './reader.js';
import { checkUint } from './uint-field.js';

export const ArpOperation = { Request: 1, Reply: 2 } as const;

export interface ArpPacket {
  operation: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

/*
 * ARP for IPv4 over Ethernet (RFC 826; hardware type 1 from the IANA registry):
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Hardware Type = 1         |    Protocol Type = 0x0800     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  HLEN = 6     |   PLEN = 4    |          Operation            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 Sender Hardware Address (48 bits)             |
 * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               | Sender Protocol Address (32)  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                               |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                 Target Hardware Address (48 bits)             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 Target Protocol Address (32 bits)             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Any other hardware/protocol type or address length is refused. Bytes after the 28 of
 * the packet are Ethernet padding (frames under 60 bytes) and are ignored.
 */
export const HARDWARE_TYPE_ETHERNET = 1;
const ARP_LENGTH = 28;

export const arp: Codec<ArpPacket> = {
  encode(packet) {
    const bytes = Buffer.alloc(ARP_LENGTH);
    bytes.writeUInt16BE(HARDWARE_TYPE_ETHERNET, 0);
    bytes.writeUInt16BE(EtherType.IPv4, 2);
    bytes.writeUInt8(6, 4);
    bytes.writeUInt8(4, 5);
    bytes.writeUInt16BE(checkUint('arp', 'operation', packet.operation, 16), 6);
    macToBytes(packet.senderMac).copy(bytes, 8);
    ipv4ToBytes(packet.senderIp).copy(bytes, 14);
    macToBytes(packet.targetMac).copy(bytes, 18);
    ipv4ToBytes(packet.targetIp).copy(bytes, 24);
    return bytes;
  },

  decode(buffer) {
    const reader = new Reader(buffer, 'arp');
    const hardwareType = reader.u16('hardware type');
    if (hardwareType !== HARDWARE_TYPE_ETHERNET) reader.fail(`hardware type ${hardwareType} is not Ethernet (1)`);
    const protocolType = reader.u16('protocol type');
    if (protocolType !== EtherType.IPv4) reader.fail(`protocol type 0x${protocolType.toString(16)} is not IPv4`);
    const hardwareLength = reader.u8('hardware address length');
    if (hardwareLength !== 6) reader.fail(`hardware address length ${hardwareLength}, expected 6`);
    const protocolLength = reader.u8('protocol address length');
    if (protocolLength !== 4) reader.fail(`protocol address length ${protocolLength}, expected 4`);
    return {
      operation: reader.u16('operation'),
      senderMac: macFromBytes(reader.bytes(6, 'sender hardware address')),
      senderIp: ipv4FromBytes(reader.bytes(4, 'sender protocol address')),
      targetMac: macFromBytes(reader.bytes(6, 'target hardware address')),
      targetIp: ipv4FromBytes(reader.bytes(4, 'target protocol address')),
    };
  },

  encodingLength() {
    return ARP_LENGTH;
  },
};
