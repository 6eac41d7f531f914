import { isIP } from 'node:net';
import type { ReceivedFrame } from '../link/link.js';
import { ArpOperation, HARDWARE_TYPE_ETHERNET } from '../wire/arp.js';
import { ipv6UpperLayerChecksum } from '../wire/checksum.js';
import { DecodeError } from '../wire/decode-error.js';
import { EtherType, type VlanTag } from '../wire/ethernet.js';
import { decodeFrame, encodeArpFrame, encodeNdpFrame } from '../wire/frame.js';
import { ipv4ToBytes, ipv6ToBytes } from '../wire/ip-address.js';
import { NEXT_HEADER_ICMPV6 } from '../wire/ipv6.js';
import { macToBytes } from '../wire/mac.js';
import { Icmpv6Type, NaFlag, NdpOptionType, scanNdpOptions } from '../wire/ndp.js';
import { ALL_NODES, ALL_NODES_MAC } from './gratuitous.js';

/** Who asked, for an address we answered for. */
export interface Answered {
  ip: string;
  requesterMac: string;
  /** 0.0.0.0 or :: for a duplicate-address probe. */
  requesterIp: string;
}

/** Why a frame got no answer (after MetalLB's responder: every ignored frame has a reason). */
export type IgnoredReason =
  | 'malformed'
  | 'not-arp-or-ndp'
  | 'not-a-request'
  | 'not-our-address'
  | 'hop-limit-not-255'
  | 'our-own-frame';

/** The answer to send, or why there is none. */
export type Handling = { reply: Buffer } | { ignored: IgnoredReason };

/*
 * Where things are in the frames answered, in bytes. Ethernet (IEEE 802.3), with or
 * without one 802.1Q tag between the source MAC and the EtherType:
 *   destination MAC 0-5 | source MAC 6-11 | [0x8100, tag control] | EtherType | payload
 * ARP (RFC 826), from the start of the payload:
 *   hardware type 0 | protocol type 2 | lengths 4, 5 | operation 6 | sender MAC 8 |
 *   sender IP 14 | target MAC 18 | target IP 24 | 28 bytes in all
 * IPv6 (RFC 8200 3): version 0 | payload length 4 | next header 6 | hop limit 7 |
 *   source 8 | destination 24 | ICMPv6 at 40
 * NS and NA (RFC 4861 4.3, 4.4), from the start of the ICMPv6 message:
 *   type 0 | code 1 | checksum 2 | flags/reserved 4 | target 8 | options 24
 */
const MACS_LENGTH = 12;
const VLAN_TAG_LENGTH = 4;
const ARP_LENGTH = 28;
const ARP_SENDER_MAC = 8;
const ARP_SENDER_IP = 14;
const ARP_TARGET_MAC = 18;
const ARP_TARGET_IP = 24;
const IPV6_HEADER_LENGTH = 40;
const IPV6_SOURCE = 8;
const IPV6_DESTINATION = 24;
const NDP_TARGET = 8;
const NDP_OPTIONS = 24;
/** Hop limit of every NDP message; anything else came from off-link (RFC 4861 7.1.1). */
const NDP_HOP_LIMIT = 255;
/** Our NA: the fixed 24 bytes and one Target Link-Layer Address option. */
const NA_LENGTH = NDP_OPTIONS + 8;

const ALL_NODES_BYTES = ipv6ToBytes(ALL_NODES);
/** ff02::1:ff00:0/104, the solicited-node multicast groups (RFC 4291 2.7.1). */
const SOLICITED_NODE_PREFIX = ipv6ToBytes('ff02::1:ff00:0').subarray(0, 13);
const ALL_NODES_MAC_BYTES = macToBytes(ALL_NODES_MAC);

/** An address as a Set key: its wire bytes as latin1 (4 characters for IPv4, 16 for IPv6). */
function addressKey(bytes: Buffer, start: number, length: number): string {
  return bytes.toString('latin1', start, start + length);
}

/**
 * Answers ARP requests and Neighbor Solicitations for a set of addresses with the link's
 * MAC, the way a kernel answers for its own addresses, without the addresses being
 * configured anywhere. The set is declarative: `setAddresses` replaces it. It decides and
 * builds; the caller sends, so the logic runs without a wire (and can be warmed up).
 *
 * The request is read and the reply written on the bytes: turning the request into text
 * and encoding the reply from text cost about 60 µs of a cold CPU, more than the kernel
 * takes for its whole reply. Text comes after the reply has left (`describeRequest`).
 */
export class Responder {
  private addresses = new Set<string>();
  private readonly mac: Buffer;

  /** @param mac the MAC we answer with: the link's. */
  constructor(mac: string) {
    this.mac = macToBytes(mac);
  }

  /** What the capture filter lets through: ARP, and ICMPv6 Neighbor Solicitations (type 135). */
  static captureFilter(vlan?: VlanTag): string {
    const protocols = '(arp or (icmp6 and ip6[40] == 135))';
    return vlan ? `vlan ${vlan.id} and ${protocols}` : protocols;
  }

  /**
   * Runs the answering code on made-up requests until V8 has compiled it, so that the
   * first real request is not answered by the interpreter (10x slower here). Nothing is sent.
   */
  static warmUp(rounds = 5_000): void {
    const us = '02:00:00:00:00:01';
    const them = '02:00:00:00:00:02';
    const responder = new Responder(us);
    responder.setAddresses(['192.0.2.1', '2001:db8::1']);
    const requests = [
      encodeArpFrame({ source: them, destination: 'ff:ff:ff:ff:ff:ff', arp: { operation: ArpOperation.Request, senderMac: them, senderIp: '192.0.2.2', targetMac: '00:00:00:00:00:00', targetIp: '192.0.2.1' } }),
      encodeNdpFrame({ source: them, destination: '33:33:ff:00:00:01', ipSource: '2001:db8::2', ipDestination: 'ff02::1:ff00:1', ndp: { type: 'neighbor-solicitation', target: '2001:db8::1', sourceLinkLayer: them } }),
    ].map((data) => ({ data, receivedAt: 0n }));
    for (let round = 0; round < rounds; round++) for (const request of requests) responder.answer(request);
  }

  /** Canonical address texts (as src/l2/targets.ts produces them). */
  setAddresses(addresses: Iterable<string>): void {
    const keys = new Set<string>();
    for (const ip of addresses) {
      const bytes = isIP(ip) === 4 ? ipv4ToBytes(ip) : ipv6ToBytes(ip);
      keys.add(addressKey(bytes, 0, bytes.length));
    }
    this.addresses = keys;
  }

  answer({ data }: ReceivedFrame): Handling {
    if (data.length < MACS_LENGTH + 2) return { ignored: 'malformed' };
    if (this.mac.compare(data, 6, MACS_LENGTH) === 0) return { ignored: 'our-own-frame' };
    let etherType = data.readUInt16BE(MACS_LENGTH);
    let payload = MACS_LENGTH + 2;
    if (etherType === EtherType.VLAN) {
      if (data.length < payload + VLAN_TAG_LENGTH) return { ignored: 'malformed' };
      etherType = data.readUInt16BE(payload + 2);
      payload += VLAN_TAG_LENGTH;
    }
    if (etherType === EtherType.ARP) return this.answerArp(data, payload);
    if (etherType === EtherType.IPv6) return this.answerNdp(data, payload);
    return { ignored: 'not-arp-or-ndp' };
  }

  private answerArp(request: Buffer, arp: number): Handling {
    if (
      request.length < arp + ARP_LENGTH ||
      request.readUInt16BE(arp) !== HARDWARE_TYPE_ETHERNET ||
      request.readUInt16BE(arp + 2) !== EtherType.IPv4 ||
      request[arp + 4] !== 6 ||
      request[arp + 5] !== 4
    ) {
      return { ignored: 'malformed' };
    }
    if (request.readUInt16BE(arp + 6) !== ArpOperation.Request) return { ignored: 'not-a-request' };
    const targetIp = arp + ARP_TARGET_IP;
    if (!this.addresses.has(addressKey(request, targetIp, 4))) return { ignored: 'not-our-address' };
    // A gratuitous request (sender = target) announces someone else's claim: it asks nothing.
    if (request.compare(request, arp + ARP_SENDER_IP, arp + ARP_SENDER_IP + 4, targetIp, targetIp + 4) === 0) {
      return { ignored: 'not-a-request' };
    }
    // RFC 826: swap sender and target, fill in our hardware address, answer by unicast on
    // the VLAN the question came from. A probe from 0.0.0.0 (RFC 5227 2.1.1) is answered
    // the same way, so the prober sees the conflict.
    const reply = Buffer.alloc(arp + ARP_LENGTH);
    request.copy(reply, 0, arp + ARP_SENDER_MAC, arp + ARP_SENDER_MAC + 6);
    this.mac.copy(reply, 6);
    request.copy(reply, MACS_LENGTH, MACS_LENGTH, arp);
    request.copy(reply, arp, arp, arp + 6);
    reply.writeUInt16BE(ArpOperation.Reply, arp + 6);
    this.mac.copy(reply, arp + ARP_SENDER_MAC);
    request.copy(reply, arp + ARP_SENDER_IP, targetIp, targetIp + 4);
    request.copy(reply, arp + ARP_TARGET_MAC, arp + ARP_SENDER_MAC, arp + ARP_SENDER_IP + 4);
    return { reply };
  }

  private answerNdp(request: Buffer, ip: number): Handling {
    const icmp = ip + IPV6_HEADER_LENGTH;
    if (request.length < icmp || request[ip]! >>> 4 !== 6) return { ignored: 'malformed' };
    const end = icmp + request.readUInt16BE(ip + 4);
    if (end > request.length) return { ignored: 'malformed' };
    if (request[ip + 6] !== NEXT_HEADER_ICMPV6) return { ignored: 'not-arp-or-ndp' };
    const source = request.subarray(ip + IPV6_SOURCE, ip + IPV6_SOURCE + 16);
    const destination = request.subarray(ip + IPV6_DESTINATION, ip + IPV6_DESTINATION + 16);
    if (end - icmp < 4 || ipv6UpperLayerChecksum(source, destination, NEXT_HEADER_ICMPV6, request.subarray(icmp, end)) !== 0) {
      return { ignored: 'malformed' };
    }
    if (request[icmp] === Icmpv6Type.NeighborAdvertisement) return { ignored: 'not-a-request' };
    if (request[icmp] !== Icmpv6Type.NeighborSolicitation) return { ignored: 'not-arp-or-ndp' };
    if (request[icmp + 1] !== 0 || end - icmp < NDP_OPTIONS) return { ignored: 'malformed' };
    let askerMacAt: number | undefined;
    try {
      askerMacAt = scanNdpOptions(request, icmp + NDP_OPTIONS, end, NdpOptionType.SourceLinkLayer).linkLayerAt;
    } catch (error) {
      if (error instanceof DecodeError) return { ignored: 'malformed' };
      throw error;
    }
    const dad = source.every((byte) => byte === 0);
    // RFC 4861 7.1.1: a solicitation from :: (duplicate address detection) goes to a
    // solicited-node group and names no source link-layer address; otherwise it is invalid.
    if (dad && (askerMacAt !== undefined || SOLICITED_NODE_PREFIX.compare(destination, 0, SOLICITED_NODE_PREFIX.length) !== 0)) {
      return { ignored: 'malformed' };
    }
    // RFC 4861 7.1.1: a solicitation that did not arrive with hop limit 255 came from off-link.
    if (request[ip + 7] !== NDP_HOP_LIMIT) return { ignored: 'hop-limit-not-255' };
    const target = icmp + NDP_TARGET;
    if (!this.addresses.has(addressKey(request, target, 16))) return { ignored: 'not-our-address' };
    // RFC 4861 7.2.4: answer the solicitor with Solicited set; a DAD probe from :: gets an
    // answer to all-nodes with Solicited clear (RFC 4862 5.4.3 relies on it).
    const reply = Buffer.alloc(icmp + NA_LENGTH);
    if (dad) ALL_NODES_MAC_BYTES.copy(reply, 0);
    else request.copy(reply, 0, askerMacAt ?? 6, (askerMacAt ?? 6) + 6);
    this.mac.copy(reply, 6);
    request.copy(reply, MACS_LENGTH, MACS_LENGTH, ip);
    reply.writeUInt32BE(0x60000000, ip);
    reply.writeUInt16BE(NA_LENGTH, ip + 4);
    reply[ip + 6] = NEXT_HEADER_ICMPV6;
    reply[ip + 7] = NDP_HOP_LIMIT;
    request.copy(reply, ip + IPV6_SOURCE, target, target + 16);
    (dad ? ALL_NODES_BYTES : source).copy(reply, ip + IPV6_DESTINATION);
    reply[icmp] = Icmpv6Type.NeighborAdvertisement;
    reply.writeUInt32BE((dad ? NaFlag.Override : NaFlag.Solicited | NaFlag.Override) >>> 0, icmp + 4);
    request.copy(reply, icmp + NDP_TARGET, target, target + 16);
    reply[icmp + NDP_OPTIONS] = NdpOptionType.TargetLinkLayer;
    reply[icmp + NDP_OPTIONS + 1] = 1;
    this.mac.copy(reply, icmp + NDP_OPTIONS + 2);
    const checksum = ipv6UpperLayerChecksum(
      reply.subarray(ip + IPV6_SOURCE, ip + IPV6_SOURCE + 16),
      reply.subarray(ip + IPV6_DESTINATION, ip + IPV6_DESTINATION + 16),
      NEXT_HEADER_ICMPV6,
      reply.subarray(icmp),
    );
    reply.writeUInt16BE(checksum, icmp + 2);
    return { reply };
  }
}

/** Why the responder found a frame malformed, in the codec's words (read only for frames it could not answer). */
export function describeMalformed(frame: Buffer): string {
  try {
    decodeFrame(frame);
  } catch (error) {
    if (error instanceof DecodeError) return error.message;
    throw error;
  }
  // The codec reads it; the only rule the responder adds is RFC 4861 7.1.1's for DAD probes.
  return 'a duplicate address probe (from ::) with a source link-layer address or not to a solicited-node group (RFC 4861 7.1.1)';
}

/** Who asked, in text, for a request the responder answered: decoded by the codec, after the reply has left. */
export function describeRequest(request: Buffer): Answered {
  const { ethernet, arp, ipv6, ndp } = decodeFrame(request);
  if (arp) return { ip: arp.targetIp, requesterMac: arp.senderMac, requesterIp: arp.senderIp };
  if (ndp?.type !== 'neighbor-solicitation' || !ipv6) throw new DecodeError('responder', 'not a request the responder answers');
  return { ip: ndp.target, requesterMac: ndp.sourceLinkLayer ?? ethernet.source, requesterIp: ipv6.source };
}
