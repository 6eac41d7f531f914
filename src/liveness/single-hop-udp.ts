/**
 * What BFD (RFC 5881) and vipkit's membership messages share: UDP datagrams between
 * neighbours on one link, sent with TTL 255 and accepted only when they arrive with 255,
 * so that nothing from beyond the link is believed (RFC 5881 5, after RFC 5082). Received
 * through the link because a datagram socket cannot read a received TTL.
 */
import dgram from 'node:dgram';
import type { Link } from '../link/link.js';
import { DecodeError } from '../wire/decode-error.js';
import { ethernet, EtherType } from '../wire/ethernet.js';
import { IpProtocol, ipv4 } from '../wire/ipv4.js';
import { ipv6 } from '../wire/ipv6.js';
import { udp } from '../wire/udp.js';

export const SINGLE_HOP_TTL = 255;

export interface SingleHopDatagram<Payload> {
  from: string;
  to: string;
  payload: Payload;
  receivedAt: bigint;
}

/**
 * Hands each datagram to `port` that `link` captures, from this link, decoded with
 * `decode` (which throws only DecodeError), to `accept`; one with another TTL or that does
 * not decode goes to `discard` with the reason. Returns the function that stops listening.
 */
export function receiveSingleHop<Payload>(
  link: Link,
  port: number,
  decode: (payload: Buffer) => Payload,
  accept: (datagram: SingleHopDatagram<Payload>) => void,
  discard: (discarded: { from?: string; reason: string }) => void,
): () => void {
  return link.onFrame((frame) => {
    let from: string | undefined;
    try {
      const datagram = udpDatagramTo(frame.data, port);
      if (datagram === undefined) return;
      ({ from } = datagram);
      if (datagram.ttl !== SINGLE_HOP_TTL) return discard({ from, reason: `TTL ${datagram.ttl}, not ${SINGLE_HOP_TTL}: not from this link (RFC 5881 5)` });
      accept({ from, to: datagram.to, payload: decode(datagram.payload), receivedAt: frame.receivedAt });
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      discard({ ...(from !== undefined ? { from } : {}), reason: error.message });
    }
  });
}

/** The UDP datagram to `port` in an Ethernet frame, or undefined for any other frame; throws DecodeError for one it cannot read. */
function udpDatagramTo(frame: Buffer, port: number): { from: string; to: string; ttl: number; payload: Buffer } | undefined {
  const { etherType, payload } = ethernet.decode(frame);
  let packet: { from: string; to: string; ttl: number; payload: Buffer };
  if (etherType === EtherType.IPv4) {
    const ip = ipv4.decode(payload);
    if (ip.protocol !== IpProtocol.Udp || ip.fragmentOffset !== 0) return undefined;
    packet = { from: ip.source, to: ip.destination, ttl: ip.ttl, payload: ip.payload };
  } else if (etherType === EtherType.IPv6) {
    const ip = ipv6.decode(payload);
    if (ip.nextHeader !== IpProtocol.Udp) return undefined;
    packet = { from: ip.source, to: ip.destination, ttl: ip.hopLimit, payload: ip.payload };
  } else {
    return undefined;
  }
  const { destinationPort, payload: datagram } = udp.decode(packet.payload);
  return destinationPort === port ? { ...packet, payload: datagram } : undefined;
}

/** A UDP socket bound to `address` (undefined: every address) and `port`, exclusively. */
export function bindUdp(type: 'udp4' | 'udp6', address: string | undefined, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type, reuseAddr: false });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.close();
      reject(error);
    });
    socket.bind({ address, port, exclusive: true }, () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}
