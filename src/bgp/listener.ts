/**
 * Accepting BGP connections. BgpListener is the one TCP listener: each connection goes
 * to the session the caller names for the remote address, or is refused with a Cease /
 * Connection Rejected NOTIFICATION (RFC 4486 4) and closed; a second connection from a
 * peer is its session's to settle (session.ts, RFC 4271 6.8). PassiveSessions is the
 * router side on top of it: a new passive session per speaker that connects in.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { UserError } from '../user-error.js';
import { BgpSession, handOverConnection, type SessionConfig } from './session.js';
import { applyTcpOptions, type PeerKey } from './tcp-options.js';

export interface ListenerConfig {
  /** Address to listen on; absent: every address, IPv4 and IPv6. */
  address?: string;
  port: number;
  /** TCP-MD5 keys of the peers that have a password (RFC 2385): a connection from them must be signed. */
  keys?: PeerKey[];
  /** The session that takes a connection from `address`, or why the connection is refused. */
  sessionFor(address: string): BgpSession | string;
}

export interface ListenerEvents {
  /** A connection refused (no session for its address, or its session would not take it), and why. */
  rejected: [{ address: string; reason: string }];
}

export class BgpListener extends EventEmitter<ListenerEvents> {
  private readonly server = net.createServer((socket) => {
    const { address, refused } = handOverConnection(socket, (from) => this.config.sessionFor(from));
    if (refused !== undefined) this.emit('rejected', { address, reason: refused });
  });

  constructor(private readonly config: ListenerConfig) {
    super();
  }

  /** Resolves once listening; rejects with a ListenError in one sentence. */
  listen(): Promise<void> {
    const { address, port } = this.config;
    return new Promise((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException) => reject(new ListenError(listenErrorSentence(error, `${address ?? 'every address'} port ${port}`)));
      this.server.once('error', failed);
      this.server.listen({ host: address, port }, () => {
        this.server.off('error', failed);
        try {
          if (this.config.keys?.length) applyTcpOptions(this.server, { keys: this.config.keys });
        } catch (error) {
          this.close();
          reject(error as Error);
          return;
        }
        resolve();
      });
    });
  }

  get address(): net.AddressInfo {
    return this.server.address() as net.AddressInfo;
  }

  /** Stops listening; the sessions that took connections are their owners' to stop. */
  close(): void {
    if (this.server.listening) this.server.close();
  }
}

export interface PassiveSessionsEvents {
  /** A speaker connected and a new passive session took the connection. */
  session: [BgpSession];
}

/**
 * The router side of BGP for speakers that connect in (as BIRD's `neighbor range`): a
 * passive session per speaker address, made on its first connection. Give `sessionFor`
 * to a BgpListener for the addresses it accepts.
 */
export class PassiveSessions extends EventEmitter<PassiveSessionsEvents> {
  /** The session per speaker address, kept while it is connected or up. */
  private readonly sessions = new Map<string, BgpSession>();

  /** `settings`: the session settings for a speaker at `peerAddress` (passive is forced). */
  constructor(private readonly settings: (peerAddress: string) => Omit<SessionConfig, 'peerAddress' | 'passive'>) {
    super();
  }

  /** The speaker's session, new if it has none. */
  sessionFor(address: string): BgpSession {
    return this.sessions.get(address) ?? this.newSession(address);
  }

  /** Closes every session with a Cease / Administrative Shutdown carrying `message` (RFC 8203). */
  async close(message: string): Promise<void> {
    await Promise.all([...this.sessions.values()].map((session) => session.stop(message)));
    this.sessions.clear();
  }

  private newSession(address: string): BgpSession {
    const session = new BgpSession({ ...this.settings(address), peerAddress: address, passive: true });
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
