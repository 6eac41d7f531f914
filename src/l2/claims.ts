/**
 * What an ARP or NDP frame says about who holds which IP. A MAC *claims* an IP when it
 * answers for it (ARP reply, solicited NA), announces it (gratuitous ARP, unsolicited NA)
 * or asks from it (the sender of an ARP request, the source of an NS with a source
 * link-layer option); duplicate address probes claim nothing (RFC 5227 2.1.1, RFC 4862
 * 5.4.2). A frame also *asks* for an IP when it requests its owner. `watch` builds its
 * ownership history from these; `run` sees another MAC claim a VIP it owns (split brain).
 */
import { ArpOperation } from '../wire/arp.js';
import type { DecodedFrame } from '../wire/frame.js';

export type ClaimKind = 'reply' | 'gratuitous' | 'request';

export interface Claim {
  ip: string;
  mac: string;
  kind: ClaimKind;
  /** The frame's Ethernet source: a MAC that differs from `mac` is a proxy, or a lie. */
  ethernetSource: string;
}

export interface Ask {
  ip: string;
  requester: string;
}

export function readClaims(decoded: DecodedFrame): { claims: Claim[]; asks: Ask[] } {
  const { arp, ndp, ipv6, ethernet } = decoded;
  const claims: Claim[] = [];
  const asks: Ask[] = [];
  if (arp) {
    // RFC 5227 2.1.1: a probe from 0.0.0.0 asks whether the address is free; it claims nothing.
    if (arp.senderIp === '0.0.0.0') return { claims, asks };
    const gratuitous = arp.senderIp === arp.targetIp;
    claims.push({ ip: arp.senderIp, mac: arp.senderMac, kind: gratuitous ? 'gratuitous' : arp.operation === ArpOperation.Reply ? 'reply' : 'request', ethernetSource: ethernet.source });
    if (arp.operation === ArpOperation.Request && !gratuitous) asks.push({ ip: arp.targetIp, requester: arp.senderMac });
    return { claims, asks };
  }
  // RFC 4861 7.1: NDP that did not arrive with hop limit 255 may come from off-link.
  if (!ndp || !ipv6 || ipv6.hopLimit !== 255) return { claims, asks };
  if (ndp.type === 'neighbor-advertisement') {
    // RFC 4861 7.2.6: an unsolicited advertisement (S clear) announces a change.
    claims.push({ ip: ndp.target, mac: ndp.targetLinkLayer ?? ethernet.source, kind: ndp.solicited ? 'reply' : 'gratuitous', ethernetSource: ethernet.source });
    return { claims, asks };
  }
  // RFC 4862 5.4.2: a DAD probe comes from :: and claims nothing, nor asks for an owner.
  if (ipv6.source === '::') return { claims, asks };
  if (ndp.sourceLinkLayer !== undefined) claims.push({ ip: ipv6.source, mac: ndp.sourceLinkLayer, kind: 'request', ethernetSource: ethernet.source });
  asks.push({ ip: ndp.target, requester: ndp.sourceLinkLayer ?? ethernet.source });
  return { claims, asks };
}
