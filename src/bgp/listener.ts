/**
 * The router side of BGP for speakers that connect in: a TCP listener that accepts
 * connections from addresses in the configured ranges (as BIRD's `neighbor range`) and
 * runs one passive BgpSession per speaker. Connections from anywhere else are refused
 * with a Cease / Connection Rejected NOTIFICATION (RFC 4486 4) and closed.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { BgpSession, type SessionConfig } from './session.js';
import { encodeMessage } from '../wire/bgp/message.js';
import { CeaseSubcode, ErrorCode } from '../wire/bgp/notification-codes.js';
import { BASE_CONTEXT } from '../wire/bgp/registry.js';

export interface ListenerConfig {
  /** Address to listen on; absent: every address, IPv4 and IPv6. */
  address?: string;
  port: number;
  /** Whether a connection from this address may become a session. */
  accepts(address: string): boolean;
  /** The session settings for a speaker at `peerAddress` (passive is forced). */
  sessionConfig(peerAddress: string): Omit<SessionConfig, 'peerAddress' | 'passive'>;
}

export interface ListenerEvents {
  /** A speaker connected and its passive session took the connection. */
  session: [BgpSession];
  /** A connection refused, and why. */
  rejected: [{ address: string; reason: string }];
}

/** `::ffff:192.0.2.11` (an IPv4 peer on a dual-stack socket) is 192.0.2.11. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

export class BgpListener extends EventEmitter<ListenerEvents> {
  private readonly server = net.createServer((socket) => this.connection(socket));
  /** The session per speaker address, kept while it is connected or up. */
  private readonly sessions = new Map<string, BgpSession>();

  constructor(private readonly config: ListenerConfig) {
    super();
  }

  /** Resolves once listening; rejects as listenOn does. */
  listen(): Promise<void> {
    return listenOn(this.server, this.config.address, this.config.port);
  }

  get address(): net.AddressInfo {
    return this.server.address() as net.AddressInfo;
  }

  /** Stops listening and closes every session with a Cease / Administrative Shutdown. */
  async close(message: string): Promise<void> {
    this.server.close();
    await Promise.all([...this.sessions.values()].map((session) => session.stop(message)));
    this.sessions.clear();
  }

  private connection(socket: net.Socket): void {
    const address = plainAddress(socket.remoteAddress ?? '');
    // An error on a socket no session has taken yet must not reach the process.
    socket.on('error', () => socket.destroy());
    if (!this.config.accepts(address)) {
      this.reject(socket, address, `${address} is not in the accepted ranges`);
      return;
    }
    const existing = this.sessions.get(address);
    if (existing && existing.state !== 'Active') {
      // RFC 4271 6.8 would compare BGP identifiers; a listener that never connects out keeps the session it has.
      this.reject(socket, address, `${address} already has a session (${existing.state})`, CeaseSubcode.ConnectionCollisionResolution);
      return;
    }
    const session = existing ?? this.newSession(address);
    session.accept(socket);
  }

  private newSession(address: string): BgpSession {
    const session = new BgpSession({ ...this.config.sessionConfig(address), peerAddress: address, passive: true });
    this.sessions.set(address, session);
    // A passive session that fails waits in Idle for its retry timer; a new connection
    // from the speaker starts a fresh session instead.
    session.on('state', ({ to }) => {
      if (to !== 'Idle' || this.sessions.get(address) !== session) return;
      this.sessions.delete(address);
      void session.stop('session closed');
    });
    session.start();
    this.emit('session', session);
    return session;
  }

  private reject(socket: net.Socket, address: string, reason: string, subcode: number = CeaseSubcode.ConnectionRejected): void {
    rejectConnection(socket, subcode);
    this.emit('rejected', { address, reason });
  }
}

/** Resolves once `server` listens; rejects with the socket error (EADDRINUSE, EACCES, EADDRNOTAVAIL). */
export function listenOn(server: net.Server, address: string | undefined, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Refuses a connection with a Cease NOTIFICATION (RFC 4486: Connection Rejected by default) and closes it. */
export function rejectConnection(socket: net.Socket, subcode: number = CeaseSubcode.ConnectionRejected): void {
  socket.on('error', () => socket.destroy());
  socket.end(encodeMessage({ type: 'notification', code: ErrorCode.Cease, subcode }, BASE_CONTEXT));
  setTimeout(() => socket.destroy(), 1000).unref();
}
