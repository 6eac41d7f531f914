import { ArpOperation } from '../wire/arp.js';
import type { VlanTag } from '../wire/ethernet.js';
import { encodeArpFrame, encodeNdpFrame } from '../wire/frame.js';
import { ipv6MulticastMac } from '../wire/ip-address.js';
import { BROADCAST_MAC, ZERO_MAC } from '../wire/mac.js';

/** RFC 4291 2.7.1: the link-local all-nodes group, and its Ethernet group address (RFC 2464 7). */
export const ALL_NODES = 'ff02::1';
export const ALL_NODES_MAC = ipv6MulticastMac(ALL_NODES);

export type GratuitousKind = 'request' | 'reply';

/**
 * A gratuitous ARP for `ip` at `mac`: sender and target address are both `ip`, so every
 * host on the segment refreshes its cache (RFC 5227 3, "ARP Announcement"). The reply form
 * is what iputils `arping -A` sends, for stacks that only learn from replies.
 */
export function gratuitousArp(mac: string, ip: string, kind: GratuitousKind, vlan?: VlanTag): Buffer {
  return encodeArpFrame({
    source: mac,
    destination: BROADCAST_MAC,
    vlan,
    arp: {
      operation: kind === 'request' ? ArpOperation.Request : ArpOperation.Reply,
      senderMac: mac,
      senderIp: ip,
      targetMac: kind === 'request' ? ZERO_MAC : BROADCAST_MAC,
      targetIp: ip,
    },
  });
}

/**
 * An unsolicited Neighbor Advertisement (RFC 4861 7.2.6): to all-nodes, Solicited clear,
 * Override set so that caches take the new MAC at once, with the target link-layer option.
 */
export function unsolicitedAdvertisement(mac: string, ip: string, vlan?: VlanTag): Buffer {
  return encodeNdpFrame({
    source: mac,
    destination: ALL_NODES_MAC,
    vlan,
    ipSource: ip,
    ipDestination: ALL_NODES,
    ndp: { type: 'neighbor-advertisement', router: false, solicited: false, override: true, target: ip, targetLinkLayer: mac },
  });
}
