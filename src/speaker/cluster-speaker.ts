/**
 * `vipkit run`: a Speaker whose desired state follows the cluster. At Layer 2 the
 * members' BFD sessions (on the data plane's thread) say who is live; every change of
 * liveness recomputes the placement (election.ts) and the desired state (desired-state.ts),
 * and Speaker.set puts the difference on the wire: answers and gratuitous frames for the
 * VIPs this node takes over, silence for those it gives up. Over BGP this node announces
 * every service its advertisements select it for, to the peers whose node selectors match
 * it; changes go out as UPDATEs on the sessions as they are. What it decides is logged
 * with MetalLB's event names, which users grep their speakers' logs for.
 */
import { EventEmitter } from 'node:events';
import type { BfdStateChange, BfdTiming } from '../liveness/bfd-peers.js';
import { ringPeers, type MemberChange, type RingConfig } from '../liveness/membership.js';
import type { GratuitousSchedule } from '../l2/l2-announcer.js';
import type { AnnouncerPeer, PeerStatus } from '../bgp/announcer.js';
import { selectorMatches } from '../pools/crds.js';
import { isIPv4 } from 'node:net';
import type { Family } from '../pools/address-range.js';
import type { Peer } from '../pools/model.js';
import type { TimerHandle } from '../time.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../wire/bgp/registry.js';
import type { ClusterConfig } from './cluster-config.js';
import { bgpDesiredState, desiredOf, layer2DesiredState, type BgpDecision, type ClusterService, type Layer2Decision } from './desired-state.js';
import { placementOrder, type ElectionNode } from './election.js';
import type { LivenessConfig } from './l2-plane.js';
import { Speaker, SpeakerConfigError, SYSTEM_ENVIRONMENT, type ShutdownMode, type SpeakerEnvironment } from './speaker.js';

export interface ClusterOptions {
  /** The interface a VIP is answered on here; undefined: this node cannot announce it. */
  interfaceFor(ip: string): string | undefined;
  /** The interface towards a member's address, and our address on it. */
  memberPath(address: string): { interfaceName: string; local: string } | undefined;
  schedule: GratuitousSchedule;
  timing: BfdTiming;
  /**
   * BFD with every member up to `fullMeshMax` nodes (this one included); beyond, with the
   * `neighbours` on each side of this node's place on the ring, the membership messages
   * telling every member what those sessions find (liveness/membership.ts).
   */
  ring: { fullMeshMax: number; neighbours: number };
  /**
   * How long a starting node waits for its members' sessions before it claims anything:
   * it claims once every member is Up, or when this has passed (a member not heard from
   * by then is dead). Claiming earlier would answer beside owners already answering — a
   * node that rejoins would take its VIPs back while their current owner still holds them.
   */
  startupGraceMs: number;
  /**
   * A planned stop keeps answering after telling the members until each VIP's next owner
   * has claimed it (its gratuitous frame seen), or this long at most.
   */
  handoverMs: number;
  /** The session to a configured BGP peer from this host, with next hops for `families`; throws SpeakerConfigError for one it cannot open. */
  sessionFor(peer: Peer, families: ReadonlySet<Family>): AnnouncerPeer;
  /** How a stop leaves the BGP peers: withdrawing, or as a graceful restart. */
  shutdownMode: ShutdownMode;
}

/** One log line: MetalLB's field and event names where they apply. */
export interface ClusterLog {
  level: 'info' | 'warn';
  event: string;
  msg: string;
  [field: string]: unknown;
}

type MemberState = 'unknown' | 'up' | 'down';

/** On the ring, how often each node sends its whole view to its ring neighbours (membership.ts). */
const RING_DIGEST_MS = 1000;

/**
 * How often a node that yielded a VIP in a split brain asks whether the member it yielded
 * to still answers for it (a duplicate-address probe): that member may die without a BFD
 * session to say so, and the VIP must not stay dark.
 */
const YIELD_RECHECK_MS = 10_000;
/** The probe: RFC 5227's three probes, within a second. */
const YIELD_PROBE = { rate: 10, attempts: 3, timeoutMs: 1000 };

/** What `vipkit status` shows: the members, and per IP its placement and this node's part in it. */
export interface ClusterStatus {
  node: string;
  members: { name: string; address: string; state: MemberState }[];
  addresses: {
    ip: string;
    service: string;
    pool: string;
    owner?: string;
    order: string[];
    /** Where this node answers for it; absent when it does not, with `reason`. */
    interface?: string;
    reason?: string;
    /** When this node last took it over or gave it up. */
    changed?: string;
  }[];
  /** Over BGP: per service IP the prefixes this node announces, or why none. */
  routes: { ip: string; service: string; pool: string; prefixes: string[]; reason?: string }[];
  /** With --kubernetes: whether the API server answers (announcing goes on from the last snapshot when it does not), and whether this speaker writes the Services' addresses. */
  kubernetes?: { connected: boolean; leader: boolean };
  /** The BGP peers this node has a session with, and the state of the BFD session with those that asked for one. */
  peers: (Omit<PeerStatus, 'lastChange'> & { lastChange: string; bfd?: MemberState })[];
}

export interface ClusterSpeakerEvents {
  log: [ClusterLog];
  /** A request answered, and a gratuitous frame sent, for the per-IP counters. */
  answered: [{ ip: string }];
  gratuitous: [{ ip: string }];
  /** The data plane died (a bug): nothing is answered any more, so the speaker must stop. */
  failed: [string];
}

export class ClusterSpeaker extends EventEmitter<ClusterSpeakerEvents> {
  private readonly speaker: Speaker;
  /** Member address -> its name and what its session says. */
  private readonly members = new Map<string, { name: string; labels: Record<string, string>; state: MemberState; leaving?: boolean }>();
  private readonly interfaces: string[];
  /** The BGP peers this node runs BFD with (bfd=true or a BFD profile), by address: fixed at start, as the data plane's sessions are. */
  private readonly bfdRouters: ReadonlySet<string>;
  /** Router address -> what its BFD session last said. */
  private readonly routerBfd = new Map<string, MemberState>();
  /** Beyond the full mesh: members' liveness is the ring's view ('member' events), not this node's sessions. */
  private readonly onRing: boolean;
  private graceTimer?: TimerHandle;
  private graceOver = false;
  /** What this node announces now: ip -> its decision, at Layer 2 and over BGP. */
  private announcedL2 = new Map<string, Layer2Decision>();
  private announcedBgp = new Map<string, BgpDecision>();
  private decisions: Layer2Decision[] = [];
  /** The same decisions by IP, and the services by key: a split brain over thousands of VIPs asks once per VIP. */
  private decisionOf = new Map<string, Layer2Decision>();
  private serviceOf = new Map<string, ClusterService>();
  /** A recompute asked for by conflicts, which arrive by the thousand: one for all of them. */
  private recomputeTimer?: TimerHandle;
  private bgpDecisions: BgpDecision[] = [];
  /** ip -> when this node last took it over or gave it up (ISO-8601). */
  private readonly changedAt = new Map<string, string>();
  /** Service -> the member address it was yielded to in a split brain. */
  private readonly yieldedTo = new Map<string, string>();
  /** The timers that re-check those yields. */
  private readonly yieldChecks = new Set<TimerHandle>();
  private stopping = false;
  private services: ClusterService[] = [];
  /** This node's labels, which a re-read may change (a Node relabelled on Kubernetes). */
  private selfLabels: Record<string, string>;
  /** While a planned stop hands over: the VIPs whose next owner has not claimed them yet, and what ends the wait. */
  private handover?: { waiting: Set<string>; done: () => void };

  constructor(
    private readonly config: ClusterConfig,
    private readonly options: ClusterOptions,
    private readonly environment: SpeakerEnvironment = SYSTEM_ENVIRONMENT,
  ) {
    super();
    this.setServices(config.services);
    this.selfLabels = config.self.labels;
    for (const member of config.members) this.members.set(member.address, { name: member.name, labels: member.labels, state: 'unknown' });
    this.bfdRouters = bfdRouters(this.selectedPeers(config.peers));
    const liveness = this.liveness();
    this.onRing = liveness?.ring !== undefined;
    const answering = config.services.flatMap((service) => (service.layer2 ? service.ips.flatMap((ip) => options.interfaceFor(ip) ?? []) : []));
    this.interfaces = [...new Set([...answering, ...(liveness ? [liveness.interfaceName] : [])])];
    // A node with nothing to answer and nobody to watch at Layer 2 (BGP alone) needs no data plane.
    const l2 = this.interfaces.length > 0 ? { l2: { interfaces: this.interfaces, schedule: options.schedule, ...(liveness ? { liveness } : {}) } } : {};
    // Both unicast families are always offered, so that a pool of the other family added later needs no session reset.
    const bgp = { peers: this.sessionsFor(config), families: [IPV4_UNICAST, IPV6_UNICAST] };
    this.speaker = new Speaker({ ...l2, bgp }, environment);
    this.speaker.on('bfd', (change) => this.bfdChanged(change));
    this.speaker.on('member', (change) => this.memberChanged(change));
    this.speaker.on('conflict', (conflict) => this.conflict(conflict));
    this.speaker.on('answered', ({ ip }) => this.emit('answered', { ip }));
    this.speaker.on('gratuitous', ({ ip }) => this.emit('gratuitous', { ip }));
    this.speaker.on('link', (change) => this.linkChanged(change));
    this.speaker.on('send-failed', ({ interface: name, reason }) => this.log('warn', 'sendFailed', 'could not send a frame; retrying', { interface: name, reason }));
    this.speaker.on('failed', ({ reason }) => {
      this.log('warn', 'dataPlaneFailed', 'the data plane stopped', { reason });
      this.emit('failed', reason);
    });
    this.followSessions();
  }

  get status(): ClusterStatus {
    return {
      node: this.config.self.name,
      members: [...this.members].map(([address, { name, state }]) => ({ name, address, state })),
      addresses: this.decisions.map((decision) => ({
        ip: decision.ip,
        service: decision.service,
        pool: decision.pool,
        ...(decision.placement.owner !== undefined ? { owner: decision.placement.owner } : {}),
        order: decision.placement.order,
        ...(decision.interface !== undefined ? { interface: decision.interface } : { reason: decision.notAnnounced }),
        ...(this.changedAt.has(decision.ip) ? { changed: this.changedAt.get(decision.ip) } : {}),
      })),
      routes: this.bgpDecisions.map(({ ip, service, pool, prefixes, notAnnounced }) => ({ ip, service, pool, prefixes, ...(notAnnounced !== undefined ? { reason: notAnnounced } : {}) })),
      peers: this.speaker.peers.map((peer) => ({
        ...peer,
        lastChange: peer.lastChange.toISOString(),
        ...(this.bfdRouters.has(peer.address) ? { bfd: this.routerBfd.get(peer.address) ?? 'unknown' } : {}),
      })),
    };
  }

  /** Each BGP session, as the user sees it. */
  get peers(): PeerStatus[] {
    return this.speaker.peers;
  }

  async start(): Promise<void> {
    await this.speaker.start();
    for (const name of this.interfaces) this.log('info', 'createARPResponder', 'created ARP/NDP responder for interface', { interface: name });
    this.recompute();
    this.awaitMembers();
  }

  /**
   * The startup rule: claim nothing until every member's session is Up, or startupGraceMs
   * has passed (a member not heard from by then is dead).
   */
  private awaitMembers(): void {
    this.environment.clock.clearTimeout(this.graceTimer);
    this.graceTimer = this.environment.clock.setTimeout(() => {
      this.graceOver = true;
      for (const [address, member] of this.members) {
        if (member.state === 'unknown') this.log('warn', 'memberDown', 'no BFD session came up with this member at start', { member: member.name, address });
      }
      this.recompute();
    }, this.options.startupGraceMs);
  }

  /**
   * An interface went down, or is back. Cut off, this node saw every member die and took
   * their VIPs; back on the members' link, it is as new as at start: it gives up what it
   * claimed and waits for their sessions again, rather than answer beside their owners.
   */
  private linkChanged({ interface: name, up, reason }: { interface: string; up: boolean; reason?: string }): void {
    if (!up) {
      this.log('warn', 'linkDown', reason === undefined ? 'the interface went down' : 'the interface could not be opened again', { interface: name, ...(reason !== undefined ? { reason } : {}) });
      return;
    }
    this.log('info', 'linkUp', 'the interface is up again and its link open', { interface: name });
    if (name !== this.liveness()?.interfaceName) return;
    this.graceOver = false;
    for (const member of this.members.values()) member.state = 'unknown';
    this.recompute();
    this.awaitMembers();
  }

  /**
   * A planned stop. Layer 2, make before break: the members hear AdminDown and take over at
   * once (announcing with gratuitous frames) while this node still answers, until every VIP
   * with a next owner has been claimed by it, or handoverMs at most.
   * BGP as the shutdown mode says: withdraw and close, or close as a restart, so that the
   * routers keep forwarding to this node until it is back (RFC 4724).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.environment.clock.clearTimeout(this.graceTimer);
    this.environment.clock.clearTimeout(this.recomputeTimer);
    for (const check of this.yieldChecks) this.environment.clock.clearTimeout(check);
    this.speaker.adminDown();
    await this.handOver();
    for (const [ip, decision] of this.announcedL2) this.log('info', 'serviceWithdrawn', 'withdrawing service announcement', { ...fields(decision, 'layer2'), ip, reason: 'stopping' });
    const restart = this.options.shutdownMode === 'restart';
    if (restart && this.speaker.peers.length > 0) this.log('info', 'sessionsClosedForRestart', 'closing the BGP sessions without withdrawing: routers that help with graceful restart keep the routes until this node is back', {});
    for (const [ip, decision] of restart ? [] : this.announcedBgp) this.log('info', 'serviceWithdrawn', 'withdrawing service announcement', { ...fields(decision, 'bgp'), ip, reason: 'stopping' });
    this.announcedL2.clear();
    this.announcedBgp.clear();
    await this.speaker.stop('vipkit run stopped', this.options.shutdownMode);
  }

  /** Waits until the next owner of each VIP this node answers for has claimed it, or handoverMs. */
  private handOver(): Promise<void> {
    // A VIP no other live node may take has nobody to wait for.
    const waiting = new Set([...this.announcedL2.values()].filter((decision) => decision.placement.order.length > 1).map((decision) => decision.ip));
    if (waiting.size === 0) return Promise.resolve();
    const { clock } = this.environment;
    return new Promise((resolve) => {
      const done = () => {
        clock.clearTimeout(timer);
        this.handover = undefined;
        resolve();
      };
      const timer = clock.setTimeout(() => {
        this.log('warn', 'handoverIncomplete', 'stopped answering before the next owner claimed every VIP', { ips: [...waiting] });
        done();
      }, this.options.handoverMs);
      this.handover = { waiting, done };
    });
  }

  /**
   * A new configuration (a re-read file, SIGHUP): only what changed reaches the wire — new
   * VIPs are announced, removed ones withdrawn, the rest untouched; BGP sessions are reset
   * only when a parameter they negotiated changes. Throws SpeakerConfigError, changing
   * nothing, for a peer this host cannot open a session to.
   */
  update(config: ClusterConfig): void {
    // Labels may change (selectors and exclusions follow them); the members themselves are read at start.
    this.selfLabels = config.self.labels;
    for (const member of config.members) {
      const known = this.members.get(member.address);
      if (known) known.labels = member.labels;
    }
    const peers = this.sessionsFor(config);
    const routers = bfdRouters(this.selectedPeers(config.peers));
    if (routers.size !== this.bfdRouters.size || [...routers].some((address) => !this.bfdRouters.has(address))) {
      this.log('warn', 'restartNeeded', 'the BGP peers to run BFD with changed; BFD sessions are set up at start, so restart to apply', { before: [...this.bfdRouters], after: [...routers] });
    }
    const before = new Set(this.services.map((service) => service.key));
    const after = new Set(config.services.map((service) => service.key));
    this.log('info', 'configReloaded', 'configuration re-read', { added: [...after].filter((key) => !before.has(key)), removed: [...before].filter((key) => !after.has(key)) });
    this.setServices(config.services);
    this.speaker.setPeers(peers);
    this.recompute();
  }

  /**
   * The sessions this node opens: to every peer whose node selectors match its labels
   * (MetalLB's peer nodeSelectors), with next hops for the families its services need.
   */
  private sessionsFor({ peers, services }: ClusterConfig): AnnouncerPeer[] {
    const families = new Set<Family>(services.flatMap((service) => (service.bgp?.length ? service.ips.map((ip): Family => (isIPv4(ip) ? 4 : 6)) : [])));
    return this.selectedPeers(peers).map((peer) => this.options.sessionFor(peer, families));
  }

  private selectedPeers(peers: readonly Peer[]): Peer[] {
    const labels = this.selfLabels;
    return peers.filter((peer) => peer.nodeSelectors.length === 0 || peer.nodeSelectors.some((selector) => selectorMatches(selector, labels)));
  }

  /** The BGP sessions' life, in MetalLB's words. */
  private followSessions(): void {
    const speaker = this.speaker;
    speaker.on('state', ({ peer, from, to, reason }) => {
      if (to === 'Established') this.log('info', 'sessionUp', 'BGP session established', { peer });
      else if (from === 'Established') this.log('warn', 'sessionDown', 'BGP session down', { peer, reason });
    });
    speaker.on('connect-failed', ({ peer, reason }) => this.log('warn', 'sessionConnectFailed', 'could not open the BGP session', { peer, reason }));
    speaker.on('announced', ({ peer, count }) => this.log('info', 'updatedAdvertisements', 'making advertisements', { peer, numAdvertisements: count }));
    speaker.on('withdrawn', ({ peer }) => this.log('info', 'updatedAdvertisements', 'making advertisements', { peer, numAdvertisements: 0 }));
    speaker.on('skipped', ({ peer, family, count, reason }) => this.log('warn', 'routesSkipped', 'routes not sent to this peer', { peer, family, count, reason }));
    speaker.on('notification', ({ peer, description, sent }) => this.log('warn', sent ? 'notificationSent' : 'notificationReceived', sent ? 'sent a NOTIFICATION' : 'the peer sent a NOTIFICATION', { peer, description }));
    speaker.on('malformed', ({ peer, errors }) => this.log('warn', 'malformedUpdate', 'the peer sent UPDATEs with errors, survived (RFC 7606)', { peer, errors }));
    speaker.on('configured', ({ peer, change, reason }) => {
      const [event, msg] = change === 'added' ? ['peerAdded', 'BGP peer added'] : change === 'removed' ? ['peerRemoved', 'BGP peer removed'] : ['sessionReset', 'BGP session reset: a negotiated parameter changed'];
      this.log(change === 'reset' ? 'warn' : 'info', event, msg, { peer, reason });
    });
  }

  /**
   * The nodes as the election sees them. Until the startup grace is over, a member not
   * heard from yet counts as live, so that the placement shown while starting is the
   * whole cluster's.
   */
  private electionNodes(): ElectionNode[] {
    const members = [...this.members.values()].map(({ name, labels, state }) => ({ name, labels, live: state === 'up' || (state === 'unknown' && !this.graceOver) }));
    return [{ name: this.config.self.name, labels: this.selfLabels, live: true }, ...members];
  }

  /** Still waiting for a member's first word, within the startup grace. */
  private get starting(): boolean {
    return !this.graceOver && [...this.members.values()].some((member) => member.state === 'unknown');
  }

  private setServices(services: ClusterService[]): void {
    this.services = services;
    this.serviceOf = new Map(services.map((service) => [service.key, service]));
  }

  private recomputeSoon(): void {
    if (this.recomputeTimer !== undefined) return;
    this.recomputeTimer = this.environment.clock.setTimeout(() => {
      this.recomputeTimer = undefined;
      if (!this.stopping) this.recompute();
    }, 0);
  }

  private recompute(): void {
    const computed = layer2DesiredState(this.services, this.config.self.name, this.electionNodes(), this.options.interfaceFor);
    const decisions = computed.decisions.map((decision) => this.heldBack(decision));
    const bgp = bgpDesiredState(this.services, { name: this.config.self.name, labels: this.selfLabels, live: true });
    this.decisions = decisions;
    this.decisionOf = new Map(decisions.map((decision) => [decision.ip, decision]));
    this.bgpDecisions = bgp.decisions;
    this.speaker.set({ l2: desiredOf(decisions), bgp: bgp.routes });
    const l2Now = new Map(decisions.filter((decision) => decision.interface !== undefined).map((decision) => [decision.ip, decision]));
    const bgpNow = new Map(bgp.decisions.filter((decision) => decision.notAnnounced === undefined).map((decision) => [decision.ip, decision]));
    this.report('layer2', this.announcedL2, l2Now, decisions);
    this.report('bgp', this.announcedBgp, bgpNow, bgp.decisions);
    this.announcedL2 = l2Now;
    this.announcedBgp = bgpNow;
  }

  /** Logs what this node started and stopped announcing over one protocol, and when. */
  private report<Decision extends Layer2Decision | BgpDecision>(protocol: 'layer2' | 'bgp', before: Map<string, Decision>, now: Map<string, Decision>, decisions: Decision[]): void {
    const reasons = new Map(decisions.flatMap((decision) => (decision.notAnnounced === undefined ? [] : [[decision.ip, decision.notAnnounced] as const])));
    for (const [ip, decision] of before) {
      if (now.has(ip)) continue;
      this.changedAt.set(ip, new Date().toISOString());
      this.log('info', 'serviceWithdrawn', 'withdrawing service announcement', { ...fields(decision, protocol), ip, reason: reasons.get(ip) ?? 'no longer a service' });
    }
    for (const [ip, decision] of now) {
      if (before.has(ip)) continue;
      this.changedAt.set(ip, new Date().toISOString());
      const where = 'prefixes' in decision ? { prefixes: decision.prefixes } : { interface: decision.interface };
      this.log('info', 'serviceAnnounced', 'service has IP, announcing', { ...fields(decision, protocol), ip, ...where });
    }
  }

  /** A decision to announce, held back while starting, or yielded to a member that also answers and comes first. */
  private heldBack(decision: Layer2Decision): Layer2Decision {
    if (decision.interface === undefined) return decision;
    const { interface: _answering, ...held } = decision;
    // The data plane opened its links at start.
    if (!this.interfaces.includes(decision.interface)) return { ...held, notAnnounced: `its interface ${decision.interface} was not in use at start; restart to answer there` };
    if (this.starting) return { ...held, notAnnounced: "starting: waiting for the members' BFD sessions" };
    const winner = this.yieldedTo.get(decision.service);
    if (winner !== undefined) return { ...held, notAnnounced: `${this.members.get(winner)!.name} answers for it too and comes first in its order (split brain)` };
    return decision;
  }

  /**
   * Another MAC claims a VIP this node answers for. When it is a member's, the same order
   * that places VIPs settles it: the one that comes first keeps it, the other yields until
   * their session changes state, or the other stops answering — both ends apply the rule,
   * so exactly one keeps answering.
   */
  private conflict({ ip, mac, member: address }: { ip: string; mac: string; member?: string }): void {
    const decision = this.decisionOf.get(ip);
    const member = address === undefined ? undefined : this.members.get(address);
    // Stopping, another claim is the next owner taking over: what the handover waits for.
    if (this.handover?.waiting.delete(ip)) {
      this.log('info', 'handedOver', 'the next owner claimed the IP', { ip, mac, ...(member ? { member: member.name } : {}) });
      if (this.handover.waiting.size === 0) this.handover.done();
      return;
    }
    this.log('warn', 'conflict', 'another MAC answers for an IP this node announces', { ip, mac, ...(member ? { member: member.name } : {}), ...(decision ? fields(decision, 'layer2') : {}) });
    // A member leaving on purpose answers on for a moment (make before break): never yield to it.
    if (!decision || !member || address === undefined || member.leaving) return;
    const service = this.serviceOf.get(decision.service)!;
    if (placementOrder([this.config.self.name, member.name], service.ips[0]!)[0] !== member.name) return;
    this.yieldedTo.set(service.key, address);
    this.recomputeSoon();
    this.recheckYield(service.key, address, ip);
  }

  /** Every YIELD_RECHECK_MS while yielded: a probe for `ip`; when nobody answers any more, the yield ends and placement decides again. */
  private recheckYield(service: string, address: string, ip: string): void {
    const { clock } = this.environment;
    const check = clock.setTimeout(async () => {
      this.yieldChecks.delete(check);
      const iface = this.options.interfaceFor(ip);
      if (this.yieldedTo.get(service) !== address || iface === undefined) return;
      let answered: boolean;
      try {
        answered = (await this.speaker.probeForConflicts(iface, [ip], YIELD_PROBE)).has(ip);
      } catch {
        // Stopped meanwhile, or the link is down: the next check asks again.
        answered = true;
      }
      if (this.stopping || this.yieldedTo.get(service) !== address) return;
      if (answered) return this.recheckYield(service, address, ip);
      this.yieldedTo.delete(service);
      this.log('info', 'yieldEnded', 'the member this node yielded to no longer answers for the IP', { ip, member: this.members.get(address)?.name ?? address, service });
      this.recompute();
    }, YIELD_RECHECK_MS);
    this.yieldChecks.add(check);
  }

  private bfdChanged(change: BfdStateChange): void {
    if (this.bfdRouters.has(change.peer)) this.routerBfdChanged(change);
    else if (!this.onRing) this.memberChanged(change);
  }

  /** A router's BFD session: when it goes down, so does the BGP session, now rather than at its hold time (RFC 5882 4.3). */
  private routerBfdChanged({ peer, from, to, reason }: BfdStateChange): void {
    this.routerBfd.set(peer, to === 'Up' ? 'up' : 'down');
    if (to === 'Up') this.log('info', 'bfdUp', 'BFD session with the BGP peer is Up', { peer });
    if (from !== 'Up') return;
    this.log('warn', 'bfdDown', 'BFD session with the BGP peer went down: ending the BGP session', { peer, reason });
    this.speaker.bfdDown(peer, `BFD session down: ${reason}`);
  }

  private memberChanged(change: MemberChange): void {
    const member = this.members.get(change.peer);
    if (!member) return;
    // Whatever the session now says supersedes a split brain settled without it.
    for (const [service, address] of this.yieldedTo) if (address === change.peer) this.yieldedTo.delete(service);
    member.leaving = change.to !== 'Up' && change.remoteState === 'AdminDown';
    const state: MemberState = change.to === 'Up' ? 'up' : change.from === 'Up' || this.graceOver ? 'down' : member.state;
    if (state === member.state) return;
    member.state = state;
    const msg = this.onRing ? `the ring's view says member is ${state === 'up' ? 'Up' : 'down'}` : state === 'up' ? 'BFD session with member is Up' : 'BFD session with member went down';
    this.log(state === 'up' ? 'info' : 'warn', state === 'up' ? 'memberUp' : 'memberDown', msg, {
      member: member.name,
      address: change.peer,
      reason: change.reason,
    });
    this.recompute();
  }

  /**
   * BFD with the members (all of them, or this node's ring neighbours) and the routers that
   * asked for it: single-hop sessions (RFC 5881), all on one interface.
   */
  private liveness(): LivenessConfig | undefined {
    const peers = [...[...this.members].map(([address, member]) => ({ address, what: `member ${member.name}` })), ...[...this.bfdRouters].map((address) => ({ address, what: 'BGP peer' }))];
    if (peers.length === 0) return undefined;
    const paths = peers.map(({ address, what }) => {
      const path = this.options.memberPath(address);
      if (!path) throw new SpeakerConfigError(`no interface here has a subnet holding ${what} (${address}); BFD runs with peers on a directly connected link (RFC 5881).`);
      return { address, ...path };
    });
    const interfaces = new Set(paths.map((path) => path.interfaceName));
    if (interfaces.size > 1) throw new SpeakerConfigError(`the members and BFD peers are reached over ${[...interfaces].join(' and ')}; vipkit run runs BFD on one interface.`);
    const liveness = { interfaceName: paths[0]!.interfaceName, peers: paths.map(({ address, local }) => ({ address, local })), timing: this.options.timing };
    const ring = this.ringConfig(paths);
    if (!ring) return liveness;
    const watched = new Set(ringPeers(ring).map((member) => member.address));
    return { ...liveness, peers: liveness.peers.filter((peer) => watched.has(peer.address) || this.bfdRouters.has(peer.address)), ring };
  }

  /** The ring this node is on, when the members are more than the full mesh takes. */
  private ringConfig(paths: { address: string; local: string }[]): RingConfig | undefined {
    const { fullMeshMax, neighbours } = this.options.ring;
    if (this.members.size + 1 <= fullMeshMax) return undefined;
    const locals = new Set(paths.filter((path) => this.members.has(path.address)).map((path) => path.local));
    if (locals.size > 1) throw new SpeakerConfigError(`the members are reached from ${[...locals].join(' and ')}; on the ring (more than ${fullMeshMax} nodes) they must all be reached from one address of this node.`);
    const members = [...this.members].map(([address, { name }]) => ({ name, address }));
    return { self: { name: this.config.self.name, address: [...locals][0]! }, members, neighbours, digestMs: RING_DIGEST_MS };
  }

  private log(level: ClusterLog['level'], event: string, msg: string, extra: Record<string, unknown>): void {
    this.emit('log', { level, event, msg, node: this.config.self.name, ...extra });
  }
}

/** The peers that asked for BFD; single-hop BFD only (RFC 5881): a multihop peer's would need RFC 5883. */
function bfdRouters(peers: readonly Peer[]): Set<string> {
  const asking = peers.filter((peer) => peer.bfd === true || peer.bfdProfile !== undefined);
  const multihop = asking.find((peer) => peer.ebgpMultiHop);
  if (multihop) throw new SpeakerConfigError(`--peer ${multihop.address}: BFD runs with directly connected peers only (RFC 5881); a multihop peer's BFD (RFC 5883) is not supported.`);
  return new Set(asking.map((peer) => peer.address));
}

function fields(decision: { service: string; pool: string }, protocol: 'layer2' | 'bgp'): Record<string, unknown> {
  return { service: decision.service, pool: decision.pool, protocol };
}
