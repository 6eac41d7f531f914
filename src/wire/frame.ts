import { arp, type ArpPacket } from './arp.js';
import { ethernet, EtherType, type EthernetFrame, type VlanTag } from './ethernet.js';
import { icmpv6, sealIcmpv6, verifyIcmpv6Checksum, type Icmpv6Message } from './icmpv6.js';
import { ipv6, NEXT_HEADER_ICMPV6, type Ipv6Packet } from './ipv6.js';
import { isNdpType, ndp, ndpFromIcmpv6, type NdpMessage } from './ndp.js';

/** Every layer `decodeFrame` understood, outermost first; the rest stays in the payloads. */
export interface DecodedFrame {
  ethernet: EthernetFrame;
  arp?: ArpPacket;
  ipv6?: Ipv6Packet;
  icmpv6?: Icmpv6Message;
  ndp?: NdpMessage;
}

/**
 * Ethernet, then ARP, or IPv6 -> ICMPv6 (checksum verified) -> NS/NA. ICMPv6 behind an
 * extension header (e.g. MLD's hop-by-hop) is left undecoded in `ipv6.payload`. Throws
 * only DecodeError, so one malformed frame never takes an engine down.
 */
export function decodeFrame(frame: Buffer): DecodedFrame {
  const decodedEthernet = ethernet.decode(frame);
  if (decodedEthernet.etherType === EtherType.ARP) {
    return { ethernet: decodedEthernet, arp: arp.decode(decodedEthernet.payload) };
  }
  if (decodedEthernet.etherType !== EtherType.IPv6) {
    return { ethernet: decodedEthernet };
  }
  const decodedIpv6 = ipv6.decode(decodedEthernet.payload);
  if (decodedIpv6.nextHeader !== NEXT_HEADER_ICMPV6) {
    return { ethernet: decodedEthernet, ipv6: decodedIpv6 };
  }
  verifyIcmpv6Checksum(decodedIpv6.payload, decodedIpv6.source, decodedIpv6.destination);
  const decodedIcmpv6 = icmpv6.decode(decodedIpv6.payload);
  const layers = { ethernet: decodedEthernet, ipv6: decodedIpv6, icmpv6: decodedIcmpv6 };
  return isNdpType(decodedIcmpv6.type) ? { ...layers, ndp: ndpFromIcmpv6(decodedIcmpv6) } : layers;
}

export function encodeArpFrame(o: { source: string; destination: string; vlan?: VlanTag; arp: ArpPacket }): Buffer {
  const payload = arp.encode(o.arp);
  return ethernet.encode({ destination: o.destination, source: o.source, vlan: o.vlan, etherType: EtherType.ARP, payload });
}

/** NS/NA in IPv6 in Ethernet, hop limit 255 unless told (RFC 4861 7.1 drops anything
 *  else), ICMPv6 checksum over the RFC 8200 8.1 pseudo-header. */
export function encodeNdpFrame(o: {
  source: string;
  destination: string;
  vlan?: VlanTag;
  ipSource: string;
  ipDestination: string;
  hopLimit?: number;
  ndp: NdpMessage;
}): Buffer {
  const message = sealIcmpv6(ndp.encode(o.ndp), o.ipSource, o.ipDestination);
  const packet = ipv6.encode({
    trafficClass: 0,
    flowLabel: 0,
    nextHeader: NEXT_HEADER_ICMPV6,
    hopLimit: o.hopLimit ?? 255,
    source: o.ipSource,
    destination: o.ipDestination,
    payload: message,
  });
  const { source, destination, vlan } = o;
  return ethernet.encode({ destination, source, vlan, etherType: EtherType.IPv6, payload: packet });
}
