import type { Link, ReceivedFrame } from '../link/link.js';
import { ArpOperation } from '../wire/arp.js';
import { DecodeError } from '../wire/decode-error.js';
import type { VlanTag } from '../wire/ethernet.js';
import { decodeFrame, encodeArpFrame, encodeNdpFrame, type DecodedFrame } from '../wire/frame.js';
import { ipv6MulticastMac, solicitedNodeMulticast } from '../wire/ip-address.js';
import { BROADCAST_MAC, ZERO_MAC } from '../wire/mac.js';

export interface ProberOptions {
  link: Link;
  family: 4 | 6;
  /** Our address in the target subnet; absent for duplicate address detection (0.0.0.0 / ::). */
  sourceIp?: string;
  vlan?: VlanTag;
}

/** An answer to one of our probes. */
export interface Reply {
  ip: string;
  /** The MAC that answers for `ip` (ARP sender / NDP target link-layer address). */
  mac: string;
  receivedAt: bigint;
  /** Time from our last probe to `ip` until this reply, in milliseconds. */
  rttMs?: number;
}

/** Why a received frame was not counted as a reply (after MetalLB's responder: every ignored frame has a reason). */
export type DropReason =
  | 'malformed'
  | 'not-arp-or-ndp'
  | 'not-a-reply'
  | 'hop-limit-not-255'
  | 'not-a-target'
  | 'not-for-us'
  | 'our-own-frame';

export type Classification = { reply: Reply } | { dropped: DropReason };

/**
 * Sends ARP requests / Neighbor Solicitations and recognises the answers. It holds no
 * timers: the single-target loop and the sweep decide when to probe.
 */
export class Prober {
  private readonly lastSent = new Map<string, bigint>();
  readonly sourceIp: string;

  constructor(private readonly options: ProberOptions) {
    this.sourceIp = options.sourceIp ?? (options.family === 4 ? '0.0.0.0' : '::');
  }

  /** The capture filter: only what can be an answer reaches JavaScript. */
  static captureFilter(family: 4 | 6, vlan?: VlanTag): string {
    // ICMPv6 type 136 is a Neighbor Advertisement; ip6[40] is the ICMPv6 type when no extension headers precede it.
    const protocol = family === 4 ? 'arp' : 'icmp6 and ip6[40] == 136';
    return vlan ? `vlan ${vlan.id} and ${protocol}` : protocol;
  }

  get isDad(): boolean {
    return this.options.sourceIp === undefined;
  }

  /** Probe `target`: broadcast (ARP) or solicited-node multicast (NDP) unless a MAC is given. */
  probe(target: string, destinationMac?: string): void {
    const { link, vlan } = this.options;
    const frame =
      this.options.family === 4
        ? encodeArpFrame({
            source: link.mac,
            destination: destinationMac ?? BROADCAST_MAC,
            vlan,
            arp: { operation: ArpOperation.Request, senderMac: link.mac, senderIp: this.sourceIp, targetMac: ZERO_MAC, targetIp: target },
          })
        : encodeNdpFrame({
            source: link.mac,
            destination: destinationMac ?? ipv6MulticastMac(solicitedNodeMulticast(target)),
            vlan,
            ipSource: this.sourceIp,
            // RFC 4861 7.2.2: multicast to the solicited-node address; RFC 4862 5.4.2: a DAD probe carries no source link-layer option.
            ipDestination: destinationMac ? target : solicitedNodeMulticast(target),
            ndp: { type: 'neighbor-solicitation', target, sourceLinkLayer: this.isDad ? undefined : link.mac },
          });
    this.lastSent.set(target, link.send(frame));
  }

  classify(frame: ReceivedFrame): Classification {
    let decoded;
    try {
      decoded = decodeFrame(frame.data);
    } catch (error) {
      if (error instanceof DecodeError) return { dropped: 'malformed' };
      throw error;
    }
    if (decoded.ethernet.source === this.options.link.mac) {
      this.noteDeparture(decoded, frame.receivedAt);
      return { dropped: 'our-own-frame' };
    }
    return this.options.family === 4 ? this.classifyArp(decoded, frame.receivedAt) : this.classifyNdp(decoded, frame.receivedAt);
  }

  /** Our own probe, seen leaving: its capture time is when it was really sent. */
  private noteDeparture(decoded: DecodedFrame, leftAt: bigint): void {
    const target = decoded.arp?.operation === ArpOperation.Request ? decoded.arp.targetIp : decoded.ndp?.type === 'neighbor-solicitation' ? decoded.ndp.target : undefined;
    if (target !== undefined && this.lastSent.has(target)) this.lastSent.set(target, leftAt);
  }

  private classifyArp(decoded: DecodedFrame, receivedAt: bigint): Classification {
    const { arp } = decoded;
    if (!arp) return { dropped: 'not-arp-or-ndp' };
    if (arp.operation !== ArpOperation.Reply) return { dropped: 'not-a-reply' };
    if (!this.lastSent.has(arp.senderIp)) return { dropped: 'not-a-target' };
    // A reply to our probe is addressed to our source address (0.0.0.0 for a DAD probe, RFC 5227 2.1.1).
    if (arp.targetIp !== this.sourceIp && !this.isDad) return { dropped: 'not-for-us' };
    return { reply: this.reply(arp.senderIp, arp.senderMac, receivedAt) };
  }

  private classifyNdp(decoded: DecodedFrame, receivedAt: bigint): Classification {
    const { ndp, ipv6, ethernet } = decoded;
    if (!ndp || !ipv6) return { dropped: 'not-arp-or-ndp' };
    if (ndp.type !== 'neighbor-advertisement') return { dropped: 'not-a-reply' };
    // RFC 4861 7.1.2: an advertisement that did not arrive with hop limit 255 may come from off-link.
    if (ipv6.hopLimit !== 255) return { dropped: 'hop-limit-not-255' };
    if (!this.lastSent.has(ndp.target)) return { dropped: 'not-a-target' };
    // RFC 4861 7.2.4: a solicited answer goes back to the solicitor; DAD answers go to all-nodes (RFC 4862 5.4.4).
    if (!this.isDad && (!ndp.solicited || ipv6.destination !== this.sourceIp)) return { dropped: 'not-for-us' };
    return { reply: this.reply(ndp.target, ndp.targetLinkLayer ?? ethernet.source, receivedAt) };
  }

  private reply(ip: string, mac: string, receivedAt: bigint): Reply {
    const sentAt = this.lastSent.get(ip);
    const rttMs = sentAt === undefined ? undefined : Number(receivedAt - sentAt) / 1e6;
    return { ip, mac, receivedAt, rttMs };
  }
}
