/**
 * Announcing routes to several peers: a BgpSession and an Adj-RIB-Out per peer, one
 * declarative wish for all of them (`set`, prefix -> policy). Each session reconnects by
 * itself (the FSM's ConnectRetry back-off); every time one reaches Established its
 * Adj-RIB-Out sends everything again, then End-of-RIB, with attributes worked out for
 * that session: the next hop is our end of the connection unless one was given, eBGP puts
 * our AS first in the path, iBGP carries LOCAL_PREF (RFC 4271 5.1.5). The speaker drives
 * this for `announce` and `run`; connections the peers open to us reach their sessions
 * through `sessionOf` (RFC 4271 6.8 keeps one connection per peer, session.ts).
 *
 * The peers themselves may change while running (`configure`): a session is reset only
 * when what it negotiated must change, and the 'configured' event says why; a new next hop
 * is just a change of attributes, sent as UPDATEs.
 */
import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import { AdjRibOut, type DesiredRoutes } from './adj-rib-out.js';
import { BgpSession, type Dial, type SessionConfig } from './session.js';
import type { Notification, StateName } from './fsm.js';
import type { LargeCommunity, Origin } from '../wire/bgp/attributes.js';
import { encodeMessage } from '../wire/bgp/message.js';
import { prefixAfi } from '../wire/bgp/nlri.js';
import { CeaseSubcode, ErrorCode } from '../wire/bgp/notification-codes.js';
import { Afi, familyName, IPV4_UNICAST, IPV6_UNICAST, sameFamily, type Family } from '../wire/bgp/registry.js';
import type { RouteAttributes } from '../wire/bgp/route-attributes.js';
import { endOfRibUpdate } from '../wire/bgp/update.js';

/**
 * What a route carries whatever the peer; the parts that depend on the session (next hop,
 * AS path, LOCAL_PREF's default) are added per peer. Many prefixes share one policy
 * object, and each policy becomes one attribute set per peer and family.
 */
export interface RoutePolicy {
  origin: Origin;
  med?: number;
  /** iBGP only; RFC 4271 5.1.5 suggests 100 when none is configured. */
  localPref?: number;
  communities: number[];
  largeCommunities: LargeCommunity[];
  /** Extra copies of our AS in the path towards eBGP peers. */
  asPathPrepend: number;
  /** Only to the peers at these addresses; absent: to every peer. */
  peers?: ReadonlySet<string>;
}

/**
 * What every peer should have: prefix -> its policy; a Map is one. It is read afresh for
 * each peer and each change, so it may also be produced lazily (routesOf): a million
 * prefixes are then never held twice, and reading them allocates nothing per prefix.
 */
export interface Routes {
  forEach(visit: (policy: RoutePolicy, prefix: string) => void): void;
}

/** Nothing to announce. */
export const NO_ROUTES: Routes = new Map<string, RoutePolicy>();

export interface AnnouncerPeer {
  session: Omit<SessionConfig, 'families' | 'passive'>;
  /** IPv4 next hop; absent: our end of the session, which must then be IPv4. */
  nextHop?: string;
  /** IPv6 next hop; absent: IPv6 prefixes are not sent to this peer. */
  nextHopV6?: string;
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
  updatesSent: number;
  notificationsReceived: number;
  /** Why the last connection attempt failed, while the session is not Established. */
  lastError?: string;
}

export interface AnnouncerEvents {
  state: [{ peer: string; from: StateName; to: StateName; reason: string }];
  /** The peer was sent a change (or everything, on a new session) and now holds `count` prefixes from us. */
  announced: [{ peer: string; count: number }];
  withdrawn: [{ peer: string; count: number }];
  /** A family the routes need that the session did not negotiate, or no next hop for it. */
  skipped: [{ peer: string; family: string; count: number; reason: string }];
  notification: [{ peer: string; description: string; sent: boolean }];
  malformed: [{ peer: string; errors: string[] }];
  'connect-failed': [{ peer: string; reason: string }];
  /** A peer added, removed, or its session reset because a negotiated parameter changed (`reason` says which). */
  configured: [{ peer: string; change: 'added' | 'removed' | 'reset'; reason: string }];
}

const DEFAULT_LOCAL_PREF = 100;

/** Why routes go to a peer: all of them on a new session (then End-of-RIB), all again on its ROUTE-REFRESH, or a change. */
type SendReason = 'established' | 'route-refresh' | 'change';

class PeerAnnouncer {
  readonly session: BgpSession;
  readonly ribOut = new AdjRibOut();
  readonly status: PeerStatus;
  /** AFI -> why its routes cannot go to this peer, for the 'skipped' event. */
  private readonly whyUnusable = new Map<number, string>();

  constructor(
    public peer: AnnouncerPeer,
    families: Family[],
    private readonly owner: BgpAnnouncer,
    dial?: Dial,
  ) {
    this.session = new BgpSession({ ...peer.session, families, passive: false }, dial);
    const address = peer.session.peerAddress;
    this.status = { address, state: 'Idle', announced: 0, lastChange: new Date(), establishedCount: 0, malformed: 0, updatesSent: 0, notificationsReceived: 0 };
    this.session.on('state', ({ from, to, reason }) => {
      this.status.state = to;
      this.status.lastChange = new Date();
      if (from === 'Established') this.status.announced = 0;
      if (to === 'Established') delete this.status.lastError;
      else if (to === 'Idle') this.status.lastError = reason;
      owner.emit('state', { peer: address, from, to, reason });
    });
    this.session.on('established', () => {
      this.status.establishedCount++;
      // After the session reports its state change, so that events read in order.
      queueMicrotask(() => this.send(owner.routes, 'established'));
    });
    this.session.on('route-refresh', () => this.send(owner.routes, 'route-refresh'));
    this.session.on('connect-failed', ({ reason }) => {
      this.status.lastError = reason;
      owner.emit('connect-failed', { peer: address, reason });
    });
    this.session.on('notification', ({ description }) => {
      this.status.notificationsReceived++;
      owner.emit('notification', { peer: address, description, sent: false });
    });
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

  /** Brings the peer to `routes`; nothing while the session is down (it gets everything when it comes up). */
  send(routes: Routes, why: SendReason): void {
    if (this.session.state !== 'Established') return;
    const context = this.session.codecContext;
    const desired = this.advertisements(routes);
    const messages = why === 'change' ? this.ribOut.set(desired, context) : this.ribOut.resend(desired, context);
    // RFC 4724 4: every vipkit OPEN advertises graceful restart, so the initial update of
    // each family ends with End-of-RIB, even when there is nothing to announce.
    if (why === 'established') messages.push(...this.session.negotiated!.families.map((family) => encodeMessage(endOfRibUpdate(family), context)));
    if (this.session.sendUpdates(messages)) this.status.updatesSent += messages.length;
    const before = this.status.announced;
    const address = this.peer.session.peerAddress;
    this.status.announced = this.ribOut.size;
    if (messages.length > 0) this.status.lastChange = new Date();
    if (this.ribOut.size === 0 && before > 0) this.owner.emit('withdrawn', { peer: address, count: before });
    else if (this.ribOut.size > 0 && (why !== 'change' || messages.length > 0)) this.owner.emit('announced', { peer: address, count: this.ribOut.size });
  }

  private advertisements(routes: Routes): DesiredRoutes {
    const desired = new Map<string, RouteAttributes>();
    const address = this.peer.session.peerAddress;
    const ebgp = this.session.negotiated!.peerAs !== this.peer.session.localAs;
    const nextHop = this.peer.nextHop ?? this.session.localAddress;
    const usable = new Map<number, boolean>([
      [Afi.Ipv4, this.usable(IPV4_UNICAST, nextHop !== undefined && isIPv4(nextHop), 'no IPv4 next hop: the session is over IPv6; give --next-hop')],
      [Afi.Ipv6, this.usable(IPV6_UNICAST, this.peer.nextHopV6 !== undefined, 'no IPv6 next hop')],
    ]);
    // One attribute object per policy and family: AdjRibOut keys attributes by object.
    const attributesOf = new Map<RoutePolicy, Map<number, RouteAttributes>>();
    const skipped = new Map<number, number>();
    routes.forEach((policy, prefix) => {
      if (policy.peers !== undefined && !policy.peers.has(address)) return;
      const afi = prefixAfi(prefix);
      if (!usable.get(afi)) {
        skipped.set(afi, (skipped.get(afi) ?? 0) + 1);
        return;
      }
      const byAfi = attributesOf.get(policy) ?? attributesOf.set(policy, new Map()).get(policy)!;
      let attributes = byAfi.get(afi);
      if (attributes === undefined) {
        attributes = { ...this.baseAttributes(policy, ebgp), ...(afi === Afi.Ipv4 ? { nextHop } : { ipv6NextHop: this.peer.nextHopV6 }) };
        byAfi.set(afi, attributes);
      }
      desired.set(prefix, attributes);
    });
    for (const [afi, count] of skipped) {
      const family = afi === Afi.Ipv4 ? IPV4_UNICAST : IPV6_UNICAST;
      this.owner.emit('skipped', { peer: address, family: familyName(family), count, reason: this.whyUnusable.get(afi) ?? '' });
    }
    return desired;
  }

  private usable(family: Family, hasNextHop: boolean, noNextHop: string): boolean {
    const negotiated = this.session.negotiated!.families.some((candidate) => sameFamily(candidate, family));
    if (negotiated && hasNextHop) return true;
    this.whyUnusable.set(family.afi, negotiated ? noNextHop : `the peer did not negotiate ${familyName(family)}`);
    return false;
  }

  private baseAttributes(policy: RoutePolicy, ebgp: boolean): RouteAttributes {
    const localAs = this.peer.session.localAs;
    // Towards iBGP the path stays empty (RFC 4271 5.1.2): our AS in it would look like a loop to the peer.
    const copies = ebgp ? policy.asPathPrepend + 1 : 0;
    const attributes: RouteAttributes = { origin: policy.origin, asPath: copies > 0 ? [{ type: 'sequence', asns: Array<number>(copies).fill(localAs) }] : [] };
    if (policy.med !== undefined) attributes.med = policy.med;
    if (!ebgp) attributes.localPref = policy.localPref ?? DEFAULT_LOCAL_PREF;
    if (policy.communities.length > 0) attributes.communities = policy.communities;
    if (policy.largeCommunities.length > 0) attributes.largeCommunities = policy.largeCommunities;
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
  private peers: PeerAnnouncer[];
  /** Sessions closing because configure() removed or replaced them; stop() waits for them too. */
  private readonly leaving = new Set<Promise<void>>();
  private started = false;
  /** The wish; empty: nothing announced. */
  routes: Routes = NO_ROUTES;

  /** `dial` opens outgoing connections (tests give in-memory ones). */
  constructor(
    peers: AnnouncerPeer[],
    private readonly families: Family[],
    private readonly dial?: Dial,
  ) {
    super();
    this.peers = peers.map((peer) => new PeerAnnouncer(peer, families, this, dial));
  }

  get status(): PeerStatus[] {
    return this.peers.map((peer) => peer.status);
  }

  /** True once any session has reached Established. */
  get everEstablished(): boolean {
    return this.peers.some((peer) => peer.status.establishedCount > 0);
  }

  start(): void {
    this.started = true;
    for (const peer of this.peers) peer.session.start();
  }

  /**
   * Brings the set of peers to `peers` without touching sessions that need no change: a
   * removed peer is closed with a Cease / Peer De-configured, a peer whose session
   * parameters changed is reset with a Cease / Other Configuration Change (RFC 4486 3), a
   * new next hop goes out as UPDATEs on the session as it is.
   */
  configure(peers: AnnouncerPeer[]): void {
    const wanted = new Map(peers.map((peer) => [peer.session.peerAddress, peer]));
    const kept: PeerAnnouncer[] = [];
    for (const current of this.peers) {
      const address = current.peer.session.peerAddress;
      const next = wanted.get(address);
      wanted.delete(address);
      if (next === undefined) {
        this.leave(current.session.stop('peer removed from the configuration', CeaseSubcode.PeerDeconfigured));
        this.emit('configured', { peer: address, change: 'removed', reason: 'no longer configured' });
        continue;
      }
      const change = sessionChange(current.peer.session, next.session);
      if (change === undefined) {
        current.peer = next;
        current.send(this.routes, 'change');
        kept.push(current);
        continue;
      }
      this.leave(current.session.stop(change, CeaseSubcode.OtherConfigurationChange));
      this.emit('configured', { peer: address, change: 'reset', reason: change });
      kept.push(this.add(next));
    }
    for (const peer of wanted.values()) {
      this.emit('configured', { peer: peer.session.peerAddress, change: 'added', reason: 'newly configured' });
      kept.push(this.add(peer));
    }
    this.peers = kept;
  }

  private add(peer: AnnouncerPeer): PeerAnnouncer {
    const announcer = new PeerAnnouncer(peer, this.families, this, this.dial);
    if (this.started) announcer.session.start();
    return announcer;
  }

  private leave(closing: Promise<void>): void {
    this.leaving.add(closing);
    void closing.then(() => this.leaving.delete(closing));
  }

  /** The session of the peer at `address`, for a connection it opened to us (RFC 4271 6.8 keeps one). */
  sessionOf(address: string): BgpSession | undefined {
    return this.peers.find((candidate) => candidate.peer.session.peerAddress === address)?.session;
  }

  /** Ends the session with the peer at `address` as BFD Down (RFC 9384); it reconnects by itself. */
  bfdDown(address: string, reason: string): void {
    this.peers.find((candidate) => candidate.peer.session.peerAddress === address)?.session.reset(CeaseSubcode.BfdDown, reason);
  }

  /** Announce `routes` to every peer: now to those up, on Established to the rest. */
  set(routes: Routes): void {
    this.routes = routes;
    for (const peer of this.peers) peer.send(routes, 'change');
  }

  /** Withdraws everything, then closes every session with a Cease carrying `message` (RFC 8203). */
  async stop(message: string): Promise<void> {
    this.set(NO_ROUTES);
    await Promise.all([...this.peers.map((peer) => peer.session.stop(message)), ...this.leaving]);
  }

  /**
   * Closes every session without withdrawing anything and without a NOTIFICATION: peers that
   * help with graceful restart keep forwarding to our routes until we are back and have
   * sent End-of-RIB (RFC 4724 4.2), as they do when we die.
   */
  async closeForRestart(): Promise<void> {
    await Promise.all([...this.peers.map((peer) => peer.session.closeForRestart()), ...this.leaving]);
  }
}

/** The first session parameter that differs, as "hold time 90 -> 30"; undefined when a running session can stay. */
function sessionChange(before: AnnouncerPeer['session'], after: AnnouncerPeer['session']): string | undefined {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)] as (keyof AnnouncerPeer['session'])[]);
  for (const key of keys) {
    const [was, is] = [JSON.stringify(before[key]), JSON.stringify(after[key])];
    if (was === is) continue;
    // A password is never written to a log.
    return key === 'password' ? 'the password changed' : `${key} ${was ?? 'unset'} -> ${is ?? 'unset'}`;
  }
  return undefined;
}
