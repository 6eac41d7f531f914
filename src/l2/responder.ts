import type { ReceivedFrame } from '../link/link.js';
import { ArpOperation } from '../wire/arp.js';
import { DecodeError } from '../wire/decode-error.js';
import type { VlanTag } from '../wire/ethernet.js';
import { decodeFrame, encodeArpFrame, encodeNdpFrame, type DecodedFrame } from '../wire/frame.js';
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
export type Handling = { answered: Answered; reply: Buffer } | { ignored: IgnoredReason };

/**
 * Answers ARP requests and Neighbor Solicitations for a set of addresses with the link's
 * MAC, the way a kernel answers for its own addresses, without the addresses being
 * configured anywhere. The set is declarative: `setAddresses` replaces it. It decides and
 * builds; the caller sends, so the logic runs without a wire (and can be warmed up).
 */
export class Responder {
  private addresses = new Set<string>();

  /** @param mac the MAC we answer with: the link's. */
  constructor(private readonly mac: string) {}

  /** What the capture filter lets through: ARP, and ICMPv6 Neighbor Solicitations (type 135). */
  static captureFilter(vlan?: VlanTag): string {
    const protocols = '(arp or (icmp6 and ip6[40] == 135))';
    return vlan ? `vlan ${vlan.id} and ${protocols}` : protocols;
  }

  /**
   * Runs the answering code on made-up requests until V8 has compiled it, so that the
   * first real request is not answered by the interpreter (10x slower here). Nothing is sent.
   */
  static warmUp(rounds = 2_000): void {
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
    this.addresses = new Set(addresses);
  }

  answer(frame: ReceivedFrame): Handling {
    let decoded: DecodedFrame;
    try {
      decoded = decodeFrame(frame.data);
    } catch (error) {
      if (error instanceof DecodeError) return { ignored: 'malformed' };
      throw error;
    }
    if (decoded.ethernet.source === this.mac) return { ignored: 'our-own-frame' };
    if (decoded.arp) return this.answerArp(decoded);
    if (decoded.ndp && decoded.ipv6) return this.answerNdp(decoded);
    return { ignored: 'not-arp-or-ndp' };
  }

  /** Answers go back on the VLAN the question came from. */
  private answerArp({ arp, ethernet }: DecodedFrame): Handling {
    if (arp!.operation !== ArpOperation.Request) return { ignored: 'not-a-request' };
    if (!this.addresses.has(arp!.targetIp)) return { ignored: 'not-our-address' };
    // A gratuitous request (sender = target) announces someone else's claim: it asks nothing.
    if (arp!.senderIp === arp!.targetIp) return { ignored: 'not-a-request' };
    const { senderMac, senderIp, targetIp } = arp!;
    // RFC 826: swap sender and target, fill in our hardware address, answer by unicast.
    // A probe from 0.0.0.0 (RFC 5227 2.1.1) is answered the same way, so the prober sees the conflict.
    const reply = encodeArpFrame({
      source: this.mac,
      destination: senderMac,
      vlan: ethernet.vlan,
      arp: { operation: ArpOperation.Reply, senderMac: this.mac, senderIp: targetIp, targetMac: senderMac, targetIp: senderIp },
    });
    return { answered: { ip: targetIp, requesterMac: senderMac, requesterIp: senderIp }, reply };
  }

  private answerNdp({ ndp, ipv6, ethernet }: DecodedFrame): Handling {
    if (ndp!.type !== 'neighbor-solicitation') return { ignored: 'not-a-request' };
    // RFC 4861 7.1.1: a solicitation that did not arrive with hop limit 255 came from off-link.
    if (ipv6!.hopLimit !== 255) return { ignored: 'hop-limit-not-255' };
    if (!this.addresses.has(ndp!.target)) return { ignored: 'not-our-address' };
    const dad = ipv6!.source === '::';
    const requesterMac = ndp!.sourceLinkLayer ?? ethernet.source;
    // RFC 4861 7.2.4: answer the solicitor with Solicited set; a DAD probe from :: gets an
    // answer to all-nodes with Solicited clear (RFC 4862 5.4.3 relies on it).
    const reply = encodeNdpFrame({
      source: this.mac,
      destination: dad ? ALL_NODES_MAC : requesterMac,
      vlan: ethernet.vlan,
      ipSource: ndp!.target,
      ipDestination: dad ? ALL_NODES : ipv6!.source,
      ndp: { type: 'neighbor-advertisement', router: false, solicited: !dad, override: true, target: ndp!.target, targetLinkLayer: this.mac },
    });
    return { answered: { ip: ndp!.target, requesterMac, requesterIp: ipv6!.source }, reply };
  }
}
