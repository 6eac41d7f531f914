/**
 * Membership messages (membership.ts, wire/membership.ts) over UDP between the members on
 * one link, with BFD's single-hop rules (single-hop-udp.ts): sent with TTL 255 from this
 * node's member address, received through the link and believed only with TTL 255.
 */
import type dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import type { Link } from '../link/link.js';
import { UserError } from '../user-error.js';
import { membershipMessage, type MembershipMessage } from '../wire/membership.js';
import type { MembershipChannel } from './membership.js';
import { bindUdp, receiveSingleHop, SINGLE_HOP_TTL } from './single-hop-udp.js';

/** The membership messages' UDP port: the one memberlist (MetalLB's membership) uses, plus one. */
export const MEMBERSHIP_PORT = 7947;
/** What a link must capture for the transport (tcpdump syntax). */
export const MEMBERSHIP_CAPTURE_FILTER = `udp dst port ${MEMBERSHIP_PORT}`;

export interface MembershipTransportEvents {
  message: [{ from: string; message: MembershipMessage }];
  discarded: [{ from?: string; reason: string }];
}

/** The membership port is taken, or the address is not ours. */
export class MembershipTransportError extends UserError {
  override readonly name = 'MembershipTransportError';
}

export class MembershipTransport extends EventEmitter<MembershipTransportEvents> implements MembershipChannel {
  private readonly stopListening: () => void;

  private constructor(
    link: Link,
    private readonly socket: dgram.Socket,
  ) {
    super();
    this.stopListening = receiveSingleHop(
      link,
      MEMBERSHIP_PORT,
      (payload) => membershipMessage.decode(payload),
      ({ from, payload }) => this.emit('message', { from, message: payload }),
      (discarded) => this.emit('discarded', discarded),
    );
  }

  /** Sends from `local` and listens on `link`, which must capture MEMBERSHIP_CAPTURE_FILTER. */
  static async open(link: Link, local: string): Promise<MembershipTransport> {
    const socket = await bindUdp(isIPv4(local) ? 'udp4' : 'udp6', local, MEMBERSHIP_PORT).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') throw new MembershipTransportError(`UDP port ${MEMBERSHIP_PORT} on ${local} is taken: another vipkit run on this host?`);
      if (error.code === 'EADDRNOTAVAIL') throw new MembershipTransportError(`cannot send membership messages from ${local}: that address is not configured on this host.`);
      throw error;
    });
    socket.setTTL(SINGLE_HOP_TTL);
    // Its datagrams arrive through the link, with their TTL; here they are only drained.
    socket.on('message', () => {});
    return new MembershipTransport(link, socket);
  }

  send(to: string, message: MembershipMessage): void {
    this.socket.send(membershipMessage.encode(message), MEMBERSHIP_PORT, to);
  }

  close(): void {
    this.stopListening();
    this.socket.close();
  }
}
