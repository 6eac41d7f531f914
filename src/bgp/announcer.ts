/**
 * Announcing one set of prefixes to several peers: a BgpSession and an Adj-RIB-Out per
 * peer, one declarative wish for all of them (`set`). Each session reconnects by itself
 * (the FSM's ConnectRetry back-off); every time one reaches Established its Adj-RIB-Out
 * sends everything again, with attributes worked out for that session: the next hop is
 * our end of the connection unless one was given, eBGP puts our AS first in the path,
 * iBGP carries LOCAL_PREF (RFC 4271 5.1.5). `announce` drives this; `run` will too.
 * Connections the peers open to us (`accept`) go to their sessions, which keep one
 * connection per peer (RFC 4271 6.8, session.ts).
 */
import { EventEmitter } from 'node:events';
import { isIPv4, type Socket } from 'node:net';
import { AdjRibOut, type DesiredRoutes } from './adj-rib-out.js';
import { BgpSession, handOverConnection, type SessionConfig } from './session.js';
import type { Notification, StateName } from './fsm.js';
import type { LargeCommunity, Origin } from '../wire/bgp/attributes.js';
import { prefixAfi } from '../wire/bgp/nlri.js';
import { CeaseSubcode, ErrorCode } from '../wire/bgp/notification-codes.js';
import { Afi, familyName, IPV4_UNICAST, IPV6_UNICAST, sameFamily, type Family } from '../wire/bgp/registry.js';
import type { RouteAttributes } from '../wire/bgp/route-attributes.js';

/** Attributes every route carries, whatever the peer. */
export interface RoutePolicy {
  origin: Origin;
  med?: number;
  /** iBGP only; RFC 4271 5.1.5 suggests 100 when none is configured. */
  localPref?: number;
  communities: number[];
  largeCommunities: LargeCommunity[];
  /** Extra copies of our AS in the path towards eBGP peers. */
  asPathPrepend: number;
}

export interface AnnouncerPeer {
  session: Omit<SessionConfig, 'families' | 'passive'>;
  /** IPv4 next hop; absent: our end of the session, which must then be IPv4. */
  nextHop?: string;
  /** IPv6 next hop; absent: IPv6 prefixes are not sent to this peer. */
  nextHopV6?: string;
}

/** What every peer should have: the prefixes (produced afresh for each peer) and the MED. */
export interface Announcement {
  prefixes: () => Iterable<string>;
  /** Overrides the policy's MED (health-checked announcing sends a worse one when down). */
  med?: number;
}

export interface PeerStatus {
  address: string;
  state: StateName;
  /** Prefixes the peer was last sent and holds from us. */
  announced: number;
  lastChange: Date;
  establishedCount: number;
  /** RFC 7606 errors in UPDATEs the peer sent us, survived without a reset. */
  malformed: number;
}

export interface AnnouncerEvents {
  state: [{ peer: string; from: StateName; to: StateName; reason: string }];
  announced: [{ peer: string; count: number; med?: number }];
  withdrawn: [{ peer: string; count: number }];
  /** A family the targets need that the session did not negotiate, or no next hop for it. */
  skipped: [{ peer: string; family: string; count: number; reason: string }];
  notification: [{ peer: string; description: string; sent: boolean }];
  malformed: [{ peer: string; errors: string[] }];
  /** A connection to us refused: from no peer of ours, or one a session did not take (RFC 4271 6.8). */
  rejected: [{ address: string; reason: string }];
}

const DEFAULT_LOCAL_PREF = 100;

class PeerAnnouncer {
  readonly session: BgpSession;
  readonly ribOut = new AdjRibOut();
  readonly status: PeerStatus;
  private announcedMed?: number;
  /** AFI -> why its routes cannot go to this peer, for the 'skipped' event. */
  private readonly whyUnusable = new Map<number, string>();

  constructor(
    readonly peer: AnnouncerPeer,
    families: Family[],
    private readonly policy: RoutePolicy,
    private readonly owner: BgpAnnouncer,
  ) {
    this.session = new BgpSession({ ...peer.session, families, passive: false });
    const address = peer.session.peerAddress;
    this.status = { address, state: 'Idle', announced: 0, lastChange: new Date(), establishedCount: 0, malformed: 0 };
    this.session.on('state', ({ from, to, reason }) => {
      this.status.state = to;
      this.status.lastChange = new Date();
      if (from === 'Established') this.status.announced = 0;
      owner.emit('state', { peer: address, from, to, reason });
    });
    this.session.on('established', () => {
      this.status.establishedCount++;
      // After the session reports its state change, so that events read in order.
      queueMicrotask(() => this.send(owner.current, true));
    });
    this.session.on('route-refresh', () => this.send(owner.current, true));
    this.session.on('notification', ({ description }) => owner.emit('notification', { peer: address, description, sent: false }));
    this.session.on('notification-sent', ({ notification, description, reason }) => {
      const message = shutdownCommunication(notification);
      owner.emit('notification', { peer: address, description: message === undefined ? `${description}: ${reason}` : `${description} ("${message}")`, sent: true });
    });
    this.session.on('routes', ({ errors }) => {
      if (errors.length === 0) return;
      this.status.malformed += errors.length;
      owner.emit('malformed', { peer: address, errors: errors.map((error) => error.message) });
    });
  }

  /** Brings the peer to `announcement` (all of it again after a new session); nothing while the session is down. */
  send(announcement: Announcement | undefined, fresh = false): void {
    if (this.session.state !== 'Established') return;
    const context = this.session.codecContext;
    const desired = this.advertisements(announcement);
    const messages = fresh ? this.ribOut.resend(desired, context) : this.ribOut.set(desired, context);
    this.session.sendUpdates(messages);
    const before = this.status.announced;
    const med = announcement?.med ?? this.policy.med;
    const address = this.peer.session.peerAddress;
    this.status.announced = this.ribOut.size;
    if (messages.length > 0) this.status.lastChange = new Date();
    if (this.ribOut.size === 0 && before > 0) this.owner.emit('withdrawn', { peer: address, count: before });
    else if (this.ribOut.size > 0 && (fresh || before !== this.ribOut.size || med !== this.announcedMed)) {
      this.owner.emit('announced', { peer: address, count: this.ribOut.size, ...(med !== undefined ? { med } : {}) });
    }
    this.announcedMed = med;
  }

  private advertisements(announcement: Announcement | undefined): DesiredRoutes {
    const desired = new Map<string, RouteAttributes>();
    if (announcement === undefined) return desired;
    const negotiated = this.session.negotiated!;
    const ebgp = negotiated.peerAs !== this.peer.session.localAs;
    const base = this.baseAttributes(ebgp, announcement.med ?? this.policy.med);
    const nextHop = this.peer.nextHop ?? this.session.localAddress;
    const byAfi = new Map<number, RouteAttributes | undefined>([
      [Afi.Ipv4, this.usable(IPV4_UNICAST, nextHop !== undefined && isIPv4(nextHop), 'no IPv4 next hop: the session is over IPv6; give --next-hop') ? { ...base, nextHop } : undefined],
      [Afi.Ipv6, this.usable(IPV6_UNICAST, this.peer.nextHopV6 !== undefined, 'no IPv6 next hop') ? { ...base, ipv6NextHop: this.peer.nextHopV6 } : undefined],
    ]);
    const skipped = new Map<number, number>();
    for (const prefix of announcement.prefixes()) {
      const afi = prefixAfi(prefix);
      const attributes = byAfi.get(afi);
      if (attributes) desired.set(prefix, attributes);
      else skipped.set(afi, (skipped.get(afi) ?? 0) + 1);
    }
    for (const [afi, count] of skipped) {
      const family = afi === Afi.Ipv4 ? IPV4_UNICAST : IPV6_UNICAST;
      this.owner.emit('skipped', { peer: this.peer.session.peerAddress, family: familyName(family), count, reason: this.whyUnusable.get(afi) ?? '' });
    }
    return desired;
  }

  private usable(family: Family, hasNextHop: boolean, noNextHop: string): boolean {
    const negotiated = this.session.negotiated!.families.some((candidate) => sameFamily(candidate, family));
    if (negotiated && hasNextHop) return true;
    this.whyUnusable.set(family.afi, negotiated ? noNextHop : `the peer did not negotiate ${familyName(family)}`);
    return false;
  }

  /** One object per announcement and family: AdjRibOut keys attributes by object. */
  private baseAttributes(ebgp: boolean, med: number | undefined): RouteAttributes {
    const localAs = this.peer.session.localAs;
    // Towards iBGP the path stays empty (RFC 4271 5.1.2): our AS in it would look like a loop to the peer.
    const copies = ebgp ? this.policy.asPathPrepend + 1 : 0;
    const attributes: RouteAttributes = { origin: this.policy.origin, asPath: copies > 0 ? [{ type: 'sequence', asns: Array<number>(copies).fill(localAs) }] : [] };
    if (med !== undefined) attributes.med = med;
    if (!ebgp) attributes.localPref = this.policy.localPref ?? DEFAULT_LOCAL_PREF;
    if (this.policy.communities.length > 0) attributes.communities = this.policy.communities;
    if (this.policy.largeCommunities.length > 0) attributes.largeCommunities = this.policy.largeCommunities;
    return attributes;
  }
}

/** The message in a Cease / Administrative Shutdown or Reset we sent (RFC 8203 2: a length octet, then UTF-8). */
function shutdownCommunication({ code, subcode, data }: Notification): string | undefined {
  const isShutdown = code === ErrorCode.Cease && (subcode === CeaseSubcode.AdministrativeShutdown || subcode === CeaseSubcode.AdministrativeReset);
  if (!isShutdown || data === undefined || data.length === 0 || data[0]! + 1 > data.length) return undefined;
  return data.subarray(1, 1 + data[0]!).toString('utf8');
}

export class BgpAnnouncer extends EventEmitter<AnnouncerEvents> {
  private readonly peers: PeerAnnouncer[];
  /** The wish; undefined: nothing announced (withdrawn). */
  current?: Announcement;

  constructor(peers: AnnouncerPeer[], families: Family[], policy: RoutePolicy) {
    super();
    this.peers = peers.map((peer) => new PeerAnnouncer(peer, families, policy, this));
  }

  get status(): PeerStatus[] {
    return this.peers.map((peer) => peer.status);
  }

  /** True once any session has reached Established. */
  get everEstablished(): boolean {
    return this.peers.some((peer) => peer.status.establishedCount > 0);
  }

  start(): void {
    for (const peer of this.peers) peer.session.start();
  }

  /** A connection a peer opened to us: its session takes it beside its own; from anyone else, a Cease / Connection Rejected. */
  accept(socket: Socket): void {
    const { address, refused } = handOverConnection(
      socket,
      (from) => this.peers.find((candidate) => candidate.peer.session.peerAddress === from)?.session ?? `${from} is not a peer`,
    );
    if (refused !== undefined) this.emit('rejected', { address, reason: refused });
  }

  /** Announce `announcement` to every peer (now to those up, on Established to the rest); undefined withdraws. */
  set(announcement: Announcement | undefined): void {
    this.current = announcement;
    for (const peer of this.peers) peer.send(announcement);
  }

  /** Withdraws everything, then closes every session with a Cease carrying `message` (RFC 8203). */
  async stop(message: string): Promise<void> {
    this.set(undefined);
    await Promise.all(this.peers.map((peer) => peer.session.stop(message)));
  }
}
