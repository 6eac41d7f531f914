/**
 * The router side of BGP for speakers that connect in: a TCP listener that accepts
 * connections from addresses in the configured ranges (as BIRD's `neighbor range`) and
 * runs one passive BgpSession per speaker. Connections from anywhere else are refused
 * with a Cease / Connection Rejected NOTIFICATION (RFC 4486 4) and closed; a second
 * connection from a speaker is the session's to settle (session.ts, RFC 4271 6.8).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { UserError } from '../user-error.js';
import { BgpSession, handOverConnection, type SessionConfig } from './session.js';

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
    const { address, refused } = handOverConnection(socket, (from) =>
      this.config.accepts(from) ? (this.sessions.get(from) ?? this.newSession(from)) : `${from} is not in the accepted ranges`,
    );
    if (refused !== undefined) this.emit('rejected', { address, reason: refused });
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
}

/** Listening failed for a reason the user can fix: the port is taken, privileged, or the address not ours. */
export class ListenError extends UserError {}

function listenErrorSentence(error: NodeJS.ErrnoException, where: string): string {
  switch (error.code) {
    case 'EADDRINUSE':
      return `cannot listen on ${where}: another process (a BGP daemon?) already does.`;
    case 'EACCES':
      return `cannot listen on ${where}: ports below 1024 need root or CAP_NET_BIND_SERVICE.`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: that address is not configured on this host.`;
    default:
      return `cannot listen on ${where}: ${error.code ?? error.message}.`;
  }
}

/** Resolves once `server` listens; rejects with a ListenError in one sentence. */
export function listenOn(server: net.Server, address: string | undefined, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(new ListenError(listenErrorSentence(error, `${address ?? 'every address'} port ${port}`)));
    server.once('error', failed);
    server.listen({ host: address, port }, () => {
      server.off('error', failed);
      resolve();
    });
  });
}
