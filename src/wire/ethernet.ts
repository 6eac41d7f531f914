import type { Codec } from './codec.js';
import { macFromBytes, macToBytes } from './mac.js';
import { Reader } from './reader.js';
import { checkUint } from './uint-field.js';

export const EtherType = { IPv4: 0x0800, ARP: 0x0806, VLAN: 0x8100, IPv6: 0x86dd } as const;

/** IEEE 802.1Q tag control information. */
/** A tag for `--vlan <id>`: priority 0, not drop-eligible; none without an id. */
export function vlanTag(id: number | undefined): VlanTag | undefined {
  return id === undefined ? undefined : { id, priority: 0, dropEligible: false };
}

export interface VlanTag {
  id: number;
  priority: number;
  dropEligible: boolean;
}

/** `etherType` is the type of the payload, i.e. the inner one when a VLAN tag is present. */
export interface EthernetFrame {
  destination: string;
  source: string;
  vlan?: VlanTag;
  etherType: number;
  payload: Buffer;
}

/*
 * Ethernet II header (IEEE 802.3), with the optional IEEE 802.1Q tag:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  Destination MAC (48 bits)                    |
 * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                     Source MAC (48 bits)                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         TPID = 0x8100         | PCP |D|          VID          |  802.1Q, optional
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           EtherType           |  Payload ...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * No padding to the 60-byte minimum on encode: the kernel pads on real NICs and does not
 * on veth. On decode any padding stays in `payload`; the inner codecs know their length.
 */
const MACS_LENGTH = 12;
const VLAN_TAG_LENGTH = 4;

export const ethernet: Codec<EthernetFrame> = {
  encode(frame) {
    const bytes = Buffer.alloc(ethernet.encodingLength(frame));
    macToBytes(frame.destination).copy(bytes, 0);
    macToBytes(frame.source).copy(bytes, 6);
    let offset = MACS_LENGTH;
    if (frame.vlan) {
      const { id, priority, dropEligible } = frame.vlan;
      const tagControl =
        (checkUint('ethernet', 'VLAN priority', priority, 3) << 13) |
        ((dropEligible ? 1 : 0) << 12) |
        checkUint('ethernet', 'VLAN id', id, 12);
      bytes.writeUInt16BE(EtherType.VLAN, offset);
      bytes.writeUInt16BE(tagControl, offset + 2);
      offset += VLAN_TAG_LENGTH;
    }
    bytes.writeUInt16BE(checkUint('ethernet', 'EtherType', frame.etherType, 16), offset);
    frame.payload.copy(bytes, offset + 2);
    return bytes;
  },

  decode(buffer) {
    const reader = new Reader(buffer, 'ethernet');
    const destination = macFromBytes(reader.bytes(6, 'destination MAC'));
    const source = macFromBytes(reader.bytes(6, 'source MAC'));
    let etherType = reader.u16('EtherType');
    let vlan: VlanTag | undefined;
    if (etherType === EtherType.VLAN) {
      const tagControl = reader.u16('802.1Q tag control');
      vlan = { id: tagControl & 0x0fff, priority: tagControl >>> 13, dropEligible: (tagControl & 0x1000) !== 0 };
      etherType = reader.u16('EtherType after 802.1Q tag');
    }
    const payload = reader.rest();
    return vlan ? { destination, source, vlan, etherType, payload } : { destination, source, etherType, payload };
  },

  encodingLength(frame) {
    return MACS_LENGTH + (frame.vlan ? VLAN_TAG_LENGTH : 0) + 2 + frame.payload.length;
  },
};
