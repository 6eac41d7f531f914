/**
 * BFD Control packets over single-hop UDP (RFC 5881). They are received through the link,
 * because the IP header is needed: a packet whose TTL (IPv6: Hop Limit) is not 255 may
 * come from beyond the link and is discarded (RFC 5881 5) — a datagram socket cannot read
 * a received TTL. They are sent from datagram sockets with TTL 255, each from one source
 * port in 49152-65535 (RFC 5881 4); a socket bound to port 3784 keeps the kernel from
 * answering the peers' packets with ICMP port unreachable.
 */
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import type { Link } from '../link/link.js';
import { UserError } from '../user-error.js';
import { bfdControl, type BfdControlPacket } from '../wire/bfd.js';
import { bindUdp, receiveSingleHop, SINGLE_HOP_TTL } from './single-hop-udp.js';

/** RFC 5881 4: single-hop BFD Control packets go to UDP port 3784. */
export const BFD_CONTROL_PORT = 3784;
/** What a link must capture for the transport (tcpdump syntax; VLAN-tagged frames are matched by the link's own filter). */
export const BFD_CAPTURE_FILTER = `udp dst port ${BFD_CONTROL_PORT}`;
/** RFC 5881 4: the source port range. */
const SOURCE_PORTS = { first: 49152, last: 65535 };
const BIND_ATTEMPTS = 20;

export interface ReceivedControl {
  from: string;
  to: string;
  packet: BfdControlPacket;
  receivedAt: bigint;
}

export interface BfdTransportEvents {
  control: [ReceivedControl];
  /** A BFD datagram that was not accepted, and why (malformed, not single-hop): counted by the caller, never fatal. */
  discarded: [{ from?: string; reason: string }];
}

/** A port the transport needs is taken (another BFD daemon on this host?), or an address is not ours. */
export class BfdTransportError extends UserError {
  override readonly name = 'BfdTransportError';
}

export class BfdTransport extends EventEmitter<BfdTransportEvents> {
  private readonly stopListening: () => void;

  private constructor(
    link: Link,
    /** Local address -> the socket that sends from it. */
    private readonly senders: Map<string, dgram.Socket>,
    private readonly listener: dgram.Socket,
  ) {
    super();
    this.stopListening = receiveSingleHop(
      link,
      BFD_CONTROL_PORT,
      (payload) => bfdControl.decode(payload),
      ({ from, to, payload, receivedAt }) => this.emit('control', { from, to, packet: payload, receivedAt }),
      (discarded) => this.emit('discarded', discarded),
    );
  }

  /** Sends from each of `localAddresses` (one per peer family) and listens on `link`, which must capture BFD_CAPTURE_FILTER. */
  static async open(link: Link, localAddresses: readonly string[]): Promise<BfdTransport> {
    const sockets: dgram.Socket[] = [];
    try {
      const listener = await bindUdp(isIPv4(localAddresses[0] ?? '0.0.0.0') ? 'udp4' : 'udp6', undefined, BFD_CONTROL_PORT).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EADDRINUSE') throw error;
        throw new BfdTransportError(`UDP port ${BFD_CONTROL_PORT} is taken: another BFD daemon (BIRD, FRR's bfdd, keepalived) runs on this host.`);
      });
      sockets.push(listener);
      // Its datagrams arrive through the link, with their TTL; here they are only drained.
      listener.on('message', () => {});
      const senders = new Map<string, dgram.Socket>();
      for (const address of localAddresses) {
        const sender = await bindSourcePort(address);
        sockets.push(sender);
        sender.setTTL(SINGLE_HOP_TTL);
        senders.set(address, sender);
      }
      return new BfdTransport(link, senders, listener);
    } catch (error) {
      for (const socket of sockets) socket.close();
      throw error;
    }
  }

  /** Sends `packet` to `to` from `from` (one of the local addresses). */
  send(from: string, to: string, packet: BfdControlPacket): void {
    const sender = this.senders.get(from);
    if (!sender) throw new Error(`the BFD transport does not send from ${from}`);
    sender.send(bfdControl.encode(packet), BFD_CONTROL_PORT, to);
  }

  close(): void {
    this.stopListening();
    this.listener.close();
    for (const sender of this.senders.values()) sender.close();
  }
}

/** A socket on `address` with a free source port of RFC 5881 4's range, tried at random. */
async function bindSourcePort(address: string): Promise<dgram.Socket> {
  for (let attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
    const port = SOURCE_PORTS.first + Math.floor(Math.random() * (SOURCE_PORTS.last - SOURCE_PORTS.first + 1));
    try {
      return await bindUdp(isIPv4(address) ? 'udp4' : 'udp6', address, port);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRNOTAVAIL') throw new BfdTransportError(`cannot send BFD from ${address}: that address is not configured on this host.`);
      if (code !== 'EADDRINUSE') throw error;
    }
  }
  throw new BfdTransportError(`no free UDP source port for BFD from ${address} in ${SOURCE_PORTS.first}-${SOURCE_PORTS.last} after ${BIND_ATTEMPTS} tries.`);
}
